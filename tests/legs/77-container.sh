#!/usr/bin/env bash
# The container image (deploy/build-image.sh: FROM scratch, a static musl
# pssst, non-root) as a pool of three behind the nftables DNAT Service of
# leg 75, one container killed under load, 0 failed transactions. See
# tests/container/pool.sh and docs/deploy.md. Needs root; installs podman,
# runc, musl-tools and nftables from Debian if missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cargo build --release -p pssst-cli
PSSST="$CARGO_TARGET_DIR/release/pssst" timeout 900 tests/container/pool.sh
