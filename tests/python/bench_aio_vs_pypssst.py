"""Echo servers over UDP, driven by `pssst bench`, in one run: pssst.aio
(an async def handler, and a plain function) against an asyncio server
built on pypssst (PyPI pssst==0.2.1), the way pypssst's users must write
one (its DatagramProtocol unpacks and replies in `datagram_received`).

  python tests/python/bench_aio_vs_pypssst.py [--rounds 3] [--seconds 5] [--concurrency 8]

Run it with the python of a venv that has this package (the Python leg
makes one: .cache/py-venv-ours). pypssst runs with the python of a venv that
has it (--pypssst-python, default .cache/py-venv-pypssst/bin/python);
`pssst` is --pssst (default $PSSST_BIN, else target/release/pssst). Each
server is a process of its own, one event loop on one core; rounds run
every server once, in an order rotated each round. Reported: transactions
per second of wall time and per second of the server's CPU time (less
sensitive to other load), medians over rounds, and ours / pypssst.

The same file is the servers: --serve aio-async|aio-plain|pypssst
PRIVATE_KEY_HEX prints "port N" and serves until SIGTERM.
"""

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get("PSSST_CACHE", os.path.join(REPO_ROOT, ".cache"))
SERVERS = ["aio-async", "aio-plain", "pypssst"]


# --- the servers -----------------------------------------------------------

async def serve_aio(private_hex, plain):
    import pssst.aio  # pylint: disable=import-outside-toplevel

    async def echo_async(message, _client_key):
        return message

    def echo_plain(message, _client_key):
        return message

    server = await pssst.aio.serve(echo_plain if plain else echo_async, ("127.0.0.1", 0),
                                   private_hex)
    return server.sockname[1]


async def serve_pypssst(private_hex):
    import pssst  # pylint: disable=import-outside-toplevel
    assert not hasattr(pssst, "_pssst"), "this must be pypssst"
    server = pssst.PSSSTServer(bytes.fromhex(private_hex))

    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport):
            self.transport = transport  # pylint: disable=attribute-defined-outside-init

        def datagram_received(self, data, addr):
            try:
                message, _, reply_handler = server.unpack_request(data)
                self.transport.sendto(reply_handler(message), addr)
            except Exception:  # pylint: disable=broad-except
                pass   # junk; pypssst also leaks struct.error and ValueError

    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        Echo, local_addr=("127.0.0.1", 0))
    return transport.get_extra_info("sockname")[1]


def serve(kind, private_hex):
    async def main():
        if kind == "pypssst":
            port = await serve_pypssst(private_hex)
        else:
            port = await serve_aio(private_hex, plain=kind == "aio-plain")
        print("port", port, flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()

    asyncio.run(main())


# --- the driver ------------------------------------------------------------

def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(kind, python, pssst, keys, seconds, concurrency):
    """One server, one `pssst bench`: (tx per wall second, per server CPU second)."""
    private_hex, public_hex = keys
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    server = subprocess.Popen([python, os.path.abspath(__file__), "--serve", kind, private_hex],
                              stdout=subprocess.PIPE, text=True, env=env, cwd=HERE)
    try:
        line = server.stdout.readline()
        if not line.startswith("port "):
            sys.exit("FATAL: the {} server did not start: {!r}".format(kind, line))
        cpu0 = cpu_seconds(server.pid)
        out = subprocess.run(
            [pssst, "bench", "--server", "127.0.0.1:" + line.split()[1], "--server-key",
             public_hex, "--duration", str(seconds), "--requests", "100000000",
             "--concurrency", str(concurrency)],
            capture_output=True, text=True, timeout=seconds + 120, check=True).stdout
        cpu = cpu_seconds(server.pid) - cpu0
    finally:
        server.terminate()
        server.wait(timeout=10)
    ok = re.search(r"transactions\s+(\d+) ok, (\d+) failed.*?(\d+) retransmissions", out)
    elapsed = re.search(r"transactions/s over ([\d.]+) s", out)
    if not ok or not elapsed:
        sys.exit("FATAL: cannot read pssst bench's output:\n" + out)
    done = int(ok.group(1))
    return (done / float(elapsed.group(1)), done / max(cpu, 1e-9), int(ok.group(2)),
            int(ok.group(3)))


def keypair(pssst):
    import tempfile  # pylint: disable=import-outside-toplevel
    with tempfile.TemporaryDirectory() as tmp:
        key_file = os.path.join(tmp, "key")
        public = subprocess.run([pssst, "keygen", key_file], check=True, capture_output=True,
                                text=True).stdout.strip()
        with open(key_file) as f:
            return f.read().strip(), public


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", nargs=2, metavar=("KIND", "PRIVATE_KEY_HEX"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pypssst-python",
                        default=os.path.join(CACHE, "py-venv-pypssst", "bin", "python"))
    parser.add_argument("--pssst", default=os.environ.get("PSSST_BIN") or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO_ROOT, "target")), "release",
        "pssst"))
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    for path in (args.pssst, args.pypssst_python):
        if not os.path.exists(path):
            sys.exit("FATAL: {} not found (see --help)".format(path))
    pythons = {"aio-async": sys.executable, "aio-plain": sys.executable,
               "pypssst": args.pypssst_python}
    keys = keypair(args.pssst)
    results = {kind: [] for kind in SERVERS}
    for r in range(args.rounds):
        order = SERVERS[r % len(SERVERS):] + SERVERS[:r % len(SERVERS)]
        for kind in order:
            wall, per_cpu, failed, retransmitted = one_run(
                kind, pythons[kind], args.pssst, keys, args.seconds, args.concurrency)
            print("round {} {:10} {:8.0f} tx/s  {:8.0f} tx/CPU-s  {} failed, {} retransmissions"
                  .format(r + 1, kind, wall, per_cpu, failed, retransmitted), file=sys.stderr)
            results[kind].append((wall, per_cpu))
    print("echo over UDP, `pssst bench --concurrency {}`, {} rounds of {} s, medians".format(
        args.concurrency, args.rounds, args.seconds))
    print("{:28} {:>10} {:>14} {:>12} {:>16}".format(
        "server", "tx/s", "tx/CPU-s", "vs pypssst", "vs pypssst (CPU)"))
    ref_wall = statistics.median(w for w, _ in results["pypssst"])
    ref_cpu = statistics.median(c for _, c in results["pypssst"])
    names = {"aio-async": "pssst.aio, async def handler", "aio-plain": "pssst.aio, plain def",
             "pypssst": "pypssst 0.2.1 + asyncio"}
    for kind in SERVERS:
        wall = statistics.median(w for w, _ in results[kind])
        cpu = statistics.median(c for _, c in results[kind])
        print("{:28} {:10.0f} {:14.0f} {:11.2f}x {:15.2f}x".format(
            names[kind], wall, cpu, wall / ref_wall, cpu / ref_cpu))


if __name__ == "__main__":
    main()
