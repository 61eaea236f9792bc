"""Cipher suite 0xFF01 (AES-GCM-SIV) between `pssst serve` / `pssst send`
and the independent implementation (wire.py, Python's `cryptography`
alone), both ways and both modes; `serve --suites` drops the other suite
before any X25519; a packet relabeled with the other suite never opens."""

import os
import socket
import threading

import pytest

import wire
from conftest import exchange, run_cli

SUITES = {"1": wire.SUITE1, "gcm-siv": wire.SUITE_GCM_SIV}


@pytest.mark.parametrize("suite", [wire.SUITE1, wire.SUITE_GCM_SIV])
@pytest.mark.parametrize("authenticated", [False, True])
def test_serve_answers_independent_requests_of_both_suites(serve, suite, authenticated):
    served = serve()  # no --suites: both
    client = os.urandom(32) if authenticated else None
    pending = wire.request(served.public, b"independent", client, suite=suite)
    reply = exchange(served.addr, pending.packet, timeout=2)
    assert reply is not None
    assert reply[2:4] == suite.to_bytes(2, "big"), "the reply uses the request's suite"
    assert pending.open_reply(reply) == b"independent"


@pytest.mark.parametrize("accepted,refused", [("gcm-siv", "1"), ("1", "gcm-siv")])
def test_serve_suites_drops_the_other_suite_before_x25519(serve, accepted, refused):
    served = serve("--suites", accepted)
    ok = wire.request(served.public, b"yes", suite=SUITES[accepted])
    assert ok.open_reply(exchange(served.addr, ok.packet, timeout=2)) == b"yes"
    dropped = wire.request(served.public, b"no", suite=SUITES[refused])
    assert exchange(served.addr, dropped.packet, timeout=0.5) is None
    stats = served.stats()
    assert stats.get("unknown_suite", 0) == 1, stats
    assert stats.get("decrypt_failed", 0) == 0, stats


def test_serve_suites_takes_both_and_refuses_nonsense(serve, tmp_path):
    served = serve("--suites", "gcm-siv,1")
    for suite in SUITES.values():
        pending = wire.request(served.public, b"both", suite=suite)
        assert pending.open_reply(exchange(served.addr, pending.packet, timeout=2)) == b"both"
    key = tmp_path / "server.key"
    done = run_cli("serve", "--key", str(key), "--listen", "127.0.0.1:0", "--suites", "2")
    assert done.returncode == 1
    assert done.stderr.decode().startswith("error: ") and b"cipher suite" in done.stderr


@pytest.mark.parametrize("suite", [wire.SUITE1, wire.SUITE_GCM_SIV])
def test_a_request_relabeled_with_the_other_suite_is_a_failed_decryption(serve, suite):
    served = serve()
    other = wire.SUITE_GCM_SIV if suite == wire.SUITE1 else wire.SUITE1
    pending = wire.request(served.public, b"relabeled", suite=suite)
    forged = pending.packet[:2] + other.to_bytes(2, "big") + pending.packet[4:]
    assert exchange(served.addr, forged, timeout=0.5) is None
    assert served.stats().get("decrypt_failed", 0) == 1


class IndependentServer:
    """A UDP server on wire.py: opens each request, answers it reversed."""

    def __init__(self):
        self.private = wire.clamp(os.urandom(32))
        self.public = wire.public_key(self.private)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.seen = []  # (suite, client public key or None) of each request
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping.is_set():
            try:
                packet, peer = self.sock.recvfrom(1 << 16)
            except TimeoutError:
                continue
            incoming = wire.open_request(self.private, packet)
            self.seen.append((incoming.pending.suite, incoming.client_public))
            self.sock.sendto(incoming.reply(incoming.message[::-1]), peer)

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()


@pytest.mark.parametrize("suite", ["1", "gcm-siv"])
@pytest.mark.parametrize("authenticated", [False, True])
def test_send_speaks_to_an_independent_server(tmp_path, suite, authenticated):
    server = IndependentServer()
    try:
        args = ["send", "--server", "127.0.0.1:%d" % server.sock.getsockname()[1],
                "--server-key", server.public.hex(), "--suite", suite]
        client_public = None
        if authenticated:
            key = tmp_path / "client.key"
            client_public = bytes.fromhex(run_cli("keygen", str(key)).stdout.decode().strip())
            args += ["--key", str(key)]
        done = run_cli(*args, "ping")
        assert done.returncode == 0, done.stderr
        assert done.stdout == b"gnip"
        assert server.seen[0] == (SUITES[suite], client_public)
    finally:
        server.stop()
