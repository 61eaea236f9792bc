"""Turns the raw per-round rates into the result: median and spread of each
operation, ratios against the faster reference, overhead over the raw X25519
each operation must do, and the UDP leg's rates and ratios."""

import statistics

from config import BACKENDS, IMPLS, MULTS, OPS, RAW, REFERENCES

UNIT = ("operations per second of process CPU time (median of rounds; "
        "each round the median of 5 sub-batches)")
# The legs that time their own raw X25519, for the overhead.
WITH_RAW = ["pssst-core/x25519-dalek", "pssst-core/aws-lc", "gopssst v0.2.2", "pypssst 0.2.1"]


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


def median(result, name, op):
    return result["impls"][name][op]["median"]


def summarise(rounds, rounds_wall, udp):
    """The result (without goals, callgrind or meta) from the rounds of
    interleaved_rounds() and udp_rounds()."""
    result = {"unit": UNIT, "impls": {}, "impls_wall_clock": {}, "ratios": {},
              "overhead_pct": {}, "udp": {}, "goals": {}}
    for key, source in (("impls", rounds), ("impls_wall_clock", rounds_wall)):
        for name in IMPLS:
            per_op = {}
            for op in OPS + RAW:
                values = [rd[op] for rd in source[name] if op in rd]
                if values:
                    per_op[op] = med_spread(values)
            result[key][name] = per_op

    for op in OPS:
        best_ref = max(REFERENCES, key=lambda n, op=op: median(result, n, op))
        result["ratios"][op] = {"best_reference": best_ref}
        for name in ["pssst-core/x25519-dalek", "pssst-core/aws-lc", "pssst-py"]:
            result["ratios"][op][name] = median(result, name, op) / median(result, best_ref, op)
        result["ratios"][op]["pssst-py/pypssst"] = \
            median(result, "pssst-py", op) / median(result, "pypssst 0.2.1", op)
    for name in WITH_RAW:
        result["overhead_pct"][name] = {}
        for op in MULTS:
            per_round = [overhead(rd, op) for rd in rounds[name]]
            result["overhead_pct"][name][op] = med_spread(per_round)

    for key, runs in udp.items():
        result["udp"][key] = {k: med_spread([run_[k] for run_ in runs])
                              for k in ("tx_per_s", "tx_per_cpu_s", "tx_per_user_cpu_s")}
    if udp:
        for backend in BACKENDS:
            one, two = result["udp"][backend + "/1w"], result["udp"][backend + "/2w"]
            per_core = one["tx_per_cpu_s"]["median"]
            result["udp"][backend + "/per_core_vs_unpack"] = \
                per_core / median(result, "pssst-core/" + backend, "unpack_anon")
            result["udp"][backend + "/2w_vs_1w_wall"] = \
                two["tx_per_s"]["median"] / one["tx_per_s"]["median"]
            result["udp"][backend + "/2w_vs_1w_per_core"] = \
                two["tx_per_cpu_s"]["median"] / per_core
    return result


def callgrind_overhead(counts):
    """Adds to each backend's instruction counts the overhead of each
    operation over its raw X25519 multiplications, in percent."""
    for per_op in counts.values():
        per_op["overhead_pct"] = {
            op: 100.0 * (per_op[op] / (MULTS[op][0] * per_op["x25519_base"]
                                       + MULTS[op][1] * per_op["x25519_var"]) - 1)
            for op in MULTS}
    return counts
