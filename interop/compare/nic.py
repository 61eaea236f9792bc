#!/usr/bin/env python3
"""The server's CPU per transaction as a real network card would charge it:
`pssst serve` in a network namespace, loaded open-loop from another one.

    sudo python3 interop/compare/nic.py [--rounds 5] [--seconds 3] [--rate 60000]

On loopback (udp.py) the kernel charges the server's `sendto` with the whole
delivery of each reply to the load generator: its IP receive path and the
wake-up of its thread. A network card would take the reply off the server's
hands at its driver. Here the server runs in namespace pssst-nic-srv behind
a veth pair; the load generator (`udp-flood`, interop/compare/rust) sends
distinct, valid, anonymous requests at a fixed rate from namespace
pssst-nic-gen, from an address whose replies the server routes back out
of the veth, where an nftables egress rule drops them (the point where a
card's driver would take them). The requests' own delivery runs in the
generator's system calls, as a card's receive interrupt would not run in the
server's either.

Each round measures side by side: pssst-core's own unpack rate (the
harness, `--ops unpack_anon`) and, for each backend and 1 and 2 workers, the
server's answered requests per second of its CPU time (user and system from
/proc), and their ratio; then the same for the same server on loopback,
loaded by `pssst bench` as udp.py does, so that the cost of delivering
replies to a local load generator shows side by side. Needs root (namespaces, nftables); builds what it
needs; asserts nothing. JSON to target/bench/nic.json.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from analysis import med_spread  # noqa: E402
from build import build_cli, build_compare_bin, build_harness  # noqa: E402
from config import BACKENDS, BIN, OUT, cli, harness  # noqa: E402
from report import write_json  # noqa: E402
from shell import die, log, need, run  # noqa: E402
from udp import CLIENTS, cpu_seconds, udp_once  # noqa: E402

SERVER_NS, LOAD_NS = "pssst-nic-srv", "pssst-nic-gen"
SERVER_ADDR, LOAD_ADDR = "10.77.0.1", "10.77.0.2"
# The generator's source address: replies to it leave the server's veth and
# are dropped there by the egress rule.
REPLY_NET, REPLY_TO = "10.78.0.0/24", "10.78.0.1"
EGRESS_DROP = """table netdev pssst_nic {
  chain replies_leave {
    type filter hook egress device "nic-s" priority 0; policy accept;
    ip daddr %s counter drop
  }
}
""" % REPLY_NET


def flood_bin():
    return os.path.join(BIN, "udp-flood")


def ns(name, *cmd):
    return ["ip", "netns", "exec", name, *cmd]


def network_down():
    for name in (SERVER_NS, LOAD_NS):
        subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL, check=False)


def network_up():
    """The two namespaces, the veth between them, the reply route and the
    egress rule that stands for the network card."""
    if os.geteuid() != 0:
        die("nic.py needs root: network namespaces and an nftables egress rule")
    for tool in ("ip", "nft"):
        need(tool)
    network_down()
    for name in (SERVER_NS, LOAD_NS):
        run(["ip", "netns", "add", name])
        run(["ip", "-n", name, "link", "set", "lo", "up"])
    run(["ip", "link", "add", "nic-s", "netns", SERVER_NS, "type", "veth",
         "peer", "name", "nic-g", "netns", LOAD_NS])
    run(["ip", "-n", SERVER_NS, "addr", "add", SERVER_ADDR + "/24", "dev", "nic-s"])
    run(["ip", "-n", LOAD_NS, "addr", "add", LOAD_ADDR + "/24", "dev", "nic-g"])
    run(["ip", "-n", LOAD_NS, "addr", "add", REPLY_TO + "/32", "dev", "nic-g"])
    for name, dev in ((SERVER_NS, "nic-s"), (LOAD_NS, "nic-g")):
        run(["ip", "-n", name, "link", "set", dev, "up"])
    load_mac = run(["ip", "-n", LOAD_NS, "-br", "link", "show", "nic-g"], capture=True).split()[2]
    run(["ip", "-n", SERVER_NS, "route", "add", REPLY_NET, "dev", "nic-s"])
    run(["ip", "-n", SERVER_NS, "neigh", "replace", REPLY_TO, "lladdr", load_mac,
         "dev", "nic-s", "nud", "permanent"])
    for conf in ("all", "default", "nic-s"):
        run(ns(SERVER_NS, "sysctl", "-qw", "net.ipv4.conf.%s.rp_filter=0" % conf))
    proc = subprocess.run(ns(SERVER_NS, "nft", "-f", "-"), input=EGRESS_DROP, text=True,
                          capture_output=True, check=False)
    if proc.returncode != 0:
        die("nft egress rule: %s" % proc.stderr.strip())


def answered(stats_line):
    m = re.search(r"answered=(\d+)", stats_line or "")
    if not m:
        die("no answered= count in the server's last line: %r" % stats_line)
    return int(m.group(1))


def nic_once(server_cli, workers, seconds, rate, key_file, flood=None):
    """One `pssst serve` in the server namespace, loaded by udp-flood at
    `rate` requests per second for `seconds`. Returns the fields udp.py's
    udp_once() returns (ok = answered requests), plus sent."""
    server = subprocess.Popen(ns(SERVER_NS, server_cli, "serve", "--key", key_file,
                                 "--listen", SERVER_ADDR + ":0", "--workers", str(workers)),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        m = re.search(r"listening on (\S+) \((\d+) workers.*public key ([0-9a-f]{64})", line)
        if not m or int(m.group(2)) != workers:
            die("pssst serve did not start as asked: %r" % line)
        # `ip netns exec` execs the server: the pid is the server's.
        cpu0 = cpu_seconds(server.pid)
        # Packed once per key, rate and duration, reused by every run.
        out = run(ns(LOAD_NS, flood or flood_bin(), "--server", m.group(1), "--server-key",
                     m.group(3), "--bind", REPLY_TO, "--rate", str(rate), "--seconds",
                     str(seconds), "--cache", key_file + ".requests"),
                  capture=True, timeout=seconds * 10 + 120)
        time.sleep(0.3)  # the last requests in the queue
        cpu1 = cpu_seconds(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            rest, _ = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            rest, _ = server.communicate()
    sent = re.search(r"sent (\d+) in ([\d.]+) s", out)
    if not sent:
        die("cannot parse udp-flood output: %r" % out)
    ok = answered(rest.strip().splitlines()[-1] if rest.strip() else "")
    user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    if not ok:
        die("the server answered nothing (%s sent)" % sent.group(1))
    return {"tx_per_s": ok / float(sent.group(2)), "tx_per_cpu_s": ok / max(user + system, 1e-9),
            "tx_per_user_cpu_s": ok / max(user, 1e-9), "server_user_s": user,
            "server_system_s": system, "ok": ok, "failed": 0, "sent": int(sent.group(1))}


def build_flood():
    return build_compare_bin("aws-lc", "udp-flood", flood_bin())


def core_unpack_rate(backend):
    out = run([harness(backend), "--ops", "unpack_anon", "--ms", "300"], capture=True)
    return json.loads(out.strip().splitlines()[-1])["ops_per_s"]


def build_all():
    for backend in BACKENDS:
        build_cli(backend, cli(backend))
        build_harness(backend)
    build_flood()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rate", type=int, default=60000,
                        help="requests per second offered (default 60000: more than "
                        "2 cores answer, so the server is never idle)")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--json", default=os.path.join(OUT, "nic.json"))
    args = parser.parse_args()
    if not args.no_build:
        build_all()
    rows = {}
    network_up()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            key = os.path.join(tmp, "server.key")
            run([cli("aws-lc"), "keygen", key], capture=True)
            for r in range(args.rounds):
                for backend in BACKENDS:
                    for workers in (1, 2):
                        log("round %d/%d: %s, %d worker(s)" % (r + 1, args.rounds, backend,
                                                              workers))
                        # The core's rate just before and just after the
                        # server's run: the machine's load is shared alike.
                        before = core_unpack_rate(backend)
                        one = nic_once(cli(backend), workers, args.seconds, args.rate, key)
                        middle = core_unpack_rate(backend)
                        one["core_unpack_per_s"] = (before + middle) / 2
                        rows.setdefault("%s/%dw nic" % (backend, workers), []).append(one)
                        # The same server on loopback, loaded by `pssst bench`
                        # as in udp.py: the kernel charges it with each reply's
                        # delivery to the load generator.
                        one = udp_once(cli(backend), workers, args.seconds, CLIENTS, key)
                        one["core_unpack_per_s"] = (middle + core_unpack_rate(backend)) / 2
                        rows.setdefault("%s/%dw loopback" % (backend, workers), []).append(one)
    finally:
        network_down()
    print_table(rows, args)
    write_json(args.json, {"rounds": rows, "args": vars(args)}, indent=1)
    print("\nJSON: %s" % args.json)


def print_table(rows, args):
    print("\nnic: the server behind a veth, replies dropped at egress (a NIC's place), "
          "open-loop load at %d requests/s; loopback: `pssst bench`, %d clients; %.0f s per "
          "run, %d interleaved rounds; median [min-max]"
          % (args.rate, CLIENTS, args.seconds, args.rounds))
    print("  %-25s %10s %10s %10s %9s %9s  %s" % ("", "tx/CPU-s", "tx/user-s", "core/s",
                                                   "user us", "sys us", "tx/CPU-s / core"))
    for label, runs in rows.items():
        per_tx = lambda key: med_spread([one[key] * 1e6 / one["ok"] for one in runs])["median"]
        ratio = med_spread([one["tx_per_cpu_s"] / one["core_unpack_per_s"] for one in runs])
        print("  %-25s %10.0f %10.0f %10.0f %9.2f %9.2f  %.3f [%.3f-%.3f]" % (
            label, med_spread([one["tx_per_cpu_s"] for one in runs])["median"],
            med_spread([one["tx_per_user_cpu_s"] for one in runs])["median"],
            med_spread([one["core_unpack_per_s"] for one in runs])["median"],
            per_tx("server_user_s"), per_tx("server_system_s"),
            ratio["median"], ratio["min"], ratio["max"]))


if __name__ == "__main__":
    main()
