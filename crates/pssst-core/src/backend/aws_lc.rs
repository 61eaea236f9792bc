//! Fast backend: AWS-LC's X25519, called directly.
//!
//! aws-lc-rs's safe agreement API allocates and derives a public key for
//! every private key it parses; PSSST needs bare scalar multiplications, so
//! this module calls the two C functions itself. It is the only `unsafe` in
//! pssst-core.
#![allow(unsafe_code)]

pub const NAME: &str = "aws-lc";

pub fn x25519_base(scalar: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // SAFETY: both pointers point to live 32-byte arrays, the sizes the C
    // function reads and writes; `out` is exclusively borrowed.
    unsafe { aws_lc_sys::X25519_public_from_private(out.as_mut_ptr(), scalar.as_ptr()) };
    out
}

/// Writes X25519(scalar, point) straight into the caller's (zeroizing)
/// buffer, so no copy of the shared secret is left in this frame.
pub fn x25519(scalar: &[u8; 32], point: &[u8; 32], out: &mut [u8; 32]) {
    // SAFETY: all three pointers point to live 32-byte arrays, the sizes the
    // C function reads and writes; `out` is exclusively borrowed. The return
    // value (0 for an all-zero result) is ignored because the caller checks
    // for the all-zero output itself, identically for both backends.
    let _ = unsafe { aws_lc_sys::X25519(out.as_mut_ptr(), scalar.as_ptr(), point.as_ptr()) };
}
