#!/usr/bin/env bash
# pssst-py: build and install the `pssst` Python package into a fresh venv
# (`pip install "$REPO_ROOT"`, i.e. maturin from PyPI, as a user would), put
# pypssst (PyPI pssst==0.2.1) into a second fresh venv for the cross tests,
# and run tests/python with pytest. Anything that cannot be installed fails
# the leg; a skipped test fails it too (tests/python/conftest.py).
set -euo pipefail
cd "$REPO_ROOT"

PYTHON="${PYTHON:-python3}"
OURS="$PSSST_CACHE/py-venv-ours"
REF="$PSSST_CACHE/py-venv-pypssst"

echo "--- fresh venvs ($("$PYTHON" --version))"
rm -rf "$OURS" "$REF"
"$PYTHON" -m venv "$OURS"
"$PYTHON" -m venv "$REF"

echo "--- pip install $REPO_ROOT (maturin build, release)"
# The build shares $CARGO_TARGET_DIR with the other legs.
"$OURS/bin/pip" install --disable-pip-version-check "$REPO_ROOT" pytest
echo "--- pip install pssst==0.2.1 (pypssst, the reference)"
"$REF/bin/pip" install --disable-pip-version-check "pssst==0.2.1"
"$REF/bin/python" -c 'import pssst, sys; assert pssst.__version__ == "0.2.1" and not hasattr(pssst, "_pssst"), pssst.__file__'

echo "--- pytest"
# Run from tests/python so that `import pssst` can only find the installed
# package, never the sources under python/.
cd "$REPO_ROOT/tests/python"
PSSST_PYPSSST_PYTHON="$REF/bin/python" PYTHONDONTWRITEBYTECODE=1 \
  "$OURS/bin/python" -m pytest -p no:cacheprovider -q -rfEs "$@"
