"""Reply handler rules: single use; a failed reply does not use up a client
handler; bad replies raise the class pypssst raises."""

import threading

import pytest

import pssst
from pssst import PSSSTClient, PSSSTServer, generate_key_pair

SERVER_PRIVATE, SERVER_PUBLIC = generate_key_pair()
CLIENT_PRIVATE, _ = generate_key_pair()
SERVER = PSSSTServer(SERVER_PRIVATE)


def exchange(auth, message=b"request", reply=b"reply"):
    client = PSSSTClient(SERVER_PUBLIC, CLIENT_PRIVATE if auth else None)
    packet, client_handler = client.pack_request(message)
    _, _, server_handler = SERVER.unpack_request(packet)
    return packet, client_handler, server_handler, server_handler(reply)


@pytest.mark.parametrize("auth", [False, True])
def test_server_handler_is_single_use(auth):
    _, _, server_handler, _ = exchange(auth)
    assert server_handler.used
    with pytest.raises(pssst.PSSSTHandlerReused):
        server_handler(b"reply")
    with pytest.raises(pssst.PSSSTHandlerReused):
        server_handler(b"another reply")


@pytest.mark.parametrize("auth", [False, True])
def test_client_handler_is_single_use(auth):
    _, client_handler, _, reply = exchange(auth)
    assert not client_handler.used
    assert client_handler(reply) == b"reply"
    assert client_handler.used
    with pytest.raises(pssst.PSSSTHandlerReused):
        client_handler(reply)
    with pytest.raises(pssst.PSSSTHandlerReused):
        client_handler(b"")


def mutations(reply):
    """(name, bad reply, class pypssst raises or a subclass of it)."""
    def with_header(flags, suite):
        return flags.to_bytes(2, "big") + suite.to_bytes(2, "big") + reply[4:]
    flags = int.from_bytes(reply[:2], "big")
    flipped = bytearray(reply)
    flipped[-1] ^= 1
    body = bytearray(reply)
    body[40] ^= 0x10
    dh = bytearray(reply)
    dh[10] ^= 1
    yield "suite 0", with_header(flags, 0), pssst.PSSSTReplyMismatch
    yield "suite 2", with_header(flags, 2), pssst.PSSSTUnsupportedCipher
    yield "suite ffff", with_header(flags, 0xFFFF), pssst.PSSSTUnsupportedCipher
    yield "not a reply", with_header(flags & ~0x8000, 1), pssst.PSSSTNotReply
    yield "not a reply, suite ffff", with_header(flags & ~0x8000, 0xFFFF), pssst.PSSSTUnsupportedCipher
    yield "auth flag flipped", with_header(flags ^ 0x4000, 1), pssst.PSSSTReplyMismatch
    yield "unknown flag set", with_header(flags | 0x0001, 1), pssst.PSSSTDecryptFailed
    yield "other dh param", bytes(dh), pssst.PSSSTReplyMismatch
    yield "tag flipped", bytes(flipped), pssst.PSSSTDecryptFailed
    yield "ciphertext flipped", bytes(body), pssst.PSSSTDecryptFailed
    yield "a request", b"\x00\x00\x00\x01" + reply[4:], pssst.PSSSTNotReply
    for cut in range(len(reply)):
        expected = (pssst.PSSSTTruncated if cut < 4 else
                    pssst.PSSSTReplyMismatch if cut < 36 else pssst.PSSSTDecryptFailed)
        yield "cut at {}".format(cut), reply[:cut], expected


@pytest.mark.parametrize("auth", [False, True])
def test_bad_replies_raise_and_leave_the_client_handler_usable(auth):
    _, client_handler, _, reply = exchange(auth, reply=b"0123456789")
    for name, bad, expected in mutations(reply):
        with pytest.raises(pssst.PSSSTException) as info:
            client_handler(bad)
        assert isinstance(info.value, expected), (name, info.value)
        assert not client_handler.used, name
    assert client_handler(reply) == b"0123456789"


def test_reply_for_another_request_is_a_mismatch():
    _, handler_a, _, _ = exchange(False)
    _, _, _, reply_b = exchange(False)
    with pytest.raises(pssst.PSSSTReplyMismatch):
        handler_a(reply_b)
    assert not handler_a.used


def test_short_reply_that_matches_is_truncated():
    _, client_handler, _, reply = exchange(False, reply=b"")
    with pytest.raises(pssst.PSSSTTruncated):
        client_handler(reply[:-1])
    assert client_handler(reply) == b""


def test_one_handler_shared_by_threads_succeeds_once():
    for auth in (False, True):
        _, client_handler, server_handler, reply = exchange(auth)
        results = []

        def use(handler, arg):
            try:
                results.append(("ok", handler(arg)))
            except pssst.PSSSTHandlerReused:
                results.append(("reused", None))

        threads = [threading.Thread(target=use, args=(client_handler, reply)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(r[0] for r in results) == ["ok"] + ["reused"] * 7
        assert [r[1] for r in results if r[0] == "ok"] == [b"reply"]
        # The server handler (already used once by exchange()) stays used.
        with pytest.raises(pssst.PSSSTHandlerReused):
            server_handler(b"x")
