"""The comparison's output: the one table on stdout, and JSON files."""

import json
import os

from config import BACKENDS, IMPLS, OP_LABEL, OPS, RAW
from udp import CLIENTS


def write_json(path, data, indent):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f, indent=indent)


def fmt_rate(x):
    if x >= 1e6:
        return "%.2fM" % (x / 1e6)
    if x >= 1e3:
        return "%.1fk" % (x / 1e3)
    return "%.0f" % x


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
        print("\nUDP server on loopback (pssst serve + pssst bench, %d clients, anonymous, "
              "%.0f s x %d rounds; per core = transactions / server CPU seconds):"
              % (CLIENTS, args.udp_seconds, args.udp_rounds))
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

