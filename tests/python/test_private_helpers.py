"""pypssst's private helpers in ``pssst.pssst``, which pypssst's own tests use
to build packets by hand: same names, signatures and results as pypssst's."""

import hashlib
import inspect
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import pssst
import pssst.pssst as impl

K1_PRIV = "c8c875ce0883d2af6466ac025d2c221c01b925762fd082efade036ef4abc4d44"
K1_PUB = "a3bac8ba07413b9e23c7cbf6c92f639a72c8b5bf8ac9f4ab1651779ce15d3b1d"


def test_kdf_has_pypssst_signature():
    assert list(inspect.signature(impl._DKF_SHA256).parameters) == [
        "dh_param", "shared_secret"]


def test_kdf_splits_sha256_of_dh_param_and_shared_secret():
    dh_param, shared = bytes(range(32)), bytes(range(32, 64))
    digest = hashlib.sha256(dh_param + shared).digest()
    assert impl._DKF_SHA256(dh_param, shared) == (
        digest[:16], digest[16:24] + b"RQST", digest[24:32] + b"RPLY")


@pytest.mark.parametrize("form", [bytes, bytearray, memoryview])
def test_kdf_accepts_bytes_likes(form):
    dh_param, shared = os.urandom(32), os.urandom(32)
    assert impl._DKF_SHA256(form(dh_param), form(shared)) == impl._DKF_SHA256(
        dh_param, shared)


@pytest.mark.parametrize("length", [0, 31, 33])
def test_kdf_refuses_inputs_that_are_not_32_bytes(length):
    with pytest.raises(ValueError):
        impl._DKF_SHA256(b"\x01" * length, b"\x02" * 32)
    with pytest.raises(ValueError):
        impl._DKF_SHA256(b"\x01" * 32, b"\x02" * length)


def test_kdf_matches_pypssst(reference):
    for _ in range(20):
        dh_param, shared = os.urandom(32), os.urandom(32)
        answer = reference("kdf", dh_param=dh_param.hex(), shared_secret=shared.hex())
        assert impl._DKF_SHA256(dh_param, shared) == tuple(
            bytes.fromhex(part) for part in answer["derived"])


def test_kdf_opens_a_real_request_and_seals_its_reply():
    server_private, server_public = pssst.generate_key_pair()
    packet, reply_handler = pssst.PSSSTClient(server_public).pack_request(b"ping")
    dh_param = packet[4:36]
    shared = server_private.exchange(X25519PublicKey.from_public_bytes(dh_param))
    key, request_nonce, reply_nonce = impl._DKF_SHA256(dh_param, shared)
    assert AESGCM(key).decrypt(request_nonce, packet[36:], packet[:4]) == b"ping"
    header = pssst.Header(cipher_suite=pssst.CipherSuite.X25519_AESGCM128,
                          reply=True).packet_bytes
    reply = header + dh_param + AESGCM(key).encrypt(reply_nonce, b"pong", header)
    assert reply_handler(reply) == b"pong"


def test_key_check_converts_like_pypssst():
    assert impl._key_check(None, True) is None
    public = impl._key_check(K1_PUB, True)
    assert isinstance(public, X25519PublicKey)
    assert public.public_bytes_raw().hex() == K1_PUB
    private = impl._key_check(bytes.fromhex(K1_PRIV), False)
    assert isinstance(private, X25519PrivateKey)
    assert private.public_key().public_bytes_raw().hex() == K1_PUB
    assert impl._key_check(private, False) is private
    with pytest.raises(ValueError):
        impl._key_check(K1_PUB[:-2], True)
