#!/usr/bin/env bash
# Scale-out behind the kernel's flow-pinning balancer (nftables DNAT with
# conntrack, the way kube-proxy runs a UDP Service), in a network namespace
# of its own: 12 `pssst bench` clients, one of three backends killed
# (SIGKILL) or hung (SIGSTOP) mid-run, 0 failed transactions; p99 latency
# with and without the fault. See tests/scale-out/dnat.sh and
# docs/scaling-out.md. Needs root; installs nftables from Debian if missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cargo build --release -p pssst-cli
PSSST="$CARGO_TARGET_DIR/release/pssst" timeout 300 tests/scale-out/dnat.sh
