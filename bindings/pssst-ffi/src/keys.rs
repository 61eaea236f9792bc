//! X25519 key pairs.

use pssst_core::PrivateKey;
use pssst_ffi_macros::ffi_export;
use zeroize::Zeroizing;

use crate::buffers::{self, Out};
use crate::result::{pssst_result, status};

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
    status(|| {
        // SAFETY: the contract above.
        let private_out = unsafe { Out::key(private_key) };
        // SAFETY: the contract above.
        let public_out = unsafe { Out::key(public_key) };
        let (mut private_out, mut public_out) = (private_out?, public_out?);
        let (private, public) = pssst_core::generate_key_pair()?;
        private_out.write(*private.as_bytes());
        public_out.write(public.to_bytes());
        Ok(())
    })
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
    status(|| {
        // SAFETY: the contract above.
        let mut public_out = unsafe { Out::key(public_key) }?;
        // SAFETY: the contract above.
        let private = Zeroizing::new(unsafe { buffers::key(private_key) }?);
        public_out.write(PrivateKey::from_bytes(*private).public_key().to_bytes());
        Ok(())
    })
}
