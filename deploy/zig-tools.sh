# Sourced by the cross builds (deploy/build-image.sh --arch aarch64|armv7,
# tests/cross/*.sh): zig and cargo-zigbuild from PyPI, in the venv the
# wheel build uses, and Rust's std for the ARM targets.
#   ensure_zig_tools            installs them if missing and puts them on PATH
#   ZIG_TARGET_DIR              where zig-built artifacts go (zig as C compiler
#                               changes aws-lc-sys's build inputs: not target/ itself)
#   ARMV7_MUSL_TOOLCHAIN        the Rust toolchain of armv7-unknown-linux-musleabihf
#   ensure_rust_target T [TC]   Rust's std for target T on toolchain TC
#   in_toolchain TC CMD...      runs CMD with toolchain TC ("" = rust-toolchain.toml's)
ZIG_TOOLS="${PSSST_CACHE:-$REPO_ROOT/.cache}/wheel-tools"
ZIG_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/zig-build"

# Rust 1.95.0 (rust-toolchain.toml) ships no std for
# armv7-unknown-linux-musleabihf: its release manifest says `available =
# false` for it (so do 1.94.0's and 1.96.0's), and `rustup target add` gets
# a 404. 1.94.1 ships one, and the crates' MSRV is 1.88: armv7's musl builds
# use 1.94.1. (armv7's glibc target is in 1.95.0.)
ARMV7_MUSL_TOOLCHAIN=1.94.1

ensure_zig_tools() {
  if ! "$ZIG_TOOLS/bin/python" -c 'import ziglang' 2>/dev/null || [ ! -x "$ZIG_TOOLS/bin/cargo-zigbuild" ]; then
    echo "--- zig tools in $ZIG_TOOLS (PyPI: ziglang, cargo-zigbuild, maturin)"
    [ -x "$ZIG_TOOLS/bin/python" ] || "${PYTHON:-python3}" -m venv "$ZIG_TOOLS"
    "$ZIG_TOOLS/bin/pip" install -q --disable-pip-version-check \
      ziglang==0.17.1 cargo-zigbuild==0.24.0 maturin==1.16.0 || return 1
  fi
  export PATH="$ZIG_TOOLS/bin:$PATH"
}

in_toolchain() {
  local toolchain=$1
  shift
  if [ -n "$toolchain" ]; then RUSTUP_TOOLCHAIN=$toolchain "$@"; else "$@"; fi
}

# Added only when missing (a second `rustup target add` can fail on a
# toolchain another build is using); a named toolchain is installed first.
ensure_rust_target() {
  local target=$1 toolchain=${2:-}
  if [ -n "$toolchain" ] && ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
    rustup toolchain install "$toolchain" --profile minimal >/dev/null || {
      echo "cannot install Rust $toolchain" >&2
      return 1
    }
  fi
  compgen -G "$(in_toolchain "$toolchain" rustc --print target-libdir --target "$target")/libstd-*.rlib" >/dev/null \
    || in_toolchain "$toolchain" rustup target add "$target" >/dev/null || {
      echo "cannot add Rust's std for $target${toolchain:+ (Rust $toolchain)}" >&2
      return 1
    }
}
