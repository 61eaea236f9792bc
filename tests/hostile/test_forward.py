"""`pssst serve --forward URL`: the gateway to an HTTP application, driven
from outside with hand-built packets (wire.py) against a real local HTTP
server (the standard library's), which records what it was sent."""

import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import exchange, run_cli
from wire import public_key, request


class Backend:
    """A local HTTP application. The message picks the answer:
    b"status N" -> status N; b"size N" -> a 200 with N bytes;
    b"hold ..." -> waits until released (or 10 s), then echoes;
    b"count ..." -> a body that differs on every call; else an echo."""

    def __init__(self, port=0):
        self.seen = []  # (method, path, headers, body) per request
        self.release = threading.Event()
        self.holding = 0
        self.calls = 0
        self.lock = threading.Lock()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with backend.lock:
                    backend.calls += 1
                    calls = backend.calls
                    backend.seen.append((self.command, self.path, dict(self.headers), body))
                status, reply = 200, body
                if body.startswith(b"status "):
                    status = int(body.split()[1])
                elif body.startswith(b"size "):
                    reply = b"x" * int(body.split()[1])
                elif body.startswith(b"hold"):
                    with backend.lock:
                        backend.holding += 1
                    backend.release.wait(10)
                    with backend.lock:
                        backend.holding -= 1
                elif body.startswith(b"count"):
                    reply = b"call %d" % calls
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.http.daemon_threads = True
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/app"

    def stop(self):
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def backend():
    started = Backend()
    yield started
    started.stop()


def gateway(serve, backend_url, *args):
    return serve("--forward", backend_url, *args)


def headers_of(seen):
    return {k.lower(): v for k, v in seen[2].items()}


def test_anonymous_and_authenticated_requests_reach_the_backend(serve, backend):
    served = gateway(serve, backend.url)
    anon = request(served.public, b"hello backend")
    assert anon.open_reply(exchange(served.addr, anon.packet, timeout=5)) == b"hello backend"
    client_private = os.urandom(32)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    authed = request(served.public, b"hello again", client_private=client_private)
    assert authed.open_reply(exchange(served.addr, authed.packet, timeout=5, sock=sock)) == b"hello again"
    (method, path, h_anon, body_anon), (_, _, h_auth, body_auth) = backend.seen
    assert (method, path, body_anon, body_auth) == ("POST", "/app", b"hello backend", b"hello again")
    h_anon, h_auth = headers_of(backend.seen[0]), headers_of(backend.seen[1])
    assert h_anon["content-type"] == "application/octet-stream"
    # The client key header exactly when the request was authenticated.
    assert "pssst-client-key" not in h_anon
    assert h_auth["pssst-client-key"] == public_key(client_private).hex()
    assert h_auth["pssst-peer"] == "127.0.0.1:%d" % sock.getsockname()[1]
    sock.close()


def test_the_message_cannot_set_a_header(serve, backend):
    served = gateway(serve, backend.url)
    forged = (b"x\r\nPssst-Client-Key: " + b"ab" * 32 + b"\r\nPssst-Peer: 10.0.0.1:1\r\n\r\n")
    pending = request(served.public, forged)
    assert pending.open_reply(exchange(served.addr, pending.packet, timeout=5)) == forged
    headers = headers_of(backend.seen[0])
    assert "pssst-client-key" not in headers
    assert headers["pssst-peer"].startswith("127.0.0.1:")
    assert backend.seen[0][3] == forged


def test_pssst_send_through_the_gateway(serve, backend, tmp_path):
    served = gateway(serve, backend.url)
    key = tmp_path / "alice.key"
    assert run_cli("keygen", str(key)).returncode == 0
    for extra in ([], ["--key", str(key)]):
        result = run_cli("send", "--server", "%s:%d" % served.addr, "--server-key",
                         served.public.hex(), *extra, "via send")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == b"via send"
    assert "pssst-client-key" not in headers_of(backend.seen[0])
    assert len(headers_of(backend.seen[1])["pssst-client-key"]) == 64


def test_a_non_2xx_response_gives_no_reply_and_is_counted(serve, backend):
    served = gateway(serve, backend.url)
    for status in (500, 404, 302):
        pending = request(served.public, b"status %d" % status)
        assert exchange(served.addr, pending.packet, timeout=1) is None
    assert served.stats().get("handler_failed") == 3


def test_a_backend_that_is_down_gives_no_reply_and_the_server_keeps_running(serve):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    served = gateway(serve, f"http://127.0.0.1:{port}/")
    pending = request(served.public, b"anyone there?")
    for i in range(3):
        assert exchange(served.addr, pending.packet, timeout=1) is None
    assert served.proc.poll() is None, "the server died"
    assert served.stats().get("handler_unreachable") == 3
    # Nothing reached a backend, so the request was not remembered: once
    # one listens there, a retry of the same request is answered.
    late = Backend(port)
    try:
        assert pending.open_reply(exchange(served.addr, pending.packet, timeout=5)) == b"anyone there?"
    finally:
        late.stop()


def test_an_oversize_response_is_dropped_and_counted(serve, backend):
    served = gateway(serve, backend.url)
    # Larger than the request: never sent by default.
    pending = request(served.public, b"size 100")
    assert exchange(served.addr, pending.packet, timeout=1) is None
    assert served.stats().get("amplification") == 1
    # Larger than any datagram, even where amplification is allowed.
    lifted = gateway(serve, backend.url, "--allow-amplification")
    pending = request(lifted.public, b"size 70000")
    assert exchange(lifted.addr, pending.packet, timeout=1) is None
    assert lifted.stats().get("reply_too_large") == 1
    pending = request(lifted.public, b"size 1000")
    assert len(pending.open_reply(exchange(lifted.addr, pending.packet, timeout=5))) == 1000


def test_a_fast_request_is_answered_while_a_slow_one_is_in_flight(serve, backend):
    served = gateway(serve, backend.url, "--workers", "1")
    slow = request(served.public, b"hold on")
    slow_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    slow_sock.sendto(slow.packet, served.addr)
    deadline = time.monotonic() + 5
    while backend.holding == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert backend.holding == 1, "the slow request did not reach the backend"
    fast = request(served.public, b"quick one")
    # Generous: the slow one is held for 10 s, so any answer at all here
    # means the fast one did not wait for it.
    reply = exchange(served.addr, fast.packet, timeout=5)
    assert reply is not None and backend.holding == 1
    assert fast.open_reply(reply) == b"quick one"
    backend.release.set()
    slow_sock.settimeout(5)
    assert slow.open_reply(slow_sock.recvfrom(1 << 16)[0]) == b"hold on"
    slow_sock.close()


def test_a_retried_request_gets_identical_bytes(serve, backend):
    served = gateway(serve, backend.url)
    pending = request(served.public, b"count me, once")
    first = exchange(served.addr, pending.packet, timeout=5)
    assert pending.open_reply(first) == b"call 1"
    for _ in range(3):
        assert exchange(served.addr, pending.packet, timeout=5) == first
    assert backend.calls == 1, "a retry reached the backend again"


def test_a_slow_backend_times_out_and_is_counted(serve, backend):
    served = gateway(serve, backend.url, "--forward-timeout", "0.3")
    pending = request(served.public, b"hold: too slow")
    assert exchange(served.addr, pending.packet, timeout=1.5) is None
    assert served.stats().get("handler_timeout") == 1


def test_requests_past_max_in_flight_are_dropped_and_counted(serve, backend):
    served = gateway(serve, backend.url, "--max-in-flight", "2")
    socks = []
    for i in range(3):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.sendto(request(served.public, b"hold %d" % i).packet, served.addr)
        socks.append(sock)
        time.sleep(0.2)
    stats = served.stats()
    assert stats.get("busy") == 1, stats
    assert backend.holding == 2
    backend.release.set()
    for sock in socks:
        sock.close()


def test_the_forward_timeout_must_be_shorter_than_the_cache_ttl(tmp_path):
    key = tmp_path / "k"
    run_cli("keygen", str(key))
    result = run_cli("serve", "--key", str(key), "--listen", "127.0.0.1:0", "--forward",
                     "http://127.0.0.1:1/", "--forward-timeout", "30", "--reply-cache-ttl", "20")
    assert result.returncode == 1
    assert b"--forward-timeout" in result.stderr
    result = run_cli("serve", "--key", str(key), "--listen", "127.0.0.1:0", "--forward",
                     "https://example.com/")
    assert result.returncode == 1 and b"https://" in result.stderr
