//! The checks a server makes before any X25519 work: everything that can be
//! read off the header, the length and the DH parameter for free.

use pssst_core::{
    CLIENT_AUTH_OVERHEAD, DH_PARAM_LEN, HEADER_LEN, Header, PACKET_OVERHEAD, SUITE_X25519_AESGCM128,
};

use crate::stats::Counter;

/// X25519 u-coordinates of small order (and their non-canonical encodings
/// u + p): multiplying them by any clamped scalar gives zero, so a request
/// carrying one as its DH parameter can never decrypt. The list libsodium
/// checks; X25519 ignores bit 255, so it is masked before comparing.
const LOW_ORDER_POINTS: [[u8; 32]; 7] = [
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

/// The small-order points a server drops without computing anything.
pub fn low_order_points() -> &'static [[u8; 32]] {
    &LOW_ORDER_POINTS
}

/// True when `dh_param` is a known small-order point (bit 255 ignored).
/// The DH parameter is public, so a plain comparison is fine.
pub fn is_low_order(dh_param: &[u8; DH_PARAM_LEN]) -> bool {
    LOW_ORDER_POINTS
        .iter()
        .any(|point| point[..31] == dh_param[..31] && point[31] == dh_param[31] & 0x7f)
}

/// What the free checks decided about one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precheck {
    /// Worth an X25519: a suite-1 request, long enough, with a DH parameter
    /// that is not known to be of small order.
    Request,
    /// Junk, and which counter it goes to.
    Drop(Counter),
}

/// Classifies `packet` without any cryptography. `closed` drops anonymous
/// requests (a closed service only answers authenticated clients).
pub(crate) fn precheck(packet: &[u8], closed: bool) -> Precheck {
    let Ok(header) = Header::parse(packet) else {
        return Precheck::Drop(Counter::DroppedShort);
    };
    if header.is_reply() {
        return Precheck::Drop(Counter::DroppedReplyFlag);
    }
    if header.cipher_suite != SUITE_X25519_AESGCM128 {
        return Precheck::Drop(Counter::DroppedUnknownSuite);
    }
    let client_auth = header.is_client_auth();
    let min_len = PACKET_OVERHEAD + if client_auth { CLIENT_AUTH_OVERHEAD } else { 0 };
    if packet.len() < min_len {
        return Precheck::Drop(Counter::DroppedShort);
    }
    if closed && !client_auth {
        return Precheck::Drop(Counter::DroppedUnauthorized);
    }
    let mut dh_param = [0u8; DH_PARAM_LEN];
    dh_param.copy_from_slice(&packet[HEADER_LEN..HEADER_LEN + DH_PARAM_LEN]);
    if is_low_order(&dh_param) {
        return Precheck::Drop(Counter::DroppedLowOrder);
    }
    Precheck::Request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(flags: u16, suite: u16, len: usize) -> Vec<u8> {
        let mut packet = vec![0x42; len.max(4)];
        packet[..2].copy_from_slice(&flags.to_be_bytes());
        packet[2..4].copy_from_slice(&suite.to_be_bytes());
        packet.truncate(len);
        packet
    }

    #[test]
    fn every_listed_point_really_has_small_order() {
        let scalar = [0x77; 32];
        for point in low_order_points() {
            assert_eq!(
                pssst_core::backend::x25519(&scalar, point).err(),
                Some(pssst_core::Error::LowOrderPoint),
                "{point:02x?}"
            );
            let mut high_bit = *point;
            high_bit[31] |= 0x80;
            assert!(is_low_order(&high_bit));
        }
    }

    #[test]
    fn a_real_public_key_is_not_low_order() {
        let (_, public) = pssst_core::generate_key_pair().unwrap();
        assert!(!is_low_order(public.as_bytes()));
    }

    #[test]
    fn short_packets_of_every_length_are_dropped_as_short() {
        for len in 0..PACKET_OVERHEAD {
            let packet = request(0, 1, len);
            assert_eq!(
                precheck(&packet, false),
                Precheck::Drop(Counter::DroppedShort),
                "len {len}"
            );
        }
        for len in PACKET_OVERHEAD..PACKET_OVERHEAD + CLIENT_AUTH_OVERHEAD {
            let packet = request(0x4000, 1, len);
            assert_eq!(
                precheck(&packet, false),
                Precheck::Drop(Counter::DroppedShort)
            );
        }
    }

    #[test]
    fn reply_flag_and_unknown_suite_are_dropped() {
        assert_eq!(
            precheck(&request(0x8000, 1, 100), false),
            Precheck::Drop(Counter::DroppedReplyFlag)
        );
        assert_eq!(
            precheck(&request(0, 2, 100), false),
            Precheck::Drop(Counter::DroppedUnknownSuite)
        );
    }

    #[test]
    fn low_order_dh_parameter_is_dropped() {
        let mut packet = request(0, 1, 100);
        packet[4..36].fill(0);
        assert_eq!(
            precheck(&packet, false),
            Precheck::Drop(Counter::DroppedLowOrder)
        );
    }

    #[test]
    fn closed_service_drops_anonymous_before_crypto() {
        assert_eq!(
            precheck(&request(0, 1, 100), true),
            Precheck::Drop(Counter::DroppedUnauthorized)
        );
        assert_eq!(precheck(&request(0x4000, 1, 200), true), Precheck::Request);
    }
}
