//! The 4-byte packet header: u16 flags, u16 cipher suite, both big-endian.

use crate::suite::CipherSuite;
use crate::{Error, Result};

/// Header length in bytes; the header is the AEAD's associated data.
pub const HEADER_LEN: usize = 4;
/// Flag bit: the packet is a reply.
pub const FLAG_REPLY: u16 = 0x8000;
/// Flag bit: the request carries client authentication.
pub const FLAG_CLIENT_AUTH: u16 = 0x4000;

/// A parsed packet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// All 16 flag bits as sent; unknown bits are kept (they are authenticated).
    pub flags: u16,
    /// The cipher suite field.
    pub cipher_suite: u16,
}

impl Header {
    /// Reads the header at the start of `packet` without checking its fields.
    pub fn parse(packet: &[u8]) -> Result<Header> {
        match packet {
            [f0, f1, s0, s1, ..] => Ok(Header {
                flags: u16::from_be_bytes([*f0, *f1]),
                cipher_suite: u16::from_be_bytes([*s0, *s1]),
            }),
            _ => Err(Error::Truncated),
        }
    }

    /// The header of a request (client_auth chooses the flag) or of its reply.
    pub(crate) const fn new(suite: CipherSuite, reply: bool, client_auth: bool) -> Header {
        let mut flags = 0;
        if reply {
            flags |= FLAG_REPLY;
        }
        if client_auth {
            flags |= FLAG_CLIENT_AUTH;
        }
        Header {
            flags,
            cipher_suite: suite.id(),
        }
    }

    /// The wire encoding.
    pub fn to_bytes(self) -> [u8; HEADER_LEN] {
        let [f0, f1] = self.flags.to_be_bytes();
        let [s0, s1] = self.cipher_suite.to_be_bytes();
        [f0, f1, s0, s1]
    }

    /// True when the REPLY flag is set.
    pub fn is_reply(self) -> bool {
        self.flags & FLAG_REPLY != 0
    }

    /// True when the CLIENT_AUTH flag is set.
    pub fn is_client_auth(self) -> bool {
        self.flags & FLAG_CLIENT_AUTH != 0
    }

    /// The cipher suite, or [`Error::UnsupportedCipherSuite`] if this crate
    /// does not implement it.
    pub fn suite(self) -> Result<CipherSuite> {
        CipherSuite::from_id(self.cipher_suite)
    }
}
