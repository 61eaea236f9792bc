//! The one mapping from pssst-core errors to Python exceptions.
//!
//! The exception classes are defined in Python (`pssst/errors.py`, pypssst's
//! names and hierarchy) and imported from there on first use, so Rust and
//! Python raise the very same classes.

use pssst_core::Error;
use pyo3::PyErr;

pyo3::import_exception!(pssst.errors, PSSSTException);
pyo3::import_exception!(pssst.errors, PSSSTUnsupportedCipher);
pyo3::import_exception!(pssst.errors, PSSSTClientAuthFailed);
pyo3::import_exception!(pssst.errors, PSSSTReplyMismatch);
pyo3::import_exception!(pssst.errors, PSSSTNotReply);
pyo3::import_exception!(pssst.errors, PSSSTNotRequest);
pyo3::import_exception!(pssst.errors, PSSSTDecryptFailed);
pyo3::import_exception!(pssst.errors, PSSSTHandlerReused);
pyo3::import_exception!(pssst.errors, PSSSTTruncated);
pyo3::import_exception!(pssst.errors, PSSSTLowOrderPoint);
pyo3::import_exception!(pssst.errors, PSSSTInvalidKey);
pyo3::import_exception!(pssst.errors, PSSSTMessageTooLarge);
pyo3::import_exception!(pssst.errors, PSSSTRngFailure);
pyo3::import_exception!(pssst.errors, PSSSTBufferTooSmall);
pyo3::import_exception!(pssst.errors, PSSSTRetryWindowExceeded);

/// The Python exception for a pssst-core error.
pub(crate) fn to_py_err(err: Error) -> PyErr {
    let msg = err.to_string();
    match err {
        Error::Truncated => PSSSTTruncated::new_err(msg),
        Error::NotRequest => PSSSTNotRequest::new_err(msg),
        Error::NotReply => PSSSTNotReply::new_err(msg),
        Error::UnsupportedCipherSuite => PSSSTUnsupportedCipher::new_err(msg),
        Error::DecryptionFailed => PSSSTDecryptFailed::new_err(msg),
        Error::ClientAuthFailed => PSSSTClientAuthFailed::new_err(msg),
        Error::ReplyMismatch => PSSSTReplyMismatch::new_err(msg),
        Error::LowOrderPoint => PSSSTLowOrderPoint::new_err(msg),
        Error::HandlerReused => PSSSTHandlerReused::new_err(msg),
        Error::BufferTooSmall { .. } => PSSSTBufferTooSmall::new_err(msg),
        Error::RngFailure => PSSSTRngFailure::new_err(msg),
        Error::InvalidKey => PSSSTInvalidKey::new_err(msg),
        Error::MessageTooLarge => PSSSTMessageTooLarge::new_err(msg),
        Error::RetryWindowExceeded => PSSSTRetryWindowExceeded::new_err(msg),
        // `Error` is non_exhaustive: a kind added later is still a PSSSTException.
        _ => PSSSTException::new_err(msg),
    }
}
