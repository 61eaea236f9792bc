//! The checks a server makes on a request before any cryptography:
//! everything the length, the header and the DH parameter tell for free.
//! Transports call [`Server::precheck`] to drop junk before it costs an
//! X25519; [`Server::unpack_request_in_place`] and friends need no such call.

use crate::header::Header;
use crate::session::{DH_PARAM_LEN, dh_param_of};
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

impl Server {
    /// Every check on a request packet that needs no cryptography, cheapest
    /// first: [`Error::Truncated`] (shorter than the smallest request of its
    /// kind, client-auth proof included), [`Error::NotRequest`] (REPLY flag),
    /// [`Error::UnsupportedCipherSuite`] (a suite this server does not
    /// accept), [`Error::LowOrderPoint`] (a DH parameter of small order,
    /// which could never decrypt). Returns the header. Costs a few
    /// comparisons: call it first on untrusted input.
    pub fn precheck(&self, packet: &[u8]) -> Result<Header> {
        let header = Header::parse(packet)?;
        if header.is_reply() {
            return Err(Error::NotRequest);
        }
        self.accepted_suite(header)?;
        let proof = if header.is_client_auth() {
            CLIENT_AUTH_OVERHEAD
        } else {
            0
        };
        if packet.len() < PACKET_OVERHEAD + proof {
            return Err(Error::Truncated);
        }
        if is_low_order(&dh_param_of(packet)?) {
            return Err(Error::LowOrderPoint);
        }
        Ok(header)
    }
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
