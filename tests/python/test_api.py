"""The pypssst 0.2.1 API surface: names, signatures, enums, Header, exceptions."""

import inspect
import pathlib

import pytest

import pssst
from pssst import (
    CipherSuite, Header, HeaderFlag, PSSSTClient, PSSSTServer, generate_key_pair,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey,
)

PYPSSST_NAMES = [
    "__version__",
    "PSSSTClient", "PSSSTServer", "generate_key_pair",
    "Header", "CipherSuite", "HeaderFlag",
    "PSSSTException", "PSSSTUnsupportedCipher", "PSSSTClientAuthFailed",
    "PSSSTReplyMismatch", "PSSSTNotReply", "PSSSTNotRequest",
    "PSSSTDecryptFailed", "PSSSTHandlerReused",
]


def test_every_pypssst_name_is_exported():
    for name in PYPSSST_NAMES:
        assert hasattr(pssst, name), name
        assert name in pssst.__all__, name


def test_pypssst_submodules_exist():
    # Code that imports from pypssst's submodules keeps working.
    from pssst.errors import PSSSTException  # noqa: F401
    from pssst.header import Header as H, CipherSuite as C, HeaderFlag as F  # noqa: F401
    from pssst.pssst import PSSSTClient as PC, PSSSTServer as PS, generate_key_pair as g  # noqa: F401
    assert H is Header and PC is PSSSTClient and PS is PSSSTServer


def test_installed_package_is_the_native_abi3_build():
    assert isinstance(pssst.__version__, str) and pssst.__version__
    native = pathlib.Path(pssst._pssst.__file__)
    assert native.name.endswith(".abi3.so") or native.suffix == ".pyd", native
    assert "site-packages" in native.parts, "tests must run against the installed package"
    assert (native.parent / "py.typed").exists()
    assert (native.parent / "_pssst.pyi").exists()


def test_signatures_match_pypssst():
    assert str(inspect.signature(generate_key_pair)) == \
        "(cipher_suite=<CipherSuite.X25519_AESGCM128: 1>)"
    assert list(inspect.signature(PSSSTClient.__new__).parameters) == \
        ["cls", "server_public_key", "client_private_key", "cipher_suite"]
    assert list(inspect.signature(PSSSTServer.__new__).parameters) == \
        ["cls", "server_private_key", "cipher_suite"]
    # Keyword arguments by pypssst's names.
    private, public = generate_key_pair()
    client_private, _ = generate_key_pair()
    PSSSTClient(server_public_key=public, client_private_key=client_private,
                cipher_suite=CipherSuite.X25519_AESGCM128)
    PSSSTServer(server_private_key=private, cipher_suite=CipherSuite.X25519_AESGCM128)


def test_enums_match_pypssst():
    # pypssst's two members, then suite 0xFF01 (AES-128-GCM-SIV).
    assert [(m.name, m.value) for m in CipherSuite] == [
        ("NONE", 0), ("X25519_AESGCM128", 1), ("X25519_AESGCMSIV128", 0xFF01)]
    assert HeaderFlag.REPLY == 0x8000 and HeaderFlag.CLIENT_AUTH == 0x4000
    assert issubclass(HeaderFlag, int)


def test_exception_hierarchy():
    base = pssst.PSSSTException
    assert issubclass(base, Exception)
    for name in PYPSSST_NAMES[7:]:
        assert issubclass(getattr(pssst, name), base), name
    # New classes for what pypssst leaked as struct.error/ValueError.
    assert issubclass(pssst.PSSSTTruncated, pssst.PSSSTDecryptFailed)
    assert issubclass(pssst.PSSSTLowOrderPoint, base)
    assert issubclass(pssst.PSSSTInvalidKey, base)
    assert issubclass(pssst.PSSSTInvalidKey, ValueError)
    for name in ("PSSSTMessageTooLarge", "PSSSTRngFailure", "PSSSTBufferTooSmall"):
        assert issubclass(getattr(pssst, name), base)
    assert pssst.PSSSTDecryptFailed.__module__ == "pssst.errors"


def test_generate_key_pair_returns_cryptography_objects():
    private, public = generate_key_pair()
    assert isinstance(private, X25519PrivateKey)
    assert isinstance(public, X25519PublicKey)
    assert private.public_key().public_bytes_raw() == public.public_bytes_raw()
    other_private, other_public = generate_key_pair(CipherSuite.X25519_AESGCM128)
    assert private.exchange(other_public) == other_private.exchange(public)


@pytest.mark.parametrize("suite", [CipherSuite.NONE, 1, 0xFF01, "X25519_AESGCM128", None])
def test_unsupported_cipher_suite_arguments(suite):
    # As in pypssst, only the enum members are accepted (a server also
    # takes None, every suite, and collections of members).
    private, public = generate_key_pair()
    with pytest.raises(pssst.PSSSTUnsupportedCipher):
        generate_key_pair(suite)
    with pytest.raises(pssst.PSSSTUnsupportedCipher):
        PSSSTClient(public, cipher_suite=suite)
    if suite is not None:
        with pytest.raises(pssst.PSSSTUnsupportedCipher):
            PSSSTServer(private, cipher_suite=suite)
        with pytest.raises(pssst.PSSSTUnsupportedCipher):
            PSSSTServer(private, cipher_suite=[CipherSuite.X25519_AESGCM128, suite])
    with pytest.raises(pssst.PSSSTUnsupportedCipher):
        PSSSTServer(private, cipher_suite=[])


def test_round_trip_returns_pypssst_shapes():
    server_private, server_public = generate_key_pair()
    client_private, client_public = generate_key_pair()
    server = PSSSTServer(server_private)
    for client_key in (None, client_private):
        client = PSSSTClient(server_public, client_key)
        result = client.pack_request(b"what time is it?")
        assert isinstance(result, tuple) and len(result) == 2
        packet, reply_handler = result
        assert isinstance(packet, bytes) and callable(reply_handler)
        unpacked = server.unpack_request(packet)
        assert isinstance(unpacked, tuple) and len(unpacked) == 3
        data, client_key_seen, server_handler = unpacked
        assert data == b"what time is it?" and isinstance(data, bytes)
        if client_key is None:
            assert client_key_seen is None
        else:
            assert isinstance(client_key_seen, X25519PublicKey)
            assert client_key_seen.public_bytes_raw() == client_public.public_bytes_raw()
        reply = server_handler(b"tea time")
        assert isinstance(reply, bytes) and len(reply) == 4 + 32 + 8 + 16
        assert reply_handler(reply) == b"tea time"


def test_packet_layout_and_header():
    server_private, server_public = generate_key_pair()
    client_private, _ = generate_key_pair()
    server = PSSSTServer(server_private)
    anon_packet, _ = PSSSTClient(server_public).pack_request(b"abc")
    auth_packet, _ = PSSSTClient(server_public, client_private).pack_request(b"abc")
    assert len(anon_packet) == 4 + 32 + 3 + 16
    assert len(auth_packet) == 4 + 32 + 64 + 3 + 16
    assert anon_packet[:4] == b"\x00\x00\x00\x01"
    assert auth_packet[:4] == b"\x40\x00\x00\x01"
    hdr = Header.from_packet(auth_packet[:4])
    assert (hdr.reply, hdr.client_auth, hdr.cipher_suite) == \
        (False, True, CipherSuite.X25519_AESGCM128)
    # A whole packet is fine too (pypssst wants exactly 4 bytes).
    assert Header.from_packet(auth_packet).packet_bytes == auth_packet[:4]
    reply = server.unpack_request(auth_packet)[2](b"")
    hdr = Header.from_packet(reply[:4])
    assert hdr.reply and hdr.client_auth
    assert hdr.packet_bytes == b"\xc0\x00\x00\x01"


def test_header_api_matches_pypssst():
    hdr = Header()
    assert hdr.cipher_suite is CipherSuite.NONE and not hdr.reply and not hdr.client_auth
    assert hdr.packet_bytes == b"\x00\x00\x00\x00"
    hdr = Header(cipher_suite=CipherSuite.X25519_AESGCM128, reply=True, client_auth=True)
    assert hdr.packet_bytes == b"\xc0\x00\x00\x01"
    hdr.reply = False
    assert hdr.packet_bytes == b"\x40\x00\x00\x01"
    hdr.client_auth = False
    hdr.reply = True
    assert hdr.packet_bytes == b"\x80\x00\x00\x01"
    hdr.cipher_suite = CipherSuite.NONE
    assert hdr.packet_bytes == b"\x80\x00\x00\x00"
    assert repr(Header(CipherSuite.X25519_AESGCM128, True, False)) == \
        "Header(cipher_suite=CipherSuite.X25519_AESGCM128, reply=True, client_auth=False)"
    for raw in (b"\x00\x00\x00\x00", bytearray(b"\x80\x00\x00\x01"), memoryview(b"\xc0\x00\x00\x01")):
        assert Header.from_packet(raw).packet_bytes == bytes(raw)


@pytest.mark.parametrize("raw", [b"", b"\x00", b"\x00\x00\x00"])
def test_header_from_short_packet_raises_truncated(raw):
    with pytest.raises(pssst.PSSSTTruncated):
        Header.from_packet(raw)


@pytest.mark.parametrize("suite", [2, 0x100, 0xFFFF])
def test_header_from_packet_with_unknown_suite(suite):
    with pytest.raises(pssst.PSSSTUnsupportedCipher):
        Header.from_packet(b"\x00\x00" + suite.to_bytes(2, "big"))


def test_data_accepts_bytes_likes_and_rejects_others():
    server_private, server_public = generate_key_pair()
    server = PSSSTServer(server_private)
    client = PSSSTClient(server_public)
    for data in (b"hi", bytearray(b"hi"), memoryview(b"xhix")[1:3]):
        packet, handler = client.pack_request(data)
        for form in (packet, bytearray(packet), memoryview(packet)):
            got, _, server_handler = server.unpack_request(form)
            assert got == b"hi"
        reply = server_handler(bytearray(b"yo"))
        assert handler(memoryview(reply)) == b"yo"
    for bad in ("text", 5, None, [1, 2]):
        with pytest.raises(TypeError):
            client.pack_request(bad)
        with pytest.raises(TypeError):
            server.unpack_request(bad)


def test_empty_and_large_messages():
    server_private, server_public = generate_key_pair()
    client_private, _ = generate_key_pair()
    server = PSSSTServer(server_private)
    for client_key in (None, client_private):
        client = PSSSTClient(server_public, client_key)
        for size in (0, 1, 1400, 100_000):
            message = bytes(i % 251 for i in range(size))
            packet, handler = client.pack_request(message)
            data, _, server_handler = server.unpack_request(packet)
            assert data == message
            assert handler(server_handler(message[::-1])) == message[::-1]
