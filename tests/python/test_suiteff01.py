"""Cipher suite 0xFF01 (AES-128-GCM-SIV) through the Python API: the
clients' choice, the servers' default and restriction, replies in the
request's suite, relabeled packets, and both directions against the
independent implementation tests/hostile/wire.py (Python's `cryptography`
alone), whose generator must still make the committed vector files."""

import os
import subprocess
import sys

import pytest

import pssst
from pssst import CipherSuite, Header, PSSSTClient, PSSSTServer, generate_key_pair

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests" / "hostile"))
import wire  # noqa: E402  (the independent implementation)

GCM, SIV = CipherSuite.X25519_AESGCM128, CipherSuite.X25519_AESGCMSIV128


def raw(key):
    return key.public_bytes_raw() if hasattr(key, "public_bytes_raw") else key.private_bytes_raw()


@pytest.fixture(name="keys")
def fixture_keys():
    server_private, server_public = generate_key_pair()
    client_private, client_public = generate_key_pair(SIV)
    return server_private, server_public, client_private, client_public


def test_the_generator_still_makes_the_committed_vector_files():
    vectors = os.environ.get("PSSST_VECTORS_DIR", str(REPO_ROOT / "tests" / "vectors"))
    generator = REPO_ROOT / "tests" / "vectors" / "generate_suiteff01.py"
    done = subprocess.run([sys.executable, str(generator), "--check", vectors],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr + done.stdout


def test_pypssst_code_that_names_no_suite_speaks_suite_1_to_a_server_of_both(keys):
    server_private, server_public, _, _ = keys
    server = PSSSTServer(server_private)
    assert server.cipher_suites == {GCM, SIV}
    client = PSSSTClient(server_public)
    assert client.cipher_suite is GCM
    packet, handler = client.pack_request(b"hello")
    assert Header.from_packet(packet).cipher_suite is GCM
    data, _, reply_handler = server.unpack_request(packet)
    reply = reply_handler(data[::-1])
    assert Header.from_packet(reply).cipher_suite is GCM
    assert handler(reply) == b"olleh"


@pytest.mark.parametrize("suite", [GCM, SIV])
@pytest.mark.parametrize("authenticated", [False, True])
def test_a_reply_uses_the_suite_of_its_request(keys, suite, authenticated):
    server_private, server_public, client_private, client_public = keys
    client = PSSSTClient(server_public, client_private if authenticated else None, suite)
    packet, handler = client.pack_request(b"question")
    header = Header.from_packet(packet)
    assert header.cipher_suite is suite and header.client_auth == authenticated
    data, client_key, reply_handler = PSSSTServer(server_private).unpack_request(packet)
    assert data == b"question"
    assert (client_key.public_bytes_raw() if authenticated else None) == \
        (raw(client_public) if authenticated else None)
    reply = reply_handler(b"answer")
    assert Header.from_packet(reply).cipher_suite is suite
    assert handler(reply) == b"answer"


@pytest.mark.parametrize("accepted", [GCM, SIV, [SIV], (GCM, SIV), {SIV, GCM}])
def test_a_server_accepts_only_the_suites_it_is_given(keys, accepted):
    server_private, server_public, _, _ = keys
    server = PSSSTServer(server_private, cipher_suite=accepted)
    allowed = {accepted} if isinstance(accepted, CipherSuite) else set(accepted)
    assert server.cipher_suites == allowed
    for suite in (GCM, SIV):
        packet, _ = PSSSTClient(server_public, cipher_suite=suite).pack_request(b"q")
        if suite in allowed:
            assert server.unpack_request(packet)[0] == b"q"
        else:
            with pytest.raises(pssst.PSSSTUnsupportedCipher):
                server.unpack_request(packet)


@pytest.mark.parametrize("suite", [GCM, SIV])
def test_packets_relabeled_with_the_other_suite_never_open(keys, suite):
    server_private, server_public, _, _ = keys
    other = SIV if suite is GCM else GCM
    packet, handler = PSSSTClient(server_public, cipher_suite=suite).pack_request(b"q")
    relabeled = packet[:2] + other.value.to_bytes(2, "big") + packet[4:]
    with pytest.raises(pssst.PSSSTDecryptFailed):
        PSSSTServer(server_private).unpack_request(relabeled)
    _, _, reply_handler = PSSSTServer(server_private).unpack_request(packet)
    reply = reply_handler(b"a")
    with pytest.raises(pssst.PSSSTReplyMismatch):
        handler(reply[:2] + other.value.to_bytes(2, "big") + reply[4:])
    assert handler(reply) == b"a"


@pytest.mark.parametrize("suite", [wire.SUITE1, wire.SUITE_GCM_SIV])
@pytest.mark.parametrize("authenticated", [False, True])
def test_independent_requests_open_and_their_replies_come_back(keys, suite, authenticated):
    """wire.py (cryptography only) is the client; pssst-rs the server."""
    server_private, server_public, client_private, client_public = keys
    pending = wire.request(raw(server_public), b"from the independent side",
                           client_private.private_bytes_raw() if authenticated else None,
                           suite=suite)
    data, client_key, reply_handler = PSSSTServer(server_private).unpack_request(pending.packet)
    assert data == b"from the independent side"
    assert (client_key and client_key.public_bytes_raw()) == \
        (raw(client_public) if authenticated else None)
    assert pending.open_reply(reply_handler(b"to the independent side")) == \
        b"to the independent side"


@pytest.mark.parametrize("suite", [GCM, SIV])
@pytest.mark.parametrize("authenticated", [False, True])
def test_our_requests_open_on_the_independent_side(keys, suite, authenticated):
    """pssst-rs is the client; wire.py (cryptography only) the server."""
    server_private, server_public, client_private, client_public = keys
    client = PSSSTClient(server_public, client_private if authenticated else None, suite)
    packet, handler = client.pack_request(b"from pssst-rs")
    incoming = wire.open_request(server_private.private_bytes_raw(), packet)
    assert incoming.message == b"from pssst-rs"
    assert incoming.client_public == (raw(client_public) if authenticated else None)
    assert handler(incoming.reply(b"to pssst-rs")) == b"to pssst-rs"


def test_an_independent_server_of_suite_1_only_refuses_our_suite_0xff01(keys):
    server_private, server_public, _, _ = keys
    packet, _ = PSSSTClient(server_public, cipher_suite=SIV).pack_request(b"q")
    with pytest.raises(wire.Rejected, match="unsupported cipher suite"):
        wire.open_request(server_private.private_bytes_raw(), packet, suites=(wire.SUITE1,))
