#!/usr/bin/env bash
# pssst-py: build and install the `pssst-rs` Python package (import name
# `pssst`) into a venv (`pip wheel "$REPO_ROOT"`, i.e. maturin from PyPI, as a
# user would), put pypssst (PyPI pssst==0.2.1) into a second venv for the
# cross tests, and run with pytest:
#   1. our suite, tests/python (pssst.aio's tests talk to a real `pssst
#      serve` and `pssst send`, built here; its stubs are checked by mypy);
#   2. pypssst's own suite, unchanged, tests/python/pypssst-upstream.
# Anything that cannot be installed fails the leg; a skipped test fails it
# too (tests/python/conftest.py).
#
# The venvs under $PSSST_CACHE are reused; PSSST_FRESH_VENV=1 makes new ones.
# Our package is rebuilt and reinstalled on every run, so the tests always
# run on the current code. Runs on its own from the repo root:
#   bash tests/legs/40-python.sh [pytest args for our suite]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PYTHON="${PYTHON:-python3}"
OURS="$PSSST_CACHE/py-venv-ours"
REF="$PSSST_CACHE/py-venv-pypssst"
PIP=(--disable-pip-version-check)

if [ "${PSSST_FRESH_VENV:-0}" = 1 ]; then
  echo "--- PSSST_FRESH_VENV=1: removing the venvs"
  rm -rf "$OURS" "$REF"
fi
# A venv is reused only if its python still runs (the base python may have
# moved since it was made).
for venv in "$OURS" "$REF"; do
  if [ -d "$venv" ] && ! "$venv/bin/python" -c '' 2>/dev/null; then
    echo "--- $venv is broken: making it anew"
    rm -rf "$venv"
  fi
done

if [ ! -d "$REF" ]; then
  echo "--- new venv $REF ($("$PYTHON" --version)): pip install pssst==0.2.1 (pypssst, the reference)"
  "$PYTHON" -m venv "$REF"
  "$REF/bin/pip" install "${PIP[@]}" "pssst==0.2.1"
fi
"$REF/bin/python" -c 'import pssst, sys; assert pssst.__version__ == "0.2.1" and not hasattr(pssst, "_pssst"), pssst.__file__'

if [ ! -d "$OURS" ]; then
  echo "--- new venv $OURS ($("$PYTHON" --version))"
  "$PYTHON" -m venv "$OURS"
fi

echo "--- pip wheel $REPO_ROOT (maturin build, release), then install it"
# The build shares $CARGO_TARGET_DIR with the other legs.
wheels="$(mktemp -d)"
trap 'rm -rf "$wheels"' EXIT
"$OURS/bin/pip" wheel "${PIP[@]}" --no-deps -w "$wheels" "$REPO_ROOT"
wheel=("$wheels"/pssst_rs-*.whl)
# pypssst's distribution is also called `pssst` and installs the same
# package directory: it must not be in this venv (a no-op when it is not).
"$OURS/bin/pip" uninstall "${PIP[@]}" -y -q pssst 2>/dev/null || true
# --force-reinstall: the version number does not change between commits.
"$OURS/bin/pip" install "${PIP[@]}" -q --force-reinstall --no-deps "${wheel[0]}"
# Dependencies (and pytest, mypy for the stubs), only what is missing.
"$OURS/bin/pip" install "${PIP[@]}" -q "${wheel[0]}" pytest "mypy==2.4.1"
"$OURS/bin/python" -c 'import pssst; print("installed pssst-rs", pssst.__version__, "X25519 from", pssst._pssst._backend)'

echo "--- cargo build --release -p pssst-cli (the peer of pssst.aio's tests)"
cargo build --release -p pssst-cli
export PSSST_BIN="$CARGO_TARGET_DIR/release/pssst"

# Run from tests/python so that `import pssst` can only find the installed
# package, never the sources under python/.
cd "$REPO_ROOT/tests/python"
echo "--- pytest: tests/python"
PSSST_PYPSSST_PYTHON="$REF/bin/python" PYTHONDONTWRITEBYTECODE=1 \
  "$OURS/bin/python" -m pytest -p no:cacheprovider -q -rfEs --ignore=pypssst-upstream "$@"

echo "--- pytest: pypssst's own suite (tests/python/pypssst-upstream, unchanged)"
PSSST_PYPSSST_PYTHON="$REF/bin/python" PYTHONDONTWRITEBYTECODE=1 \
  "$OURS/bin/python" -m pytest -p no:cacheprovider -q -rfEs pypssst-upstream
