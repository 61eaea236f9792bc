//! Cipher suite identifiers, and the suite lists C passes.

use pssst_core::CipherSuites;

use crate::buffers;
use crate::result::pssst_result;

/// Cipher suite 1: X25519 + SHA-256 + AES-128-GCM, the suite every PSSST
/// implementation understands and the clients' default.
pub const PSSST_SUITE_X25519_AESGCM128: u16 = 1;
/// Cipher suite 0xFF01 (private use): suite 1 with AES-128-GCM-SIV, which
/// stays safe when a retried request gets a different reply. Only pssst-rs
/// understands it.
pub const PSSST_SUITE_X25519_AESGCMSIV128: u16 = 0xFF01;

const _: () = assert!(PSSST_SUITE_X25519_AESGCM128 == pssst_core::SUITE_X25519_AESGCM128);
const _: () = assert!(PSSST_SUITE_X25519_AESGCMSIV128 == pssst_core::SUITE_X25519_AESGCMSIV128);

/// The set of the `len` suite identifiers at `ids`, by
/// [`CipherSuites::from_ids`]: `PSSST_ERR_UNSUPPORTED_CIPHER_SUITE` for an
/// unknown identifier or an empty list.
///
/// # Safety
/// `ids` is NULL or valid for reads of `len` `uint16_t`s.
#[allow(unsafe_code)] // Not exported: reads through buffers::u16_list.
pub(crate) unsafe fn suite_set(ids: *const u16, len: usize) -> Result<CipherSuites, pssst_result> {
    // SAFETY: the contract above.
    let ids = unsafe { buffers::u16_list(ids, len) }?;
    Ok(CipherSuites::from_ids(ids)?)
}
