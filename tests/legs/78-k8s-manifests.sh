#!/usr/bin/env bash
# The Kubernetes manifests (deploy/k8s/) decoded strictly into the official
# k8s.io/api Go types (unknown fields are errors), checked for what the pool
# relies on, and their readiness and liveness probes run against a real
# `pssst serve` started with the Deployment's own arguments. See
# deploy/k8s/check/ and docs/deploy.md. Needs Go (Debian's golang-go is
# installed if missing; go.mod's toolchain line fetches a newer Go from the
# Go module proxy when that one is too old).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cargo build --release -p pssst-cli
if ! command -v go >/dev/null; then
  echo "--- installing Go (Debian package golang-go)"
  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >/dev/null; }; } \
    || { echo "FAIL: Go is missing and cannot be installed" >&2; exit 1; }
fi
cd deploy/k8s/check
rc=0
PSSST_BIN="$CARGO_TARGET_DIR/release/pssst" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" \
  timeout 600 go test -count=1 -v ./... >"$PSSST_CACHE/k8s-manifests.log" 2>&1 || rc=$?
grep -E '^(=== RUN|--- |PASS|FAIL|ok |\s+\S+_test\.go)' "$PSSST_CACHE/k8s-manifests.log" || true
[ "$rc" = 0 ] || { tail -n 40 "$PSSST_CACHE/k8s-manifests.log"; echo "FAIL: go test exited $rc" >&2; exit 1; }
