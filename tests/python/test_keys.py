"""Every key form pypssst accepts, plus bytearray and memoryview; bad keys."""

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey,
)

import pssst
from pssst import PSSSTClient, PSSSTServer, generate_key_pair


def forms_of_private(key):
    raw = key.private_bytes_raw()
    return {"object": key, "hex": raw.hex(), "HEX": raw.hex().upper(),
            "spaced hex": " ".join(raw[i:i + 4].hex() for i in range(0, 32, 4)),
            "bytes": raw, "bytearray": bytearray(raw), "memoryview": memoryview(raw)}


def forms_of_public(key):
    raw = key.public_bytes_raw()
    return {"object": key, "hex": raw.hex(), "HEX": raw.hex().upper(),
            "bytes": raw, "bytearray": bytearray(raw), "memoryview": memoryview(raw)}


SERVER_PRIVATE, SERVER_PUBLIC = generate_key_pair()
CLIENT_PRIVATE, CLIENT_PUBLIC = generate_key_pair()


@pytest.mark.parametrize("form", sorted(forms_of_private(SERVER_PRIVATE)))
def test_server_private_key_forms(form):
    server = PSSSTServer(forms_of_private(SERVER_PRIVATE)[form])
    packet, handler = PSSSTClient(SERVER_PUBLIC).pack_request(b"x")
    data, _, reply = server.unpack_request(packet)
    assert data == b"x" and handler(reply(b"y")) == b"y"


@pytest.mark.parametrize("form", sorted(forms_of_public(SERVER_PUBLIC)))
def test_server_public_key_forms(form):
    client = PSSSTClient(forms_of_public(SERVER_PUBLIC)[form])
    packet, _ = client.pack_request(b"x")
    assert PSSSTServer(SERVER_PRIVATE).unpack_request(packet)[0] == b"x"


@pytest.mark.parametrize("form", sorted(forms_of_private(CLIENT_PRIVATE)))
def test_client_private_key_forms(form):
    client = PSSSTClient(SERVER_PUBLIC, forms_of_private(CLIENT_PRIVATE)[form])
    packet, _ = client.pack_request(b"x")
    _, client_key, _ = PSSSTServer(SERVER_PRIVATE).unpack_request(packet)
    assert isinstance(client_key, X25519PublicKey)
    assert client_key.public_bytes_raw() == CLIENT_PUBLIC.public_bytes_raw()
    # Code that uses the returned key object keeps working.
    other = X25519PrivateKey.generate()
    assert other.exchange(client_key) == CLIENT_PRIVATE.exchange(other.public_key())


def test_keys_are_converted_once_not_kept_as_given():
    raw = bytearray(SERVER_PUBLIC.public_bytes_raw())
    client = PSSSTClient(raw)
    raw[:] = bytes(32)  # the caller changes their buffer afterwards
    packet, _ = client.pack_request(b"x")
    assert PSSSTServer(SERVER_PRIVATE).unpack_request(packet)[0] == b"x"


@pytest.mark.parametrize("bad", [b"", b"\x01" * 31, b"\x01" * 33, "00" * 31, "zz" * 32, "0" * 63])
def test_bad_key_values_raise_invalid_key(bad):
    for make in (lambda: PSSSTServer(bad), lambda: PSSSTClient(bad),
                 lambda: PSSSTClient(SERVER_PUBLIC, bad)):
        with pytest.raises(pssst.PSSSTInvalidKey) as info:
            make()
        # Also a ValueError, as pypssst raised.
        assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", [123, 1.5, object(), ["00"] * 32])
def test_wrong_key_types_raise_type_error(bad):
    with pytest.raises(TypeError):
        PSSSTServer(bad)
    with pytest.raises(TypeError):
        PSSSTClient(bad)


def test_private_key_object_is_not_a_public_key():
    with pytest.raises(TypeError):
        PSSSTClient(SERVER_PRIVATE)
    with pytest.raises(TypeError):
        PSSSTServer(SERVER_PUBLIC)


@pytest.mark.parametrize("point", [
    bytes(32),                                   # 0
    (1).to_bytes(32, "little"),                  # 1
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),  # order 8
])
def test_low_order_server_key_is_refused(point):
    with pytest.raises(pssst.PSSSTLowOrderPoint):
        PSSSTClient(point)
    with pytest.raises(pssst.PSSSTLowOrderPoint):
        PSSSTClient(point, CLIENT_PRIVATE)
