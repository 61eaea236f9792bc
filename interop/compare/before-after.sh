#!/usr/bin/env bash
# Server CPU per transaction of `pssst serve` at a base revision against the
# working tree, side by side (see interop/compare/README.md, "Before and
# after"). Arguments go to before_after.py (e.g. --base REV --rounds 7).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 interop/compare/before_after.py "$@"
