#!/usr/bin/env bash
# Runs tests/python against an aarch64 wheel on an aarch64 CPython under
# qemu-user:
#
#   tests/cross/arm-python.sh WHEEL
#
# The CPython is Debian's own arm64 python3.11 and the libraries it needs,
# downloaded with apt-get into a private apt state (the host's apt
# configuration and dpkg architectures are not changed) and unpacked into a
# sysroot under $PSSST_CACHE; qemu-aarch64-static runs it with that sysroot
# as its library root (-L). The wheel and the tests' PyPI dependencies
# (pytest, cryptography: aarch64 wheels) go into a --target directory on its
# PYTHONPATH. The pypssst reference of the cross tests stays the host's
# (tests/legs/40-python.sh's venv): x86_64 pypssst against aarch64 pssst-rs.
set -euo pipefail
REPO_ROOT="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
PSSST_CACHE="${PSSST_CACHE:-$REPO_ROOT/.cache}"
WHEEL="${1:?usage: tests/cross/arm-python.sh WHEEL}"
fail() { echo "arm-python: FAIL: $*" >&2; exit 1; }
[ -f "$WHEEL" ] || fail "no wheel $WHEEL"

SYSROOT="$PSSST_CACHE/arm64-sysroot"
APT="$PSSST_CACHE/arm64-apt"
PY_VERSION=3.11   # Debian 12's python3
# Debian's python3.11 for arm64 and the libraries it and its standard
# library's extension modules load (from `apt-cache depends --recurse` on
# bookworm, without the packages that hold only scripts or data).
PACKAGES=(libc6 libgcc-s1 libcrypt1 zlib1g libexpat1 libffi8 libssl3 libbz2-1.0
  liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libreadline8 libnsl2
  libtirpc3 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2
  libkeyutils1 libdb5.3 media-types
  "libpython$PY_VERSION-minimal" "libpython$PY_VERSION-stdlib" "python$PY_VERSION-minimal")

if [ ! -x "$SYSROOT/usr/bin/python$PY_VERSION" ]; then
  echo "--- Debian arm64 packages into $SYSROOT (private apt state in $APT)"
  mkdir -p "$APT/state/lists/partial" "$APT/cache/archives/partial" "$APT/debs"
  touch "$APT/state/status"
  apt_opts=(-o "Dir::State=$APT/state" -o "Dir::State::status=$APT/state/status"
    -o "Dir::Cache=$APT/cache" -o APT::Architecture=arm64 -o APT::Architectures::=arm64
    -o Debug::NoLocking=1)
  apt-get "${apt_opts[@]}" update -q >/dev/null || fail "apt-get update (arm64, private state) failed"
  (cd "$APT/debs" && apt-get "${apt_opts[@]}" download "${PACKAGES[@]/%/:arm64}" >/dev/null) \
    || fail "apt-get download of the arm64 packages failed"
  rm -rf "$SYSROOT" && mkdir -p "$SYSROOT"
  for deb in "$APT"/debs/*.deb; do dpkg-deb -x "$deb" "$SYSROOT"; done
fi
[ -x "$SYSROOT/usr/bin/python$PY_VERSION" ] || fail "no python$PY_VERSION in $SYSROOT"
# -L: the sysroot is where the arm64 loader and libraries are found.
arm_python() { qemu-aarch64-static -L "$SYSROOT" "$SYSROOT/usr/bin/python$PY_VERSION" "$@"; }
arm_python -c 'import platform, sys; print("CPython", sys.version.split()[0], "on", platform.machine())'
[ "$(arm_python -c 'import platform; print(platform.machine())')" = aarch64 ] || fail "not an aarch64 CPython"

SITE="$PSSST_CACHE/arm64-site"
rm -rf "$SITE" && mkdir -p "$SITE"
echo "--- the wheel and the tests' dependencies (aarch64 wheels) into $SITE"
python3 -m pip install -q --disable-pip-version-check --target "$SITE" --no-deps "$WHEEL"
python3 -m pip install -q --disable-pip-version-check --target "$SITE" \
  --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 --python-version "$PY_VERSION" \
  --implementation cp --only-binary :all: pytest "cryptography>=42" "mypy==2.4.1"

ref="$PSSST_CACHE/py-venv-pypssst"   # as tests/legs/40-python.sh and the wheel build make it
if ! "$ref/bin/python" -c 'import pssst; assert pssst.__version__ == "0.2.1"' 2>/dev/null; then
  rm -rf "$ref"
  python3 -m venv "$ref"
  "$ref/bin/pip" install -q --disable-pip-version-check "pssst==0.2.1"
fi

cd "$REPO_ROOT/tests/python"
export PYTHONPATH="$SITE" PYTHONDONTWRITEBYTECODE=1 PSSST_PYPSSST_PYTHON="$ref/bin/python"
arm_python -c 'import pssst, pssst._pssst as n; print("pssst-rs", pssst.__version__, "X25519 from", n._backend, "at", pssst.__file__)'
arm_python -m pytest -p no:cacheprovider -q -rfEs --ignore=pypssst-upstream ${ARM_PYTEST_ARGS:-}
