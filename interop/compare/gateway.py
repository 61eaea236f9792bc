"""The serve features benchmark: `pssst serve --forward` in front of a
minimal Rust HTTP backend against the echo server; `pssst serve --exec` with
slow requests in flight against the same command with fast requests only;
the gateway beside a flood of `/metrics` scrapes against the same gateway
(metrics on) without it; and a server with two keys (a rotation) answering requests for its first
key against requests for its second (one more X25519 each). Each pair is
measured side by side in interleaved rounds, driven by `pssst bench`.

    python3 interop/compare/gateway.py [--rounds 3] [--seconds 5] [--only gateway]

Builds what it needs (release `pssst`, the `http-echo` backend of the
pssst-compare crate), prints one table with throughput, p50 and p99
latency, and the ratios against their goals (gateway >= 80% of echo; fast
requests beside slow ones >= 80% of fast-only; the gateway beside a metrics
flood >= 80% of the gateway alone). `--only gateway` runs the echo and
gateway pair alone (quicker, when working on the gateway). Asserts no timing: it is a
measurement, not a test. Any failed transaction, or a leg that cannot run,
stops it with FATAL."""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from config import ROOT, TARGET  # noqa: E402
from shell import die, log, run  # noqa: E402
from udp import cpu_seconds  # noqa: E402

RELEASE = os.path.join(TARGET, "release")
PSSST = os.path.join(RELEASE, "pssst")
HTTP_ECHO = os.path.join(RELEASE, "http-echo")
# Slow for client-authenticated requests (the slow load), fast otherwise;
# both echo the message, so `pssst bench` can check every reply.
EXEC_MIX = '[ -n "$PSSST_CLIENT_KEY" ] && sleep 1; cat'
# Scrapes /metrics over CONNECTIONS sockets at once, each request on a new
# connection (`Connection: close`), as fast as it can until killed, then
# prints how many responses it read. Raw sockets: a scraper costs the
# flood little CPU per request.
METRICS_FLOOD = """
import selectors, signal, socket, sys
host, port = sys.argv[1].split("/")[2].split(":")
REQUEST = b"GET /metrics HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
answered = 0
def done(*_):
    print(answered, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
selector = selectors.DefaultSelector()
def scrape():
    try:
        sock = socket.create_connection((host, int(port)), timeout=5)
        sock.sendall(REQUEST)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, [None])
    except OSError:
        pass
for _ in range(int(sys.argv[2])):
    scrape()
while True:
    for key, _ in selector.select(timeout=0.1):
        try:
            data = key.fileobj.recv(65536)
        except OSError:
            data = b""
        if data:
            if key.data[0] is None:
                key.data[0] = data.startswith(b"HTTP/1.1 200")
            continue
        answered += bool(key.data[0])
        selector.unregister(key.fileobj)
        key.fileobj.close()
        scrape()
    while len(selector.get_map()) < int(sys.argv[2]):
        scrape()
"""
# Flood processes and connections each. They run at nice 10: on a shared
# 2-core machine the attacker's own CPU would otherwise be taken from the
# gateway; a real attacker spends its own.
FLOODERS = 2
CONNECTIONS = 32


def start(cmd, pattern):
    """Starts a server and returns (process, match of its first line)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.search(pattern, line)
    if not m:
        proc.kill()
        die("%s did not start: %r %s" % (cmd[0], line, proc.stderr.read()))
    return proc, m


def stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def serve(key, *args):
    proc, m = start([PSSST, "serve", "--key", key, "--listen", "127.0.0.1:0", "--workers", "2",
                     *args], r"listening on (\S+) .*public key ([0-9a-f]{64})")
    return proc, m.group(1), m.group(2)


def to_us(text):
    value, unit = text.split()
    return float(value) * {"µs": 1, "ms": 1e3, "s": 1e6}[unit]


def bench(addr, public, seconds, extra=()):
    out = run([PSSST, "bench", "--server", addr, "--server-key", public, "--duration",
               str(seconds), "--requests", "100000000", "--concurrency", "8", *extra],
              capture=True, timeout=seconds + 120)
    ok = re.search(r"transactions\s+(\d+) ok, (\d+) failed", out)
    rate = re.search(r"throughput\s+([\d,]+) transactions/s", out)
    latency = re.search(r"p50 (\S+ \S+)\s+p99 (\S+ \S+)", out)
    if not ok or not rate or not latency:
        die("cannot parse pssst bench output:\n" + out)
    if int(ok.group(2)):
        die("failed transactions:\n" + out)
    return {"tx_per_s": float(rate.group(1).replace(",", "")),
            "p50_us": to_us(latency.group(1)), "p99_us": to_us(latency.group(2))}


def one_round(key, slow_key, backend_url, seconds, runs, only_gateway):
    if only_gateway:
        echo_and_gateway(key, backend_url, seconds, runs)
        return
    proc, addr, first = serve(key, "--key", slow_key)
    second = run([PSSST, "pubkey", slow_key], capture=True).strip()
    try:
        for name, public in (("2 keys, 1st key", first), ("2 keys, 2nd key", second)):
            log("%s, %.0f s" % (name, seconds))
            before = sum(cpu_seconds(proc.pid))
            result = bench(addr, public, seconds)
            result["server_cpu_us_per_tx"] = ((sum(cpu_seconds(proc.pid)) - before) * 1e6
                                              / max(result["tx_per_s"] * seconds, 1))
            runs.setdefault(name, []).append(result)
    finally:
        stop(proc)
    echo_and_gateway(key, backend_url, seconds, runs)
    gateway_beside_metrics_flood(key, backend_url, seconds, runs)
    proc, addr, public = serve(key, "--exec", EXEC_MIX)
    try:
        log("exec, fast requests only, %.0f s" % seconds)
        runs.setdefault("exec fast only", []).append(bench(addr, public, seconds))
        log("exec, fast requests beside 8 slow (1 s) ones in flight, %.0f s" % seconds)
        slow = subprocess.Popen(
            [PSSST, "bench", "--server", addr, "--server-key", public, "--key", slow_key,
             "--duration", str(seconds + 3), "--requests", "100000000", "--concurrency", "8",
             # Two resends (3 s and 9 s) fit the 10 s retransmission window.
             "--timeout-ms", "3000", "--retries", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(1.5)  # the slow ones are in flight before the fast ones start
        runs.setdefault("exec fast beside slow", []).append(bench(addr, public, seconds))
        slow_out = slow.communicate(timeout=seconds + 60)[0]
        m = re.search(r"transactions\s+(\d+) ok, (\d+) failed", slow_out)
        if slow.returncode != 0 or not m or int(m.group(1)) == 0:
            die("the slow load failed:\n" + slow_out)
        runs.setdefault("exec slow (1 s)", []).append(
            {"tx_per_s": float(m.group(1)) / (seconds + 3), "p50_us": 0, "p99_us": 0})
    finally:
        stop(proc)


def echo_and_gateway(key, backend_url, seconds, runs):
    for name, args in (("echo", ()), ("gateway", ("--forward", backend_url))):
        log("%s, %.0f s" % (name, seconds))
        proc, addr, public = serve(key, *args)
        try:
            runs.setdefault(name, []).append(bench(addr, public, seconds))
        finally:
            stop(proc)


def gateway_beside_metrics_flood(key, backend_url, seconds, runs):
    """The gateway with --metrics, alone and then beside a /metrics flood,
    on one server process."""
    proc, m = start([PSSST, "serve", "--key", key, "--listen", "127.0.0.1:0", "--workers", "2",
                     "--forward", backend_url, "--metrics", "127.0.0.1:0"],
                    r"listening on (\S+) .*public key ([0-9a-f]{64}), metrics (\S+)")
    addr, public, url = m.group(1), m.group(2), m.group(3)
    try:
        log("gateway with metrics, %.0f s" % seconds)
        runs.setdefault("gateway, metrics on", []).append(bench(addr, public, seconds))
        log("gateway beside a /metrics flood (%d x %d connections at nice 10), %.0f s"
            % (FLOODERS, CONNECTIONS, seconds))
        flood = [subprocess.Popen(["nice", "-n", "10", sys.executable, "-c", METRICS_FLOOD, url,
                                   str(CONNECTIONS)],
                                  stdout=subprocess.PIPE, text=True) for _ in range(FLOODERS)]
        try:
            time.sleep(0.5)
            result = bench(addr, public, seconds)
        finally:
            for scraper in flood:
                scraper.terminate()
            answered = sum(int(scraper.communicate(timeout=30)[0] or 0) for scraper in flood)
        result["scrapes_per_s"] = answered / (seconds + 0.5)
        runs.setdefault("gateway, metrics flood", []).append(result)
    finally:
        stop(proc)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--only", choices=["gateway"],
                        help="run only the echo and gateway pair")
    args = parser.parse_args()
    if not args.no_build:
        run(["cargo", "build", "--release", "-p", "pssst-cli", "-p", "pssst-compare",
             "--bin", "pssst", "--bin", "http-echo"], cwd=ROOT)
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        key, slow_key = os.path.join(tmp, "server.key"), os.path.join(tmp, "slow.key")
        run([PSSST, "keygen", key], capture=True)
        run([PSSST, "keygen", slow_key], capture=True)
        backend, m = start([HTTP_ECHO], r"listening on (\S+)")
        try:
            for r in range(args.rounds):
                log("round %d/%d" % (r + 1, args.rounds))
                one_round(key, slow_key, "http://%s/" % m.group(1), args.seconds, runs,
                          args.only == "gateway")
        finally:
            backend.kill()
            backend.wait()
    report(runs, args)


def median(runs, name, field):
    return statistics.median(r[field] for r in runs[name])


def report(runs, args):
    cores = os.cpu_count()
    print("\n%d rounds of %.0f s, interleaved; pssst serve --workers 2, pssst bench "
          "--concurrency 8, 64-byte anonymous messages, loopback, %d cores shared by all"
          % (args.rounds, args.seconds, cores))
    print("%-24s %12s %12s %12s   %s" % ("", "tx/s", "p50", "p99", "tx/s per round"))
    for name in runs:
        per_round = " ".join("%.0f" % r["tx_per_s"] for r in runs[name])
        if name.startswith("exec slow"):
            print("%-24s %12.1f %12s %12s   %s" % (name, median(runs, name, "tx_per_s"), "1 s+",
                                                 "", per_round))
            continue
        print("%-24s %12.0f %9.2f ms %9.2f ms   %s" % (
            name, median(runs, name, "tx_per_s"), median(runs, name, "p50_us") / 1e3,
            median(runs, name, "p99_us") / 1e3, per_round))
    if "2 keys, 1st key" in runs:
        cpu = [x["server_cpu_us_per_tx"] / y["server_cpu_us_per_tx"]
               for x, y in zip(runs["2 keys, 2nd key"], runs["2 keys, 1st key"])]
        print("%-36s %5.2fx server CPU per transaction (rounds %s); tx/s %.0f%% of the 1st key's"
              % ("2nd key / 1st key", statistics.median(cpu), ", ".join("%.2f" % x for x in cpu),
                 100 * median(runs, "2 keys, 2nd key", "tx_per_s")
                 / median(runs, "2 keys, 1st key", "tx_per_s")))
    if "gateway, metrics flood" in runs:
        scrapes = ", ".join("%.0f" % r["scrapes_per_s"] for r in runs["gateway, metrics flood"])
        print("%-36s %s scrapes/s answered during the flood (rounds)" % ("metrics flood", scrapes))
    for label, a, b, goal in (("gateway / echo", "gateway", "echo", 0.8),
                              ("gateway beside metrics flood / alone", "gateway, metrics flood",
                               "gateway, metrics on", 0.8),
                              ("exec fast beside slow / fast only", "exec fast beside slow",
                               "exec fast only", 0.8)):
        if a not in runs:
            continue
        ratios = [x["tx_per_s"] / y["tx_per_s"] for x, y in zip(runs[a], runs[b])]
        ratio = statistics.median(ratios)
        print("%-36s %5.0f%% [%.0f-%.0f%%] (rounds %s; goal >= %.0f%%: %s)" % (
            label, 100 * ratio, 100 * min(ratios), 100 * max(ratios),
            ", ".join("%.0f%%" % (100 * x) for x in ratios), 100 * goal,
            "met" if ratio >= goal else "NOT met"))


if __name__ == "__main__":
    main()
