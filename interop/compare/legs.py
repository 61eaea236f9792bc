"""The timed legs (pssst-core per backend, gopssst, pypssst, pssst-py): runs
each leg's program once per round, in interleaved rounds, and collects its
operations per second of CPU time and of wall time."""

import json
import os
import re
import statistics

from config import GO_TEST, HERE, OPS, RAW, harness, venv_python
from shell import die, log, run

GO_NAMES = {
    "X25519Base": "x25519_base", "X25519Var": "x25519_var",
    "RequestPackAnon": "pack_anon", "RequestPackAuth": "pack_auth",
    "RequestUnpackAnon": "unpack_anon", "RequestUnpackAuth": "unpack_auth",
    "ReplyPack": "reply_pack", "ReplyUnpack": "reply_unpack",
}


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
    cmd = [harness(backend), "--ms", str(ms)]
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
    per = "%dms" % max(1, ms // 5)
    results, wall = {}, {}
    for bench, benchtime in (("^Benchmark(X25519|Request)", per), ("^BenchmarkReply", "800x")):
        out = run([GO_TEST, "-test.run", "^$", "-test.bench", bench, "-test.benchtime", benchtime,
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


def interleaved_rounds(n_rounds, ms):
    """Runs every leg once per round, in an order rotated each round.
    Returns ({leg: [ops per CPU-second, per round]}, the same per wall-second)."""
    legs = [
        ("pssst-core/x25519-dalek", lambda: leg_rust("x25519-dalek", ms)),
        ("pssst-core/aws-lc", lambda: leg_rust("aws-lc", ms)),
        ("gopssst v0.2.2", lambda: leg_go(ms)),
        ("pypssst 0.2.1", lambda: leg_python("venv-pypssst", ms, raw=True)),
        ("pssst-py", lambda: leg_python("venv-pssst-py", ms, raw=False)),
    ]
    rounds = {name: [] for name, _ in legs}       # ops per CPU-second
    rounds_wall = {name: [] for name, _ in legs}  # ops per wall-second
    for r in range(n_rounds):
        # Rotate the order so no leg always runs first or last.
        order = legs[r % len(legs):] + legs[:r % len(legs)]
        for name, leg in order:
            log("round %d/%d: %s" % (r + 1, n_rounds, name))
            cpu, wall = leg()
            rounds[name].append(cpu)
            rounds_wall[name].append(wall)
    return rounds, rounds_wall
