#!/usr/bin/env bash
# pssst-ffi: unit tests, the generated header is current, libpssst builds (SONAME,
# exports) and installs with pkg-config, the README's C example builds with
# the pkg-config line and runs, and the C tests in tests/c/ (docs/c.md's
# retry pattern among them) pass under AddressSanitizer+UBSan and under
# valgrind. Then the portable backend
# (`make BACKEND=dalek`): the API and vector tests and bindings/pssst-ffi's
# README example, one plain run each.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

fail() { echo "FATAL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# Tools: the base image has gcc, valgrind, python3 and cargo; pkg-config may
# need installing.
if ! command -v pkg-config >/dev/null; then
  step "installing pkg-config"
  command -v apt-get >/dev/null || fail "pkg-config is missing and apt-get is not available"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -q && $sudo apt-get install -y -q pkg-config \
    || fail "cannot install pkg-config"
fi
for tool in gcc valgrind python3 cargo pkg-config make readelf nm; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

work="$(mktemp -d "${TMPDIR:-/tmp}/pssst-c-ffi.XXXXXX")"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

step "unit tests of pssst-ffi (fmt and clippy: leg 10)"
cargo test -p pssst-ffi

step "include/pssst.h is what cbindgen 0.29.4 generates"
bindings/pssst-ffi/gen-header.sh "$work/pssst.h"
diff -u include/pssst.h "$work/pssst.h" \
  || fail "include/pssst.h is stale: run bindings/pssst-ffi/gen-header.sh and commit it"

step "make install (release build) into $prefix"
make -C bindings/pssst-ffi install PREFIX="$prefix"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
version="$(pkg-config --modversion pssst)"
readelf -d "$prefix/lib/libpssst.so" | grep -q 'SONAME.*\[libpssst\.so\.0\]' \
  || fail "libpssst.so has no SONAME libpssst.so.0"
# Every function the header declares is exported, and nothing else is.
grep -oE '\bpssst_[a-z_]+\(' include/pssst.h | tr -d '(' | sort -u > "$work/declared"
nm -D --defined-only "$prefix/lib/libpssst.so" | awk '$2 == "T" { print $3 }' | sort -u \
  > "$work/exported"
diff -u "$work/declared" "$work/exported" || fail "header declarations and exports differ"
echo "$(wc -l < "$work/exported") functions exported, version $version"

step "the README's C example, built with the README's pkg-config line"
readme_section="$(sed -n '/<!-- section: c -->/,/<!-- \/section: c -->/p' README.md)"
awk '/^```c$/ { inside = 1; next } /^```$/ { inside = 0 } inside' <<< "$readme_section" \
  > "$work/round_trip.c"
[ -s "$work/round_trip.c" ] || fail "no \`\`\`c block in the README's C section"
compile_line="$(grep -E '^cc round_trip\.c ' <<< "$readme_section" | sed 's/ && .*//')"
[ -n "$compile_line" ] || fail "no 'cc round_trip.c ...' line in the README's C section"
(cd "$work" && eval "$compile_line" && ./round_trip) | tee "$work/round_trip.out"
grep -q 'client got "tea time"' "$work/round_trip.out" || fail "the README example's output changed"
gcc -std=c11 -Wall -Wextra -Werror -pedantic "$work/round_trip.c" \
  $(pkg-config --cflags --libs pssst) -o "$work/round_trip_strict"
# The static library links too (pkg-config --static adds its system libraries).
gcc "$work/round_trip.c" $(pkg-config --cflags pssst) "$prefix/lib/libpssst.a" \
  $(pkg-config --static --libs-only-l pssst | sed 's/-lpssst//') -o "$work/round_trip_static"
"$work/round_trip_static" > /dev/null

step "C tests: test vectors to C, docs/c.md's retry pattern"
python3 tests/c/vectors_to_c.py "$PSSST_VECTORS_DIR" > "$work/vectors.h"
sed -n '/<!-- section: retry -->/,/<!-- \/section: retry -->/p' docs/c.md \
  | awk '/^```c$/ { inside = 1; next } /^```$/ { inside = 0 } inside' > "$work/retry_pattern.c"
[ -s "$work/retry_pattern.c" ] || fail "no \`\`\`c block in docs/c.md's retry section"

strict=(-std=c11 -Wall -Wextra -Werror -pedantic -g -O1 -Iinclude -I"$work"
        "-DEXPECTED_VERSION=\"$version\"")
link=(-L"$prefix/lib" -Wl,-rpath,"$prefix/lib" -lpssst -lpthread)
tests=(test_api test_vectors test_threads test_retry)
build_tests() { # $1: output suffix, rest: extra flags
  local suffix="$1"; shift
  for test in "${tests[@]}"; do
    gcc "${strict[@]}" "$@" "tests/c/$test.c" "${link[@]}" -o "$work/$test$suffix"
  done
}

step "C tests under AddressSanitizer + UndefinedBehaviorSanitizer"
build_tests -asan -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
for test in "${tests[@]}"; do
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$work/$test-asan"
done

step "C tests and the README example under valgrind"
build_tests ""
valgrind_run() {
  valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect "$@"
}
valgrind_run "$work/test_api"
valgrind_run "$work/test_vectors"
valgrind_run "$work/test_threads" 4 50   # valgrind runs threads one at a time
valgrind_run "$work/test_retry"
valgrind_run "$work/round_trip_strict" > /dev/null

# The crate README's example, on the default (aws-lc) build.
awk '/^```c$/ { inside = 1; next } /^```$/ { inside = 0 } inside' bindings/pssst-ffi/README.md \
  > "$work/ping.c"
[ -s "$work/ping.c" ] || fail "no \`\`\`c block in bindings/pssst-ffi/README.md"
gcc "${strict[@]}" "$work/ping.c" "${link[@]}" -o "$work/ping"
[ "$("$work/ping")" = pong ] || fail "bindings/pssst-ffi/README.md's example did not print pong"
# (Symbol lists go through files: `nm | grep -q` fails under pipefail.)
nm "$prefix/lib/libpssst.a" > "$work/symbols" 2>/dev/null
grep -q aws_lc "$work/symbols" || fail "the default build has no AWS-LC in it"

step "portable backend: make BACKEND=dalek, C API and vector tests, README example"
dalek="$work/prefix-dalek"
make -C bindings/pssst-ffi install BACKEND=dalek PREFIX="$dalek"
nm "$dalek/lib/libpssst.a" > "$work/symbols-dalek" 2>/dev/null
! grep -q aws_lc "$work/symbols-dalek" || fail "BACKEND=dalek still links AWS-LC"
dalek_link=(-L"$dalek/lib" -Wl,-rpath,"$dalek/lib" -lpssst -lpthread)
for test in test_api test_vectors; do
  gcc "${strict[@]}" "tests/c/$test.c" "${dalek_link[@]}" -o "$work/$test-dalek"
done
gcc "${strict[@]}" "$work/ping.c" "${dalek_link[@]}" -o "$work/ping-dalek"
# LD_LIBRARY_PATH (set above for the aws-lc prefix) comes before a RUNPATH.
export LD_LIBRARY_PATH="$dalek/lib"
grep -qF "$dalek/lib/libpssst.so" <<< "$(ldd "$work/test_api-dalek")" || fail "the dalek tests do not load the dalek build"
"$work/test_api-dalek"
"$work/test_vectors-dalek"
[ "$("$work/ping-dalek")" = pong ] || fail "the README example on the dalek build did not print pong"

echo "C FFI leg passed"
