"""The UDP leg: `pssst serve` answering `pssst bench` on loopback, with each
backend and 1 or 2 workers, measured in transactions per second of wall time
and of server CPU time."""

import os
import re
import signal
import subprocess
import tempfile

from config import BACKENDS, cli
from shell import die, log, run

# Client threads of the load generator, one transaction in flight each.
CLIENTS = 8


def cpu_seconds(pid):
    """(user, system) CPU time of a process (all threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def udp_once(server_cli, workers, seconds, concurrency, key_file, load_cli=None,
             client_key=None):
    """One `pssst serve` (run by server_cli) loaded by `pssst bench` (run by
    load_cli, default the same binary; client-authenticated with client_key
    if given, else anonymous) on loopback. Returns wall tx/s, transactions
    per second of server CPU time (per core) and the server's CPU seconds."""
    load_cli = load_cli or server_cli
    server = subprocess.Popen([server_cli, "serve", "--key", key_file,
                               "--listen", "127.0.0.1:0", "--workers", str(workers)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        m = re.search(r"listening on (\S+) \((\d+) workers.*public key ([0-9a-f]{64})", line)
        if not m:
            die("pssst serve did not start: %r %s" % (line, server.stderr.read()))
        if int(m.group(2)) != workers:
            die("pssst serve runs %s workers, asked for %d" % (m.group(2), workers))
        cpu0 = cpu_seconds(server.pid)
        auth = ["--key", client_key] if client_key else []
        out = run([load_cli, "bench", "--server", m.group(1), "--server-key", m.group(3),
                   "--duration", str(seconds), "--requests", "100000000",
                   "--concurrency", str(concurrency), *auth], capture=True,
                  timeout=seconds + 120)
        cpu1 = cpu_seconds(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    ok = re.search(r"transactions\s+(\d+) ok, (\d+) failed", out)
    elapsed = re.search(r"transactions/s over ([\d.]+) s", out)
    if not ok or not elapsed:
        die("cannot parse pssst bench output:\n" + out)
    ok, failed, elapsed = int(ok.group(1)), int(ok.group(2)), float(elapsed.group(1))
    user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    return {"tx_per_s": ok / elapsed, "tx_per_cpu_s": ok / max(user + system, 1e-9),
            "tx_per_user_cpu_s": ok / max(user, 1e-9), "server_user_s": user,
            "server_system_s": system, "ok": ok, "failed": failed}


def udp_rounds(n_rounds, seconds):
    """Every backend with 1 and 2 workers, n_rounds times, CLIENTS clients.
    Returns {"BACKEND/Nw": [one udp_once result per round]}."""
    udp = {}
    with tempfile.TemporaryDirectory() as tmp:
        key_file = os.path.join(tmp, "server.key")
        run([cli("x25519-dalek"), "keygen", key_file], capture=True)
        for r in range(n_rounds):
            for backend in BACKENDS:
                for workers in (1, 2):
                    log("UDP round %d/%d: %s, %d worker(s)" % (r + 1, n_rounds, backend, workers))
                    udp.setdefault("%s/%dw" % (backend, workers), []).append(
                        udp_once(cli(backend), workers, seconds, CLIENTS, key_file))
    return udp
