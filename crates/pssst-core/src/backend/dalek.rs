//! Portable backend: x25519-dalek.

use x25519_dalek::{PublicKey, StaticSecret};

pub const NAME: &str = "x25519-dalek";

pub fn x25519_base(scalar: &[u8; 32]) -> [u8; 32] {
    // StaticSecret zeroizes its copy of the scalar on drop; the fixed-base
    // path uses curve25519-dalek's precomputed tables.
    PublicKey::from(&StaticSecret::from(*scalar)).to_bytes()
}

/// x25519-dalek takes the scalar by value: its copy is the argument of
/// that call and lives in x25519-dalek's frames, out of our reach. Our side
/// keeps no copy: the result goes into the caller's (zeroizing) buffer.
pub fn x25519(scalar: &[u8; 32], point: &[u8; 32], out: &mut [u8; 32]) {
    *out = x25519_dalek::x25519(*scalar, *point);
}
