//! Portable backend: x25519-dalek.

pub const NAME: &str = "x25519-dalek";

/// With the precomputed tables (feature `precomputed-tables`) the fixed-base
/// multiplication walks them; StaticSecret zeroizes its copy of the scalar
/// on drop.
#[cfg(feature = "precomputed-tables")]
pub fn x25519_base(scalar: &[u8; 32]) -> [u8; 32] {
    use x25519_dalek::{PublicKey, StaticSecret};
    PublicKey::from(&StaticSecret::from(*scalar)).to_bytes()
}

/// Without the tables, the Montgomery ladder on u = 9: the code every
/// X25519 already links, so a device pays no flash for the base point.
#[cfg(not(feature = "precomputed-tables"))]
pub fn x25519_base(scalar: &[u8; 32]) -> [u8; 32] {
    x25519_dalek::x25519(*scalar, x25519_dalek::X25519_BASEPOINT_BYTES)
}

/// x25519-dalek takes the scalar by value: its copy is the argument of
/// that call and lives in x25519-dalek's frames, out of our reach. Our side
/// keeps no copy: the result goes into the caller's (zeroizing) buffer.
pub fn x25519(scalar: &[u8; 32], point: &[u8; 32], out: &mut [u8; 32]) {
    *out = x25519_dalek::x25519(*scalar, *point);
}
