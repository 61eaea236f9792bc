//! Cortex-M4 backend (feature `cortex-m4-asm`): the crate `salty`, whose
//! field multiplication and squaring are Björn Haase's Cortex-M4 assembly
//! (Haase and Labrique, "Making Password Authenticated Key Exchange
//! Suitable for Resource-Constrained Industrial Control Devices", 2017),
//! linked from the object code salty ships beside that source. Tested
//! against every vector of tests/vectors on the M4 by tests/legs/80-device.sh.

pub const NAME: &str = "salty";

/// The Montgomery ladder on u = 9 (salty has no basepoint tables).
pub fn x25519_base(scalar: &[u8; 32]) -> [u8; 32] {
    salty::agreement::x25519(*scalar, X25519_BASEPOINT)
}

/// salty takes the scalar by value, as x25519-dalek does: its copy lives in
/// salty's frames. The result goes into the caller's (zeroizing) buffer.
pub fn x25519(scalar: &[u8; 32], point: &[u8; 32], out: &mut [u8; 32]) {
    *out = salty::agreement::x25519(*scalar, *point);
}

/// u = 9, RFC 7748's base point.
const X25519_BASEPOINT: [u8; 32] = {
    let mut u = [0u8; 32];
    u[0] = 9;
    u
};
