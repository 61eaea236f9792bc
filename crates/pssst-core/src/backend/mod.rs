//! The X25519 implementation in use, chosen at build time.
//!
//! X25519 is nearly all of the cost of a PSSST packet, so the backend is the
//! one thing worth swapping: `x25519-dalek` (portable, pure Rust, default) or
//! AWS-LC (`aws-lc` feature; formally verified assembly, about 2x faster on
//! x86_64) or, on a Cortex-M4, `salty` with Haase's assembly field arithmetic
//! (`cortex-m4-asm` feature). Public so that benchmarks can time the raw
//! multiplications.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::{Error, Result};

#[cfg(feature = "aws-lc")]
mod aws_lc;
#[cfg(feature = "aws-lc")]
use aws_lc as imp;

#[cfg(all(feature = "cortex-m4-asm", target_os = "none", pssst_cortex_m4))]
mod salty;
#[cfg(all(feature = "cortex-m4-asm", target_os = "none", pssst_cortex_m4))]
use salty as imp;
// salty has a portable fallback (TweetNaCl, several times slower than
// x25519-dalek): asking for the assembly on a core without it is a mistake.
#[cfg(all(feature = "cortex-m4-asm", target_os = "none", not(pssst_cortex_m4)))]
compile_error!("feature `cortex-m4-asm` needs a Cortex-M4/M33 target (thumbv7em, thumbv8m.main)");

#[cfg(not(any(
    feature = "aws-lc",
    all(feature = "cortex-m4-asm", target_os = "none", pssst_cortex_m4)
)))]
mod dalek;
#[cfg(not(any(
    feature = "aws-lc",
    all(feature = "cortex-m4-asm", target_os = "none", pssst_cortex_m4)
)))]
use dalek as imp;

/// Name of the backend compiled in: `"aws-lc"`, `"x25519-dalek"` or `"salty"`.
pub const NAME: &str = imp::NAME;

/// X25519(scalar, 9): the public key or DH parameter for `scalar`.
/// The scalar is clamped by X25519 itself, so any 32 bytes are accepted.
pub fn x25519_base(scalar: &[u8; 32]) -> [u8; 32] {
    imp::x25519_base(scalar)
}

/// X25519(scalar, point), rejecting an all-zero (non-contributory) result
/// with [`Error::LowOrderPoint`]. The zero check is constant time.
pub fn x25519(scalar: &[u8; 32], point: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>> {
    let mut shared = Zeroizing::new([0u8; 32]);
    imp::x25519(scalar, point, &mut shared);
    if bool::from(shared.ct_eq(&[0u8; 32])) {
        return Err(Error::LowOrderPoint);
    }
    Ok(shared)
}
