"""pssst.aio's client: against a real `pssst serve`, and against fake
servers that record what it sends (retransmission schedule, fresh source
ports, replies to earlier attempts, forged and stale datagrams)."""

import asyncio
import os
import time

import pytest

import pssst
import pssst.aio
from pssst import PSSSTClient, PSSSTServer, generate_key_pair

from aio_support import PssstServe, keygen, recorder


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_many_concurrent_requests_against_pssst_serve(tmp_path):
    async def main(server):
        async with await pssst.aio.connect(server.address, server.public_key) as client:
            messages = [os.urandom(i % 300) for i in range(400)]
            replies = await asyncio.gather(*(client.request(m) for m in messages))
            assert replies == messages

    with PssstServe(tmp_path) as server:
        run(main(server))


def test_authenticated_client_against_a_closed_pssst_serve(tmp_path):
    alice = tmp_path / "alice.key"
    alice_public = keygen(alice)
    (tmp_path / "authorized").write_text(alice_public + "\n")

    async def main(server):
        # The key as the hex in the file, as the CLI writes it.
        key = alice.read_text().strip()
        async with await pssst.aio.connect(server.address, server.public_key, key) as client:
            assert await asyncio.gather(*(client.request(b"hi %d" % i) for i in range(50))) == \
                [b"hi %d" % i for i in range(50)]
        async with await pssst.aio.connect(server.address, server.public_key,
                                           timeout=0.05, retries=1) as anonymous:
            with pytest.raises(pssst.PSSSTTimeout):
                await anonymous.request(b"let me in")

    with PssstServe(tmp_path, "--authorized-keys", str(tmp_path / "authorized")) as server:
        run(main(server))


def test_timeout_after_retransmissions_from_fresh_sockets_doubling_the_wait():
    async def main():
        fake, address = await recorder()
        _, server_public = generate_key_pair()
        client = await pssst.aio.connect(address, server_public, timeout=0.05, retries=3)
        start = time.monotonic()
        with pytest.raises(pssst.PSSSTTimeout) as raised:
            await client.request(b"anyone there?")
        elapsed = time.monotonic() - start
        assert isinstance(raised.value, pssst.PSSSTException)
        assert isinstance(raised.value, TimeoutError)
        assert "4 attempts" in str(raised.value)
        times = [t for t, _, _ in fake.seen]
        ports = [addr[1] for _, addr, _ in fake.seen]
        packets = {data for _, _, data in fake.seen}
        assert len(times) == 4, fake.seen
        assert len(packets) == 1, "every attempt sends the same packet"
        assert len(set(ports)) == 4, "each retransmission comes from a new source port"
        for gap, wait in zip([b - a for a, b in zip(times, times[1:])], [0.05, 0.1, 0.2]):
            assert gap >= wait * 0.9, (gap, wait)
        # pssst-core's schedule: doubling, capped at 4 times the first.
        assert elapsed >= (0.05 + 0.1 + 0.2 + 0.2) * 0.9
        # The next request starts again from the first socket.
        with pytest.raises(pssst.PSSSTTimeout):
            await client.request(b"again")
        assert fake.seen[4][1][1] == ports[0]
        client.close()

    run(main())


def test_waits_are_pssst_cores_schedule_and_stay_inside_the_window():
    assert pssst.retry_waits(0.5, 0) == [0.5]
    assert pssst.retry_waits() == [0.5, 1, 2, 2, 2, 2, 2]
    # The last copy leaves within the window; the client gives up within
    # the shortest reply-cache TTL a server accepts.
    assert sum(pssst.retry_waits()[:-1]) <= pssst.RETRANSMISSION_WINDOW == 10.0
    assert sum(pssst.retry_waits()) <= pssst._pssst.REPLY_CACHE_MIN_TTL  # pylint: disable=protected-access
    with pytest.raises(pssst.PSSSTRetryWindowExceeded):
        pssst.retry_waits(5.0, 2)   # a copy at 15 s


def test_connect_refuses_a_schedule_past_the_window_before_sending():
    _, server_public = generate_key_pair()

    async def main():
        with pytest.raises(pssst.PSSSTRetryWindowExceeded):
            await pssst.aio.connect(("127.0.0.1", 9), server_public, timeout=5, retries=2)

    run(main())


def answering(server, reply_to):
    """An answer function for a Recorder: unpacks each request with our
    PSSSTServer and replies `reply_to(n, addr, recorder)` (an address or
    None), where n counts the copies of the current request."""
    copies = []

    def answer(data, addr, rec):
        message, _, reply_handler = server.unpack_request(data)
        copies.append(addr)
        target = reply_to(len(copies), addr, rec, copies)
        if target is not None:
            rec.transport.sendto(reply_handler(message[::-1]), target)

    return answer


def test_a_late_reply_to_an_earlier_attempt_is_accepted_and_its_socket_kept():
    server_private, server_public = generate_key_pair()
    server = PSSSTServer(server_private)

    # The second copy arrives; the reply goes to the first copy's source.
    def reply_to(n, _addr, _rec, copies):
        return copies[0] if n == 2 else None

    async def main():
        fake, address = await recorder(answering(server, reply_to))
        # Waits of 1 s, 2 s: the reply to the second copy lands long before
        # a third would leave, however loaded the machine.
        async with await pssst.aio.connect(address, server_public, timeout=1.0,
                                           retries=3) as client:
            assert await client.request(b"first") == b"tsrif"
            first_port, second_port = fake.seen[0][1][1], fake.seen[1][1][1]
            assert first_port != second_port
            assert len(fake.seen) == 2
            # The socket of the second attempt is closed; the first is kept.
            assert len(client._sockets) == 1  # pylint: disable=protected-access

    run(main())


def test_the_socket_that_got_the_reply_becomes_the_one_requests_start_from():
    server_private, server_public = generate_key_pair()
    server = PSSSTServer(server_private)
    answered = []

    # Only the third copy of the first request is answered (its flow
    # "reaches a live backend"); later requests are answered at once.
    def reply_to(n, addr, _rec, _copies):
        if answered or n == 3:
            answered.append(addr)
            return addr
        return None

    async def main():
        fake, address = await recorder(answering(server, reply_to))
        # Waits of 0.5, 1, 2 s: the reply to the third copy lands long
        # before a fourth would leave.
        async with await pssst.aio.connect(address, server_public, timeout=0.5,
                                           retries=3) as client:
            assert await client.request(b"one") == b"eno"
            third_port = fake.seen[2][1][1]
            assert len({addr[1] for _, addr, _ in fake.seen}) == 3
            assert await client.request(b"two") == b"owt"
            assert fake.seen[3][1][1] == third_port
            assert len(client._sockets) == 1  # pylint: disable=protected-access

    run(main())


def test_forged_stale_and_foreign_datagrams_are_ignored():
    server_private, server_public = generate_key_pair()
    server = PSSSTServer(server_private)
    other_private, other_public = generate_key_pair()
    # A genuine reply from another server to another client's request.
    foreign_request, _ = PSSSTClient(other_public).pack_request(b"elsewhere")
    foreign = PSSSTServer(other_private).unpack_request(foreign_request)[2](b"elsewhere")
    stale = []

    def answer(data, addr, rec):
        message, _, reply_handler = server.unpack_request(data)
        reply = reply_handler(message.upper())
        if not stale:
            stale.append(reply)
            rec.transport.sendto(reply, addr)
            return
        request_id = data[4:36]
        forgeries = [
            os.urandom(100),                                  # noise
            b"\x80\x00\x00\x01" + request_id + os.urandom(40),   # right id, wrong body
            reply[:-1] + bytes([reply[-1] ^ 1]),              # the reply, one bit flipped
            reply[:40],                                       # the reply, cut short
            stale[0],                                         # a reply to an older request
            foreign,                                          # another server's reply
            data,                                             # the request itself
        ]
        for forged in forgeries:
            rec.transport.sendto(forged, addr)
        rec.transport.sendto(reply, addr)

    async def main():
        _, address = await recorder(answer)
        async with await pssst.aio.connect(address, server_public, timeout=2,
                                           retries=0) as client:
            assert await client.request(b"old") == b"OLD"
            assert await client.request(b"new") == b"NEW"
            assert client.ignored == 7

    run(main())


def test_concurrent_requests_get_their_own_replies_in_any_order():
    server_private, server_public = generate_key_pair()
    server = PSSSTServer(server_private)
    held = []

    def answer(data, addr, rec):
        message, _, reply_handler = server.unpack_request(data)
        held.append((reply_handler(message + b"!"), addr))
        if len(held) == 20:
            for reply, target in reversed(held):
                rec.transport.sendto(reply, target)

    async def main():
        _, address = await recorder(answer)
        # One wait for all 20 (no copies: they would be held too), long
        # enough for all of them to be sent and answered on a loaded machine.
        async with await pssst.aio.connect(address, server_public, timeout=30,
                                           retries=0) as client:
            replies = await asyncio.gather(*(client.request(b"%d" % i) for i in range(20)))
            assert replies == [b"%d!" % i for i in range(20)]

    run(main())


def test_keys_in_every_form():
    server_private, server_public = generate_key_pair()
    client_private, client_public = generate_key_pair()
    public_raw = server_public.public_bytes_raw()
    private_raw = client_private.private_bytes_raw()
    seen = []

    async def handler(message, client_key):
        seen.append(client_key.public_bytes_raw())
        return message

    async def main():
        forms = [(server_public, client_private), (public_raw.hex(), private_raw.hex()),
                 (public_raw, private_raw), (bytearray(public_raw), bytearray(private_raw)),
                 (memoryview(public_raw), memoryview(private_raw))]
        server_forms = [server_private, server_private.private_bytes_raw().hex(),
                        server_private.private_bytes_raw()]
        for server_key in server_forms:
            async with await pssst.aio.serve(handler, ("127.0.0.1", 0), server_key) as server:
                for public, private in forms:
                    async with await pssst.aio.connect(server.sockname, public,
                                                       private) as client:
                        assert await client.request(b"k") == b"k"
        assert seen == [client_public.public_bytes_raw()] * 15
        with pytest.raises(pssst.PSSSTInvalidKey):
            await pssst.aio.connect(("127.0.0.1", 9), b"short")
        with pytest.raises(TypeError):
            await pssst.aio.connect(("127.0.0.1", 9), 42)

    run(main())


def test_bad_arguments_and_a_message_too_large():
    _, server_public = generate_key_pair()

    async def main():
        address = ("127.0.0.1", 9)
        for kwargs, error in [({"timeout": 0}, ValueError), ({"timeout": float("nan")}, ValueError),
                              ({"timeout": "1"}, TypeError), ({"retries": -1}, ValueError),
                              ({"retries": 101}, ValueError), ({"retries": True}, TypeError),
                              ({"retries": 1.5}, TypeError)]:
            with pytest.raises(error):
                await pssst.aio.connect(address, server_public, **kwargs)
        async with await pssst.aio.connect(address, server_public) as client:
            with pytest.raises(pssst.PSSSTMessageTooLarge):
                await client.request(bytes(pssst._pssst.MAX_DATAGRAM))  # pylint: disable=protected-access
            with pytest.raises(TypeError):
                await client.request("text")

    run(main())


def test_close_ends_requests_in_flight_and_refuses_new_ones():
    _, server_public = generate_key_pair()

    async def main():
        _, address = await recorder()
        client = await pssst.aio.connect(address, server_public, timeout=5, retries=0)
        in_flight = asyncio.ensure_future(client.request(b"waiting"))
        await asyncio.sleep(0.05)
        client.close()
        with pytest.raises(RuntimeError):
            await in_flight
        with pytest.raises(RuntimeError):
            await client.request(b"after")
        assert not client._pending  # pylint: disable=protected-access

    run(main())


def test_a_cancelled_request_closes_the_sockets_it_opened():
    _, server_public = generate_key_pair()

    async def main():
        fake, address = await recorder()
        async with await pssst.aio.connect(address, server_public, timeout=0.02,
                                           retries=10) as client:  # 0.02 .. 0.08 s
            task = asyncio.ensure_future(client.request(b"never mind"))
            await fake.wait_for(3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert len(client._sockets) == 1  # pylint: disable=protected-access
            assert not client._pending  # pylint: disable=protected-access

    run(main())
