#!/usr/bin/env bash
# Runs tests/python against an ARM manylinux wheel on an ARM CPython under
# qemu-user:
#
#   tests/cross/arm-python.sh WHEEL [TEST_FILE...]
#   tests/cross/arm-python.sh --extension-only WHEEL
#
# WHEEL's platform picks the CPython: aarch64 (Debian's arm64) or armv7l
# (Debian's armhf). TEST_FILEs (in tests/python) run only those tests;
# without, all of tests/python runs (pypssst's own suite aside).
# --extension-only installs nothing else and runs extension_round_trip.py:
# the native module alone, one request and reply (armv7: cryptography's
# armv7l wheels need cffi, which has no armv7l wheel, so the pssst package
# itself cannot be imported there).
#
# The CPython is Debian's own python3.11 and the libraries it needs,
# downloaded with apt-get into a private apt state (the host's apt
# configuration and dpkg architectures are not changed) and unpacked into a
# sysroot under $PSSST_CACHE; qemu-user runs it with that sysroot as its
# library root (-L). The wheel and the tests' PyPI dependencies (pytest,
# cryptography, and mypy when all tests run: ARM wheels) go into a venv
# of it. The pypssst reference of the cross tests
# stays the host's (tests/legs/40-python.sh's venv): x86_64 pypssst against
# ARM pssst-rs. pssst.aio's tests run the `pssst` CLI at $PSSST_BIN
# (tests/cross/build.sh gives them the aarch64 one, under qemu), else
# target/release/pssst.
set -euo pipefail
REPO_ROOT="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
PSSST_CACHE="${PSSST_CACHE:-$REPO_ROOT/.cache}"
EXTENSION_ONLY=0
[ "${1:-}" != --extension-only ] || { EXTENSION_ONLY=1; shift; }
WHEEL="${1:?usage: tests/cross/arm-python.sh [--extension-only] WHEEL [TEST_FILE...]}"
shift
TESTS=("$@")
fail() { echo "arm-python: FAIL: $*" >&2; exit 1; }
[ -f "$WHEEL" ] || fail "no wheel $WHEEL"
# Debian's architecture, qemu, what platform.machine() says, pip's platforms.
case "$(basename "$WHEEL")" in
  *_aarch64.whl)
    DEB_ARCH=arm64 QEMU=qemu-aarch64-static MACHINE=aarch64
    PIP_PLATFORMS=(manylinux2014_aarch64 manylinux_2_28_aarch64) ;;
  *_armv7l.whl)
    DEB_ARCH=armhf QEMU=qemu-arm-static MACHINE=armv7l
    PIP_PLATFORMS=(manylinux2014_armv7l manylinux_2_31_armv7l) ;;
  *) fail "$WHEEL is neither an aarch64 nor an armv7l wheel" ;;
esac

SYSROOT="$PSSST_CACHE/$DEB_ARCH-sysroot"
APT="$PSSST_CACHE/$DEB_ARCH-apt"
PY_VERSION=3.11   # Debian 12's python3
# Debian's python3.11 and the libraries it and its standard
# library's extension modules load (from `apt-cache depends --recurse` on
# bookworm, without the packages that hold only scripts or data).
PACKAGES=(libc6 libgcc-s1 libcrypt1 zlib1g libexpat1 libffi8 libssl3 libbz2-1.0
  liblzma5 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libreadline8 libnsl2
  libtirpc3 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2
  libkeyutils1 libdb5.3 media-types
  "libpython$PY_VERSION-minimal" "libpython$PY_VERSION-stdlib" "python$PY_VERSION-minimal")

if [ ! -x "$SYSROOT/usr/bin/python$PY_VERSION" ]; then
  echo "--- Debian $DEB_ARCH packages into $SYSROOT (private apt state in $APT)"
  mkdir -p "$APT/state/lists/partial" "$APT/cache/archives/partial" "$APT/debs"
  touch "$APT/state/status"
  apt_opts=(-o "Dir::State=$APT/state" -o "Dir::State::status=$APT/state/status"
    -o "Dir::Cache=$APT/cache" -o APT::Architecture=$DEB_ARCH -o APT::Architectures::=$DEB_ARCH
    -o Debug::NoLocking=1)
  apt-get "${apt_opts[@]}" update -q >/dev/null || fail "apt-get update ($DEB_ARCH, private state) failed"
  (cd "$APT/debs" && apt-get "${apt_opts[@]}" download "${PACKAGES[@]/%/:$DEB_ARCH}" >/dev/null) \
    || fail "apt-get download of the $DEB_ARCH packages failed"
  rm -rf "$SYSROOT" && mkdir -p "$SYSROOT"
  for deb in "$APT"/debs/*.deb; do dpkg-deb -x "$deb" "$SYSROOT"; done
fi
[ -x "$SYSROOT/usr/bin/python$PY_VERSION" ] || fail "no python$PY_VERSION in $SYSROOT"
# A venv of that CPython, made by hand: with no binfmt_misc for ARM on the
# host an ARM ELF cannot be exec'd, and the tests start `sys.executable`
# (mypy, the README's examples). So the venv's `python` is a script that
# runs qemu (-L: the sysroot holds the ARM loader and libraries) with the
# script as argv[0] (-0): CPython takes argv[0] as sys.executable and finds
# pyvenv.cfg beside it, as in any venv. A venv, not PYTHONPATH: the x86_64
# pypssst the cross tests start would inherit PYTHONPATH and import ours.
VENV="$PSSST_CACHE/$DEB_ARCH-venv"
SITE="$VENV/lib/python$PY_VERSION/site-packages"
ARM_PYTHON="$VENV/bin/python"
rm -rf "$VENV" && mkdir -p "$VENV/bin" "$SITE"
printf 'home = %s\ninclude-system-site-packages = false\nversion = %s\n' \
  "$SYSROOT/usr/bin" "$PY_VERSION" >"$VENV/pyvenv.cfg"
printf '#!/bin/sh\nexec %s -L "%s" -0 "$0" "%s" "$@"\n' \
  "$QEMU" "$SYSROOT" "$SYSROOT/usr/bin/python$PY_VERSION" >"$ARM_PYTHON"
chmod +x "$ARM_PYTHON"
arm_python() { "$ARM_PYTHON" "$@"; }
arm_python -c 'import platform, sys; print("CPython", sys.version.split()[0], "on", platform.machine(), "as", sys.executable)'
[ "$(arm_python -c 'import sys; print(sys.executable)')" = "$ARM_PYTHON" ] || fail "sys.executable is not $ARM_PYTHON"
[ "$(arm_python -c 'import sys; print(sys.prefix)')" = "$VENV" ] || fail "the CPython does not run in $VENV"
[ "$(arm_python -c 'import platform; print(platform.machine())')" = "$MACHINE" ] || fail "not an $MACHINE CPython"

echo "--- the wheel and the tests' dependencies ($MACHINE wheels) into $SITE"
# (The host's pip installs for the ARM CPython: --platform and
# --python-version name it, and make pip take only wheels.)
for_arm=(--python-version "$PY_VERSION" --implementation cp --only-binary :all:)
for platform in "${PIP_PLATFORMS[@]}"; do for_arm+=(--platform "$platform"); done
deps=(pytest "cryptography>=42")
[ ${#TESTS[@]} -gt 0 ] || deps+=("mypy==2.4.1")   # test_aio_stubs.py
pip_arm() { python3 -m pip install -q --disable-pip-version-check --target "$SITE" "${for_arm[@]}" "$@"; }
pip_arm --no-deps "$WHEEL"
if [ "$EXTENSION_ONLY" = 1 ]; then
  arm_python "$REPO_ROOT/tests/cross/extension_round_trip.py" "$SITE"
  exit
fi
pip_arm "${deps[@]}"

ref="$PSSST_CACHE/py-venv-pypssst"   # as tests/legs/40-python.sh and the wheel build make it
if ! "$ref/bin/python" -c 'import pssst; assert pssst.__version__ == "0.2.1"' 2>/dev/null; then
  rm -rf "$ref"
  python3 -m venv "$ref"
  "$ref/bin/pip" install -q --disable-pip-version-check "pssst==0.2.1"
fi

cd "$REPO_ROOT/tests/python"
export PYTHONDONTWRITEBYTECODE=1 PSSST_PYPSSST_PYTHON="$ref/bin/python"
arm_python -c 'import pssst, pssst._pssst as n; print("pssst-rs", pssst.__version__, "X25519 from", n._backend, "at", pssst.__file__)'
arm_python -m pytest -p no:cacheprovider -q -rfEs --ignore=pypssst-upstream "${TESTS[@]}" ${ARM_PYTEST_ARGS:-}
