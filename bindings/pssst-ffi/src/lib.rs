//! # pssst-ffi: the C API of pssst-core
//!
//! Builds `libpssst.so` / `libpssst.a`; `include/pssst.h` is generated from
//! this crate by cbindgen (see `bindings/pssst-ffi/gen-header.sh`), with the
//! result codes and the RNG callback type from `pssst-ffi-core`, which the
//! device library (devices/pssst-device) shares.
//!
//! Conventions, as in rustls-ffi:
//! - one module per C "class" (`pssst_client`, `pssst_server` and their
//!   reply handlers), each an opaque heap object with a `_free`; every
//!   cast between a handle pointer and its Rust value is in `handle`; every
//!   buffer and out-parameter check, and the body of each operation, is in
//!   pssst-ffi-core (shared with the device library);
//! - every fallible function returns a [`pssst_result`] and writes its
//!   outputs through out-parameters; callers pass their own buffers with a
//!   capacity, and a too-small buffer returns `PSSST_ERR_BUFFER_TOO_SMALL`
//!   with the size needed written to the length out-parameter;
//! - every pointer is checked for NULL; `_free(NULL)` does nothing;
//! - every export is written with `#[ffi_export]`, which wraps its body in
//!   a panic guard; the workspace's `unsafe_code = "deny"` makes a
//!   hand-written `#[unsafe(no_mangle)]` export a compile error.
#![allow(non_camel_case_types)]

mod buffers;
pub mod client;
mod handle;
pub mod keys;
mod panic;
pub mod result;
pub mod retry;
pub mod server;
pub mod suite;

pub use client::{pssst_client, pssst_client_reply_handler};
pub use pssst_ffi_core::pssst_random_fn;
pub use result::pssst_result;
pub use retry::{PSSST_RETRANSMISSION_WINDOW_MS, pssst_retry_schedule};
pub use server::{pssst_server, pssst_server_reply_handler};
pub use suite::{PSSST_SUITE_X25519_AESGCM128, PSSST_SUITE_X25519_AESGCMSIV128};

/// Length of an X25519 private or public key in bytes.
pub const PSSST_KEY_LEN: usize = 32;
/// Bytes every packet adds to its message: 4-byte header, 32-byte DH
/// parameter and 16-byte AEAD tag (the same in every suite).
pub const PSSST_PACKET_OVERHEAD: usize = 52;
/// Extra bytes a client-authenticated request carries (client public key
/// and ephemeral secret).
pub const PSSST_CLIENT_AUTH_OVERHEAD: usize = 64;

/// pssst.h's rule for out-parameters: every one is reset before anything
/// can fail.
const OUT_RULE: pssst_ffi_core::args::OutRule = pssst_ffi_core::args::OutRule::ResetFirst;

const _: () = assert!(PSSST_KEY_LEN == pssst_core::KEY_LEN);
const _: () = assert!(PSSST_PACKET_OVERHEAD == pssst_core::PACKET_OVERHEAD);
const _: () = assert!(PSSST_CLIENT_AUTH_OVERHEAD == pssst_core::CLIENT_AUTH_OVERHEAD);
