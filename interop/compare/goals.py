"""The performance goals pssst-rs sets itself, and whether this run met each
(reported, never asserted: the comparison is not part of the test command)."""

import os

from config import BACKENDS, MULTS


def judge(result):
    """Fills result["goals"] from the summarised result."""
    goals = result["goals"]
    ratios = result["ratios"]
    best = "pssst-core/aws-lc"
    goals["unpack_anon >= 1.4x faster reference"] = ratios["unpack_anon"][best] >= 1.4
    goals["unpack_auth >= 1.6x faster reference"] = ratios["unpack_auth"][best] >= 1.6
    worst_overhead = max(result["overhead_pct"][best][op]["median"] for op in MULTS)
    goals["core overhead over raw X25519 <= 5% (timed, aws-lc)"] = worst_overhead <= 5
    if "callgrind_instructions_per_op" in result:
        goals["core overhead over raw X25519 <= 5% (callgrind, aws-lc)"] = max(
            result["callgrind_instructions_per_op"]["aws-lc"]["overhead_pct"].values()) <= 5
    for op in ("pack_anon", "pack_auth", "unpack_anon", "unpack_auth"):
        goals["pssst-py >= 1.3x pypssst: " + op] = ratios[op]["pssst-py/pypssst"] >= 1.3
    for op in ("reply_pack", "reply_unpack"):
        goals["pssst-py >= 3x pypssst: " + op] = ratios[op]["pssst-py/pypssst"] >= 3
    if result["udp"]:
        for backend in BACKENDS:
            goals["UDP tx per server CPU-second >= 80%% of core unpack (%s)" % backend] = \
                result["udp"][backend + "/per_core_vs_unpack"] >= 0.8
            goals["UDP 2 workers >= 1.7x one, wall (%s; %d CPUs shared with the load "
                  "generator)" % (backend, os.cpu_count())] = \
                result["udp"][backend + "/2w_vs_1w_wall"] >= 1.7
