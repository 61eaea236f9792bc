//! Malformed packets for demos, soak tests and fuzzing your own server
//! (feature `junk`).
//!
//! Each [`Junk`] kind turns one valid request into a packet a server must
//! refuse in one known way, and says how ([`Junk::outcome`]): dropped and
//! counted under a given [`Counter`], or answered again (a replay). The
//! randomness comes from the caller (any `FnMut() -> u64`, for example
//! [`XorShift`]), so a run can be repeated from its seed and this module
//! needs no dependency.
//!
//! Where each field lies in a packet is pssst-core's to say
//! ([`pssst_core::layout`]), and so are the small-order points
//! ([`LOW_ORDER_POINTS`]) and the checks a server makes
//! ([`pssst_core::Server::precheck`] and decryption).
//!
//! ```
//! use pssst_udp::Counter;
//! use pssst_udp::junk::{Junk, Outcome, XorShift};
//!
//! let (_, server) = pssst_core::generate_key_pair()?;
//! let (valid, _) = pssst_core::Client::new(server)?.pack_request(b"hello")?;
//! let mut rng = XorShift::new(42);
//! let packet = Junk::ReplyFlag.make(&valid, &mut || rng.next_u64());
//! assert_eq!(packet.len(), valid.len());
//! assert_eq!(Junk::ReplyFlag.outcome(), Outcome::Dropped(Counter::DroppedReplyFlag));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use pssst_core::{CLIENT_AUTH_OVERHEAD, DH_PARAM_LEN, FLAG_CLIENT_AUTH, FLAG_REPLY, HEADER_LEN};
use pssst_core::{CipherSuite, Header, LOW_ORDER_POINTS, PACKET_OVERHEAD, layout};

use crate::Counter;

/// Largest packet [`Junk::RandomBytes`] makes: about one Ethernet MTU.
const RANDOM_BYTES_MAX: u64 = 1500;

/// One kind of malformed packet, made from a valid request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Junk {
    /// Cut to fewer bytes than the smallest request (0 up to
    /// [`PACKET_OVERHEAD`] - 1).
    TooShort,
    /// One to three bytes: not even a header.
    Tiny,
    /// The CLIENT_AUTH flag set, and one byte too short to carry the
    /// client's key and proof.
    ClientAuthTooShort,
    /// The REPLY flag set: a reply is not a request.
    ReplyFlag,
    /// A cipher suite pssst-core does not implement.
    UnknownSuite,
    /// The DH parameter replaced by a point of small order, which could
    /// never decrypt.
    SmallOrderDh(SmallOrder),
    /// Header and DH parameter kept, everything after them random.
    RandomBody,
    /// One bit flipped somewhere after the header.
    BitFlipped,
    /// The valid request unchanged: a replay.
    Replay,
    /// Random bytes of a random length (up to 1,500): any drop reason.
    RandomBytes,
}

/// A small-order X25519 u-coordinate from pssst-core's
/// [`LOW_ORDER_POINTS`], for [`Junk::SmallOrderDh`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmallOrder {
    /// u = 0, all-zero bytes.
    Zero,
    /// u = 1.
    One,
    /// u = p - 1, with p = 2^255 - 19.
    MinusOne,
}

impl SmallOrder {
    /// The 32 little-endian bytes of the point.
    pub fn bytes(self) -> [u8; DH_PARAM_LEN] {
        // Positions in pssst-core's list: 0, 1, (two of order 8), p - 1.
        LOW_ORDER_POINTS[match self {
            SmallOrder::Zero => 0,
            SmallOrder::One => 1,
            SmallOrder::MinusOne => 4,
        }]
    }
}

/// What a server must do with a packet of one kind of [`Junk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Dropped, and counted under this reason.
    Dropped(Counter),
    /// Dropped, under whichever reason the random bytes happen to select.
    DroppedAnyReason,
    /// Answered: a stateless server cannot tell a replay from a retry, so
    /// it answers again with the identical reply (to the replayer).
    Answered,
}

impl Junk {
    /// Every kind whose outcome is certain (all but
    /// [`Junk::RandomBytes`]), with the all-zero small-order point.
    pub const CERTAIN: [Junk; 9] = [
        Junk::TooShort,
        Junk::Tiny,
        Junk::ClientAuthTooShort,
        Junk::ReplyFlag,
        Junk::UnknownSuite,
        Junk::SmallOrderDh(SmallOrder::Zero),
        Junk::RandomBody,
        Junk::BitFlipped,
        Junk::Replay,
    ];

    /// What a server must do with a packet of this kind.
    pub fn outcome(self) -> Outcome {
        match self {
            Junk::TooShort | Junk::Tiny | Junk::ClientAuthTooShort => {
                Outcome::Dropped(Counter::DroppedShort)
            }
            Junk::ReplyFlag => Outcome::Dropped(Counter::DroppedReplyFlag),
            Junk::UnknownSuite => Outcome::Dropped(Counter::DroppedUnknownSuite),
            Junk::SmallOrderDh(_) => Outcome::Dropped(Counter::DroppedLowOrder),
            Junk::RandomBody | Junk::BitFlipped => Outcome::Dropped(Counter::DroppedDecryptFailed),
            Junk::Replay => Outcome::Answered,
            Junk::RandomBytes => Outcome::DroppedAnyReason,
        }
    }

    /// A short description, as a demo prints it.
    pub fn name(self) -> &'static str {
        match self {
            Junk::TooShort => "truncated request",
            Junk::Tiny => "tiny datagram",
            Junk::ClientAuthTooShort => "client-auth request too short for its proof",
            Junk::ReplyFlag => "REPLY flag set",
            Junk::UnknownSuite => "unknown cipher suite",
            Junk::SmallOrderDh(SmallOrder::Zero) => "all-zero DH parameter",
            Junk::SmallOrderDh(SmallOrder::One) => "DH parameter 1",
            Junk::SmallOrderDh(SmallOrder::MinusOne) => "DH parameter p - 1",
            Junk::RandomBody => "random body",
            Junk::BitFlipped => "one bit flipped",
            Junk::Replay => "replayed request",
            Junk::RandomBytes => "random bytes",
        }
    }

    /// A packet of this kind, made from `valid` (a request packed by
    /// [`pssst_core::Client`]) with randomness from `random`.
    ///
    /// # Panics
    /// If `valid` is shorter than [`PACKET_OVERHEAD`]: it is not a request.
    pub fn make(self, valid: &[u8], random: &mut impl FnMut() -> u64) -> Vec<u8> {
        assert!(
            valid.len() >= PACKET_OVERHEAD,
            "junk is made from a valid request, not from {} bytes",
            valid.len()
        );
        let mut packet = valid.to_vec();
        let mut header = Header::parse(valid).expect("a request has a header");
        let below = |random: &mut dyn FnMut() -> u64, n: usize| (random() % n as u64) as usize;
        match self {
            Junk::TooShort => packet.truncate(below(random, PACKET_OVERHEAD)),
            Junk::Tiny => packet.truncate(1 + below(random, HEADER_LEN - 1)),
            Junk::ClientAuthTooShort => {
                header.flags |= FLAG_CLIENT_AUTH;
                set_header(&mut packet, header);
                packet.resize_with(PACKET_OVERHEAD + CLIENT_AUTH_OVERHEAD - 1, || {
                    random() as u8
                });
            }
            Junk::ReplyFlag => {
                header.flags |= FLAG_REPLY;
                set_header(&mut packet, header);
            }
            Junk::UnknownSuite => {
                // Any suite above 1 that is not implemented.
                header.cipher_suite = 2 + below(random, 0xfff0) as u16;
                while CipherSuite::from_id(header.cipher_suite).is_ok() {
                    header.cipher_suite += 1;
                }
                set_header(&mut packet, header);
            }
            Junk::SmallOrderDh(point) => {
                *layout::dh_param_mut(&mut packet).expect("a request has a DH parameter") =
                    point.bytes();
            }
            Junk::RandomBody => layout::body_mut(&mut packet)
                .expect("a request has a body")
                .iter_mut()
                .for_each(|b| *b = random() as u8),
            Junk::BitFlipped => {
                let after_header = &mut packet[layout::HEADER.end..];
                let bit = below(random, after_header.len() * 8);
                after_header[bit / 8] ^= 1 << (bit % 8);
            }
            Junk::Replay => {}
            Junk::RandomBytes => {
                let len = random() % (RANDOM_BYTES_MAX + 1);
                packet = (0..len).map(|_| random() as u8).collect();
            }
        }
        packet
    }
}

fn set_header(packet: &mut [u8], header: Header) {
    packet[layout::HEADER].copy_from_slice(&header.to_bytes());
}

/// A tiny xorshift64 generator: enough to vary junk, and repeatable from
/// its seed. Not for anything secret.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator starting from `seed` (zero is replaced: xorshift would
    /// stay at zero).
    pub fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pssst_core::{Client, Server, generate_key_pair};

    fn valid() -> Vec<u8> {
        let (_, public) = generate_key_pair().unwrap();
        Client::new(public)
            .unwrap()
            .pack_request(b"hello")
            .unwrap()
            .0
    }

    /// The cheap kinds fail pssst-core's precheck for the reason their
    /// outcome names, whatever the random source gives.
    #[test]
    fn each_certain_kind_fails_the_precheck_its_outcome_names() {
        let valid = valid();
        // Accepting every suite: junk must not carry an implemented one.
        let server = Server::new(generate_key_pair().unwrap().0);
        let mut rng = XorShift::new(7);
        for kind in Junk::CERTAIN.into_iter().chain([
            Junk::SmallOrderDh(SmallOrder::One),
            Junk::SmallOrderDh(SmallOrder::MinusOne),
        ]) {
            for _ in 0..200 {
                let packet = kind.make(&valid, &mut || rng.next_u64());
                let expected = match kind.outcome() {
                    Outcome::Dropped(Counter::DroppedShort) => Err(pssst_core::Error::Truncated),
                    Outcome::Dropped(Counter::DroppedReplyFlag) => {
                        Err(pssst_core::Error::NotRequest)
                    }
                    Outcome::Dropped(Counter::DroppedUnknownSuite) => {
                        Err(pssst_core::Error::UnsupportedCipherSuite)
                    }
                    Outcome::Dropped(Counter::DroppedLowOrder) => {
                        Err(pssst_core::Error::LowOrderPoint)
                    }
                    // Decided by decryption, not by the precheck.
                    _ => Ok(()),
                };
                assert_eq!(
                    server.precheck(&packet).map(|_| ()),
                    expected,
                    "{}",
                    kind.name()
                );
            }
        }
    }

    #[test]
    fn a_replay_is_the_valid_request_and_the_others_are_not() {
        let valid = valid();
        let mut rng = XorShift::new(1);
        assert_eq!(Junk::Replay.make(&valid, &mut || rng.next_u64()), valid);
        for kind in Junk::CERTAIN.into_iter().filter(|k| *k != Junk::Replay) {
            assert_ne!(
                kind.make(&valid, &mut || rng.next_u64()),
                valid,
                "{}",
                kind.name()
            );
        }
    }

    #[test]
    fn random_bytes_stay_within_bounds() {
        let valid = valid();
        let mut rng = XorShift::new(0);
        for _ in 0..1000 {
            let packet = Junk::RandomBytes.make(&valid, &mut || rng.next_u64());
            assert!(packet.len() as u64 <= RANDOM_BYTES_MAX);
        }
    }
}
