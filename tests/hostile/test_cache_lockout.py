"""Issue 22, item 2: filling the reply cache with bytes must not lock a
service out. An attacker on another source address sends fresh valid
requests whose replies add up to more than the cache's byte budget (large
requests to `--exec cat`, or small requests to a handler with large
replies under `--allow-amplification`); afterwards a legitimate client
must still be answered, the server's memory stays bounded, and no request
id ever gets two different replies."""

import os
import socket
import time
from pathlib import Path

import pytest

from conftest import exchange
from wire import request

ATTACKER = "127.0.0.2"  # loopback, another source address than the client's
BUDGET = 64 << 20  # `pssst serve`'s default --reply-cache-bytes


def flood(served, messages, batch=40):
    """Sends a fresh request per message from ATTACKER, `batch` at a time,
    collecting replies; returns [(pending, reply or None)]."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ATTACKER, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sent = []
    by_id = {}
    try:
        for start in range(0, len(messages), batch):
            for message in messages[start:start + batch]:
                pending = request(served.public, message)
                sock.sendto(pending.packet, served.addr)
                by_id[pending.dh_param] = [pending, None]
                sent.append(pending)
            # Replies come while the handlers work; 2 s of silence means the
            # rest were dropped. (Quick: the reply cache's TTL is running.)
            outstanding = {p.dh_param for p in sent[start:]}
            sock.settimeout(2)
            while outstanding:
                try:
                    packet = sock.recv(1 << 16)
                except TimeoutError:
                    break
                entry = by_id.get(packet[4:36])
                if entry is not None and entry[1] is None:
                    entry[1] = packet
                    outstanding.discard(packet[4:36])
    finally:
        sock.close()
    return [tuple(by_id[p.dh_param]) for p in sent]


def reply_to(served, pending, sock, timeout):
    """Sends `pending` again from `sock`; the reply to it (a late reply to
    an earlier request on the same socket is skipped), or None."""
    sock.sendto(pending.packet, served.addr)
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            packet = sock.recv(1 << 16)
        except TimeoutError:
            return None
        if packet[4:36] == pending.dh_param:
            return packet
    return None


def rss_bytes(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def wait_idle(served, timeout=60):
    """The stats once every datagram received has ended one way or another."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = served.stats()
        ended = sum(v for k, v in stats.items() if k != "received")
        if ended >= stats.get("received", 0):
            return stats
    raise AssertionError(f"still busy: {served.stats()}")


@pytest.mark.parametrize(
    "handler, request_size, requests",
    [
        # Large requests, echoed: 1,200 x 65,000 bytes = 78 MB of replies.
        (["--exec", "cat"], 65_000, 1_200),
        # Small requests, large replies: 1,200 x 65,000 bytes again.
        (["--allow-amplification", "--exec", "head -c 65000 /dev/zero"], 16, 1_200),
    ],
    ids=["large-requests", "amplified-replies"],
)
def test_filling_the_reply_cache_with_bytes_does_not_lock_out_a_client(
    serve, handler, request_size, requests
):
    served = serve(*handler, "--workers", "2")
    attack = flood(served, [os.urandom(request_size) for _ in range(requests)])
    # Then small ones, as long as they are answered, to use up whatever
    # room the large ones left (at most 2,000).
    for _ in range(50):
        batch = flood(served, [os.urandom(64) for _ in range(40)])
        attack += batch
        if sum(reply is None for _, reply in batch) >= 30:
            break
    answered = sum(reply is not None for _, reply in attack)
    reply_bytes = sum(len(reply) for _, reply in attack if reply is not None)
    wait_idle(served)
    # The attack asked for more bytes of replies than the budget holds.
    assert requests * 65_000 > BUDGET

    # A legitimate client, from 127.0.0.1, sends 10 fresh requests (each
    # retransmitted once if unanswered, as a client would).
    legitimate = 0
    for i in range(10):
        pending = request(served.public, b"balance please %d" % i)
        reply = exchange(served.addr, pending.packet, timeout=3) or exchange(
            served.addr, pending.packet, timeout=3
        )
        if reply is not None:
            pending.open_reply(reply)
            legitimate += 1
    stats = wait_idle(served)
    rss = rss_bytes(served.pid)
    print(
        f"\n{handler[-1]!r}: attack {answered}/{requests} answered, {reply_bytes >> 20} MiB "
        f"of replies; legitimate {legitimate}/10; serve RSS {rss >> 20} MiB; "
        f"cache_full={stats.get('cache_full', 0)} reply_forgotten={stats.get('reply_forgotten', 0)}"
    )
    assert legitimate >= 9, stats
    # Memory bounded: the byte budget, the ids and the runtime.
    assert rss < BUDGET + (128 << 20), rss

    # Copies of every attack request get the bytes of the first reply, or
    # nothing (its reply evicted): never a second, different reply. Where
    # the flood saw no first reply (it stops listening after 2 s of silence,
    # and a loaded machine runs the commands later than that, or the
    # attacker's socket buffer overflowed), the server may still have sent
    # one: then every copy must get the same bytes.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ATTACKER, 0))
    try:
        for pending, first in attack[:100] + attack[-100:]:
            again = reply_to(served, pending, sock, timeout=0.5)
            if again is None:
                continue
            if first is None:
                first = reply_to(served, pending, sock, timeout=3)
            assert again == first, "two replies to one request id"
    finally:
        sock.close()
    stats = wait_idle(served)
    assert stats.get("reply_forgotten", 0) > 0, stats
