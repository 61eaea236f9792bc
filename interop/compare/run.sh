#!/usr/bin/env bash
# The side-by-side benchmark (see interop/compare/README.md): builds and
# installs everything it needs, then runs every leg in interleaved rounds.
# Arguments go to run.py (e.g. --rounds 7 --callgrind).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 interop/compare/run.py "$@"
