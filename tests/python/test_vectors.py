"""All known-answer and reject vectors (tests/vectors) of both cipher
suites through Python."""

import pytest

import pssst
from pssst import CipherSuite, PSSSTClient, PSSSTServer

from conftest import KAT, KAT_FF01, REJECT, REJECT_FF01

H = bytes.fromhex
ALL_KAT = KAT + KAT_FF01
ALL_REJECT = REJECT + REJECT_FF01


def kat_id(case):
    return "{:#x}/{}".format(case.get("suite", 1), case["id"])


def reject_id(case):
    return ("suiteff01/" if case in REJECT_FF01 else "suite1/") + case["id"]


def test_vector_files_are_complete():
    assert len(KAT) == 18 and len(REJECT) == 22
    assert len(KAT_FF01) == 18 and len(REJECT_FF01) == 27
    assert {case["suite"] for case in KAT} == {1}
    assert {case["suite"] for case in KAT_FF01} == {0xFF01}


@pytest.mark.parametrize("case", ALL_KAT, ids=kat_id)
def test_kat_server_unpacks_request_and_reproduces_reply(case):
    server = PSSSTServer(case["server_private"])
    data, client_key, reply_handler = server.unpack_request(H(case["request_packet"]))
    assert data == H(case["request_plaintext"])
    if case["client_auth"]:
        assert client_key.public_bytes_raw() == H(case["client_public"])
    else:
        assert client_key is None
    assert reply_handler(H(case["reply_plaintext"])) == H(case["reply_packet"])


@pytest.mark.parametrize("case", ALL_KAT, ids=kat_id)
@pytest.mark.parametrize("ephemeral_field", ["ephemeral_rng_bytes", "ephemeral_secret"])
def test_kat_client_reproduces_request_and_unpacks_reply(case, ephemeral_field):
    client = PSSSTClient(case["server_public"], case["client_private"],
                         CipherSuite(case["suite"]))
    packet, reply_handler = client._pack_request_with_ephemeral(
        H(case["request_plaintext"]), H(case[ephemeral_field]))
    assert packet == H(case["request_packet"])
    assert reply_handler(H(case["reply_packet"])) == H(case["reply_plaintext"])
    with pytest.raises(pssst.PSSSTHandlerReused):
        reply_handler(H(case["reply_packet"]))


@pytest.mark.parametrize("case", ALL_KAT, ids=kat_id)
def test_kat_keys_as_bytes_and_objects(case):
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    server_key = X25519PrivateKey.from_private_bytes(H(case["server_private"]))
    assert server_key.public_key().public_bytes_raw() == H(case["server_public"])
    server = PSSSTServer(server_key)
    data, _, reply_handler = server.unpack_request(H(case["request_packet"]))
    assert data == H(case["request_plaintext"])
    assert reply_handler(H(case["reply_plaintext"])) == H(case["reply_packet"])


EXPECTED = {
    "truncated": pssst.PSSSTTruncated,
    "not a request": pssst.PSSSTNotRequest,
    "unsupported cipher suite": pssst.PSSSTUnsupportedCipher,
    "decryption failed": pssst.PSSSTDecryptFailed,
    "client auth failed": pssst.PSSSTClientAuthFailed,
    "low-order point": pssst.PSSSTLowOrderPoint,
}


@pytest.mark.parametrize("case", ALL_REJECT, ids=reject_id)
def test_reject_vector_raises_its_class(case):
    server = PSSSTServer(case["server_private"])
    packet = H(case["request_packet"])
    assert len(packet) == case["packet_len"]
    with pytest.raises(pssst.PSSSTException) as info:
        server.unpack_request(packet)
    assert isinstance(info.value, EXPECTED[case["expected_failure"]]), info.value
    # Where pypssst raised one of its own classes, we raise that class (or a
    # subclass): `except PSSSTDecryptFailed` code keeps working.
    if "pypssst" not in case["observed"]:  # suite 0xFF01: pypssst has no say
        return
    observed = case["observed"]["pypssst"]["detail"]
    if observed.startswith("pssst.errors."):
        assert isinstance(info.value, getattr(pssst, observed.split(".")[-1]))


def test_reject_vectors_cover_every_failure_kind():
    assert {case["expected_failure"] for case in REJECT} == set(EXPECTED)
    assert {case["expected_failure"] for case in REJECT_FF01} == set(EXPECTED)


@pytest.mark.parametrize("case", [c for c in ALL_KAT if c["message_len"] in (0, 64)], ids=kat_id)
def test_every_truncation_of_a_request_raises_a_pssst_exception(case):
    server = PSSSTServer(case["server_private"])
    packet = H(case["request_packet"])
    for cut in range(len(packet)):
        with pytest.raises(pssst.PSSSTException) as info:
            server.unpack_request(packet[:cut])
        if cut < 4 + 32 + 16:
            assert isinstance(info.value, pssst.PSSSTTruncated), cut


@pytest.mark.parametrize("case", [c for c in ALL_KAT if c["message_len"] in (0, 64)], ids=kat_id)
def test_every_single_bit_flip_of_a_request_is_rejected(case):
    server = PSSSTServer(case["server_private"])
    packet = bytearray(H(case["request_packet"]))
    for index in range(len(packet)):
        for bit in (0x01, 0x80):
            packet[index] ^= bit
            with pytest.raises(pssst.PSSSTException):
                server.unpack_request(packet)
            packet[index] ^= bit
