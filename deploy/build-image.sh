#!/usr/bin/env bash
# Builds the `pssst` container image from this checkout:
#
#   deploy/build-image.sh TAG [--arch x86_64|aarch64|armv7]
#
# The image is FROM scratch: one static (musl) `pssst` at /pssst, its
# entrypoint, run as UID/GID 65532 (no name: there is no /etc/passwd), no
# shell, nothing written to the root file system (read-only root is fine).
# Keys come from a mounted file:
#
#   podman run --read-only -v ./keys:/etc/pssst:ro -p 7777:7777/udp TAG \
#     serve --key /etc/pssst/server.key --listen 0.0.0.0:7777
#
# x86_64 (the default) is built with cargo for x86_64-unknown-linux-musl
# (aws-lc's C with Debian's musl-gcc, package musl-tools); aarch64 and armv7
# are cross-built with zig (PyPI `ziglang` + `cargo-zigbuild`, as the wheels
# are) for aarch64-unknown-linux-musl and armv7-unknown-linux-musleabihf.
# x86_64 and aarch64 use the aws-lc X25519 backend; armv7 uses the pure-Rust
# x25519-dalek one (no aws-lc C build for 32-bit ARM: see docs/deploy.md).
# The image is built by `podman build` (CONTAINER_ENGINE=docker works too)
# and nothing is pulled. Prints the image's size.
#
# Env: CARGO_TARGET_DIR (default ./target; the zig build uses a directory of
# its own under it), PSSST_CACHE (the zig tools' venv), CONTAINER_ENGINE.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
fail() { echo "build-image: FAIL: $*" >&2; exit 1; }
usage() { echo "usage: deploy/build-image.sh TAG [--arch x86_64|aarch64|armv7]" >&2; exit 2; }

TAG="" ARCH=x86_64
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) [ $# -ge 2 ] || usage; ARCH=$2; shift 2 ;;
    --arch=*) ARCH=${1#--arch=}; shift ;;
    -*) usage ;;
    *) [ -z "$TAG" ] || usage; TAG=$1; shift ;;
  esac
done
[ -n "$TAG" ] || usage
ENGINE="${CONTAINER_ENGINE:-podman}"
command -v "$ENGINE" >/dev/null || fail "no $ENGINE"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
PSSST_CACHE="${PSSST_CACHE:-$REPO_ROOT/.cache}"

source "$REPO_ROOT/deploy/zig-tools.sh"   # ensure_zig_tools, ensure_rust_target, ...

# A static musl pssst for TARGET with zig (TOOLCHAIN "" = rust-toolchain.toml's).
zig_build_pssst() {
  local target=$1 toolchain=$2
  shift 2
  ensure_zig_tools || fail "cannot install the zig tools"
  ensure_rust_target "$target" "$toolchain" || fail "no Rust std for $target"
  # (No objcopy here reads ARM: the linker leaves the debug lines out.)
  CARGO_PROFILE_RELEASE_STRIP=debuginfo CARGO_TARGET_DIR="$ZIG_TARGET_DIR" \
    in_toolchain "$toolchain" cargo zigbuild --release --locked -p pssst-cli --target "$target" "$@"
  BINARY="$ZIG_TARGET_DIR/$target/release/pssst"
}

case "$ARCH" in
  x86_64 | amd64)
    TARGET=x86_64-unknown-linux-musl PLATFORM=linux/amd64
    command -v musl-gcc >/dev/null || {
      echo "build-image: installing musl-tools (musl-gcc, for aws-lc's C)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q musl-tools >/dev/null \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q musl-tools >/dev/null; }
    } || fail "musl-gcc is missing and cannot be installed"
    ensure_rust_target "$TARGET" || fail "no Rust std for $TARGET"
    cargo build --release --locked -p pssst-cli --target "$TARGET"
    BINARY="$CARGO_TARGET_DIR/$TARGET/release/pssst"
    ;;
  aarch64 | arm64)
    TARGET=aarch64-unknown-linux-musl PLATFORM=linux/arm64
    zig_build_pssst "$TARGET" ""
    ;;
  armv7 | arm)
    TARGET=armv7-unknown-linux-musleabihf PLATFORM=linux/arm/v7
    zig_build_pssst "$TARGET" "$ARMV7_MUSL_TOOLCHAIN" --no-default-features
    ;;
  *) fail "unknown --arch $ARCH (x86_64, aarch64 or armv7)" ;;
esac

[ -x "$BINARY" ] || fail "no binary at $BINARY"
# Static: no program interpreter, no shared libraries.
if readelf -l "$BINARY" | grep -q 'INTERP'; then fail "$BINARY is not static"; fi
if readelf -d "$BINARY" 2>/dev/null | grep -q 'NEEDED'; then fail "$BINARY needs shared libraries"; fi

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp "$BINARY" "$context/pssst"
# The release profile's debug line tables stay out of the image.
[ "$TARGET" != x86_64-unknown-linux-musl ] || objcopy --strip-debug "$context/pssst"
chmod 0555 "$context/pssst"
cp "$REPO_ROOT/deploy/Containerfile" "$context/Containerfile"

"$ENGINE" build --platform "$PLATFORM" --pull=never -f "$context/Containerfile" -t "$TAG" "$context"
size="$("$ENGINE" image inspect --format '{{.Size}}' "$TAG")"
echo "build-image: $TAG ($PLATFORM, $TARGET): $size bytes ($((size / 1024)) KiB)"
