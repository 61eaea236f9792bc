# Part of pssst-rs, a drop-in replacement for pypssst.
# SPDX-License-Identifier: MIT OR Apache-2.0

"""PSSST over UDP with asyncio: a client and a server, which pypssst never had.

::

    server = await pssst.aio.serve(handler, ("127.0.0.1", 0), server_private)
    async with await pssst.aio.connect(server.sockname, server_public) as client:
        reply = await client.request(b"ping")

The client (:func:`connect`) retransmits, each time from a new UDP socket so
that a flow-hashing load balancer can send the copy to another backend,
doubling the wait, and raises :class:`pssst.PSSSTTimeout` after the last
try; concurrent requests on one client are matched to their replies. The
server (:func:`serve`) follows ``pssst serve``'s rules: junk is dropped
before any X25519, no reply is larger than its request unless allowed, a
closed service answers only its authorized keys, and handlers in flight are
bounded. Packets are packed and unpacked by pssst-core, with the GIL
released for the X25519 work; asyncio does the I/O. Type stubs:
``aio.pyi``.
"""

from ._aio_client import Client, connect
from ._aio_server import Server, serve
from .errors import PSSSTTimeout

__all__ = ["connect", "Client", "serve", "Server", "PSSSTTimeout"]
