# Sourced by every leg (not a leg itself). Sets what tests/run-all.sh
# exports, with the same defaults, so that each leg also runs on its own
# from the repository root: `bash tests/legs/10-rust-core.sh`.
#   REPO_ROOT          the checkout
#   CARGO_TARGET_DIR   $REPO_ROOT/target
#   PSSST_CACHE        $REPO_ROOT/.cache (venvs, tools, interop builds)
#   PSSST_VECTORS_DIR  $REPO_ROOT/tests/vectors (the project's test vectors)
# Then it changes to REPO_ROOT.

REPO_ROOT="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export REPO_ROOT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
export PSSST_CACHE="${PSSST_CACHE:-$REPO_ROOT/.cache}"
export PSSST_VECTORS_DIR="${PSSST_VECTORS_DIR:-$REPO_ROOT/tests/vectors}"
mkdir -p "$PSSST_CACHE"
cd "$REPO_ROOT"
