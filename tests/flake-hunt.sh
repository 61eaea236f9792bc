#!/usr/bin/env bash
# Flake hunt: runs every fast test many times, round after round, and counts
# the passes and failures of each (docs/testing.md, "Flake hunt"). A test that
# fails by chance costs a whole CI run, so the count to trust is "0 of N".
#
#   tests/flake-hunt.sh [--runs N] [--legs N] [--busy] [--only KINDS]
#                       [--filter W] [--jobs N] [--minutes M]
#                       [--max-seconds S] [--out DIR]
#
# What one round runs, each test once:
#   rust     every unit and integration test binary of the workspace (built
#            once with `cargo test --no-run`, then run directly: no rebuild
#            in the loop), plus pssst-core alone (its x25519-dalek build) and
#            pssst-udp with feature tokio, as legs 10 and 50 test them
#   python   each file of tests/python (the venv leg 40 makes), and
#            pypssst's own suite
#   hostile  each file of tests/hostile (leg 55's venv, the release CLI)
#   c        each C test program of tests/c (as leg 30 builds them, without
#            sanitizers), against a freshly installed libpssst
#   legs     with --legs N: each leg of tests/legs, in N of the rounds
#
# --runs N        rounds (default 50)
# --legs N        also run every leg (or those of --leg-filter) in N rounds
# --leg-filter W  only the legs whose names contain one of the words W
#                 (comma-separated: --leg-filter 50,55)
# --only KINDS    comma-separated subset of rust,python,hostile,c
# --filter W      only the tests (not legs) whose names, as the table
#                 shows them, contain one of the words W (comma-separated:
#                 --filter "pssst-udp,test_operations")
# --jobs N        run N tests at once (default 1; each in a TMPDIR of its own)
# --busy          keep the machine loaded: a niced loop of clean release
#                 builds of the workspace into a target dir of its own
# --minutes M     start no new run after M minutes (counts stay honest)
# --max-seconds S stop repeating one test once it has used S seconds in all
# --out DIR       where the logs go (default $PSSST_CACHE/flake-hunt/DATE)
#
# Every failed run's full output is kept in DIR/failures/NAME.RUN.log; the
# table at the end (also DIR/table.txt) has runs, failures and seconds per
# test. Exit status 1 when any run failed. Needs the venvs of legs 40 and 55
# (run those legs once first) and their release builds.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/legs/lib.sh"

runs=50
leg_runs=0
leg_filter=""
filter=""
only="rust,python,hostile,c"
busy=0
jobs=1
minutes=0
max_seconds=0
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --legs) leg_runs="$2"; shift 2 ;;
    --leg-filter) leg_filter="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --filter) filter="$2"; shift 2 ;;
    --busy) busy=1; shift ;;
    --jobs) jobs="$2"; shift 2 ;;
    --minutes) minutes="$2"; shift 2 ;;
    --max-seconds) max_seconds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "FATAL: $*" >&2; exit 1; }
step() { echo "--- $*"; }
wants() { [[ ",$only," == *",$1,"* ]]; }

out="${out:-$PSSST_CACHE/flake-hunt/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out/failures" "$out/tmp"
out="$(cd "$out" && pwd)"
deadline=0
[ "$minutes" -gt 0 ] && deadline=$((SECONDS + minutes * 60))

busy_pid=""
cleanup() {
  # The busy loop runs in its own process group (setsid): end all of it.
  [ -n "$busy_pid" ] && kill -- "-$busy_pid" 2>/dev/null
  rm -rf "$out/tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Targets: parallel arrays of name, directory to run in, and command (a
# string for bash -c, so that environment assignments can lead it).
names=()
dirs=()
commands=()
add() {
  if [ -n "$filter" ]; then
    local word selected=0
    while IFS= read -r word; do [[ -n "$word" && "$1" == *"$word"* ]] && selected=1; done <<< "${filter//,/$'\n'}"
    [ $selected = 1 ] || return 0
  fi
  names+=("$1"); dirs+=("$2"); commands+=("$3")
}

if wants rust; then
  step "building the Rust test binaries (cargo test --no-run)"
  builds=("--workspace" "-p pssst-core" "-p pssst-udp --features tokio")
  : > "$out/rust-tests.tsv"
  for selection in "${builds[@]}"; do
    # shellcheck disable=SC2086 # $selection is several arguments
    cargo test $selection --no-run --message-format=json-render-diagnostics \
      > "$out/tmp/build.json" || fail "cargo test $selection --no-run"
    python3 - "$out/tmp/build.json" "$selection" >> "$out/rust-tests.tsv" <<'EOF'
import json, os, sys
features = "" if "features" not in sys.argv[2] else "+" + sys.argv[2].split("--features ")[1]
alone = "(alone)" if sys.argv[2].startswith("-p pssst-core") else ""
for line in open(sys.argv[1]):
    msg = json.loads(line)
    if msg.get("reason") != "compiler-artifact" or not msg["profile"]["test"] or not msg.get("executable"):
        continue
    target = msg["target"]
    path, _, version = msg["package_id"].partition("#")
    package = version.split("@")[0] if "@" in version else path.rstrip("/").split("/")[-1]
    library = set(target["kind"]) & {"lib", "rlib", "cdylib", "staticlib", "dylib"}
    kind = "lib" if library else "/".join(target["kind"]) + ":" + target["name"]
    name = "rust %s %s%s%s" % (package, kind, features, alone)
    print("\t".join([name, os.path.dirname(msg["manifest_path"]), msg["executable"]]))
EOF
  done
  # One entry per executable (the same binary can come from two selections).
  # As `cargo test` runs them: from the package's directory, with the
  # toolchain's libraries (a proc-macro crate's tests link libstd's .so).
  sysroot_lib="$(rustc --print target-libdir)"
  while IFS=$'\t' read -r name dir exe; do
    add "$name" "$dir" "CARGO_MANIFEST_DIR='$dir' LD_LIBRARY_PATH='$sysroot_lib:$(dirname "$exe")' '$exe'"
  done < <(sort -t$'\t' -k3,3 -u "$out/rust-tests.tsv" | sort)
fi

if wants python || wants hostile; then
  step "cargo build --release -p pssst-cli (the server the Python tests talk to)"
  cargo build --release -p pssst-cli || fail "cargo build --release -p pssst-cli"
  # A copy: a leg running beside the hunt may relink target/release/pssst.
  install -D "$CARGO_TARGET_DIR/release/pssst" "$out/bin/pssst"
fi
pssst_bin="$out/bin/pssst"
pytest_args="-p no:cacheprovider -q -rfEs"

if wants python; then
  ours="$PSSST_CACHE/py-venv-ours"
  ref="$PSSST_CACHE/py-venv-pypssst"
  "$ours/bin/python" -c 'import pssst._pssst, pytest' 2>/dev/null \
    || fail "no venv $ours with pssst-rs and pytest: run bash tests/legs/40-python.sh once"
  [ -x "$ref/bin/python" ] || fail "no venv $ref: run bash tests/legs/40-python.sh once"
  # A copy (`python -m` finds the copy's packages): leg 40 running beside
  # the hunt reinstalls pssst-rs into its venv.
  cp -a "$ours" "$out/py-venv-ours" || fail "cannot copy $ours"
  ours="$out/py-venv-ours"
  env="PSSST_BIN='$pssst_bin' PSSST_PYPSSST_PYTHON='$ref/bin/python' PYTHONDONTWRITEBYTECODE=1"
  for file in "$REPO_ROOT"/tests/python/test_*.py; do
    add "python $(basename "$file")" "$REPO_ROOT/tests/python" \
      "$env '$ours/bin/python' -m pytest $pytest_args '$(basename "$file")'"
  done
  add "python pypssst-upstream" "$REPO_ROOT/tests/python" \
    "$env '$ours/bin/python' -m pytest $pytest_args pypssst-upstream"
fi

if wants hostile; then
  hostile="$PSSST_CACHE/py-venv-hostile"
  "$hostile/bin/python" -c 'import cryptography, pytest, prometheus_client' 2>/dev/null \
    || fail "no venv $hostile: run bash tests/legs/55-hostile.sh once"
  for file in "$REPO_ROOT"/tests/hostile/test_*.py; do
    add "hostile $(basename "$file")" "$REPO_ROOT/tests/hostile" \
      "PSSST_BIN='$pssst_bin' PYTHONDONTWRITEBYTECODE=1 '$hostile/bin/python' -m pytest $pytest_args '$(basename "$file")'"
  done
fi

if wants c; then
  step "libpssst (make install) and the C tests, as leg 30 builds them"
  prefix="$out/c/prefix"
  make -C bindings/pssst-ffi install PREFIX="$prefix" > "$out/c-build.log" 2>&1 \
    || { tail -n 30 "$out/c-build.log"; fail "make install of libpssst (log: $out/c-build.log)"; }
  python3 tests/c/vectors_to_c.py "$PSSST_VECTORS_DIR" > "$out/c/vectors.h" || fail "vectors_to_c.py"
  sed -n '/<!-- section: retry -->/,/<!-- \/section: retry -->/p' docs/c.md \
    | awk '/^```c$/ { inside = 1; next } /^```$/ { inside = 0 } inside' > "$out/c/retry_pattern.c"
  version="$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --modversion pssst)" || fail "pkg-config"
  for file in tests/c/test_*.c; do
    test="$(basename "$file" .c)"
    gcc -std=c11 -Wall -Wextra -Werror -pedantic -g -O1 -Iinclude -I"$out/c" \
      "-DEXPECTED_VERSION=\"$version\"" "$file" -L"$prefix/lib" -Wl,-rpath,"$prefix/lib" \
      -lpssst -lpthread -o "$out/c/$test" || fail "gcc $file"
    add "c $test" "$REPO_ROOT" "'$out/c/$test'"
  done
fi

legs_first=${#names[@]}
if [ "$leg_runs" -gt 0 ]; then
  for leg in "$REPO_ROOT"/tests/legs/[0-9]*.sh; do
    leg_name="$(basename "$leg" .sh)"
    if [ -n "$leg_filter" ]; then
      selected=0
      for word in ${leg_filter//,/ }; do [[ "$leg_name" == *"$word"* ]] && selected=1; done
      [ $selected = 1 ] || continue
    fi
    filter="" add "leg $leg_name" "$REPO_ROOT" "bash '$leg'"
  done
fi
[ ${#names[@]} -gt 0 ] || fail "nothing to run"

if [ "$busy" = 1 ]; then
  step "--busy: a niced loop of clean release builds into $out/busy-target"
  setsid bash -c 'while :; do
      nice -n 10 cargo build --release --workspace --locked --target-dir "$1" >/dev/null 2>&1
      rm -rf "$1"
    done' busy "$out/busy-target" &
  busy_pid=$!
fi

# run_one I ROUND: runs target I once, in a TMPDIR of its own (concurrent
# pytest sessions must not share one); appends "I STATUS SECONDS" to
# $out/results and keeps the output only when the run failed.
run_one() {
  local i="$1" round="$2" tmp start status
  tmp="$out/tmp/$i.$round"
  mkdir -p "$tmp"
  start=$SECONDS
  (cd "${dirs[i]}" && TMPDIR="$tmp" bash -c "${commands[i]}") > "$tmp.log" 2>&1 </dev/null
  status=$?
  printf '%s\t%s\t%s\n' "$i" "$status" $((SECONDS - start)) >> "$out/results"
  if [ $status != 0 ]; then
    local keep="$out/failures/${names[i]// /_}.$round.log"
    { echo "# ${names[i]}, round $round, exit $status, $(date -u +%FT%TZ)"
      echo "# cd ${dirs[i]} && ${commands[i]}"
      cat "$tmp.log"; } > "$keep"
    echo "FAIL ${names[i]} (round $round, exit $status): $keep"
  fi
  rm -rf "$tmp" "$tmp.log"
}

declare -a passes failures seconds
tally() {
  for i in "${!names[@]}"; do passes[i]=0; failures[i]=0; seconds[i]=0; done
  while IFS=$'\t' read -r i status secs; do
    if [ "$status" = 0 ]; then passes[i]=$((passes[i] + 1)); else failures[i]=$((failures[i] + 1)); fi
    seconds[i]=$((seconds[i] + secs))
  done < "$out/results"
}

# The runs still going (pids of run_one): reap() drops those that ended.
running=()
reap() {
  local alive=() pid
  for pid in "${running[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then alive+=("$pid"); fi
  done
  running=("${alive[@]}")
}

: > "$out/results"
limit=""
[ "$minutes" -gt 0 ] && limit=" (at most $minutes min)"
step "${#names[@]} tests, $runs rounds$limit, $jobs at a time; failures in $out/failures"
stopped=""
for round in $(seq 1 "$runs"); do
  tally
  for i in "${!names[@]}"; do
    if [ "$deadline" -gt 0 ] && [ $SECONDS -ge "$deadline" ]; then stopped="the time limit"; break 2; fi
    if [ "$i" -ge "$legs_first" ] && [ "$round" -gt "$leg_runs" ]; then continue; fi
    if [ "$max_seconds" -gt 0 ] && [ "${seconds[i]}" -ge "$max_seconds" ]; then continue; fi
    while reap && [ "${#running[@]}" -ge "$jobs" ]; do wait -n "${running[@]}"; done
    run_one "$i" "$round" &
    running+=("$!")
  done
  # A round ends before the next starts: no test runs beside itself. (Only
  # the runs are waited for: --busy's loop is a child too, and never ends.)
  [ ${#running[@]} -eq 0 ] || wait "${running[@]}"
  running=()
  echo "round $round done ($(date -u +%T))"
done
# Runs started before the time limit stopped the rounds.
[ ${#running[@]} -eq 0 ] || wait "${running[@]}"
tally

total_fail=0
for i in "${!names[@]}"; do total_fail=$((total_fail + failures[i])); done
{
  printf '%-58s %6s %6s %8s\n' TEST RUNS FAILED SECONDS
  for i in "${!names[@]}"; do
    printf '%-58s %6d %6d %8d\n' "${names[i]}" $((passes[i] + failures[i])) "${failures[i]}" "${seconds[i]}"
  done
  [ -n "$stopped" ] && echo "(stopped early by $stopped)"
  echo "failed runs: $total_fail; logs of each in $out/failures"
} | tee "$out/table.txt"
[ "$total_fail" = 0 ]
