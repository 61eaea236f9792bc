//! pssst.h's result codes: pssst-ffi-core owns them, their numbers and the
//! mapping from pssst-core's errors, for both C libraries.

pub use pssst_ffi_core::pssst_result::{self, *};

/// Runs `body` and turns its outcome into a code.
pub fn status(body: impl FnOnce() -> Result<(), pssst_result>) -> pssst_result {
    body().err().unwrap_or(PSSST_OK)
}

/// `?` on a core result inside [`status`].
pub fn core<T>(result: pssst_core::Result<T>) -> Result<T, pssst_result> {
    result.map_err(pssst_result::from)
}
