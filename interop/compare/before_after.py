#!/usr/bin/env python3
"""Whether a change made `pssst serve` cost more server CPU per transaction:
the CLI at a base revision against the working tree, side by side.

    interop/compare/before-after.sh [--base REV] [--rounds N] [--seconds S]

Builds the release `pssst` CLI with the same backend twice: from the working
tree ("after") and from `git archive REV` extracted under
target/before-after/ ("before"; the checkout and its .git are not touched,
the compiled dependencies are shared through one target directory). Then
runs udp.py's UDP leg for both servers in interleaved rounds, each pair
back to back in alternating order (A B, B A, ...), with the same load (the
working tree's `pssst bench`, same key, same clients): anonymous and
client-authenticated, 1 and 2 workers. Prints the server's CPU microseconds
per transaction (user, system, total) for each, and per round the ratio
after/before; "grew" when the median ratio of a configuration is above
1 + tolerance. Asserts nothing: a measurement, not a test. Raw rounds and
the summary go to target/bench/before-after.json.
"""

import argparse
import datetime
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from analysis import med_spread  # noqa: E402
from build import build_cli  # noqa: E402
from config import BACKENDS, BIN, OUT, TARGET  # noqa: E402
from report import write_json  # noqa: E402
from shell import die, log, run  # noqa: E402
from nic import build_flood, network_down, network_up, nic_once  # noqa: E402
from udp import CLIENTS, udp_once  # noqa: E402

# Issue 25's starting point: the default base is its merge-base with HEAD.
ISSUE_START = "5813251"
SOURCES = os.path.join(TARGET, "before-after")
BASE_TARGET = os.path.join(SOURCES, "target")
# (label, client-authenticated, workers), in the order run within a round.
CONFIGS = [("anonymous, 1 worker", False, 1), ("anonymous, 2 workers", False, 2),
           ("client-auth, 1 worker", True, 1), ("client-auth, 2 workers", True, 2)]
SIDES = ("before", "after")
PARTS = ("user", "system", "total")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="the revision to compare with (default: the "
                        "merge-base of HEAD and %s, issue 25's start)" % ISSUE_START)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--seconds", type=float, default=3.0,
                        help="load per server run (default 3)")
    parser.add_argument("--tolerance", type=float, default=0.05,
                        help="'grew' above a median ratio of 1 + this (default 0.05)")
    parser.add_argument("--backend", choices=BACKENDS, default="aws-lc",
                        help="X25519 backend of both builds (default aws-lc, the CLI's)")
    parser.add_argument("--network", choices=("loopback", "nic"), default="loopback",
                        help="loopback: closed-loop `pssst bench` (udp.py); nic: open-loop "
                        "load from another network namespace, replies dropped where a "
                        "network card would take them (nic.py; root; anonymous only)")
    parser.add_argument("--rate", type=int, default=60000,
                        help="with --network nic: requests per second offered")
    parser.add_argument("--json", default=os.path.join(OUT, "before-after.json"))
    return parser.parse_args()


def git(*args):
    return run(["git", *args], capture=True).strip()


def base_commit(rev):
    if rev is None:
        return git("merge-base", "HEAD", ISSUE_START)
    return git("rev-parse", "--verify", rev + "^{commit}")


def base_source(commit):
    """The base revision's files, extracted once under target/before-after/,
    each marked modified now (see build_both)."""
    source = os.path.join(SOURCES, commit)
    if not os.path.isdir(source):
        os.makedirs(SOURCES, exist_ok=True)
        partial = tempfile.mkdtemp(dir=SOURCES, prefix="partial-")
        archive = partial + ".tar"
        run(["git", "archive", "--format=tar", "-o", archive, commit])
        run(["tar", "-xf", archive, "-C", partial])
        os.remove(archive)
        os.rename(partial, source)
    for directory, _, files in os.walk(source):
        for name in files:
            os.utime(os.path.join(directory, name))
    return source


def build_both(commit, backend):
    """The two CLIs. Cargo names a workspace crate's build by its path
    relative to the workspace and trusts it while its sources are older, so
    a base tree built into the working tree's target/ would reuse the
    working tree's build (or the reverse). Bases build into a target
    directory of their own instead, from sources just marked modified, so
    their crates are always rebuilt and their dependencies kept."""
    clis = {"before": os.path.join(BIN, "pssst-%s-%s" % (commit[:12], backend)),
            "after": os.path.join(BIN, "pssst-worktree-" + backend)}
    build_cli(backend, clis["before"], source=base_source(commit), target=BASE_TARGET)
    build_cli(backend, clis["after"])
    return clis


def cost(one_run):
    """Server CPU microseconds per transaction of one udp_once() result."""
    ok = one_run["ok"]
    user, system = one_run["server_user_s"] * 1e6 / ok, one_run["server_system_s"] * 1e6 / ok
    return {"user": user, "system": system, "total": user + system}


def interleaved(clis, n_rounds, seconds, tmp, rate=None):
    """{config label: {"before": [one per round], "after": [...]}}, each a
    udp_once() result (nic_once() with a rate) with its cost() as
    "cpu_us_per_tx"."""
    server_key, client_key = os.path.join(tmp, "server.key"), os.path.join(tmp, "client.key")
    for key in (server_key, client_key):
        run([clis["after"], "keygen", key], capture=True)
    # udp-flood sends anonymous requests only.
    configs = [c for c in CONFIGS if not (rate and c[1])]
    runs = {label: {side: [] for side in SIDES} for label, _, _ in configs}
    for r in range(n_rounds):
        for i, (label, auth, workers) in enumerate(configs):
            for side in SIDES if (r + i) % 2 == 0 else SIDES[::-1]:
                log("round %d/%d: %s, %s" % (r + 1, n_rounds, label, side))
                if rate:
                    one = nic_once(clis[side], workers, seconds, rate, server_key)
                else:
                    one = udp_once(clis[side], workers, seconds, CLIENTS, server_key,
                                   load_cli=clis["after"],
                                   client_key=client_key if auth else None)
                if one["failed"] or not one["ok"]:
                    die("%s, %s: %d ok, %d failed transactions"
                        % (label, side, one["ok"], one["failed"]))
                runs[label][side].append(dict(one, cpu_us_per_tx=cost(one)))
    return runs


def ratios(sides, part):
    """after / before of each round's adjacent pair."""
    return [a["cpu_us_per_tx"][part] / b["cpu_us_per_tx"][part]
            for b, a in zip(sides["before"], sides["after"])]


def summarise(runs, tolerance):
    """Per configuration: medians of each side and of the ratios. The verdict
    is on the median of every round's total ratio, all configurations
    pooled: one configuration's five rounds alone wander by more than the
    tolerance on a loaded machine even for identical binaries."""
    summary = {"configs": {}}
    for label, sides in runs.items():
        entry = {side: {part: med_spread([one["cpu_us_per_tx"][part] for one in sides[side]])
                        for part in PARTS} for side in SIDES}
        entry["ratio"] = {part: med_spread(ratios(sides, part)) for part in PARTS}
        summary["configs"][label] = entry
    pooled = med_spread([r for sides in runs.values() for r in ratios(sides, "total")])
    summary["ratio_total_pooled"] = pooled
    summary["tolerance"] = tolerance
    summary["grew"] = pooled["median"] > 1 + tolerance
    return summary


def print_report(summary, meta):
    print("\nServer CPU per transaction, before = %s, after = the working tree (%s%s)"
          % (meta["base"][:12], meta["head"][:12], ", with changes" if meta["dirty"] else ""))
    load = ("%d clients on loopback" % CLIENTS if meta["network"] == "loopback" else
            "open-loop %d requests/s, replies dropped at a NIC's place" % meta["rate"])
    print("%s backend, %s, %.0f s per run, %d interleaved rounds; microseconds of "
          "server CPU per transaction, median of rounds (user / system / total)"
          % (meta["backend"], load, meta["seconds"], meta["rounds"]))
    print("ratio = after / before of each round's adjacent pair: median [min-max] of rounds\n")
    print("  %-24s %-22s %-22s %-22s %s" % ("", "before", "after", "ratio total",
                                             "ratio user, system"))
    for label, entry in summary["configs"].items():
        sides = ["%5.1f / %4.1f / %5.1f" % tuple(entry[side][p]["median"] for p in PARTS)
                 for side in SIDES]
        total = entry["ratio"]["total"]
        print("  %-24s %-22s %-22s %.3f [%.3f-%.3f]  %.3f, %.3f"
              % (label, sides[0], sides[1], total["median"], total["min"], total["max"],
                 entry["ratio"]["user"]["median"], entry["ratio"]["system"]["median"]))
    pooled = summary["ratio_total_pooled"]
    print("\n  all configurations: ratio total %.3f [%.3f-%.3f] (median of %d rounds)"
          % (pooled["median"], pooled["min"], pooled["max"], len(pooled["rounds"])))
    print("\nServer CPU per transaction %s (tolerance: a median ratio up to %.2f)"
          % ("GREW" if summary["grew"] else "did not grow", 1 + summary["tolerance"]))


def main():
    args = parse_args()
    commit = base_commit(args.base)
    clis = build_both(commit, args.backend)
    load_before = os.getloadavg()
    nic = args.network == "nic"
    if nic:
        build_flood()
        network_up()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            runs = interleaved(clis, args.rounds, args.seconds, tmp,
                               rate=args.rate if nic else None)
    finally:
        if nic:
            network_down()
    meta = {"base": commit, "head": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
            "backend": args.backend, "network": args.network,
            "rate": args.rate if nic else None, "rounds": args.rounds, "seconds": args.seconds,
            "tolerance": args.tolerance, "clients": CLIENTS,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(), "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(), "binaries": clis}
    summary = summarise(runs, args.tolerance)
    write_json(args.json, {"meta": meta, "summary": summary, "runs": runs}, indent=1)
    print_report(summary, meta)
    print("\nJSON: %s" % args.json)


if __name__ == "__main__":
    main()
