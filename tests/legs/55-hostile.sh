#!/usr/bin/env bash
# `pssst serve` under attack, from outside the process: tests/hostile/ drives
# a real server over loopback with packets built by hand (Python's
# `cryptography` only, see tests/hostile/wire.py), one test per attack of
# issue 11, plus a replay soak and a short overload run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cargo build --release -p pssst-cli
VENV="$PSSST_CACHE/py-venv-hostile"
PYTHON="${PYTHON:-python3}"
if [ "${PSSST_FRESH_VENV:-0}" = 1 ] || ! "$VENV/bin/python" -c 'import cryptography, pytest, prometheus_client' 2>/dev/null; then
  echo "--- venv for the attack and operations tests (cryptography, pytest, prometheus_client)"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --disable-pip-version-check -q "cryptography>=42" pytest "prometheus_client>=0.20"
fi
# The systemd unit is checked with systemd-analyze (Debian's systemd).
if ! command -v systemd-analyze >/dev/null; then
  echo "--- installing systemd-analyze (Debian package systemd)"
  command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] \
    || { echo "FAIL: systemd-analyze is missing and cannot be installed (needs apt-get and root)" >&2; exit 1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd \
    || { echo "FAIL: apt-get install systemd failed" >&2; exit 1; }
fi
cd tests/hostile
PSSST_BIN="$CARGO_TARGET_DIR/release/pssst" PYTHONDONTWRITEBYTECODE=1 \
  "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rfEs "$@"
cd "$REPO_ROOT"
echo "--- nftables per-source rate limit in front of serve (docs/security-model.md)"
PSSST_BIN="$CARGO_TARGET_DIR/release/pssst" PYTHON_BIN="$VENV/bin/python" \
  timeout 300 tests/hostile/ratelimit.sh
