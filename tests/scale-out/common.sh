# Sourced by the pool tests (tests/scale-out/run.sh and dnat.sh,
# tests/container/pool.sh), which set TEST_NAME first (their message prefix
# and the name of their work dir): the paths and the pssst binary they use,
# say and die, and the work dir's life (made under PSSST_CACHE, kept after a
# failed run or on request, removed otherwise). A caller's cleanup trap
# reads the globals WORK and STATUS (0 once the run passed).

REPO_ROOT="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
PSSST_CACHE="${PSSST_CACHE:-$REPO_ROOT/.cache}"
PSSST="${PSSST:-$CARGO_TARGET_DIR/release/pssst}"
WORK=""
STATUS=1

# The clients' retry schedule in the fault runs behind the random DNAT
# (dnat.sh, tests/container/pool.sh). With one of three backends dead and
# still in the rotation, each retransmission's fresh flow draws it again
# with probability 1/3, so a request caught in flight fails with
# probability (1/3)^retries: 1/729 at the default 6 (with about 5 clients
# pinned to the victim, one failing run in about 150: it happened). 10
# retries from a 250 ms first wait (0.25, 0.5, then 1 s each: the last
# leaves 8.75 s in, inside the 10 s retransmission window `pssst bench`
# enforces) make it (1/3)^10, about one run in 12,000.
LB_FAULT_RETRY_ARGS=(--timeout-ms 250 --retries 10)

say() { echo "$TEST_NAME: $*"; }
die() { echo "$TEST_NAME: FAIL: $*" >&2; exit 1; }

[ -x "$PSSST" ] || die "no pssst binary at $PSSST (cargo build --release -p pssst-cli)"

# new_work_dir: WORK becomes a fresh directory under PSSST_CACHE.
new_work_dir() {
  mkdir -p "$PSSST_CACHE"
  WORK="$(mktemp -d "$PSSST_CACHE/$TEST_NAME.XXXXXX")"
}

# work_dir_kept RC KEEP [COMMAND...] (in a cleanup): keeps WORK, says so
# and returns 0 when the run failed (its exit status RC, or STATUS, is not
# 0) or KEEP is 1; otherwise runs COMMAND (what must go with WORK, while the
# configuration WORK may hold is still there), removes WORK and returns 1.
# Returns 1 at once when there is no WORK.
work_dir_kept() {
  [ -n "$WORK" ] || return 1
  if [ "$1" != 0 ] || [ "$STATUS" != 0 ] || [ "$2" = 1 ]; then
    say "work dir kept: $WORK"
    return 0
  fi
  shift 2
  [ $# = 0 ] || "$@"
  rm -rf "$WORK"
  return 1
}

# show_tails N FILE...: the last N lines of each non-empty FILE, under its name.
show_tails() {
  local lines=$1 file
  shift
  for file in "$@"; do
    if [ -s "$file" ]; then
      echo "--- $file"
      tail -n "$lines" "$file"
    fi
  done
}
