//! # pssst-ffi-core: what pssst's two C libraries share
//!
//! `pssst-ffi` (libpssst for hosts, `include/pssst.h`) and
//! `devices/pssst-device` (libpssst.a for microcontrollers,
//! `include/pssst_device.h`) both return [`pssst_result`] codes and take the
//! caller's [`pssst_random_fn`]. Each of those facts is written once, here:
//! the codes and their numbers, the mapping from `pssst_core::Error`, the
//! messages, and the adapter from the callback to rand_core. They also
//! export the same operations, whose bodies are here too: every check of a
//! C argument ([`args`]), then the call into pssst-core and the writing of
//! its outputs ([`client`], [`server`], [`keys`]). What each library keeps
//! is its storage model (heap handles, or caller-owned storage) and its
//! thin `extern "C"` glue. cbindgen reads this crate when it writes
//! `pssst.h`. `no_std`, no allocator.
#![no_std]
#![allow(non_camel_case_types)]

pub mod args;
#[cfg(feature = "client")]
pub mod client;
pub mod keys;
mod result;
mod rng;
#[cfg(feature = "server")]
pub mod server;

pub use result::{pssst_result, status};
pub use rng::{CallbackFailed, CallbackRng, pssst_random_fn};
