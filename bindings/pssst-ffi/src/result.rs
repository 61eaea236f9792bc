//! `pssst_result` (owned by pssst-ffi-core, shared with the device library):
//! its text and the library version as exports.

use std::ffi::c_char;

use pssst_ffi_macros::ffi_export;

pub use pssst_ffi_core::pssst_result::{self, *};

/// A static, NUL-terminated English description of `result`; never NULL.
/// Values that are not a `pssst_result` get "unrecognised pssst_result".
///
/// # Safety
/// None: any value is accepted and the string is never freed.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_result_message(result: u32) -> *const c_char {
    pssst_result::from_code(result)
        .map_or(c"unrecognised pssst_result", pssst_result::message)
        .as_ptr()
}

/// The library version, e.g. "0.1.0": static, NUL-terminated, never NULL.
///
/// # Safety
/// None.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_version() -> *const c_char {
    const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(version) => version,
        Err(_) => panic!("the version contains no NUL"),
    };
    VERSION.as_ptr()
}
