//! Argument lists only the host library takes (pssst-ffi-core checks every
//! other C argument, for both libraries).
#![allow(unsafe_code)]

use pssst_ffi_core::args::{check_buffer, required};

use crate::result::pssst_result::{self, *};

/// A copy of the `len` 16-bit values at `ptr` (read unaligned, so any
/// pointer C can form works): NULL only with `len` 0.
///
/// # Safety
/// `ptr` is NULL or valid for reads of `len` `uint16_t`s.
pub(crate) unsafe fn u16_list(ptr: *const u16, len: usize) -> Result<Vec<u16>, pssst_result> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let ptr = required(ptr)?;
    let bytes = len.checked_mul(2).ok_or(PSSST_ERR_MESSAGE_TOO_LARGE)?;
    check_buffer(ptr.as_ptr().cast(), bytes)?;
    Ok((0..len)
        // SAFETY: in bounds of the `len` readable values (the contract;
        // `check_buffer` proved the range does not wrap), read unaligned.
        .map(|i| unsafe { ptr.as_ptr().add(i).read_unaligned() })
        .collect())
}
