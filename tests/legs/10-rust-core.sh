#!/usr/bin/env bash
# Format and lints of the whole workspace (here only: the other legs do not
# repeat them), then pssst-core: tests with both X25519 backends, no_std builds.
set -euxo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cargo fmt --all -- --check
# Every crate with its default features. Features are unified across the
# workspace, so pssst-core is linted here with aws-lc (the CLI and the bindings
# enable it by default).
cargo clippy --workspace --all-targets -- -D warnings
# pssst-core on its own: x25519-dalek, the backend of `--no-default-features`
# builds of the CLI, pssst-ffi (make BACKEND=dalek) and pssst-py.
cargo clippy -p pssst-core --all-targets -- -D warnings
# pssst-udp's async client (feature `tokio`, off by default).
cargo clippy -p pssst-udp --all-targets --features tokio -- -D warnings
# Same tests, both backends.
env -u PSSST_VECTORS_DIR cargo test -p pssst-core   # the in-repo vectors, no env needed
cargo test -p pssst-core --features aws-lc
# no_std (and no_std + alloc) must build for IoT clients: the smallest build,
# each half alone (a device builds only `client`), both with alloc. Lints too:
# a cfg that leaves an item unused shows up only in these builds.
cargo build -p pssst-core --no-default-features
for features in client server alloc,client,server; do
  cargo clippy -p pssst-core --no-default-features --features "$features" -- -D warnings
done
# The fuzz targets (own workspace) must keep compiling; run.sh fuzzes them.
cargo check --manifest-path crates/pssst-core/fuzz/Cargo.toml --bins
