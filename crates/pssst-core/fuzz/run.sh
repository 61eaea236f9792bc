#!/usr/bin/env bash
# Runs each fuzz target for SECONDS (default 60) with cargo-fuzz (nightly),
# seeded with the known-answer packets, and prints the execution counts.
#   crates/pssst-core/fuzz/run.sh 300
set -euo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
vectors="${PSSST_VECTORS_DIR:-$here/../../../tests/vectors}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd "$here"
mkdir -p corpus/server_unpack corpus/client_reply_unpack
python3 - "$vectors" <<'PY'
import json, sys, hashlib, pathlib
cases = json.load(open(f"{sys.argv[1]}/suite1-kat.json"))["cases"]
cases += json.load(open(f"{sys.argv[1]}/suite1-reject.json"))["cases"]
for c in cases:
    for field, target, prefix in (("request_packet", "server_unpack", b""), ("reply_packet", "client_reply_unpack", b"\0")):
        if c.get(field) is not None:
            data = prefix + bytes.fromhex(c[field])
            pathlib.Path(f"corpus/{target}/{hashlib.sha1(data).hexdigest()}").write_bytes(data)
PY
for target in server_unpack client_reply_unpack; do
  echo "== $target for ${seconds}s"
  cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -max_len=2048 2>&1 \
    | tee "/tmp/fuzz-$target.log" | grep -E "^#[0-9]+ +(DONE|INITED)|ERROR|panicked" || true
  grep -q "Done [0-9]* runs" "/tmp/fuzz-$target.log" || { echo "fuzzer did not finish cleanly: see /tmp/fuzz-$target.log"; exit 1; }
  grep -E "^Done [0-9]+ runs" "/tmp/fuzz-$target.log"
done
