//! Where each field of a packet lies: the one owner of PSSST's layout.
//! Transports, tools and tests ask here rather than slicing packets with
//! offsets of their own.
//!
//! A packet is the header, the DH parameter, then the sealed body
//! (ciphertext, starting with the client-auth proof when the request
//! carries one, then the tag).
//!
//! ```
//! use pssst_core::{Client, generate_key_pair, layout};
//!
//! let (_, server_public) = generate_key_pair()?;
//! let (mut request, _) = Client::new(server_public)?.pack_request(b"hi")?;
//! let request_id = *layout::dh_param(&request).expect("a request carries one");
//! assert_eq!(request[layout::DH_PARAM], request_id);
//! layout::body_mut(&mut request).expect("a request has a body")[0] ^= 1;  // now it fails to decrypt
//! # Ok::<(), pssst_core::Error>(())
//! ```

use core::ops::{Range, RangeFrom};

use crate::header::HEADER_LEN;
use crate::session::DH_PARAM_LEN;

/// The header: flags, then the cipher suite (each a big-endian `u16`).
pub const HEADER: Range<usize> = 0..HEADER_LEN;
/// The DH parameter: the request's ephemeral public key, which is also the
/// request's id (a reply carries the DH parameter of its request).
pub const DH_PARAM: Range<usize> = HEADER_LEN..HEADER_LEN + DH_PARAM_LEN;
/// The sealed body: everything after the DH parameter.
pub const BODY: RangeFrom<usize> = DH_PARAM.end..;

/// The DH parameter of `packet` (a request's id, or the id of the request
/// a reply answers), or `None` when it is too short to carry one.
pub fn dh_param(packet: &[u8]) -> Option<&[u8; DH_PARAM_LEN]> {
    packet.get(DH_PARAM)?.try_into().ok()
}

/// The DH parameter of `packet`, to overwrite (tests and junk generators).
pub fn dh_param_mut(packet: &mut [u8]) -> Option<&mut [u8; DH_PARAM_LEN]> {
    packet.get_mut(DH_PARAM)?.try_into().ok()
}

/// The sealed body of `packet`, to overwrite (tests and junk generators),
/// or `None` when it is too short to have one.
pub fn body_mut(packet: &mut [u8]) -> Option<&mut [u8]> {
    packet.get_mut(BODY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PACKET_OVERHEAD, TAG_LEN};

    #[test]
    fn the_fields_tile_the_packet_overhead() {
        assert_eq!(HEADER.end, DH_PARAM.start);
        assert_eq!(DH_PARAM.end, BODY.start);
        assert_eq!(BODY.start + TAG_LEN, PACKET_OVERHEAD);
    }

    #[test]
    fn short_packets_have_no_dh_param_or_body() {
        let mut packet = [7u8; 40];
        for len in 0..DH_PARAM.end {
            assert_eq!(dh_param(&packet[..len]), None, "{len}");
            assert_eq!(dh_param_mut(&mut packet[..len]), None, "{len}");
        }
        assert_eq!(dh_param(&packet[..DH_PARAM.end]), Some(&[7; DH_PARAM_LEN]));
        assert_eq!(body_mut(&mut packet[..DH_PARAM.end - 1]), None);
        assert_eq!(body_mut(&mut packet[..DH_PARAM.end]), Some(&mut [][..]));
        assert_eq!(body_mut(&mut packet).map(|body| body.len()), Some(4));
    }
}
