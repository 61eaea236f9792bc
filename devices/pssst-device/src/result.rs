//! pssst.h's result codes (the same numbers, owned by bindings/pssst-ffi).

use pssst_core::Error;

pub type pssst_result = u32;

pub const PSSST_OK: pssst_result = 0;
pub const PSSST_ERR_NULL_ARGUMENT: pssst_result = 100;
pub const PSSST_ERR_BUFFERS_OVERLAP: pssst_result = 101;
pub const PSSST_ERR_UNKNOWN: pssst_result = 199;

/// The code of each core error, as pssst-ffi's `From<Error> for pssst_result`
/// maps it; devices/c/vectors.c checks every reachable one by its pssst.h
/// name.
pub fn code(error: Error) -> pssst_result {
    match error {
        Error::Truncated => 1,
        Error::NotRequest => 2,
        Error::NotReply => 3,
        Error::UnsupportedCipherSuite => 4,
        Error::DecryptionFailed => 5,
        Error::ClientAuthFailed => 6,
        Error::ReplyMismatch => 7,
        Error::LowOrderPoint => 8,
        Error::HandlerReused => 9,
        Error::BufferTooSmall { .. } => 10,
        Error::RngFailure => 11,
        Error::InvalidKey => 12,
        Error::MessageTooLarge => 13,
        _ => PSSST_ERR_UNKNOWN,
    }
}

/// Runs `body` and turns its outcome into a code.
pub fn status(body: impl FnOnce() -> Result<(), pssst_result>) -> pssst_result {
    match body() {
        Ok(()) => PSSST_OK,
        Err(code) => code,
    }
}

/// `?` on a core result inside [`status`].
pub fn core<T>(result: pssst_core::Result<T>) -> Result<T, pssst_result> {
    result.map_err(code)
}
