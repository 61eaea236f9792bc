#!/usr/bin/env bash
# interop: every ordered pairing of the five PSSST peers (gopssst, pypssst,
# ours in Rust, C and Python) over the interop line protocol, several runs
# each, and the shared test vectors cross-checked through both references.
# Then cipher suite 0xFF01, which no reference implements: every pairing of
# ours in Rust, C and Python with an independent implementation (Python's
# `cryptography` alone: tests/hostile/wire.py via python-peer/independent.py).
#
# All five peers are required. A peer that cannot be built or installed is
# reported loudly and fails the leg (never skipped); the matrix of the peers
# that did build still runs and is printed, so one broken peer does not hide
# the state of the others. See interop/README.md.
#
# Env (from tests/run-all.sh): REPO_ROOT, CARGO_TARGET_DIR, PSSST_CACHE,
# PSSST_VECTORS_DIR. Optional: INTEROP_RUNS (default 3), INTEROP_TIMEOUT
# (seconds per run, default 30).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

work="$PSSST_CACHE/interop"
bin="$work/bin"
mkdir -p "$bin" "$work/logs"
release="$CARGO_TARGET_DIR/release"
runs="${INTEROP_RUNS:-3}"
timeout="${INTEROP_TIMEOUT:-30}"

step() { echo "--- $*"; }

peer_args=()      # --peer NAME=COMMAND for the driver
missing_args=()   # --missing NAME=REASON for the driver
problems=()       # everything that fails the leg
declare -A built=()

# build NAME FUNCTION: runs FUNCTION in a subshell with errexit, its output
# shown and kept in $work/logs/NAME.log; a failure is recorded, not fatal yet.
build() {
  local name="$1" fn="$2" rc
  step "building peer $name"
  set +e
  ( set -euo pipefail; "$fn" ) 2>&1 | tee "$work/logs/$name.log"
  rc="${PIPESTATUS[0]}"
  set -e
  if [ "$rc" != 0 ]; then
    echo "FATAL: peer $name could not be built or installed (exit $rc); log: $work/logs/$name.log" >&2
    missing_args+=(--missing "$name=build/install failed (exit $rc): $(tail -n 3 "$work/logs/$name.log" | tr '\n' ' ' | cut -c1-300)")
    problems+=("peer $name could not be built or installed")
    return 1
  fi
  built[$name]=1
  return 0
}

need() { command -v "$1" >/dev/null || { echo "FATAL: $1 is not installed" >&2; exit 1; }; }

# venv DIR: a virtualenv at DIR (created once, kept in the cache).
venv() {
  if [ ! -x "$1/bin/python" ]; then
    rm -rf "$1"
    python3 -m venv "$1"
  fi
}

# 1. gopssst: our Go program on the reference module, pinned by go.sum.
build_gopssst() {
  need go
  go version
  cd interop/go-peer
  export GOFLAGS="-mod=readonly -buildvcs=false"
  go mod download
  go mod verify
  go vet ./...
  test -z "$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
  go build -o "$bin/go-peer" .
  go build -o "$bin/go-vectors" ./vectors
}

# 2. pypssst: the same Python peer script in a venv holding the reference.
pypssst_venv="$work/venv-pypssst"
build_pypssst() {
  need python3
  venv "$pypssst_venv"
  "$pypssst_venv/bin/pip" install -q -r interop/python-peer/requirements-pypssst.txt
  "$pypssst_venv/bin/python" - <<'EOF'
import importlib.metadata, importlib.util, pssst
assert importlib.metadata.version("pssst") == "0.2.1", importlib.metadata.version("pssst")
assert importlib.util.find_spec("pssst._pssst") is None, "venv-pypssst holds a native pssst, not pypssst"
print("pypssst", pssst.__version__, "from", pssst.__file__)
EOF
}

# 3. ours in Python: pssst-rs's drop-in package, built from this checkout.
ours_py_venv="$work/venv-ours-py"
build_ours_py() {
  need python3
  venv "$ours_py_venv"
  # Always rebuild from the working tree (same version number, new code).
  "$ours_py_venv/bin/pip" uninstall -q -y pssst >/dev/null 2>&1 || true
  "$ours_py_venv/bin/pip" install -q "$REPO_ROOT"
  "$ours_py_venv/bin/python" - <<'EOF'
import importlib.util, pssst
assert importlib.util.find_spec("pssst._pssst") is not None, "venv-ours-py does not hold pssst-rs's native package"
print("pssst-rs Python package", getattr(pssst, "__version__", "?"), "from", pssst.__file__)
EOF
}

# 4. ours in Rust: the CLI's `pssst compat`.
build_ours_rust() {
  need cargo
  cargo build --release -p pssst-cli
  test -x "$release/pssst"
}

# 5. ours in C: interop/c-peer/peer.c on libpssst. The library's SONAME is
# libpssst.so.0 and cargo leaves only libpssst.so, so the rpath points at a
# directory whose libpssst.so.0 links to the freshly built library.
build_ours_c() {
  need cargo
  need cc
  cargo build --release -p pssst-ffi
  test -f "$release/libpssst.so"
  test -f include/pssst.h
  mkdir -p "$work/lib"
  ln -sf "$release/libpssst.so" "$work/lib/libpssst.so.0"
  cc -std=c11 -Wall -Wextra -Werror -pedantic -O2 -Iinclude interop/c-peer/peer.c \
    -L"$release" -Wl,-rpath,"$work/lib" -Wl,-rpath,"$release" -lpssst -o "$bin/c-peer"
  ldd "$bin/c-peer" | grep pssst
  if ldd "$bin/c-peer" | grep -q 'not found'; then echo "c-peer: unresolved libraries"; exit 1; fi
}

# 6. the independent implementation: python-peer/peer.py --independent in a
# venv with `cryptography` and no pssst package of any kind.
independent_venv="$work/venv-independent"
build_independent() {
  need python3
  venv "$independent_venv"
  "$independent_venv/bin/pip" install -q "cryptography>=42"
  "$independent_venv/bin/python" - <<'EOF'
import importlib.util
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV
assert importlib.util.find_spec("pssst") is None, "venv-independent must not hold a pssst package"
print("independent peer: cryptography with AESGCMSIV, no pssst")
EOF
}

py_peer="$REPO_ROOT/interop/python-peer/peer.py"
if build gopssst build_gopssst; then peer_args+=(--peer "gopssst=$bin/go-peer"); fi
if build pypssst build_pypssst; then peer_args+=(--peer "pypssst=$pypssst_venv/bin/python $py_peer"); fi
if build ours-rust build_ours_rust; then peer_args+=(--peer "ours-rust=$release/pssst compat"); fi
if build ours-c build_ours_c; then peer_args+=(--peer "ours-c=$bin/c-peer"); fi
if build ours-py build_ours_py; then
  peer_args+=(--peer "ours-py=$ours_py_venv/bin/python $py_peer")
  # The same script must really be running pssst-rs's package in that venv.
  peer_args+=(--check "ours-py=$ours_py_venv/bin/python -c 'import pssst._pssst'")
fi

step "test vectors through gopssst (github.com/nickovs/gopssst v0.2.2)"
if [ -n "${built[gopssst]-}" ]; then
  "$bin/go-vectors" "$PSSST_VECTORS_DIR" || problems+=("vectors: gopssst cross-check failed")
else
  problems+=("vectors: gopssst cross-check could not run (go peer not built)")
fi

step "test vectors through pypssst 0.2.1"
if [ -n "${built[pypssst]-}" ]; then
  "$pypssst_venv/bin/python" interop/python-peer/vectors.py --inject-ephemeral --name "pypssst 0.2.1" \
    "$PSSST_VECTORS_DIR" || problems+=("vectors: pypssst cross-check failed")
else
  problems+=("vectors: pypssst cross-check could not run (pypssst not installed)")
fi

if [ -n "${built[ours-py]-}" ]; then
  step "test vectors through pssst-rs's Python package (strict: PSSSTException only)"
  "$ours_py_venv/bin/python" interop/python-peer/vectors.py --strict --observed-as none \
    --name "pssst-rs (Python)" "$PSSST_VECTORS_DIR" \
    || problems+=("vectors: pssst-rs Python package cross-check failed")
fi

step "interop matrix: every ordered pairing, $runs runs each"
if ! python3 interop/driver.py "${peer_args[@]}" "${missing_args[@]+"${missing_args[@]}"}" \
    --require gopssst,pypssst,ours-rust,ours-c,ours-py --runs "$runs" --timeout "$timeout"; then
  problems+=("interop matrix failed")
fi

step "suite 0xFF01 (AES-GCM-SIV) matrix: ours against the independent implementation, $runs runs each"
ff01_args=()
ff01_missing=()
if build independent build_independent; then
  ff01_args+=(--peer "independent=$independent_venv/bin/python $py_peer --independent --suite 0xff01")
else
  ff01_missing+=(--missing "independent=venv with cryptography could not be made")
fi
for name in ours-rust ours-c ours-py; do
  [ -n "${built[$name]-}" ] || ff01_missing+=(--missing "$name=not built (see above)")
done
[ -n "${built[ours-rust]-}" ] && ff01_args+=(--peer "ours-rust=$release/pssst compat --suite gcm-siv")
[ -n "${built[ours-c]-}" ] && ff01_args+=(--peer "ours-c=$bin/c-peer --suite 0xff01")
[ -n "${built[ours-py]-}" ] && ff01_args+=(--peer "ours-py=$ours_py_venv/bin/python $py_peer --suite 0xff01")
if ! python3 interop/driver.py --suite 0xff01 "${ff01_args[@]}" "${ff01_missing[@]+"${ff01_missing[@]}"}" \
    --require independent,ours-rust,ours-c,ours-py --runs "$runs" --timeout "$timeout"; then
  problems+=("suite 0xFF01 interop matrix failed")
fi

if [ ${#problems[@]} -gt 0 ]; then
  echo
  for p in "${problems[@]}"; do echo "FAIL: $p"; done
  exit 1
fi
echo "interop leg passed"
