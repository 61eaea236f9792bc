#!/usr/bin/env bash
# Scale-out: three `pssst serve` processes sharing one key behind nginx's
# stream UDP load balancer (installed from Debian's packages if missing):
# fairness from the backends' counters, no transaction lost when a backend
# is killed or hangs, and tx/s through nginx vs direct. See
# tests/scale-out/run.sh and docs/scaling-out.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cargo build --release -p pssst-cli
PSSST="$CARGO_TARGET_DIR/release/pssst" timeout 600 tests/scale-out/run.sh
