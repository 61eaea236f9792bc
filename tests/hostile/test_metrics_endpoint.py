"""The metrics endpoint under attack and as scrapers see it: slowloris
holders (half-sent requests, reopened as they are closed) must not lock
scrapes out, and the format is negotiated as Prometheus' own client
libraries do (text 0.0.4 unless the Accept header asks for OpenMetrics),
checked with prometheus_client's two parsers."""

import selectors
import socket
import threading
import time
import urllib.request

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families)
from prometheus_client.parser import text_string_to_metric_families as classic_families

from test_operations import metrics_url

PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def get(url, accept=None, timeout=10):
    headers = {"Accept": accept} if accept else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                timeout=timeout) as response:
        return response.headers["Content-Type"], response.read().decode()


class Holders:
    """`count` connections that send half a request, then a header byte now
    and then, and never finish; each one closed by the server is reopened
    at once (the attack of issue 22)."""

    def __init__(self, addr, count):
        self.addr, self.count = addr, count
        self.stop = threading.Event()
        self.reopened = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open(self, selector):
        sock = socket.create_connection(self.addr, timeout=5)
        sock.setblocking(False)
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        selector.register(sock, selectors.EVENT_READ)

    def run(self):
        selector = selectors.DefaultSelector()
        for _ in range(self.count):
            self.open(selector)
        last_trickle = time.monotonic()
        while not self.stop.is_set():
            for key, _ in selector.select(timeout=0.01):
                try:
                    closed = key.fileobj.recv(4096) == b""
                except OSError:
                    closed = True
                if closed:
                    selector.unregister(key.fileobj)
                    key.fileobj.close()
                    try:
                        self.open(selector)
                        self.reopened += 1
                    except OSError:
                        pass
            if time.monotonic() - last_trickle > 1:
                last_trickle = time.monotonic()
                for key in list(selector.get_map().values()):
                    try:
                        key.fileobj.send(b"X")
                    except OSError:
                        pass
        for key in list(selector.get_map().values()):
            key.fileobj.close()

    def __enter__(self):
        self.thread.start()
        time.sleep(1)  # every holder connected
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(30)


def test_slowloris_holders_do_not_lock_out_scrapes(serve):
    served = serve("--metrics", "127.0.0.1:0")
    url = metrics_url(served)
    host, port = url.split("/")[2].split(":")
    succeeded, tries = 0, 20
    with Holders((host, int(port)), 100) as holders:
        for _ in range(tries):
            try:
                _, text = get(url, timeout=10)
                succeeded += "pssst_requests_received_total" in text
            except OSError:
                pass
            time.sleep(0.25)
        reopened = holders.reopened
    assert succeeded >= 0.8 * tries, f"{succeeded} of {tries} scrapes answered ({reopened} reopened)"


def types_of(families):
    return {family.name: family.type for family in families}


def test_openmetrics_only_when_the_scraper_asks_for_it(serve):
    served = serve("--metrics", "127.0.0.1:0")
    url = metrics_url(served)
    expected = {"pssst_requests_received": "counter", "pssst_replies_sent": "counter",
                "pssst_requests_unanswered": "counter", "pssst_in_flight": "gauge",
                "pssst_handler_duration_seconds": "histogram"}
    for accept in (None, "*/*", "text/plain"):
        content_type, text = get(url, accept)
        assert content_type.startswith("text/plain; version=0.0.4"), (accept, content_type)
        assert "# EOF" not in text
        types = types_of(classic_families(text))
        assert {name: types.get(name) for name in expected} == expected, text
    for accept in ("application/openmetrics-text", PROMETHEUS_ACCEPT):
        content_type, text = get(url, accept)
        assert content_type.startswith("application/openmetrics-text"), (accept, content_type)
        types = types_of(openmetrics_families(text))
        assert {name: types.get(name) for name in expected} == expected, text
