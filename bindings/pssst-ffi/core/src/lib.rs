//! # pssst-ffi-core: what pssst's two C libraries share
//!
//! `pssst-ffi` (libpssst for hosts, `include/pssst.h`) and
//! `devices/pssst-device` (libpssst.a for microcontrollers,
//! `include/pssst_device.h`) both return [`pssst_result`] codes and take the
//! caller's [`pssst_random_fn`]. Each of those facts is written once, here:
//! the codes and their numbers, the mapping from `pssst_core::Error`, the
//! messages, and the adapter from the callback to rand_core. cbindgen reads
//! this crate when it writes `pssst.h`. `no_std`, no allocator.
#![no_std]
#![allow(non_camel_case_types)]

mod result;
mod rng;

pub use result::pssst_result;
pub use rng::{CallbackFailed, CallbackRng, pssst_random_fn};
