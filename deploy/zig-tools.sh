# Sourced by the cross builds (deploy/build-image.sh --arch aarch64,
# tests/cross/*.sh): zig and cargo-zigbuild from PyPI, in the venv the
# wheel build uses.
#   ensure_zig_tools   installs them if missing and puts them on PATH
#   ZIG_TARGET_DIR     where zig-built artifacts go (zig as C compiler
#                      changes aws-lc-sys's build inputs: not target/ itself)
ZIG_TOOLS="${PSSST_CACHE:-$REPO_ROOT/.cache}/wheel-tools"
ZIG_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/zig-build"

ensure_zig_tools() {
  if ! "$ZIG_TOOLS/bin/python" -c 'import ziglang' 2>/dev/null || [ ! -x "$ZIG_TOOLS/bin/cargo-zigbuild" ]; then
    echo "--- zig tools in $ZIG_TOOLS (PyPI: ziglang, cargo-zigbuild, maturin)"
    [ -x "$ZIG_TOOLS/bin/python" ] || "${PYTHON:-python3}" -m venv "$ZIG_TOOLS"
    "$ZIG_TOOLS/bin/pip" install -q --disable-pip-version-check \
      ziglang==0.17.1 cargo-zigbuild==0.24.0 maturin==1.16.0 || return 1
  fi
  export PATH="$ZIG_TOOLS/bin:$PATH"
}
