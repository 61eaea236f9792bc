#!/usr/bin/env bash
# The one test command: runs every leg in tests/legs/ in order, from a fresh
# clone, installing what each leg needs. Any leg that fails or cannot run
# fails the whole run; nothing is skipped silently.
#
#   tests/run-all.sh              every leg
#   tests/run-all.sh core ffi     only the legs whose names contain a word
set -uo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# REPO_ROOT, CARGO_TARGET_DIR, PSSST_CACHE, PSSST_VECTORS_DIR (defaults:
# target/, .cache/, tests/vectors/), exported for every leg.
source "$REPO_ROOT/tests/legs/lib.sh"
export CARGO_TERM_COLOR=never

if [ ! -f "$PSSST_VECTORS_DIR/suite1-kat.json" ]; then
  echo "FATAL: test vectors not found in $PSSST_VECTORS_DIR (set PSSST_VECTORS_DIR)" >&2
  exit 1
fi

passed=0
failed=0
failed_legs=()
start_all=$SECONDS
for leg in tests/legs/[0-9]*.sh; do   # lib.sh is sourced by the legs
  name="$(basename "$leg" .sh)"
  if [ $# -gt 0 ]; then
    selected=0
    for word in "$@"; do [[ "$name" == *"$word"* ]] && selected=1; done
    [ $selected = 1 ] || continue
  fi
  echo "=================== leg $name ==================="
  start=$SECONDS
  if bash "$leg"; then
    passed=$((passed + 1))
    echo "=== leg $name: PASS ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    failed_legs+=("$name")
    echo "=== leg $name: FAIL ($((SECONDS - start)) s)"
  fi
done

echo
echo "legs run in $((SECONDS - start_all)) s"
[ ${#failed_legs[@]} -gt 0 ] && echo "failed legs: ${failed_legs[*]}"
echo "legs: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
