#!/usr/bin/env python3
"""Interop matrix driver: runs every ordered pair of PSSST peers against each
other over the interop line protocol and prints the matrix.

Each peer is a program that speaks the protocol on stdin/stdout (one
``TAG:hex`` line each; see interop/README.md). For one pairing the driver
starts both programs, relays each one's stdout lines to the other's stdin
(one reader thread per peer, so a slow or silent side can never stall the
other direction), enforces a timeout, captures stderr, and then requires:

  * both peers exit 0;
  * each side sent SERVER_KEY, CLIENT_KEY, PLAINTEXT, REQUEST, REQUEST_AUTH,
    REPLY, REPLY_AUTH and DONE exactly once, DONE last, nothing else;
  * the packets are well formed for the suite (--suite, default 1):
    request/reply headers (0000/4000/8000/c000 + the suite), lengths for a 64-byte message
    (116 bytes; 180 for REQUEST_AUTH), each reply carries the DH parameter
    of the request it answers, and the two requests use distinct ones.

The peers themselves check the cryptographic content (plaintexts, reversed
replies, the authenticated client key); the driver checks the shape so that
a peer that merely prints DONE cannot pass.

    driver.py --peer NAME=COMMAND ... [--require NAME,...] [--runs N] [--suite 0xff01]

--peer may be repeated; COMMAND is split like a shell command line.
--check NAME=COMMAND runs a preflight command (exit 0 required) before the
matrix; a peer whose check fails is reported as missing, not skipped.
--missing NAME=REASON declares a peer that could not be built or installed.
Any required peer that is missing fails the run (after the matrix of the
peers that are present has been run and printed).
"""

import argparse
import itertools
import os
import shlex
import signal
import subprocess
import sys
import threading
import time

TAGS = ("SERVER_KEY", "CLIENT_KEY", "PLAINTEXT", "REQUEST", "REQUEST_AUTH",
        "REPLY", "REPLY_AUTH", "DONE")
SUITE1 = bytes.fromhex("0001")
MESSAGE_LEN = 64
# The packet layout, from pssst-core's (crates/pssst-core/src/layout.rs).
# The driver checks other implementations too and runs on a bare python3,
# without the pssst package, so it keeps this copy;
# tests/python/test_interop_layout.py checks it against the package.
FLAGS = slice(0, 2)          # header: flags, then the suite
SUITE = slice(2, 4)
HEADER = slice(0, 4)
DH_PARAM = slice(4, 36)      # a request's id; a reply carries its request's
OVERHEAD = 52                # header, DH parameter, AEAD tag
CLIENT_AUTH_OVERHEAD = 64    # client public key and proof
EXPECTED = {
    # tag: (flags, length)
    "REQUEST": (bytes.fromhex("0000"), OVERHEAD + MESSAGE_LEN),
    "REQUEST_AUTH": (bytes.fromhex("4000"), OVERHEAD + CLIENT_AUTH_OVERHEAD + MESSAGE_LEN),
    "REPLY": (bytes.fromhex("8000"), OVERHEAD + MESSAGE_LEN),
    "REPLY_AUTH": (bytes.fromhex("c000"), OVERHEAD + MESSAGE_LEN),
}
ANSWERS = {"REPLY": "REQUEST", "REPLY_AUTH": "REQUEST_AUTH"}
MAX_LINE = 1 << 16


class Side:
    """One running peer of a pairing."""

    # pylint: disable=too-many-instance-attributes
    def __init__(self, label, name, argv):
        self.label = label          # "A" (started first) or "B"
        self.name = name
        self.argv = argv
        self.proc = None
        self.lines = []             # (seconds since start, decoded line) sent by this peer
        self.stderr = b""
        self.relay_errors = []
        self.threads = []

    def start(self, env):
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, bufsize=0, close_fds=True,
            start_new_session=True)

    def kill(self):
        """Kill the peer and anything it started (its own process group)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            self.proc.kill()


def relay(src, dst, t0):
    """Copy src's stdout lines to dst's stdin until src closes its stdout."""
    out = src.proc.stdout
    while True:
        line = out.readline(MAX_LINE + 1)
        if not line:
            break
        if len(line) > MAX_LINE:
            src.relay_errors.append("line longer than %d bytes" % MAX_LINE)
            break
        try:
            text = line.decode("ascii").rstrip("\r\n")
        except UnicodeDecodeError:
            src.relay_errors.append("non-ASCII output %r" % line[:80])
            text = None
        if text is not None:
            src.lines.append((time.monotonic() - t0, text))
        try:
            dst.proc.stdin.write(line if line.endswith(b"\n") else line + b"\n")
            dst.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError) as err:
            src.relay_errors.append("could not relay %s to %s (%s): %s"
                                    % ((text or "?").split(":")[0], dst.label, dst.name,
                                       type(err).__name__))
            break
    # Let the other side see EOF rather than wait for the timeout.
    try:
        dst.proc.stdin.close()
    except OSError:
        pass
    # Drain so src never blocks on a full pipe after a relay failure.
    while out.read(65536):
        pass


def drain_stderr(side):
    side.stderr = side.proc.stderr.read()


def check_transcript(side, other, suite=SUITE1):
    """Protocol-shape checks on what `side` sent; returns a list of problems."""
    problems = []
    values = {}
    for _, text in side.lines:
        tag, sep, hex_value = text.partition(":")
        if not sep:
            problems.append("malformed line %r" % text[:80])
            continue
        if tag not in TAGS:
            problems.append("unknown tag %r" % tag[:40])
            continue
        if tag in values:
            problems.append("%s sent twice" % tag)
            continue
        if hex_value != hex_value.lower():
            problems.append("%s: hex not lowercase" % tag)
        try:
            values[tag] = bytes.fromhex(hex_value)
        except ValueError:
            problems.append("%s: bad hex" % tag)
    missing = [t for t in TAGS if t not in values]
    if missing:
        problems.append("never sent %s" % ", ".join(missing))
    if side.lines and not side.lines[-1][1].startswith("DONE:"):
        problems.append("DONE was not its last line")
    for tag in ("SERVER_KEY", "CLIENT_KEY"):
        if tag in values and len(values[tag]) != 32:
            problems.append("%s is %d bytes, want 32" % (tag, len(values[tag])))
    if "PLAINTEXT" in values and len(values["PLAINTEXT"]) != MESSAGE_LEN:
        problems.append("PLAINTEXT is %d bytes, want %d" % (len(values["PLAINTEXT"]), MESSAGE_LEN))
    if values.get("DONE"):
        problems.append("DONE carries data")
    for tag, (flags, length) in EXPECTED.items():
        pkt = values.get(tag)
        if pkt is None:
            continue
        if len(pkt) != length:
            problems.append("%s is %d bytes, want %d" % (tag, len(pkt), length))
        if pkt[FLAGS] != flags or pkt[SUITE] != suite:
            problems.append("%s header %s, want %s%s" % (tag, pkt[HEADER].hex(), flags.hex(),
                                                         suite.hex()))
    if ("REQUEST" in values and "REQUEST_AUTH" in values
            and values["REQUEST"][DH_PARAM] == values["REQUEST_AUTH"][DH_PARAM]):
        problems.append("REQUEST and REQUEST_AUTH share a DH parameter")
    # Each reply this side sent must answer the other side's request.
    other_values = {}
    for _, text in other.lines:
        tag, _, hex_value = text.partition(":")
        try:
            other_values.setdefault(tag, bytes.fromhex(hex_value))
        except ValueError:
            pass
    for reply, request in ANSWERS.items():
        if reply in values and request in other_values:
            if values[reply][DH_PARAM] != other_values[request][DH_PARAM]:
                problems.append("%s does not carry the DH parameter of the other side's %s"
                                % (reply, request))
    return problems


def run_pairing(a_name, a_argv, b_name, b_argv, timeout, env, suite=SUITE1):
    """Run one pairing; returns (ok, seconds, report lines)."""
    # pylint: disable=too-many-locals,too-many-branches
    a = Side("A", a_name, a_argv)
    b = Side("B", b_name, b_argv)
    t0 = time.monotonic()
    problems = []
    try:
        a.start(env)
        b.start(env)
    except OSError as err:
        for side in (a, b):
            if side.proc:
                side.kill()
                side.proc.wait()
        return False, 0.0, ["could not start a peer: %s" % err]
    for src, dst in ((a, b), (b, a)):
        t = threading.Thread(target=relay, args=(src, dst, t0), daemon=True)
        e = threading.Thread(target=drain_stderr, args=(src,), daemon=True)
        src.threads += [t, e]
        t.start()
        e.start()
    timed_out = []
    deadline = t0 + timeout
    for side in (a, b):
        try:
            side.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out.append(side)
    if timed_out:
        for side in (a, b):
            side.kill()
        problems.append("timed out after %.0f s (still running: %s)"
                        % (timeout, ", ".join("%s %s" % (s.label, s.name) for s in timed_out)))
    for side in (a, b):
        side.proc.wait()
        for t in side.threads:
            t.join(timeout=5)
            if t.is_alive():
                problems.append("%s %s: output thread did not finish" % (side.label, side.name))
    elapsed = time.monotonic() - t0
    for side, other in ((a, b), (b, a)):
        rc = side.proc.returncode
        if rc != 0 and side not in timed_out:
            problems.append("%s %s exited %s" % (side.label, side.name, rc))
        for err in side.relay_errors:
            problems.append("%s %s: %s" % (side.label, side.name, err))
        if not timed_out and rc == 0:
            for p in check_transcript(side, other, suite):
                problems.append("%s %s: %s" % (side.label, side.name, p))
    report = []
    if problems:
        report += ["  problem: %s" % p for p in problems]
        for side in (a, b):
            report.append("  %s %s: %s" % (side.label, side.name, " ".join(side.argv)))
            err = side.stderr.decode("utf-8", "replace").strip()
            for line in (err.splitlines()[-15:] if err else ["(no stderr)"]):
                report.append("    stderr| %s" % line)
        report.append("  transcript (time, sender, line):")
        merged = sorted([(t, s.label, l) for s in (a, b) for t, l in s.lines])
        for t, label, text in merged[-24:]:
            report.append("    %6.3f %s> %s" % (t, label, text[:100] + ("..." if len(text) > 100 else "")))
    return not problems, elapsed, report


def parse_assignments(items, what):
    result = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            sys.exit("driver: bad %s %r (want NAME=VALUE)" % (what, item))
        result[name] = value
    return result


def main():
    # pylint: disable=too-many-locals,too-many-branches,too-many-statements
    parser = argparse.ArgumentParser(
        description="Run every ordered pairing of PSSST interop peers.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--peer", action="append", default=[], metavar="NAME=COMMAND",
                        help="a peer and the command that runs it (repeatable, ordered)")
    parser.add_argument("--check", action="append", default=[], metavar="NAME=COMMAND",
                        help="preflight command for a peer; must exit 0")
    parser.add_argument("--missing", action="append", default=[], metavar="NAME=REASON",
                        help="a peer that could not be built or installed")
    parser.add_argument("--require", default="",
                        help="comma-separated peer names that must all be present")
    parser.add_argument("--runs", type=int, default=3, help="runs per pairing (default 3)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds allowed per run (default 30)")
    parser.add_argument("--suite", type=lambda text: int(text, 0).to_bytes(2, "big"),
                        default=SUITE1, metavar="ID",
                        help="the cipher suite every packet must carry (default 1; "
                             "the peers must be started for it)")
    parser.add_argument("--only", default="",
                        help="comma-separated peer names: run only pairings among these")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    peers = {}
    for name, command in parse_assignments(args.peer, "--peer").items():
        argv = shlex.split(command)
        if not argv:
            sys.exit("driver: empty command for peer %s" % name)
        peers[name] = argv
    checks = parse_assignments(args.check, "--check")
    missing = parse_assignments(args.missing, "--missing")
    required = [n for n in args.require.split(",") if n]
    env = dict(os.environ)

    for name, command in checks.items():
        if name not in peers:
            continue
        proc = subprocess.run(shlex.split(command), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, env=env, check=False, timeout=120)
        out = proc.stdout.decode("utf-8", "replace").strip()
        if proc.returncode != 0:
            missing[name] = "preflight check failed (exit %d): %s" % (proc.returncode, out[-500:])
            del peers[name]
        else:
            print("preflight %s: ok%s" % (name, (" - " + out.splitlines()[-1]) if out else ""))
    for name in required:
        if name not in peers and name not in missing:
            missing[name] = "no --peer given for it"
    for name, argv in peers.items():
        exe = argv[0]
        if os.sep in exe and not os.access(exe, os.X_OK):
            missing[name] = "%s is not an executable file" % exe
    for name in missing:
        peers.pop(name, None)

    names = list(peers)
    if args.only:
        wanted = [n for n in args.only.split(",") if n]
        names = [n for n in names if n in wanted]
    pairs = list(itertools.product(names, repeat=2))
    print("peers: %s" % (", ".join("%s (%s)" % (n, " ".join(peers[n])) for n in names) or "none"))
    for name, reason in missing.items():
        print("MISSING peer %s: %s" % (name, reason))
    print("running %d ordered pairings x %d run(s), timeout %.0f s each, suite %#06x"
          % (len(pairs), args.runs, args.timeout, int.from_bytes(args.suite, "big")))
    sys.stdout.flush()

    results = {}
    failed_pairings = 0
    for a_name, b_name in pairs:
        passes, times, reports = 0, [], []
        for run in range(1, args.runs + 1):
            ok, elapsed, report = run_pairing(a_name, peers[a_name], b_name, peers[b_name],
                                              args.timeout, env, args.suite)
            times.append(elapsed)
            if ok:
                passes += 1
            else:
                reports.append((run, report))
        results[(a_name, b_name)] = passes
        status = "PASS" if passes == args.runs else "FAIL"
        if passes != args.runs:
            failed_pairings += 1
        print("%s %-10s -> %-10s %d/%d  (max %.2f s)"
              % (status, a_name, b_name, passes, args.runs, max(times)))
        for run, report in reports:
            print("  run %d:" % run)
            print("\n".join(report))
        sys.stdout.flush()

    # The matrix: row = peer started first (A), column = peer started second (B).
    # Every run exercises both directions and both modes.
    if names:
        width = max(10, max(len(n) for n in names) + 2)
        print()
        print("interop matrix (row: first peer, column: second peer; passes/runs;")
        print("each run: both peers as client and server, anonymous and client-auth)")
        print(" " * width + "".join(n.rjust(width) for n in names))
        for a_name in names:
            cells = []
            for b_name in names:
                passes = results[(a_name, b_name)]
                cell = "%d/%d" % (passes, args.runs)
                cells.append((cell if passes == args.runs else "FAIL " + cell).rjust(width))
            print(a_name.ljust(width) + "".join(cells))
    for name in missing:
        print("%s MISSING: %s" % (name.ljust(12), missing[name]))

    missing_required = [n for n in required if n in missing]
    passed = len(pairs) - failed_pairings
    # Pairings that could not run because a required peer is missing count as failed.
    not_run = len(set(names) | set(missing_required)) ** 2 - len(pairs) if missing_required else 0
    print()
    print("interop: %d passed, %d failed" % (passed, failed_pairings + not_run))
    if missing_required:
        print("interop: FAIL: required peer(s) missing: %s" % ", ".join(missing_required))
    if failed_pairings:
        print("interop: FAIL: %d of %d pairings failed" % (failed_pairings, len(pairs)))
    if not pairs:
        print("interop: FAIL: no pairings ran")
    return 1 if (missing_required or failed_pairings or not pairs) else 0


if __name__ == "__main__":
    sys.exit(main())
