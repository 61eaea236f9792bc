//! The checks a server makes on a request before any cryptography:
//! everything the length, the header and the DH parameter tell for free.
//! [`Server::precheck`] is the first stage of the two-stage server API: it
//! drops junk before it costs an X25519 and returns a [`Prechecked`]
//! request, which [`Server::open_in_place`] decrypts (with each key in
//! turn, if a server has several). [`Server::unpack_request_in_place`] and
//! friends run both stages in one call.

use crate::header::Header;
use crate::request_id::RequestId;
use crate::session::DH_PARAM_LEN;
use crate::suite::CipherSuite;
use crate::{CLIENT_AUTH_OVERHEAD, Error, PACKET_OVERHEAD, Result, Server};

/// X25519 u-coordinates of small order (and their non-canonical encodings
/// u + p), in this order: 0, 1, two points of order 8, p - 1, p, p + 1.
/// Multiplying them by any clamped scalar gives zero, so a request carrying
/// one as its DH parameter can never decrypt: [`Server::precheck`] refuses
/// them ([`Error::LowOrderPoint`]). The list libsodium checks; X25519
/// ignores bit 255, so it is masked before comparing.
pub const LOW_ORDER_POINTS: [[u8; 32]; 7] = [
    // 0
    [0; 32],
    // 1
    [
        0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0,
    ],
    // 325606250916557431795983626356110631294008115727848805560023387167927233504 (order 8)
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    // 39382357235489614581723060781553021112529911719440698176882885853963445705823 (order 8)
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
    // p - 1
    [
        0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    // p (= 0)
    [
        0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
    // p + 1 (= 1)
    [
        0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x7f,
    ],
];

/// True when `dh_param` is a known small-order point (bit 255 ignored).
/// The DH parameter is public, so a plain comparison is fine.
fn is_low_order(dh_param: &[u8; DH_PARAM_LEN]) -> bool {
    LOW_ORDER_POINTS
        .iter()
        .any(|point| point[..31] == dh_param[..31] && point[31] == dh_param[31] & 0x7f)
}

/// A request packet that passed every check needing no cryptography
/// ([`Server::precheck`]): what its header, length and DH parameter say.
/// Cheap to copy; it borrows nothing, so the packet can then be decrypted
/// in place ([`Server::open_in_place`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prechecked {
    header: Header,
    suite: CipherSuite,
    request_id: RequestId,
    len: usize,
}

impl Prechecked {
    /// The request's header (its flags and suite; the AEAD's associated data).
    pub fn header(&self) -> Header {
        self.header
    }

    /// The request's cipher suite, one its server accepts.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The request's id, its DH parameter: the cache key for its copies,
    /// known before any X25519.
    pub fn request_id(&self) -> RequestId {
        self.request_id
    }

    /// True when the request claims client authentication (proven only by
    /// opening it).
    pub fn is_client_auth(&self) -> bool {
        self.header.is_client_auth()
    }

    /// The length of the packet that was checked.
    pub fn packet_len(&self) -> usize {
        self.len
    }

    /// True when `packet` is the one checked: same length, header and DH
    /// parameter (36 bytes compared, no cryptography).
    pub(crate) fn describes(&self, packet: &[u8]) -> bool {
        packet.len() == self.len
            && Header::parse(packet).ok() == Some(self.header)
            && RequestId::of(packet) == Some(self.request_id)
    }
}

impl Server {
    /// Every check on a request packet that needs no cryptography, cheapest
    /// first: [`Error::Truncated`] (shorter than the smallest request of its
    /// kind, client-auth proof included), [`Error::NotRequest`] (REPLY flag),
    /// [`Error::UnsupportedCipherSuite`] (a suite this server does not
    /// accept), [`Error::LowOrderPoint`] (a DH parameter of small order,
    /// which could never decrypt). Costs a few comparisons: call it first on
    /// untrusted input, then [`open_in_place`](Self::open_in_place).
    ///
    /// ```
    /// use pssst_core::{Client, Error, RequestId, Server, generate_key_pair};
    ///
    /// let (server_private, server_public) = generate_key_pair()?;
    /// let server = Server::new(server_private);
    /// let (mut packet, _) = Client::new(server_public)?.pack_request(b"hi")?;
    /// let request = server.precheck(&packet)?;
    /// assert_eq!(Some(request.request_id()), RequestId::of(&packet));
    /// let opened = server.open_in_place(&request, &mut packet)?;
    /// assert_eq!(&packet[opened.message], b"hi");
    /// assert_eq!(server.precheck(&packet[..10]).err(), Some(Error::Truncated));
    /// # Ok::<(), pssst_core::Error>(())
    /// ```
    pub fn precheck(&self, packet: &[u8]) -> Result<Prechecked> {
        self.check(packet, ProofLength::Checked)
    }

    /// [`precheck`](Self::precheck), with the client-auth proof's length
    /// checked or left to decryption.
    pub(crate) fn check(&self, packet: &[u8], proof: ProofLength) -> Result<Prechecked> {
        let header = Header::parse(packet)?;
        if header.is_reply() {
            return Err(Error::NotRequest);
        }
        let suite = self.accepted_suite(header)?;
        let proof_len = match proof {
            ProofLength::Checked if header.is_client_auth() => CLIENT_AUTH_OVERHEAD,
            _ => 0,
        };
        if packet.len() < PACKET_OVERHEAD + proof_len {
            return Err(Error::Truncated);
        }
        let request_id = RequestId::of(packet).ok_or(Error::Truncated)?;
        if is_low_order(request_id.as_bytes()) {
            return Err(Error::LowOrderPoint);
        }
        Ok(Prechecked {
            header,
            suite,
            request_id,
            len: packet.len(),
        })
    }
}

/// Whether a client-auth request too short to carry its proof fails the
/// precheck ([`Error::Truncated`], a server's cheap drop) or decryption, as
/// in the Go and Python references: their tag check comes first, and the
/// must-reject vectors (a flag flipped on an anonymous request) expect
/// [`Error::DecryptionFailed`]. The one-call `unpack_request*` keep theirs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProofLength {
    Checked,
    LeftToDecryption,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CipherSuite, CipherSuites};

    /// 256 bytes with this header; slice it to the length wanted.
    fn request(flags: u16, suite: u16) -> [u8; 256] {
        let mut packet = [0x42; 256];
        packet[..2].copy_from_slice(&flags.to_be_bytes());
        packet[2..4].copy_from_slice(&suite.to_be_bytes());
        packet
    }

    #[test]
    fn every_listed_point_really_has_small_order() {
        for point in &LOW_ORDER_POINTS {
            assert_eq!(
                crate::backend::x25519(&[0x77; 32], point).err(),
                Some(Error::LowOrderPoint),
                "{point:02x?}"
            );
            let mut high_bit = *point;
            high_bit[31] |= 0x80;
            assert!(is_low_order(&high_bit));
        }
    }

    #[test]
    fn a_real_public_key_is_not_low_order() {
        let public = crate::PrivateKey::from_bytes([9; 32]).public_key();
        assert!(!is_low_order(public.as_bytes()));
    }

    fn server() -> Server {
        Server::new(crate::PrivateKey::from_bytes([9; 32]))
    }

    #[test]
    fn every_length_below_the_smallest_request_is_truncated() {
        let server = server();
        for suite in CipherSuite::ALL {
            for (flags, min) in [
                (0, PACKET_OVERHEAD),
                (0x4000, PACKET_OVERHEAD + CLIENT_AUTH_OVERHEAD),
            ] {
                let packet = request(flags, suite.id());
                for len in 0..min {
                    assert_eq!(
                        server.precheck(&packet[..len]).err(),
                        Some(Error::Truncated),
                        "{suite} {len}"
                    );
                }
                assert!(server.precheck(&packet[..min]).is_ok(), "{suite}");
            }
        }
    }

    #[test]
    fn reply_flag_unknown_suite_and_low_order_are_refused() {
        let server = server();
        for suite in CipherSuite::ALL {
            let packet = request(0x8000, suite.id());
            assert_eq!(
                server.precheck(&packet[..100]).err(),
                Some(Error::NotRequest)
            );
            let mut packet = request(0, suite.id());
            packet[4..36].fill(0);
            assert_eq!(
                server.precheck(&packet[..100]).err(),
                Some(Error::LowOrderPoint)
            );
        }
        for unknown in [0, 2, 0xFF00, 0xFF02, 0xFFFF] {
            let packet = request(0, unknown);
            assert_eq!(
                server.precheck(&packet[..100]).err(),
                Some(Error::UnsupportedCipherSuite),
                "{unknown:#x}"
            );
        }
    }

    #[test]
    fn a_suite_the_server_does_not_accept_is_refused_before_anything_else() {
        for accepted in CipherSuite::ALL {
            let server = server().with_suites(CipherSuites::only(accepted));
            for suite in CipherSuite::ALL {
                // Long enough, a valid-looking DH parameter: only the suite decides.
                let verdict = server.precheck(&request(0, suite.id())[..100]);
                if suite == accepted {
                    assert!(verdict.is_ok(), "{suite}");
                } else {
                    assert_eq!(verdict.err(), Some(Error::UnsupportedCipherSuite));
                    // Before the length and low-order checks too.
                    let mut short_low_order = request(0, suite.id());
                    short_low_order[4..36].fill(0);
                    assert_eq!(
                        server.precheck(&short_low_order[..40]).err(),
                        Some(Error::UnsupportedCipherSuite)
                    );
                }
            }
        }
    }
}
