//! The one error type of pssst-core.

use core::fmt;

/// Everything that can go wrong in pssst-core.
///
/// Crypto failures are deliberately coarse: a forged, corrupted or misdirected
/// packet is [`Error::DecryptionFailed`] whatever the reason, so an attacker
/// learns nothing from the answer.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The packet (or a client-auth proof inside it) is too short to parse.
    Truncated,
    /// A server was given a packet with the REPLY flag set.
    NotRequest,
    /// A client reply handler was given a packet without the REPLY flag.
    NotReply,
    /// The cipher suite field is not one this library implements (suites 1
    /// and 0xFF01), or not one this server accepts.
    UnsupportedCipherSuite,
    /// AEAD authentication failed: the packet was forged, corrupted, relabeled
    /// with another suite, or is not for this key.
    DecryptionFailed,
    /// The request decrypted, but its client-authentication proof is invalid.
    ClientAuthFailed,
    /// The reply is not for the request this handler belongs to (other DH
    /// parameter, other authentication mode, other cipher suite).
    ReplyMismatch,
    /// An X25519 result was all zero: a low-order (non-contributory) public
    /// key or DH parameter.
    LowOrderPoint,
    /// A reply handler was used after it had already done its one job.
    HandlerReused,
    /// The output buffer is too small; `needed` bytes are required.
    BufferTooSmall {
        /// The buffer size that would have been enough.
        needed: usize,
    },
    /// The random number generator failed.
    RngFailure,
    /// A key was not 32 bytes, or not 64 hex digits.
    InvalidKey,
    /// The message is longer than AES-GCM can encrypt in one packet (the
    /// limit of both suites).
    MessageTooLarge,
    /// A retry schedule would send a copy of a request later than
    /// [`RETRANSMISSION_WINDOW`](crate::RETRANSMISSION_WINDOW) after the
    /// first: a server may have forgotten the reply by then, and a second
    /// reply would reuse the AES-GCM nonce. Send a fresh request instead.
    RetryWindowExceeded,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("packet truncated"),
            Error::NotRequest => f.write_str("packet is not a request (REPLY flag set)"),
            Error::NotReply => f.write_str("packet is not a reply (REPLY flag clear)"),
            Error::UnsupportedCipherSuite => f.write_str("unsupported cipher suite"),
            Error::DecryptionFailed => f.write_str("decryption failed"),
            Error::ClientAuthFailed => f.write_str("client authentication failed"),
            Error::ReplyMismatch => f.write_str("reply does not match the request"),
            Error::LowOrderPoint => f.write_str("low-order X25519 point (all-zero shared secret)"),
            Error::HandlerReused => f.write_str("reply handler already used"),
            Error::BufferTooSmall { needed } => {
                write!(f, "output buffer too small ({needed} bytes needed)")
            }
            Error::RngFailure => f.write_str("random number generator failed"),
            Error::InvalidKey => f.write_str("invalid key (expected 32 bytes or 64 hex digits)"),
            Error::MessageTooLarge => f.write_str("message too large for one packet"),
            Error::RetryWindowExceeded => write!(
                f,
                "retry schedule resends a request later than the retransmission window ({} ms)",
                crate::RETRANSMISSION_WINDOW_MS
            ),
        }
    }
}

impl core::error::Error for Error {}

/// `Result` with pssst-core's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;
