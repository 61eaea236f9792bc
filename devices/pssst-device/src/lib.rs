//! libpssst.a for microcontrollers: pssst-core's client and server behind a
//! C API with no allocator and no OS (include/pssst_device.h).
//!
//! - Storage is the caller's: each object is a fixed-size, 8-byte-aligned
//!   struct whose size the header states (`PSSST_DEVICE_*_SIZE`); this crate
//!   checks at compile time that its state fits.
//! - Randomness comes from the caller's `pssst_random_fn` callback (the type
//!   of pssst.h), asked for 32 bytes at the moment an ephemeral key is made,
//!   so no code path can pack a request with an ephemeral used before.
//! - Results are pssst.h's `pssst_result` codes; they and the RNG adapter
//!   come from pssst-ffi-core, which the host library shares.
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

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
