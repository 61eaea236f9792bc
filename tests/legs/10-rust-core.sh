#!/usr/bin/env bash
# pssst-core: format, lints, tests with both X25519 backends, no_std builds.
set -euxo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p pssst-core --all-targets --features aws-lc -- -D warnings
# Same tests, both backends.
env -u PSSST_VECTORS_DIR cargo test -p pssst-core   # the in-repo vectors, no env needed
cargo test -p pssst-core --features aws-lc
# no_std (and no_std + alloc) must build for IoT clients.
cargo build -p pssst-core --no-default-features
cargo build -p pssst-core --no-default-features --features alloc
# The fuzz targets (own workspace) must keep compiling; run.sh fuzzes them.
cargo check --manifest-path crates/pssst-core/fuzz/Cargo.toml --bins
