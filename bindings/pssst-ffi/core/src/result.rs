//! `pssst_result`: the status every fallible function of both C libraries
//! returns, its text, and the one mapping from pssst-core's errors.

use core::ffi::CStr;

use pssst_core::Error;

/// The status every fallible pssst function returns. `PSSST_OK` is 0; every
/// other value is an error, and `pssst_result_message` describes it.
///
/// The codes from `PSSST_ERR_TRUNCATED` to `PSSST_ERR_RETRY_WINDOW_EXCEEDED`
/// are pssst-core's errors; the others come from the C API itself.
/// Crypto failures are deliberately coarse: a forged, corrupted or
/// misdirected packet is `PSSST_ERR_DECRYPTION_FAILED`, whatever the cause.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum pssst_result {
    /// Success.
    PSSST_OK = 0,
    /// The packet (or the client-auth proof inside it) is too short to parse.
    PSSST_ERR_TRUNCATED = 1,
    /// A server was given a packet with the REPLY flag set.
    PSSST_ERR_NOT_REQUEST = 2,
    /// A client reply handler was given a packet without the REPLY flag.
    PSSST_ERR_NOT_REPLY = 3,
    /// The cipher suite is not one this library implements (1, 0xFF01), or
    /// not one this server accepts.
    PSSST_ERR_UNSUPPORTED_CIPHER_SUITE = 4,
    /// AEAD authentication failed: forged, corrupted, relabeled with another
    /// suite, or not for this key.
    PSSST_ERR_DECRYPTION_FAILED = 5,
    /// The request decrypted, but its client-authentication proof is invalid.
    PSSST_ERR_CLIENT_AUTH_FAILED = 6,
    /// The reply is not for the request this handler belongs to.
    PSSST_ERR_REPLY_MISMATCH = 7,
    /// An X25519 result was all zero (a low-order key or DH parameter).
    PSSST_ERR_LOW_ORDER_POINT = 8,
    /// A reply handler was used after it had done its one job.
    PSSST_ERR_HANDLER_REUSED = 9,
    /// An output buffer is too small; the size needed was written to the
    /// length out-parameter. Retry with a buffer at least that large.
    PSSST_ERR_BUFFER_TOO_SMALL = 10,
    /// The random number generator failed.
    PSSST_ERR_RNG_FAILURE = 11,
    /// A key is invalid.
    PSSST_ERR_INVALID_KEY = 12,
    /// A message, packet or buffer is longer than one packet can carry.
    PSSST_ERR_MESSAGE_TOO_LARGE = 13,
    /// A retry schedule would send a copy of a request later than
    /// `PSSST_RETRANSMISSION_WINDOW_MS` after the first.
    PSSST_ERR_RETRY_WINDOW_EXCEEDED = 14,
    /// A required pointer argument was NULL (or a buffer pointer was NULL
    /// with a non-zero length).
    PSSST_ERR_NULL_ARGUMENT = 100,
    /// An input buffer and an output buffer overlap; use separate buffers.
    PSSST_ERR_BUFFERS_OVERLAP = 101,
    /// The library panicked (a bug in pssst: please report it). Nothing was
    /// written to the out-parameters beyond their initial reset.
    PSSST_ERR_PANIC = 102,
    /// An error this version of the C API has no code for yet.
    PSSST_ERR_UNKNOWN = 199,
}

use pssst_result::*;

/// Runs the body of a fallible export: `Ok(())` is `PSSST_OK`.
pub fn status(body: impl FnOnce() -> Result<(), pssst_result>) -> pssst_result {
    body().err().unwrap_or(PSSST_OK)
}

impl From<Error> for pssst_result {
    fn from(error: Error) -> pssst_result {
        match error {
            Error::Truncated => PSSST_ERR_TRUNCATED,
            Error::NotRequest => PSSST_ERR_NOT_REQUEST,
            Error::NotReply => PSSST_ERR_NOT_REPLY,
            Error::UnsupportedCipherSuite => PSSST_ERR_UNSUPPORTED_CIPHER_SUITE,
            Error::DecryptionFailed => PSSST_ERR_DECRYPTION_FAILED,
            Error::ClientAuthFailed => PSSST_ERR_CLIENT_AUTH_FAILED,
            Error::ReplyMismatch => PSSST_ERR_REPLY_MISMATCH,
            Error::LowOrderPoint => PSSST_ERR_LOW_ORDER_POINT,
            Error::HandlerReused => PSSST_ERR_HANDLER_REUSED,
            Error::BufferTooSmall { .. } => PSSST_ERR_BUFFER_TOO_SMALL,
            Error::RngFailure => PSSST_ERR_RNG_FAILURE,
            Error::InvalidKey => PSSST_ERR_INVALID_KEY,
            Error::MessageTooLarge => PSSST_ERR_MESSAGE_TOO_LARGE,
            Error::RetryWindowExceeded => PSSST_ERR_RETRY_WINDOW_EXCEEDED,
            _ => PSSST_ERR_UNKNOWN,
        }
    }
}

impl pssst_result {
    /// Every code, for looking one up from an integer.
    const ALL: [pssst_result; 19] = [
        PSSST_OK,
        PSSST_ERR_TRUNCATED,
        PSSST_ERR_NOT_REQUEST,
        PSSST_ERR_NOT_REPLY,
        PSSST_ERR_UNSUPPORTED_CIPHER_SUITE,
        PSSST_ERR_DECRYPTION_FAILED,
        PSSST_ERR_CLIENT_AUTH_FAILED,
        PSSST_ERR_REPLY_MISMATCH,
        PSSST_ERR_LOW_ORDER_POINT,
        PSSST_ERR_HANDLER_REUSED,
        PSSST_ERR_BUFFER_TOO_SMALL,
        PSSST_ERR_RNG_FAILURE,
        PSSST_ERR_INVALID_KEY,
        PSSST_ERR_MESSAGE_TOO_LARGE,
        PSSST_ERR_RETRY_WINDOW_EXCEEDED,
        PSSST_ERR_NULL_ARGUMENT,
        PSSST_ERR_BUFFERS_OVERLAP,
        PSSST_ERR_PANIC,
        PSSST_ERR_UNKNOWN,
    ];

    /// The code whose number is `code`, if any.
    pub fn from_code(code: u32) -> Option<pssst_result> {
        Self::ALL.into_iter().find(|result| *result as u32 == code)
    }

    /// A static English description of the code.
    pub fn message(self) -> &'static CStr {
        match self {
            PSSST_OK => c"success",
            PSSST_ERR_TRUNCATED => c"packet truncated",
            PSSST_ERR_NOT_REQUEST => c"packet is not a request (REPLY flag set)",
            PSSST_ERR_NOT_REPLY => c"packet is not a reply (REPLY flag clear)",
            PSSST_ERR_UNSUPPORTED_CIPHER_SUITE => c"unsupported cipher suite",
            PSSST_ERR_DECRYPTION_FAILED => c"decryption failed",
            PSSST_ERR_CLIENT_AUTH_FAILED => c"client authentication failed",
            PSSST_ERR_REPLY_MISMATCH => c"reply does not match the request",
            PSSST_ERR_LOW_ORDER_POINT => c"low-order X25519 point (all-zero shared secret)",
            PSSST_ERR_HANDLER_REUSED => c"reply handler already used",
            PSSST_ERR_BUFFER_TOO_SMALL => c"output buffer too small",
            PSSST_ERR_RNG_FAILURE => c"random number generator failed",
            PSSST_ERR_INVALID_KEY => c"invalid key",
            PSSST_ERR_MESSAGE_TOO_LARGE => c"message too large for one packet",
            PSSST_ERR_RETRY_WINDOW_EXCEEDED => {
                c"retry schedule resends a request later than the retransmission window"
            }
            PSSST_ERR_NULL_ARGUMENT => c"a required pointer argument was NULL",
            PSSST_ERR_BUFFERS_OVERLAP => c"input and output buffers overlap",
            PSSST_ERR_PANIC => c"internal panic in libpssst (a bug: please report it)",
            PSSST_ERR_UNKNOWN => c"unknown error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_message() {
        for (i, a) in pssst_result::ALL.iter().enumerate() {
            assert_eq!(pssst_result::from_code(*a as u32), Some(*a));
            for b in &pssst_result::ALL[..i] {
                assert_ne!(*a as u32, *b as u32);
                assert_ne!(a.message(), b.message());
            }
        }
        assert_eq!(pssst_result::from_code(12345), None);
    }

    #[test]
    fn core_errors_map_to_their_own_codes() {
        let errors = [
            Error::Truncated,
            Error::NotRequest,
            Error::NotReply,
            Error::UnsupportedCipherSuite,
            Error::DecryptionFailed,
            Error::ClientAuthFailed,
            Error::ReplyMismatch,
            Error::LowOrderPoint,
            Error::HandlerReused,
            Error::BufferTooSmall { needed: 1 },
            Error::RngFailure,
            Error::InvalidKey,
            Error::MessageTooLarge,
            Error::RetryWindowExceeded,
        ];
        for (i, error) in errors.iter().enumerate() {
            let code = pssst_result::from(*error);
            assert_eq!(code as u32, i as u32 + 1, "{error}");
        }
    }
}
