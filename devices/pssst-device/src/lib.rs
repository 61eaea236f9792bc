//! libpssst.a for microcontrollers: pssst-core's client and server behind a
//! C API with no allocator and no OS (include/pssst_device.h).
//!
//! - Storage is the caller's: each object is a fixed-size, 8-byte-aligned
//!   struct whose size the header states (`PSSST_DEVICE_*_SIZE`); this crate
//!   checks at compile time that its state fits.
//! - Randomness comes from the caller's `pssst_random_fn` callback (the type
//!   of pssst.h), asked for 32 bytes at the moment an ephemeral key is made,
//!   so no code path can pack a request with an ephemeral used before.
//! - Results are pssst.h's `pssst_result` codes; they, the RNG adapter, the
//!   argument checks and the body of every operation come from
//!   pssst-ffi-core, which the host library shares: this crate keeps the
//!   storage model (`slot`) and the `extern "C"` glue.
//! - Built with `panic = "abort"`: no unwinding can reach C. No panic is
//!   reachable from any input; if one happened (a bug) the core halts.
#![no_std]
#![allow(non_camel_case_types)]

#[cfg(feature = "client")]
mod client;
mod keys;
mod result;
#[cfg(feature = "server")]
mod server;
mod sizes;
mod slot;

/// pssst_device.h's rule for out-parameters: written with a result only,
/// and with the size needed when a buffer is too small.
const OUT_RULE: pssst_ffi_core::args::OutRule = pssst_ffi_core::args::OutRule::OnResult;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
