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
timing; goals are reported as met or not. This file only runs the steps in
order; each step is a module beside it (see README.md, "Files").
"""

import argparse
import datetime
import os
import platform
import subprocess
import time

import analysis
import build
import callgrind
import goals
import legs
import report
import udp
from config import OUT


def parse_args():
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
    return parser.parse_args()


def version(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()


def main():
    args = parse_args()
    started = time.time()
    if not args.no_setup:
        build.setup(args)
    build.check_built()

    load_before = os.getloadavg()
    rounds, rounds_wall = legs.interleaved_rounds(args.rounds, args.ms)
    udp_runs = {} if args.no_udp else udp.udp_rounds(args.udp_rounds, args.udp_seconds)
    load_after = os.getloadavg()
    # The raw data, before any analysis.
    report.write_json(os.path.join(OUT, "rounds.json"),
                      {"cpu": rounds, "wall": rounds_wall, "udp": udp_runs}, indent=1)

    result = analysis.summarise(rounds, rounds_wall, udp_runs)
    if args.callgrind:
        result["callgrind_instructions_per_op"] = \
            analysis.callgrind_overhead(callgrind.count_all())
    goals.judge(result)
    result["meta"] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "cpus": os.cpu_count(), "machine": platform.machine(),
        "rounds": args.rounds, "ms_per_op": args.ms, "message_bytes": 64,
        "loadavg_before": load_before, "loadavg_after": load_after,
        "wall_seconds": round(time.time() - started, 1),
        "python": platform.python_version(),
        "go": version(["go", "version"]),
        "rustc": version(["rustc", "--version"]),
    }
    report.write_json(args.json, result, indent=2)
    report.print_table(result, args)
    print("\nJSON: %s" % args.json)


if __name__ == "__main__":
    main()
