#!/usr/bin/env bash
# Generates include/pssst.h with the pinned cbindgen (installed into
# $PSSST_CACHE/tools on first use).
#   bindings/pssst-ffi/gen-header.sh            rewrite include/pssst.h
#   bindings/pssst-ffi/gen-header.sh OUT.h      write OUT.h instead
set -euo pipefail
CBINDGEN_VERSION=0.29.4
crate_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$crate_dir/../.." && pwd)"
tools="${PSSST_CACHE:-$repo_root/.cache}/tools"
output="${1:-$repo_root/include/pssst.h}"

cbindgen="$tools/bin/cbindgen"
if [ ! -x "$cbindgen" ] || [ "$("$cbindgen" --version)" != "cbindgen $CBINDGEN_VERSION" ]; then
  echo "installing cbindgen $CBINDGEN_VERSION into $tools" >&2
  CARGO_TARGET_DIR="$tools/build" cargo install cbindgen --version "=$CBINDGEN_VERSION" \
    --locked --force --root "$tools"
fi
mkdir -p "$(dirname "$output")"
"$cbindgen" --quiet --config "$crate_dir/cbindgen.toml" --crate pssst-ffi \
  --output "$output" "$crate_dir"
