#!/usr/bin/env python3
"""Side-by-side benchmark: pssst-rs against gopssst v0.2.2 and pypssst 0.2.1.

One command, from a fresh clone (see interop/compare/README.md):

    python3 interop/compare/run.py            # or: interop/compare/run.sh

builds and installs everything it needs (Rust harness for each X25519
backend, the Go benchmark with gopssst pinned by go.sum, two venvs under
.cache/bench, the CLI for the UDP leg), then runs every leg in interleaved
rounds, prints ONE table (median ops/s, spread, ratios ours/reference, core
overhead over raw X25519) and writes the same as JSON to
target/bench/compare.json. Any leg that cannot be built or run is fatal:
nothing is skipped silently.

Standard library only. Not part of the test command: nothing here asserts a
timing; goals are reported as met or not.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CACHE = os.path.join(ROOT, ".cache", "bench")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
OUT = os.path.join(TARGET, "bench")
BIN = os.path.join(OUT, "bin")

BACKENDS = ["x25519-dalek", "aws-lc"]
OPS = ["pack_anon", "unpack_anon", "pack_auth", "unpack_auth", "reply_pack", "reply_unpack"]
RAW = ["x25519_base", "x25519_var"]
OP_LABEL = {
    "pack_anon": "client pack, anonymous",
    "unpack_anon": "server unpack, anonymous",
    "pack_auth": "client pack, client-auth",
    "unpack_auth": "server unpack, client-auth",
    "reply_pack": "server reply pack",
    "reply_unpack": "client reply unpack",
    "x25519_base": "raw X25519 fixed-base",
    "x25519_var": "raw X25519 variable-base",
}
# The X25519 multiplications each operation must do (fixed-base, variable).
MULTS = {
    "pack_anon": (1, 1),
    "unpack_anon": (0, 1),
    "pack_auth": (0, 2),
    "unpack_auth": (0, 2),
}
IMPLS = ["pssst-core/x25519-dalek", "pssst-core/aws-lc", "pssst-py", "pypssst 0.2.1",
         "gopssst v0.2.2"]
REFERENCES = ["pypssst 0.2.1", "gopssst v0.2.2"]
GO_NAMES = {
    "X25519Base": "x25519_base", "X25519Var": "x25519_var",
    "RequestPackAnon": "pack_anon", "RequestPackAuth": "pack_auth",
    "RequestUnpackAnon": "unpack_anon", "RequestUnpackAuth": "unpack_auth",
    "ReplyPack": "reply_pack", "ReplyUnpack": "reply_unpack",
}


def log(message):
    sys.stderr.write("[compare] %s\n" % message)
    sys.stderr.flush()


def die(message):
    sys.stderr.write("\n[compare] FATAL: %s\n" % message)
    sys.exit(1)


def run(cmd, cwd=ROOT, env=None, capture=False, timeout=None):
    """Runs cmd; dies loudly (with its output) if it fails."""
    shown = " ".join(cmd)
    log("$ " + shown)
    full_env = dict(os.environ, **(env or {}))
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=full_env, timeout=timeout, text=True,
                              stdout=subprocess.PIPE if capture else None,
                              stderr=subprocess.PIPE if capture else None, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        die("%s: %s" % (shown, err))
    if proc.returncode != 0:
        if capture:
            sys.stderr.write(proc.stdout or "")
            sys.stderr.write(proc.stderr or "")
        die("%s exited with %d" % (shown, proc.returncode))
    return proc.stdout if capture else None


def need(tool):
    if shutil.which(tool) is None:
        die("%s is not installed (needed for the benchmark)" % tool)


# ---------------------------------------------------------------- setup

def venv_python(name):
    return os.path.join(CACHE, name, "bin", "python")


def make_venv(name):
    python = venv_python(name)
    if not os.access(python, os.X_OK):
        shutil.rmtree(os.path.join(CACHE, name), ignore_errors=True)
        run([sys.executable, "-m", "venv", os.path.join(CACHE, name)])
    return python


def setup(args):
    for tool in ("cargo", "go"):
        need(tool)
    os.makedirs(BIN, exist_ok=True)
    os.makedirs(CACHE, exist_ok=True)

    # 1. pssst-core harness, once per backend (features differ: copy each).
    for backend in BACKENDS:
        cmd = ["cargo", "build", "--release", "--locked", "-p", "pssst-compare"]
        if backend == "aws-lc":
            cmd += ["--features", "aws-lc"]
        run(cmd)
        dest = os.path.join(BIN, "pssst-compare-" + backend)
        shutil.copy2(os.path.join(TARGET, "release", "pssst-compare"), dest)
        got = run([dest, "--backend"], capture=True).strip()
        if got != backend:
            die("%s reports backend %r" % (dest, got))

    # 2. gopssst v0.2.2, pinned by go.sum; `go test -c` once, run per round.
    go_env = {"GOFLAGS": "-mod=readonly -buildvcs=false"}
    go_dir = os.path.join(HERE, "go")
    run(["go", "version"])
    run(["go", "mod", "download"], cwd=go_dir, env=go_env)
    run(["go", "mod", "verify"], cwd=go_dir, env=go_env)
    run(["go", "vet", "./..."], cwd=go_dir, env=go_env)
    run(["go", "test", "-c", "-o", os.path.join(BIN, "gopssst-compare.test"), "."],
        cwd=go_dir, env=go_env)

    # 3. pypssst 0.2.1 in its own venv.
    python = make_venv("venv-pypssst")
    run([python, "-m", "pip", "install", "-q", "-r",
         os.path.join(HERE, "python", "requirements-pypssst.txt")])
    run([python, "-c", "import importlib.metadata as m, importlib.util as u, pssst;"
         "assert m.version('pssst') == '0.2.1', m.version('pssst');"
         "assert u.find_spec('pssst._pssst') is None, 'not pypssst'"])

    # 4. pssst-py (pssst-rs's drop-in package), rebuilt from this checkout.
    python = make_venv("venv-pssst-py")
    if not args.keep_pssst_py:
        run([python, "-m", "pip", "uninstall", "-q", "-y", "pssst"])
        run([python, "-m", "pip", "install", "-q", ROOT])
    run([python, "-c", "import importlib.util as u, pssst;"
         "assert u.find_spec('pssst._pssst') is not None, 'not pssst-rs'"])

    # 5. The CLI for the UDP leg, with each backend (its default is aws-lc).
    # The default build comes last so target/release/pssst is left as the
    # rest of the workspace expects it.
    if not args.no_udp:
        for backend in ["x25519-dalek", "aws-lc"]:
            cmd = ["cargo", "build", "--release", "--locked", "-p", "pssst-cli"]
            if backend == "x25519-dalek":
                cmd += ["--no-default-features"]
            else:
                cmd += ["--features", "aws-lc"]
            run(cmd)
            dest = os.path.join(BIN, "pssst-" + backend)
            shutil.copy2(os.path.join(TARGET, "release", "pssst"), dest)
            if has_aws_lc(dest) != (backend == "aws-lc"):
                die("%s was not built with the %s backend" % (dest, backend))
    for backend in BACKENDS:
        if has_aws_lc(os.path.join(BIN, "pssst-compare-" + backend)) != (backend == "aws-lc"):
            die("pssst-compare-%s was not built with the %s backend" % (backend, backend))


def has_aws_lc(binary):
    """Whether a Rust binary links AWS-LC's X25519 (its symbol names)."""
    with open(binary, "rb") as f:
        return b"_curve25519_x25519" in f.read()


# ---------------------------------------------------------------- legs

def parse_json_lines(text, what):
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            rows.append(json.loads(line))
    if not rows:
        die("%s printed no results:\n%s" % (what, text))
    return rows


def rates(rows):
    """({op: ops per CPU-second}, {op: ops per wall-second})."""
    return ({r["op"]: r["ops_per_s"] for r in rows}, {r["op"]: r["wall_ops_per_s"] for r in rows})


def leg_rust(backend, ms):
    cmd = [os.path.join(BIN, "pssst-compare-" + backend), "--ms", str(ms)]
    out = run(cmd, capture=True, timeout=600)
    return rates(parse_json_lines(out, "pssst-compare " + backend))


def leg_python(venv, ms, raw):
    cmd = [venv_python(venv), os.path.join(HERE, "python", "leg.py"), "--ms", str(ms)]
    if raw:
        cmd.append("--raw")
    out = run(cmd, capture=True, timeout=900)
    return rates(parse_json_lines(out, venv))


def leg_go(ms):
    """`go test -bench` (compiled once): five timed runs each, median.
    The benchmarks report process CPU time as cpu-ns/op next to ns/op."""
    test = os.path.join(BIN, "gopssst-compare.test")
    per = "%dms" % max(1, ms // 5)
    results, wall = {}, {}
    for bench, benchtime in (("^Benchmark(X25519|Request)", per), ("^BenchmarkReply", "800x")):
        out = run([test, "-test.run", "^$", "-test.bench", bench, "-test.benchtime", benchtime,
                   "-test.count", "5", "-test.cpu", "1"], cwd=os.path.join(HERE, "go"),
                  capture=True, timeout=900)
        for m in re.finditer(r"^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) cpu-ns/op",
                             out, re.M):
            wall.setdefault(GO_NAMES[m.group(1)], []).append(1e9 / float(m.group(2)))
            results.setdefault(GO_NAMES[m.group(1)], []).append(1e9 / float(m.group(3)))
    if set(results) != set(OPS + RAW):
        die("go test -bench gave %s, want %s:\n%s" % (sorted(results), sorted(OPS + RAW), out))
    return ({op: statistics.median(v) for op, v in results.items()},
            {op: statistics.median(v) for op, v in wall.items()})


# ---------------------------------------------------------------- UDP leg

def cpu_seconds(pid):
    """(user, system) CPU time of a process (all threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def udp_once(backend, workers, seconds, concurrency, key_file):
    """One `pssst serve` + `pssst bench` run on loopback. Returns wall tx/s
    and transactions per second of server CPU time (per core)."""
    pssst = os.path.join(BIN, "pssst-" + backend)
    server = subprocess.Popen([pssst, "serve", "--key", key_file, "--listen", "127.0.0.1:0",
                               "--workers", str(workers)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        m = re.search(r"listening on (\S+) \((\d+) workers.*public key ([0-9a-f]{64})", line)
        if not m:
            die("pssst serve did not start: %r %s" % (line, server.stderr.read()))
        if int(m.group(2)) != workers:
            die("pssst serve runs %s workers, asked for %d" % (m.group(2), workers))
        cpu0 = cpu_seconds(server.pid)
        out = run([pssst, "bench", "--server", m.group(1), "--server-key", m.group(3),
                   "--duration", str(seconds), "--requests", "100000000",
                   "--concurrency", str(concurrency)], capture=True, timeout=seconds + 120)
        cpu1 = cpu_seconds(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    ok = re.search(r"transactions\s+(\d+) ok", out)
    elapsed = re.search(r"transactions/s over ([\d.]+) s", out)
    if not ok or not elapsed:
        die("cannot parse pssst bench output:\n" + out)
    ok, elapsed = int(ok.group(1)), float(elapsed.group(1))
    user, system = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    return {"tx_per_s": ok / elapsed, "tx_per_cpu_s": ok / max(user + system, 1e-9),
            "tx_per_user_cpu_s": ok / max(user, 1e-9), "server_user_s": user,
            "server_system_s": system, "ok": ok}


# ---------------------------------------------------------------- callgrind

def callgrind_instructions(backend, op, iters):
    """Instructions per operation: callgrind counts only inside the
    harness's never-inlined `measured` wrapper (the operation itself, none of
    the setup), over iters + 1 calls (one warm-up)."""
    with tempfile.TemporaryDirectory() as tmp:
        out_file = os.path.join(tmp, "cg.out")
        run(["valgrind", "--tool=callgrind", "--toggle-collect=pssst_compare::measured*",
             "--callgrind-out-file=" + out_file, os.path.join(BIN, "pssst-compare-" + backend),
             "--callgrind", op, "--iters", str(iters)], capture=True, timeout=1800)
        with open(out_file) as f:
            summary = [l for l in f if l.startswith(("summary:", "totals:"))]
    return int(summary[-1].split()[1]) / (iters + 1)


# ---------------------------------------------------------------- report

def med_spread(values):
    values = sorted(values)
    med = statistics.median(values)
    return {"median": med, "min": values[0], "max": values[-1],
            "spread_pct": 100.0 * (values[-1] - values[0]) / med if med else 0.0,
            "rounds": values}


def overhead(rates, op):
    """Per-round core overhead: time of op over the time of its raw X25519s."""
    base, var = MULTS[op]
    raw = base / rates["x25519_base"] + var / rates["x25519_var"]
    return 100.0 * ((1.0 / rates[op]) / raw - 1.0)


def fmt_rate(x):
    if x >= 1e6:
        return "%.2fM" % (x / 1e6)
    if x >= 1e3:
        return "%.1fk" % (x / 1e3)
    return "%.0f" % x


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--ms", type=int, default=300,
                        help="timed milliseconds per operation per round (default 300)")
    parser.add_argument("--no-setup", action="store_true",
                        help="reuse what a previous run built and installed")
    parser.add_argument("--keep-pssst-py", action="store_true",
                        help="do not reinstall pssst-py into its venv")
    parser.add_argument("--no-udp", action="store_true", help="skip the UDP server leg")
    parser.add_argument("--udp-seconds", type=float, default=4.0)
    parser.add_argument("--udp-rounds", type=int, default=3)
    parser.add_argument("--callgrind", action="store_true",
                        help="also count instructions per operation with valgrind")
    parser.add_argument("--json", default=os.path.join(OUT, "compare.json"))
    args = parser.parse_args()

    started = time.time()
    if not args.no_setup:
        setup(args)
    for path in [os.path.join(BIN, "pssst-compare-" + b) for b in BACKENDS] + \
            [os.path.join(BIN, "gopssst-compare.test"), venv_python("venv-pypssst"),
             venv_python("venv-pssst-py")]:
        if not os.access(path, os.X_OK):
            die("%s is missing: run without --no-setup" % path)

    load_before = os.getloadavg()
    legs = [
        ("pssst-core/x25519-dalek", lambda: leg_rust("x25519-dalek", args.ms)),
        ("pssst-core/aws-lc", lambda: leg_rust("aws-lc", args.ms)),
        ("gopssst v0.2.2", lambda: leg_go(args.ms)),
        ("pypssst 0.2.1", lambda: leg_python("venv-pypssst", args.ms, raw=True)),
        ("pssst-py", lambda: leg_python("venv-pssst-py", args.ms, raw=False)),
    ]
    rounds = {name: [] for name, _ in legs}       # ops per CPU-second
    rounds_wall = {name: [] for name, _ in legs}  # ops per wall-second
    for r in range(args.rounds):
        # Rotate the order so no leg always runs first or last.
        order = legs[r % len(legs):] + legs[:r % len(legs)]
        for name, leg in order:
            log("round %d/%d: %s" % (r + 1, args.rounds, name))
            cpu, wall = leg()
            rounds[name].append(cpu)
            rounds_wall[name].append(wall)

    udp = {}
    if not args.no_udp:
        with tempfile.TemporaryDirectory() as tmp:
            key_file = os.path.join(tmp, "server.key")
            run([os.path.join(BIN, "pssst-x25519-dalek"), "keygen", key_file], capture=True)
            for r in range(args.udp_rounds):
                for backend in BACKENDS:
                    for workers in (1, 2):
                        log("UDP round %d/%d: %s, %d worker(s)"
                            % (r + 1, args.udp_rounds, backend, workers))
                        udp.setdefault("%s/%dw" % (backend, workers), []).append(
                            udp_once(backend, workers, args.udp_seconds, 8, key_file))
    load_after = os.getloadavg()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "rounds.json"), "w") as f:  # raw data, before any analysis
        json.dump({"cpu": rounds, "wall": rounds_wall, "udp": udp}, f, indent=1)

    # ---- aggregate
    result = {"unit": "operations per second of process CPU time (median of rounds; "
                      "each round the median of 5 sub-batches)",
              "impls": {}, "impls_wall_clock": {}, "ratios": {}, "overhead_pct": {}, "udp": {},
              "goals": {}}
    for key, source in (("impls", rounds), ("impls_wall_clock", rounds_wall)):
        for name in IMPLS:
            per_op = {}
            for op in OPS + RAW:
                values = [rd[op] for rd in source[name] if op in rd]
                if values:
                    per_op[op] = med_spread(values)
            result[key][name] = per_op
    raw_of = {"pssst-core/x25519-dalek": "pssst-core/x25519-dalek",
              "pssst-core/aws-lc": "pssst-core/aws-lc",
              "gopssst v0.2.2": "gopssst v0.2.2", "pypssst 0.2.1": "pypssst 0.2.1"}

    def median(name, op):
        return result["impls"][name][op]["median"]

    for op in OPS:
        best_ref = max(REFERENCES, key=lambda n: median(n, op))
        result["ratios"][op] = {"best_reference": best_ref}
        for name in ["pssst-core/x25519-dalek", "pssst-core/aws-lc", "pssst-py"]:
            result["ratios"][op][name] = median(name, op) / median(best_ref, op)
        result["ratios"][op]["pssst-py/pypssst"] = \
            median("pssst-py", op) / median("pypssst 0.2.1", op)
    for name, raw_name in raw_of.items():
        result["overhead_pct"][name] = {}
        for op in MULTS:
            per_round = [overhead(rd, op) for rd in rounds[raw_name]]
            result["overhead_pct"][name][op] = med_spread(per_round)
    for key, runs in udp.items():
        result["udp"][key] = {k: med_spread([run_[k] for run_ in runs])
                              for k in ("tx_per_s", "tx_per_cpu_s", "tx_per_user_cpu_s")}

    if args.callgrind:
        need("valgrind")
        cg = {}
        for backend in BACKENDS:
            cg[backend] = {op: callgrind_instructions(backend, op, 100) for op in RAW + OPS}
            cg[backend]["overhead_pct"] = {
                op: 100.0 * (cg[backend][op] / (MULTS[op][0] * cg[backend]["x25519_base"]
                                                + MULTS[op][1] * cg[backend]["x25519_var"]) - 1)
                for op in MULTS}
        result["callgrind_instructions_per_op"] = cg

    # ---- goals
    goals = result["goals"]
    best = "pssst-core/aws-lc"
    goals["unpack_anon >= 1.4x faster reference"] = result["ratios"]["unpack_anon"][best] >= 1.4
    goals["unpack_auth >= 1.6x faster reference"] = result["ratios"]["unpack_auth"][best] >= 1.6
    worst_overhead = max(result["overhead_pct"][best][op]["median"] for op in MULTS)
    goals["core overhead over raw X25519 <= 5% (timed, aws-lc)"] = worst_overhead <= 5
    if args.callgrind:
        goals["core overhead over raw X25519 <= 5% (callgrind, aws-lc)"] = max(
            result["callgrind_instructions_per_op"]["aws-lc"]["overhead_pct"].values()) <= 5
    for op in ("pack_anon", "pack_auth", "unpack_anon", "unpack_auth"):
        goals["pssst-py >= 1.3x pypssst: " + op] = result["ratios"][op]["pssst-py/pypssst"] >= 1.3
    for op in ("reply_pack", "reply_unpack"):
        goals["pssst-py >= 3x pypssst: " + op] = result["ratios"][op]["pssst-py/pypssst"] >= 3
    if udp:
        for backend in BACKENDS:
            per_core = result["udp"][backend + "/1w"]["tx_per_cpu_s"]["median"]
            core = median("pssst-core/" + backend, "unpack_anon")
            result["udp"][backend + "/per_core_vs_unpack"] = per_core / core
            goals["UDP tx per server CPU-second >= 80%% of core unpack (%s)" % backend] = \
                per_core / core >= 0.8
            result["udp"][backend + "/2w_vs_1w_wall"] = (
                result["udp"][backend + "/2w"]["tx_per_s"]["median"]
                / result["udp"][backend + "/1w"]["tx_per_s"]["median"])
            goals["UDP 2 workers >= 1.7x one, wall (%s; %d CPUs shared with the load "
                  "generator)" % (backend, os.cpu_count())] = \
                result["udp"][backend + "/2w_vs_1w_wall"] >= 1.7
            result["udp"][backend + "/2w_vs_1w_per_core"] = (
                result["udp"][backend + "/2w"]["tx_per_cpu_s"]["median"] / per_core)

    result["meta"] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "cpus": os.cpu_count(), "machine": platform.machine(),
        "rounds": args.rounds, "ms_per_op": args.ms, "message_bytes": 64,
        "loadavg_before": load_before, "loadavg_after": load_after,
        "wall_seconds": round(time.time() - started, 1),
        "python": platform.python_version(),
        "go": subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip(),
        "rustc": subprocess.run(["rustc", "--version"], capture_output=True,
                                text=True).stdout.strip(),
    }
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(result, f, indent=2)
    print_table(result, args)
    print("\nJSON: %s" % args.json)


def print_table(result, args):
    meta = result["meta"]
    print("\nPSSST side-by-side benchmark, 64-byte messages: operations per second of process "
          "CPU time,\nmedian of %d interleaved rounds [min-max] (each round: median of 5 "
          "sub-batches; wall-clock rates are in the JSON)" % args.rounds)
    print("machine: %s, %d CPUs; load average %.1f before, %.1f after (spread shows the noise)"
          % (meta["machine"], meta["cpus"], meta["loadavg_before"][0], meta["loadavg_after"][0]))
    cols = IMPLS
    head = "%-28s" % "operation" + "".join("%24s" % c for c in cols)
    head += "%12s%12s%12s" % ("dalek/ref", "aws-lc/ref", "py/pypssst")
    print(head)
    print("-" * len(head))
    for op in OPS + RAW:
        line = "%-28s" % OP_LABEL[op]
        for name in cols:
            cell = result["impls"][name].get(op)
            if cell is None:
                line += "%24s" % "-"
            else:
                line += "%24s" % ("%s [%s-%s]" % (fmt_rate(cell["median"]), fmt_rate(cell["min"]),
                                                  fmt_rate(cell["max"])))
        if op in result["ratios"]:
            ratio = result["ratios"][op]
            line += "%12s%12s%12s" % ("%.2fx" % ratio["pssst-core/x25519-dalek"],
                                      "%.2fx" % ratio["pssst-core/aws-lc"],
                                      "%.2fx" % ratio["pssst-py/pypssst"])
        print(line)
    print("(raw X25519: pssst-core's backend; pypssst: cryptography/OpenSSL, fixed-base = "
          "load key + public_key(); gopssst: golang.org/x/crypto/curve25519 of 2020; "
          "pssst-py is built on pssst-core/aws-lc. Ratios: against the faster reference.)")

    print("\nOverhead over the raw X25519 multiplications each operation must do "
          "(timed, per round, median [min-max]):")
    for name, per_op in result["overhead_pct"].items():
        print("  %-26s" % name + "  ".join(
            "%s %+.1f%% [%+.1f..%+.1f]" % (op, v["median"], v["min"], v["max"])
            for op, v in per_op.items()))
    cg = result.get("callgrind_instructions_per_op")
    if cg:
        print("\nCallgrind, instructions per operation:")
        for backend, counts in cg.items():
            print("  %-14s" % backend + "  ".join(
                "%s %.0f" % (op, counts[op]) for op in RAW + OPS))
            print("  %-14s" % "" + "overhead: " + "  ".join(
                "%s %+.2f%%" % (op, v) for op, v in counts["overhead_pct"].items()))
    if result["udp"]:
        print("\nUDP server on loopback (pssst serve + pssst bench, 8 clients, anonymous, "
              "%.0f s x %d rounds; per core = transactions / server CPU seconds):"
              % (args.udp_seconds, args.udp_rounds))
        for backend in BACKENDS:
            for w in (1, 2):
                v = result["udp"]["%s/%dw" % (backend, w)]
                print("  %-14s %d worker(s): %s tx/s wall [%s-%s]; per server CPU-second %s "
                      "[%s-%s] (user time only: %s)"
                      % (backend, w, fmt_rate(v["tx_per_s"]["median"]),
                         fmt_rate(v["tx_per_s"]["min"]), fmt_rate(v["tx_per_s"]["max"]),
                         fmt_rate(v["tx_per_cpu_s"]["median"]), fmt_rate(v["tx_per_cpu_s"]["min"]),
                         fmt_rate(v["tx_per_cpu_s"]["max"]),
                         fmt_rate(v["tx_per_user_cpu_s"]["median"])))
            print("  %-14s per core / core unpack rate %.2f; 2 workers / 1: wall %.2fx, "
                  "per-core %.2f" % (backend, result["udp"][backend + "/per_core_vs_unpack"],
                                     result["udp"][backend + "/2w_vs_1w_wall"],
                                     result["udp"][backend + "/2w_vs_1w_per_core"]))
    print("\nGoals:")
    for goal, met in result["goals"].items():
        print("  [%s] %s" % ("met" if met else "NOT met", goal))


if __name__ == "__main__":
    main()
