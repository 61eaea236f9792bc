//! pssst.h's result codes: pssst-ffi-core owns them, their numbers and the
//! mapping from pssst-core's errors, for both C libraries.

pub use pssst_ffi_core::pssst_result::{self, *};
