//! X25519 key pairs.

use getrandom::SysRng;
use pssst_ffi_core::{keys, status};
use pssst_ffi_macros::ffi_export;

use crate::OUT_RULE;
use crate::result::pssst_result;

/// Generates a fresh key pair from the operating system's RNG. The private
/// key is clamped, as the Go reference implementation's keys are.
///
/// # Safety
/// `private_key` and `public_key` are NULL or writable 32-byte buffers.
/// cbindgen:ptrs-as-arrays=[[private_key;32], [public_key;32]]
// The cbindgen annotation above is not an intra-doc link.
#[allow(rustdoc::broken_intra_doc_links)]
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_generate_key_pair(
    private_key: *mut u8,
    public_key: *mut u8,
) -> pssst_result {
    // SAFETY: the contract above is keys::generate_key_pair's.
    status(|| unsafe { keys::generate_key_pair(OUT_RULE, &mut SysRng, private_key, public_key) })
}

/// Writes the public key of `private_key` (X25519(private_key, 9)).
///
/// # Safety
/// `private_key` is NULL or a readable 32-byte buffer; `public_key` is NULL
/// or a writable 32-byte buffer.
/// cbindgen:ptrs-as-arrays=[[private_key;32], [public_key;32]]
// The cbindgen annotation above is not an intra-doc link.
#[allow(rustdoc::broken_intra_doc_links)]
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_public_key_from_private(
    private_key: *const u8,
    public_key: *mut u8,
) -> pssst_result {
    // SAFETY: the contract above is keys::public_key's.
    status(|| unsafe { keys::public_key(OUT_RULE, private_key, public_key) })
}
