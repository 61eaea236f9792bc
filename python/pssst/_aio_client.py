# Part of pssst-rs, a drop-in replacement for pypssst.
# SPDX-License-Identifier: MIT OR Apache-2.0

"""The asyncio client of :mod:`pssst.aio`: requests over UDP, retransmitted
from fresh sockets, replies matched to requests by request id.

Packing and unpacking are native calls (:class:`pssst.PSSSTClient`, the
reply handlers); this module only moves datagrams and keeps time.

Why each retransmission leaves from a new socket: flow-hashing load
balancers (nftables/iptables DNAT with conntrack as kube-proxy programs it,
IPVS, ECMP, cloud network load balancers) pin a flow, i.e. a source address
and port, to one backend. Retrying from the same port would send every copy
to the same backend, dead or alive, until the balancer forgets the flow. Any
backend holding the key can answer a PSSST request, so from the first
retransmission on each copy goes out from a new source port and can reach
another backend. The earlier sockets stay open until the request is done,
because a slow reply to an earlier copy is as good as any. The socket that
got the reply becomes the one later requests start from: its flow is known
to reach a live backend.
"""

import asyncio
import math
import numbers
import operator

from . import _pssst
from .errors import PSSSTException, PSSSTMessageTooLarge, PSSSTTimeout
from .pssst import PSSSTClient

__all__ = ["Client", "connect"]

#: As ``pssst send --retries``.
_MAX_RETRIES = 100



class _Socket(asyncio.DatagramProtocol):
    """One UDP socket of a client, connected to the server: hands every
    datagram it gets to the client."""

    def __init__(self, client):
        self._client = client
        self.transport = None
        #: Requests that sent from this socket and are not done yet.
        self.users = 0
        self.closed = False

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self._client._received(data, self)  # pylint: disable=protected-access

    def error_received(self, exc):
        # An ICMP error (port unreachable, ...) about an earlier send: the
        # retransmissions deal with it.
        pass

    def connection_lost(self, exc):
        self.closed = True


class Client:
    """A PSSST client over UDP; make one with :func:`connect`.

    ``await client.request(message)`` returns the reply; any number of
    requests may be in flight at once. ``close()`` closes its sockets; it
    is also an async context manager.
    """

    def __init__(self, pssst_client, timeout, retries):
        self._pssst = pssst_client
        # pssst-core's schedule: every copy within the retransmission window.
        self._waits = _pssst.retry_waits(timeout, retries)
        # Set by _start: the socket requests start from, and the server's
        # resolved address, so that new sockets reach the same server
        # without asking DNS again.
        self._primary = None
        self._remote = None
        self._sockets = set()
        #: request id -> (reply handler, future of (reply, socket))
        self._pending = {}
        self._ignored = 0
        self._closed = False

    async def _start(self, address):
        self._primary = await self._open(address)
        self._remote = self._primary.transport.get_extra_info("peername")

    @property
    def ignored(self):
        """Datagrams received and ignored: forged, corrupted, late, or for
        no request in flight."""
        return self._ignored

    async def request(self, message):
        """Sends ``message`` and returns the reply's message (``bytes``).

        Retransmits the same packet, each time from a new socket, waiting
        twice as long as before; raises :class:`pssst.PSSSTTimeout` after
        the last one. Datagrams that are not this request's reply are
        ignored.
        """
        self._check_open()
        packet, handler = self._pssst.pack_request(message)
        if len(packet) > _pssst.MAX_DATAGRAM:
            raise PSSSTMessageTooLarge(
                "a {}-byte message does not fit in one UDP datagram".format(len(message)))
        if self._primary.closed:
            self._primary = await self._open()
        future = asyncio.get_running_loop().create_future()
        request_id = handler.request_id
        self._pending[request_id] = (handler, future)
        used = []
        try:
            for wait in self._waits:
                sock = await self._next_socket(used)
                sock.users += 1
                used.append(sock)
                sock.transport.sendto(packet)
                await asyncio.wait({future}, timeout=wait)
                if future.done():
                    reply, via = future.result()
                    if via in used:
                        self._make_primary(via)
                    return reply
            raise PSSSTTimeout("no reply after {} attempt{}".format(
                len(used), "" if len(used) == 1 else "s"))
        finally:
            del self._pending[request_id]
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # retrieved: raised above, or not needed
            for sock in used:
                sock.users -= 1
                self._close_if_idle(sock)

    def close(self):
        """Closes every socket; requests in flight raise ``RuntimeError``."""
        if self._closed:
            return
        self._closed = True
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(RuntimeError("the pssst.aio client was closed"))
        for sock in self._sockets:
            sock.transport.close()
        self._sockets.clear()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        self.close()

    def _check_open(self):
        if self._closed:
            raise RuntimeError("the pssst.aio client is closed")

    async def _next_socket(self, used):
        """The primary socket for the first send, a new one for each
        retransmission (the last one used if no new one can be opened)."""
        if not used:
            return self._primary
        try:
            return await self._open()
        except OSError:
            return used[-1]

    async def _open(self, address=None):
        self._check_open()
        _, sock = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _Socket(self), remote_addr=address or self._remote)
        if self._closed:
            sock.transport.close()
            self._check_open()
        self._sockets.add(sock)
        return sock

    def _make_primary(self, sock):
        if sock is self._primary or sock.closed:
            return
        old, self._primary = self._primary, sock
        self._close_if_idle(old)

    def _close_if_idle(self, sock):
        if sock is not self._primary and sock.users == 0 and sock in self._sockets:
            self._sockets.discard(sock)
            sock.transport.close()

    def _received(self, datagram, sock):
        request_id = _pssst._reply_request_id(datagram)  # pylint: disable=protected-access
        pending = self._pending.get(request_id) if request_id is not None else None
        if pending is None or pending[1].done():
            self._ignored += 1
            return
        handler, future = pending
        try:
            reply = handler(datagram)
        except PSSSTException:
            # Forged or corrupted: the handler stays usable for the real one.
            self._ignored += 1
            return
        future.set_result((reply, sock))


async def connect(address, server_public_key, client_private_key=None, *,
                  timeout=0.5, retries=6):
    """A :class:`Client` for the PSSST server at ``address`` (``(host,
    port)``), with one UDP socket.

    Keys take every form :class:`pssst.PSSSTClient` takes; without
    ``client_private_key`` requests are anonymous. The first send waits
    ``timeout`` seconds for the reply; each of the ``retries``
    retransmissions waits twice as long as the one before, up to 4 times
    ``timeout`` (pssst-core's schedule, as ``pssst send``'s). Every
    retransmission must leave within ``pssst.RETRANSMISSION_WINDOW`` seconds
    of the first: a longer schedule raises
    :class:`~pssst.PSSSTRetryWindowExceeded` here, before anything is sent.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError("timeout must be a number of seconds, not {}".format(
            type(timeout).__name__))
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError("timeout must be a positive number of seconds, not {!r}".format(timeout))
    if isinstance(retries, bool):
        raise TypeError("retries must be an int, not bool")
    retries = operator.index(retries)
    if not 0 <= retries <= _MAX_RETRIES:
        raise ValueError("retries must be 0 to {}, not {}".format(_MAX_RETRIES, retries))
    client = Client(PSSSTClient(server_public_key, client_private_key), timeout, retries)
    await client._start(address)  # pylint: disable=protected-access
    return client
