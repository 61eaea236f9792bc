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
import operator
import socket

from . import _pssst
from .pssst import _raw_key

__all__ = ["Server", "serve"]

logger = logging.getLogger("pssst.aio")

#: SO_RCVBUF asked for, as ``pssst serve``: room for bursts while a
#: handler or the event loop is busy.
_RECV_BUFFER_BYTES = 4 << 20


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

    ``close()`` stops it: datagrams are no longer read and handlers still
    running are cancelled (no reply). ``await wait_closed()`` returns once
    they have finished and the socket is closed. It is also an async
    context manager.
    """

    def __init__(self, handler, responder):
        self._handler = handler
        self._responder = responder
        self._transport = None
        self._sendto = None
        self._tasks = set()
        self._closing = False
        self._lost = asyncio.get_running_loop().create_future()

    @property
    def sockname(self):
        """The address the server is bound to, e.g. ``("127.0.0.1", 40123)``."""
        return self._transport.get_extra_info("sockname")

    @property
    def stats(self):
        """``{counter: count}``: every datagram received ends in one of
        ``answered``, ``no_reply`` (the handler returned ``None``),
        ``handler_failed``, ``cancelled``, ``send_failed``, ``busy`` (too
        many handlers in flight) or a drop reason (as ``pssst serve``
        counts them), or is still in flight."""
        return self._responder.stats()

    def close(self):
        """Stops reading datagrams and cancels the handlers in flight."""
        if self._closing:
            return
        self._closing = True
        for task in self._tasks:
            task.cancel()
        self._transport.close()

    async def wait_closed(self):
        """Waits until every handler has finished and the socket is closed."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.shield(self._lost)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        self.close()
        await self.wait_closed()

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
        task = asyncio.get_running_loop().create_task(self._answer(request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, request):
        try:
            reply = self._handler(request.message, request.client_public_key)
            if inspect.isawaitable(reply):
                reply = await reply
        except asyncio.CancelledError:
            request.cancel()
            raise
        except Exception:  # pylint: disable=broad-except
            logger.exception("pssst.aio handler %r raised; no reply", self._handler)
            request.fail()
            return
        if self._closing:
            request.cancel()
            return
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
                allow_amplification=False, max_in_flight=1024):
    """Serves PSSST requests on the UDP ``address`` (``(host, port)``; port 0
    picks a free one) until the returned :class:`Server` is closed.

    ``handler(message, client_public_key)`` is called for every request: a
    coroutine function or a plain function, given the message (``bytes``)
    and the client's ``X25519PublicKey`` (``None`` if anonymous), returning
    the reply's message (``bytes``) or ``None`` for no reply. If it raises,
    the exception is logged (logger ``pssst.aio``) and nothing is sent.

    ``authorized_keys``: an iterable of client public keys (any form
    :class:`pssst.PSSSTClient` takes) makes a closed service: anonymous
    requests and other keys are dropped before the handler.
    ``allow_amplification``: let a reply be larger than its request (by
    default it is dropped). ``max_in_flight``: handlers running at once;
    requests beyond are dropped, before any X25519, and counted ``busy``.
    """
    if not callable(handler):
        raise TypeError("handler must be callable, not {}".format(type(handler).__name__))
    if authorized_keys is not None:
        if isinstance(authorized_keys, (str, bytes, bytearray, memoryview)):
            raise TypeError("authorized_keys is an iterable of public keys, not one key")
        authorized_keys = [_raw_key(key, True) for key in authorized_keys]
    if isinstance(max_in_flight, bool):
        raise TypeError("max_in_flight must be an int, not bool")
    max_in_flight = operator.index(max_in_flight)
    if max_in_flight < 1:
        raise ValueError("max_in_flight must be at least 1, not {}".format(max_in_flight))
    responder = _pssst.Responder(_raw_key(server_private_key, False), authorized_keys,
                                 bool(allow_amplification), max_in_flight)
    server = Server(handler, responder)
    await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: _Protocol(server), local_addr=address)
    return server
