"""Attack 1: a spoofed source must not turn the server into an amplifier,
whether the request is anonymous or client-authenticated."""

import os
import socket

from conftest import exchange
from wire import request

BIG = ["--exec", "head -c 60000 /dev/zero"]


def test_client_auth_request_replayed_from_new_sources_gets_no_large_reply(serve):
    served = serve(*BIG)
    pending = request(served.public, b"x", client_private=os.urandom(32))
    assert len(pending.packet) == 117
    # The original and replays from five other source ports (as a spoofer
    # would send them): nothing comes back.
    for _ in range(6):
        assert exchange(served.addr, pending.packet, timeout=0.5) is None
    stats = served.stats()
    assert stats.get("amplification", 0) == 6, stats
    assert stats.get("answered", 0) == 0, stats


def test_anonymous_request_gets_no_large_reply(serve):
    served = serve(*BIG)
    pending = request(served.public, b"x")
    assert exchange(served.addr, pending.packet, timeout=0.5) is None
    assert served.stats().get("amplification", 0) == 1


def test_reply_up_to_the_request_size_is_sent(serve):
    # 60,000 bytes of output fit in the reply to a 60,100-byte request.
    served = serve(*BIG)
    pending = request(served.public, bytes(60_100 - 116), client_private=os.urandom(32))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        reply = exchange(served.addr, pending.packet, timeout=5, sock=sock)
    assert reply is not None and len(reply) <= len(pending.packet)
    assert pending.open_reply(reply) == bytes(60_000)


def test_allow_amplification_lifts_the_limit(serve):
    served = serve(*BIG, "--allow-amplification")
    pending = request(served.public, b"x", client_private=os.urandom(32))
    reply = exchange(served.addr, pending.packet, timeout=5)
    assert reply is not None and pending.open_reply(reply) == bytes(60_000)


def test_short_request_reusing_a_long_ones_ephemeral_gets_no_cached_long_reply(serve):
    # A client that reuses an ephemeral makes a short request with the DH
    # parameter (the reply-cache key) of a long one; replayed from spoofed
    # sources it must not fetch the long one's remembered reply.
    served = serve("--exec", "cat")
    for client in (None, os.urandom(32)):
        ephemeral = os.urandom(32)
        long = request(served.public, bytes(2000), client_private=client, ephemeral=ephemeral)
        reply = exchange(served.addr, long.packet, timeout=5)
        assert reply is not None and long.open_reply(reply) == bytes(2000)
        short = request(served.public, b"hi", client_private=client, ephemeral=ephemeral)
        assert short.dh_param == long.dh_param
        for _ in range(3):
            assert exchange(served.addr, short.packet, timeout=0.5) is None
    assert served.stats().get("amplification", 0) == 6
