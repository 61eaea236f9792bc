"""pssst.aio's server: answered by `pssst send` and by pypssst over UDP;
junk, failing handlers, anti-amplification, the reply cache, the bound on
handlers in flight, and closing with requests in flight."""

import asyncio
import json
import logging
import os
import subprocess
import sys

import pytest

import pssst
import pssst._aio_server
import pssst.aio
from pssst import PSSSTClient, generate_key_pair

from aio_support import (
    HERE_PYPSSST_CLIENT, keygen, pssst_send, raw_socket, receive, until,
)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def settled(stats):
    """Datagrams whose processing has ended, whatever the way."""
    return sum(count for name, count in stats.items() if name != "received")


async def echo(message, _client_key):
    return message


def test_pssst_send_anonymous_and_authenticated_the_handler_sees_the_key(tmp_path):
    alice = tmp_path / "alice.key"
    alice_public = keygen(alice)
    server_private, server_public = generate_key_pair()
    server_public_hex = server_public.public_bytes_raw().hex()

    async def handler(message, client_key):
        who = b"anonymous" if client_key is None else client_key.public_bytes_raw().hex().encode()
        return who + b": " + message

    async def main():
        # The replies are longer than the requests.
        async with await pssst.aio.serve(handler, ("127.0.0.1", 0), server_private,
                                         allow_amplification=True) as server:
            status, out, err = await pssst_send(server.sockname, server_public_hex, "hello")
            assert (status, out) == (0, b"anonymous: hello"), err
            status, out, err = await pssst_send(server.sockname, server_public_hex, "hi",
                                                "--key", str(alice))
            assert (status, out) == (0, alice_public.encode() + b": hi"), err
            assert server.stats["answered"] == 2

    run(main())


def test_a_closed_service_answers_only_its_authorized_keys(tmp_path):
    alice, bob = tmp_path / "alice.key", tmp_path / "bob.key"
    alice_public = keygen(alice)
    keygen(bob)
    server_private, server_public = generate_key_pair()
    server_public_hex = server_public.public_bytes_raw().hex()
    calls = []

    async def handler(message, client_key):
        calls.append(client_key.public_bytes_raw().hex())
        return message

    async def main():
        async with await pssst.aio.serve(handler, ("127.0.0.1", 0), server_private,
                                         authorized_keys=[alice_public]) as server:
            quick = ("--timeout-ms", "100", "--retries", "0")
            assert (await pssst_send(server.sockname, server_public_hex, "a", "--key",
                                     str(alice)))[:2] == (0, b"a")
            assert (await pssst_send(server.sockname, server_public_hex, "b", "--key",
                                     str(bob), *quick))[0] == 1
            assert (await pssst_send(server.sockname, server_public_hex, "anon", *quick))[0] == 1
            assert calls == [alice_public]
            assert server.stats["unauthorized"] == 2

    run(main())


@pytest.mark.parametrize("auth", [False, True], ids=["anon", "auth"])
def test_a_pypssst_client_over_udp(auth):
    python = os.environ.get("PSSST_PYPSSST_PYTHON")
    if not python:
        pytest.fail("PSSST_PYPSSST_PYTHON is not set (tests/legs/40-python.sh sets it)")
    server_private, server_public = generate_key_pair()
    client_private, client_public = generate_key_pair()
    seen = []

    async def handler(message, client_key):
        seen.append(None if client_key is None else client_key.public_bytes_raw())
        return message[::-1]

    async def main():
        async with await pssst.aio.serve(handler, ("127.0.0.1", 0), server_private) as server:
            messages = [os.urandom(n).hex() for n in (0, 1, 64, 1000)]
            args = [python, str(HERE_PYPSSST_CLIENT), "127.0.0.1", str(server.sockname[1]),
                    server_public.public_bytes_raw().hex(),
                    client_private.private_bytes_raw().hex() if auth else "-", *messages]
            # Its own `pssst` must be pypssst: nothing of ours on its path.
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            proc = await asyncio.create_subprocess_exec(
                *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()
            replies = json.loads(out)
            assert replies["pypssst"] == "0.2.1"
            assert replies["replies"] == [bytes.fromhex(m)[::-1].hex() for m in messages]
            key = client_public.public_bytes_raw() if auth else None
            assert seen == [key] * len(messages)

    run(main())


def junk(kind, i):
    """One datagram of a kind a server must drop before any X25519."""
    body = os.urandom(60 + i % 40)
    if kind == "too_short":   # a request header, cut before the tag ends
        return (b"\x00\x00\x00\x01" + body)[:i % 52]
    if kind == "reply_flag":
        return b"\x80\x00\x00\x01" + body
    if kind == "unknown_suite":
        return b"\x00\x00\x00\x02" + body
    if kind == "low_order_point":
        return b"\x00\x00\x00\x01" + bytes(32) + body
    assert kind == "decrypt_failed"
    return b"\x00\x00\x00\x01" + os.urandom(32) + body   # needs the X25519 to find out


def test_junk_flood_while_serving():
    server_private, server_public = generate_key_pair()
    calls = []
    kinds = ["too_short", "reply_flag", "unknown_suite", "low_order_point", "decrypt_failed"]

    async def handler(message, _client_key):
        calls.append(message)
        return message

    async def flood(server, sock):
        for i in range(400):
            for kind in kinds:
                sock.sendto(junk(kind, i), server.sockname)
            if i % 10 == 9:
                # One event loop sends and serves: let the server catch up
                # before the kernel's receive buffer overflows.
                await until(lambda: sum(server.stats[k] for k in kinds) == 5 * (i + 1))

    async def main():
        async with await pssst.aio.serve(handler, ("127.0.0.1", 0), server_private) as server:
            sock = raw_socket()
            client = await pssst.aio.connect(server.sockname, server_public)
            messages = [b"valid %d" % i for i in range(200)]
            replies, _ = await asyncio.gather(
                asyncio.gather(*(client.request(m) for m in messages)),
                flood(server, sock))
            assert replies == messages
            # Every datagram ends in one counter (a client's retransmission
            # under load may add an `answered` or an `in_progress`).
            await until(lambda: settled(server.stats) == server.stats["received"])
            stats = server.stats
            for kind in kinds:
                assert stats[kind] == 400, (kind, stats)
            assert stats["answered"] >= len(messages)
            assert sorted(calls) == sorted(messages)
            client.close()
            sock.close()

    run(main())


def test_junk_is_dropped_before_the_point_where_x25519_would_run():
    # With every in-flight place taken, a request that needs an X25519 is
    # dropped as `busy` before it; junk that pssst-core's precheck catches,
    # and anonymous requests to a closed service, get their own reasons:
    # they were refused earlier still.
    server_private, server_public = generate_key_pair()
    alice_private, alice_public = generate_key_pair()
    release = None

    async def slow(message, _client_key):
        await release.wait()
        return message

    async def main():
        nonlocal release
        release = asyncio.Event()
        async with await pssst.aio.serve(slow, ("127.0.0.1", 0), server_private,
                                         authorized_keys=[alice_public],
                                         max_in_flight=1) as server:
            alice = PSSSTClient(server_public, alice_private)
            sock = raw_socket()
            sock.sendto(alice.pack_request(b"takes the only place")[0], server.sockname)
            await until(lambda: server.stats["received"] == 1)
            sent = 0
            for i in range(20):
                for kind in ["too_short", "reply_flag", "unknown_suite", "low_order_point"]:
                    sock.sendto(junk(kind, i), server.sockname)
                # Claims client authentication, random DH parameter: only
                # the X25519 could tell.
                sock.sendto(b"\x40\x00\x00\x01" + os.urandom(130), server.sockname)
                sock.sendto(PSSSTClient(server_public).pack_request(b"anonymous")[0],
                            server.sockname)
                sock.sendto(alice.pack_request(b"a second one")[0], server.sockname)
                sent += 7
            await until(lambda: server.stats["received"] == 1 + sent)
            stats = server.stats
            for kind in ["too_short", "reply_flag", "unknown_suite", "low_order_point",
                         "unauthorized"]:
                assert stats[kind] == 20, (kind, stats)
            # Random DH parameters and real requests: both would need X25519.
            assert stats["busy"] == 40 and stats["decrypt_failed"] == 0, stats
            release.set()
            sock.close()

    run(main())


def test_a_failing_handler_is_logged_gives_no_reply_and_the_server_keeps_serving(caplog):
    server_private, server_public = generate_key_pair()
    calls = []

    def handler(message, _client_key):   # a plain function works too
        calls.append(message)
        if message == b"boom":
            raise ValueError("the handler blew up")
        if message == b"wrong type":
            return "a str"
        return message.upper()

    async def main():
        async with await pssst.aio.serve(handler, ("127.0.0.1", 0), server_private) as server:
            async with await pssst.aio.connect(server.sockname, server_public,
                                               timeout=0.1, retries=1) as client:
                with pytest.raises(pssst.PSSSTTimeout):
                    await client.request(b"boom")
                with pytest.raises(pssst.PSSSTTimeout):
                    await client.request(b"wrong type")
            async with await pssst.aio.connect(server.sockname, server_public) as client:
                assert await client.request(b"still here") == b"STILL HERE"
            # Each ran once; a retry got the remembered "no reply", or, when
            # it came while the handler still ran (a loaded machine), was
            # dropped as in progress: never run again.
            assert calls == [b"boom", b"wrong type", b"still here"]
            assert server.stats["handler_failed"] >= 2
            assert server.stats["handler_failed"] + server.stats["in_progress"] == 4

    with caplog.at_level(logging.ERROR, logger="pssst.aio"):
        run(main())
    failures = [r for r in caplog.records if r.name == "pssst.aio"]
    assert len(failures) == 2, failures
    assert failures[0].exc_info[0] is ValueError
    assert "str" in failures[1].getMessage()


def test_no_reply_is_larger_than_its_request_unless_allowed():
    server_private, server_public = generate_key_pair()

    async def double(message, _client_key):
        return message * 2

    async def main():
        for allow in (False, True):
            async with await pssst.aio.serve(double, ("127.0.0.1", 0), server_private,
                                             allow_amplification=allow) as server:
                async with await pssst.aio.connect(server.sockname, server_public) as client:
                    if allow:
                        assert await client.request(b"ab") == b"abab"
                    else:
                        # A reply as large as the request is fine.
                        assert await client.request(b"") == b""
                async with await pssst.aio.connect(server.sockname, server_public,
                                                   timeout=0.1, retries=0) as quick:
                    if not allow:
                        with pytest.raises(pssst.PSSSTTimeout):
                            await quick.request(b"ab")
                        assert server.stats["amplification"] == 1

    run(main())


def test_copies_of_a_request_get_byte_identical_replies_and_run_the_handler_once():
    server_private, server_public = generate_key_pair()
    calls = []

    async def random_reply(message, _client_key):
        calls.append(message)
        return os.urandom(len(message))   # different every time it runs

    async def main():
        async with await pssst.aio.serve(random_reply, ("127.0.0.1", 0),
                                         server_private) as server:
            packet, reply_handler = PSSSTClient(server_public).pack_request(b"x" * 32)
            replies = []
            for _ in range(3):
                sock = raw_socket()   # retries come from new ports
                sock.sendto(packet, server.sockname)
                replies.append(await receive(sock, 5))
                sock.close()
            assert replies[0] is not None
            assert replies[0] == replies[1] == replies[2]
            assert len(reply_handler(replies[0])) == 32
            assert calls == [b"x" * 32]

    run(main())


def test_a_copy_arriving_while_the_first_is_handled_is_dropped_not_run_twice():
    server_private, server_public = generate_key_pair()
    release = None
    calls = []

    async def slow(message, _client_key):
        calls.append(message)
        await release.wait()
        return message

    async def main():
        nonlocal release
        release = asyncio.Event()
        async with await pssst.aio.serve(slow, ("127.0.0.1", 0), server_private) as server:
            packet, _ = PSSSTClient(server_public).pack_request(b"once")
            first, second = raw_socket(), raw_socket()
            first.sendto(packet, server.sockname)
            await until(lambda: calls)
            second.sendto(packet, server.sockname)
            await until(lambda: server.stats["in_progress"] == 1)
            release.set()
            reply = await receive(first, 5)
            assert reply is not None
            assert await receive(second, 0.2) is None
            second.sendto(packet, server.sockname)    # after: the remembered bytes
            assert await receive(second, 5) == reply
            assert calls == [b"once"]
            first.close()
            second.close()

    run(main())


def test_requests_beyond_max_in_flight_are_dropped_and_counted():
    server_private, server_public = generate_key_pair()
    release = None

    async def slow(message, _client_key):
        await release.wait()
        return message

    async def main():
        nonlocal release
        release = asyncio.Event()
        async with await pssst.aio.serve(slow, ("127.0.0.1", 0), server_private,
                                         max_in_flight=2) as server:
            client = PSSSTClient(server_public)
            sock = raw_socket()
            for i in range(5):
                sock.sendto(client.pack_request(b"%d" % i)[0], server.sockname)
            await until(lambda: server.stats["received"] == 5)
            assert server.stats["busy"] == 3
            release.set()
            replies = [await receive(sock, 5), await receive(sock, 5)]
            assert None not in replies
            assert await receive(sock, 0.2) is None
            sock.close()

    run(main())


def test_a_full_reply_cache_evicts_old_replies_and_still_answers_new_requests():
    server_private, server_public = generate_key_pair()

    async def main():
        # Room for two replies (each about 160 bytes plus the packet).
        async with await pssst.aio.serve(echo, ("127.0.0.1", 0), server_private,
                                         reply_cache_bytes=2 * (160 + 60)) as server:
            sock = raw_socket()
            first = PSSSTClient(server_public).pack_request(b"12345678")[0]
            sock.sendto(first, server.sockname)
            assert await receive(sock, 5) is not None
            async with await pssst.aio.connect(server.sockname, server_public) as client:
                for message in [b"abcdefgh", b"ijklmnop", b"room yet"]:
                    assert await client.request(message) == message
            # The first reply was evicted: its copy gets nothing, not a rerun.
            sock.sendto(first, server.sockname)
            assert await receive(sock, 0.5) is None
            await until(lambda: server.stats["reply_forgotten"] == 1)
            assert server.stats["cache_full"] == 0
            sock.close()

    run(main())


def test_closing_with_requests_in_flight():
    server_private, server_public = generate_key_pair()
    quick_done = None

    async def handler(message, _client_key):
        if message == b"quick request":
            await quick_done.wait()
            return b"drained"
        await asyncio.Event().wait()   # never answers

    async def main():
        nonlocal quick_done
        quick_done = asyncio.Event()
        server = await pssst.aio.serve(handler, ("127.0.0.1", 0), server_private,
                                       drain_timeout=0.5)
        address = server.sockname
        client = PSSSTClient(server_public)
        sock = raw_socket()
        quick, quick_handler = client.pack_request(b"quick request")
        sock.sendto(quick, address)
        for i in range(3):
            sock.sendto(client.pack_request(b"stuck %d" % i)[0], address)
        await until(lambda: server.stats["received"] == 4)
        server.close()
        sock.sendto(client.pack_request(b"too late")[0], address)
        quick_done.set()
        assert quick_handler(await receive(sock, 5)) == b"drained"
        await asyncio.wait_for(server.wait_closed(), 5)
        stats = server.stats
        assert stats["received"] == 4, "nothing is read after close()"
        assert stats["answered"] == 1 and stats["cancelled"] == 3, stats
        assert settled(stats) == 4
        # The port is free again.
        again = await pssst.aio.serve(handler, address, server_private, drain_timeout=0)
        again.close()
        await again.wait_closed()
        sock.close()

    run(main())


def test_a_handler_still_running_when_its_reply_cache_entry_expires_is_cancelled(
        monkeypatch, caplog):
    # The shortest TTL is 11.5 s; the test moves the deadline instead of
    # waiting for it.
    monkeypatch.setattr(pssst._aio_server, "_SWEEP_SECONDS", 0.01)  # pylint: disable=protected-access
    server_private, server_public = generate_key_pair()
    started = []

    async def stuck(message, _client_key):
        started.append(message)
        await asyncio.Event().wait()

    async def main():
        async with await pssst.aio.serve(stuck, ("127.0.0.1", 0), server_private) as server:
            sock = raw_socket()
            sock.sendto(PSSSTClient(server_public).pack_request(b"slow")[0], server.sockname)
            await until(lambda: started)
            tasks = server._tasks  # pylint: disable=protected-access
            for task in tasks:
                tasks[task] = 0.0
            await until(lambda: server.stats["handler_timeout"] == 1)
            await until(lambda: not tasks)
            assert await receive(sock, 0.1) is None
            sock.close()

    with caplog.at_level(logging.WARNING, logger="pssst.aio"):
        run(main())
    assert any("TTL" in r.getMessage() for r in caplog.records)


def test_bad_arguments():
    server_private, _ = generate_key_pair()

    async def main():
        address = ("127.0.0.1", 0)
        for kwargs, error in [
                ({"reply_cache_ttl": 11}, ValueError),        # shorter than a client's retries
                ({"reply_cache_ttl": float("inf")}, ValueError),
                ({"max_in_flight": 0}, ValueError), ({"max_in_flight": True}, TypeError),
                ({"reply_cache_bytes": -1}, ValueError), ({"drain_timeout": -1}, ValueError),
                ({"authorized_keys": "ab" * 32}, TypeError),
                ({"authorized_keys": [b"short"]}, pssst.PSSSTInvalidKey)]:
            with pytest.raises(error):
                await pssst.aio.serve(echo, address, server_private, **kwargs)
        with pytest.raises(TypeError):
            await pssst.aio.serve("not callable", address, server_private)
        with pytest.raises(pssst.PSSSTInvalidKey):
            await pssst.aio.serve(echo, address, "00")

    run(main())


def test_pssst_aio_is_reachable_from_a_bare_import_pssst():
    code = "import pssst, sys; assert 'asyncio' not in sys.modules; print(pssst.aio.serve)"
    subprocess.run([sys.executable, "-c", code], check=True)
