//! Portable backend: x25519-dalek.

use x25519_dalek::{PublicKey, StaticSecret};

pub const NAME: &str = "x25519-dalek";

pub fn x25519_base(scalar: &[u8; 32]) -> [u8; 32] {
    // StaticSecret zeroizes its copy of the scalar on drop; the fixed-base
    // path uses curve25519-dalek's precomputed tables.
    PublicKey::from(&StaticSecret::from(*scalar)).to_bytes()
}

pub fn x25519(scalar: &[u8; 32], point: &[u8; 32]) -> [u8; 32] {
    x25519_dalek::x25519(*scalar, *point)
}
