# Part of pssst-rs, a drop-in replacement for pypssst.
# SPDX-License-Identifier: MIT OR Apache-2.0

"""The asyncio server of :mod:`pssst.aio`: datagrams in, handler tasks,
replies out.

Everything done to a datagram is native (:class:`pssst._pssst.Responder`):
junk filtering before any X25519, the closed-service check, the bound on
handlers in flight, decryption with the GIL released, anti-amplification,
sealing, and the counters. This module runs the handlers as tasks and owns
the socket.
"""

import asyncio
import inspect
import logging
import math
import numbers
import operator
import socket

from . import _pssst
from .pssst import _raw_key

__all__ = ["Server", "serve"]

logger = logging.getLogger("pssst.aio")

#: SO_RCVBUF asked for, as ``pssst serve``: room for bursts while a
#: handler or the event loop is busy.
_RECV_BUFFER_BYTES = 4 << 20
#: How often handlers are checked against the reply cache's TTL.
_SWEEP_SECONDS = 1.0


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server):
        self._server = server

    def connection_made(self, transport):
        self._server._connection_made(transport)  # pylint: disable=protected-access

    def datagram_received(self, data, addr):
        self._server._received(data, addr)  # pylint: disable=protected-access

    def error_received(self, exc):
        # ICMP errors about earlier replies (a client that left): nothing to do.
        pass

    def connection_lost(self, exc):
        self._server._connection_lost()  # pylint: disable=protected-access


class Server:
    """A running PSSST server; make one with :func:`serve`.

    ``close()`` stops reading datagrams; handlers still running get
    ``drain_timeout`` seconds to finish (their replies are sent), then are
    cancelled. ``await wait_closed()`` returns once the last one has ended
    and the socket is closed. It is also an async context manager.
    """

    def __init__(self, handler, responder, drain_timeout):
        self._handler = handler
        self._responder = responder
        self._drain_timeout = drain_timeout
        self._transport = None
        self._sendto = None
        #: handler task -> when the reply cache forgets its request
        self._tasks = {}
        #: tasks cancelled for running past that time
        self._expired = set()
        self._sweeper = None
        self._closing = False
        self._drain_timer = None
        self._lost = asyncio.get_running_loop().create_future()

    @property
    def sockname(self):
        """The address the server is bound to, e.g. ``("127.0.0.1", 40123)``."""
        return self._transport.get_extra_info("sockname")

    @property
    def stats(self):
        """``{counter: count}``. Every datagram received ends in exactly one
        counter (or is still in flight): ``answered``, ``send_failed``,
        ``no_reply`` (the handler returned ``None``), ``handler_failed``
        (it raised), ``handler_timeout`` (it ran past the reply cache's TTL),
        ``cancelled`` (the server closed first), or a drop reason as
        ``pssst serve`` counts them (``too_short``, ``decrypt_failed``,
        ``unauthorized``, ``amplification``, ``busy``, ``in_progress``,
        ``cache_full``, ...)."""
        return self._responder.stats()

    def close(self):
        """Stops reading datagrams; handlers in flight get ``drain_timeout``
        seconds, then are cancelled."""
        if self._closing:
            return
        self._closing = True
        if not self._tasks:
            self._transport.close()
        elif self._drain_timeout <= 0:
            self._cancel_all()
        else:
            self._drain_timer = asyncio.get_running_loop().call_later(
                self._drain_timeout, self._cancel_all)

    async def wait_closed(self):
        """Waits until the server is closed: no handler running, the socket
        closed."""
        await asyncio.shield(self._lost)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        self.close()
        await self.wait_closed()

    def _cancel_all(self):
        for task in self._tasks:
            task.cancel()
        if self._sweeper is not None:
            self._sweeper.cancel()

    def _connection_made(self, transport):
        self._transport = transport
        self._sendto = transport.sendto
        sock = transport.get_extra_info("socket")
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECV_BUFFER_BYTES)
        except OSError:
            pass  # the kernel's default will do

    def _connection_lost(self):
        if not self._lost.done():
            self._lost.set_result(None)

    def _received(self, datagram, peer):
        if self._closing:
            return
        request = self._responder.receive(datagram, peer, self._sendto)
        if request is None:
            return
        try:
            reply = self._handler(request.message, request.client_public_key)
        except Exception:  # pylint: disable=broad-except
            self._failed(request)
            return
        if not inspect.isawaitable(reply):
            # A plain function: answered at once, no task.
            self._reply(request, reply)
            return
        loop = asyncio.get_running_loop()
        task = loop.create_task(self._answer(request, reply))
        self._tasks[task] = loop.time() + self._responder.reply_cache_ttl
        task.add_done_callback(self._task_done)
        if self._sweeper is None:
            self._sweeper = loop.call_later(_SWEEP_SECONDS, self._sweep)

    def _sweep(self):
        """Cancels the handlers whose reply could no longer be sent (one
        timer for all, not one per request)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        for task, deadline in self._tasks.items():
            if deadline <= now and task not in self._expired:
                self._expired.add(task)
                task.cancel()
        self._sweeper = loop.call_later(_SWEEP_SECONDS, self._sweep) if self._tasks else None

    def _task_done(self, task):
        del self._tasks[task]
        self._expired.discard(task)
        if self._closing and not self._tasks:
            for timer in (self._drain_timer, self._sweeper):
                if timer is not None:
                    timer.cancel()
            self._transport.close()

    async def _answer(self, request, awaitable):
        try:
            reply = await awaitable
        except asyncio.CancelledError:
            if asyncio.current_task() in self._expired:
                logger.warning("pssst.aio handler %r ran past the reply cache TTL; no reply",
                               self._handler)
                request.time_out()
                return
            request.cancel()
            raise
        except Exception:  # pylint: disable=broad-except
            self._failed(request)
            return
        self._reply(request, reply)

    def _failed(self, request):
        logger.exception("pssst.aio handler %r raised; no reply", self._handler)
        request.fail()

    def _reply(self, request, reply):
        try:
            request.reply(reply)
        except TypeError:
            logger.error("pssst.aio handler %r returned %s, not bytes or None; no reply",
                         self._handler, type(reply).__name__)
            request.fail()
        except Exception:  # pylint: disable=broad-except
            # Counted as send_failed by the responder.
            logger.exception("pssst.aio: sending a reply failed")


async def serve(handler, address, server_private_key, *, authorized_keys=None,
                allow_amplification=False, max_in_flight=256,
                reply_cache_bytes=64 << 20, reply_cache_ttl=60.0, drain_timeout=5.0):
    """Serves PSSST requests on the UDP ``address`` (``(host, port)``; port 0
    picks a free one) until the returned :class:`Server` is closed.

    ``handler(message, client_public_key)`` is called for every request: a
    coroutine function or a plain function (which runs on the event loop),
    given the message (``bytes``) and the client's ``X25519PublicKey``
    (``None`` if anonymous), returning the reply's message (``bytes``) or
    ``None`` for no reply. If it raises, the exception is logged (logger
    ``pssst.aio``) and nothing is sent.

    ``authorized_keys``: an iterable of client public keys (any form
    :class:`pssst.PSSSTClient` takes) makes a closed service: anonymous
    requests are dropped before any X25519, other keys before the handler.
    ``allow_amplification``: let a reply be larger than its request (by
    default it is dropped). ``max_in_flight``: handlers running at once;
    new requests beyond are dropped before any X25519.

    Copies of a request (a client's retransmissions) are never run twice,
    as in ``pssst serve``: the ids of answered requests are kept
    ``reply_cache_ttl`` seconds (at least 11.5 s, the retransmission window
    and a delivery margin), and the first reply's very bytes are kept for
    copies in at most ``reply_cache_bytes``, oldest evicted first (a copy
    whose reply was evicted gets none: ``reply_forgotten``). A copy arriving
    while the first is handled is dropped, and a handler still running at
    the TTL is cancelled, no reply.
    """
    if not callable(handler):
        raise TypeError("handler must be callable, not {}".format(type(handler).__name__))
    if authorized_keys is not None:
        if isinstance(authorized_keys, (str, bytes, bytearray, memoryview)):
            raise TypeError("authorized_keys is an iterable of public keys, not one key")
        authorized_keys = [_raw_key(key, True) for key in authorized_keys]
    max_in_flight = _count("max_in_flight", max_in_flight, 1)
    reply_cache_bytes = _count("reply_cache_bytes", reply_cache_bytes, 0)
    drain_timeout = _seconds("drain_timeout", drain_timeout)
    responder = _pssst.Responder(
        _raw_key(server_private_key, False), authorized_keys, bool(allow_amplification),
        max_in_flight, reply_cache_bytes, _seconds("reply_cache_ttl", reply_cache_ttl))
    server = Server(handler, responder, drain_timeout)
    await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: _Protocol(server), local_addr=address)
    return server


def _count(name, value, least):
    if isinstance(value, bool):
        raise TypeError("{} must be an int, not bool".format(name))
    value = operator.index(value)
    if value < least:
        raise ValueError("{} must be at least {}, not {}".format(name, least, value))
    return value


def _seconds(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("{} must be a number of seconds, not {}".format(
            name, type(value).__name__))
    if not (math.isfinite(value) and value >= 0):
        raise ValueError("{} must be a finite number of seconds >= 0, not {!r}".format(
            name, value))
    return float(value)
