#!/usr/bin/env bash
# ARM, the fast check of one target: a static aarch64 `pssst` cross-built
# with zig (x25519-dalek, the cross builds' default backend) runs its demo
# under Debian's qemu-aarch64-static, and the README's round_trip.c, linked
# against the aarch64 libpssst.a, runs there too. The full cross builds
# (armv7 too, libpssst.so for glibc 2.17, the manylinux2014 and musllinux
# wheels, tests/python on Debian's arm64 CPython under qemu) are their own
# command: tests/cross/build.sh (see docs/deploy.md). Installs zig (PyPI)
# and qemu-user-static (Debian).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
timeout 2400 tests/cross/build.sh --quick aarch64
