//! What every firmware shares: the semihosting console and exit status of
//! each core, a test RNG, and the vectors (generated from tests/vectors).
#![no_std]

pub mod board;
pub mod meter;
pub mod test_rng;
#[cfg(feature = "mps2-an386")]
pub mod uart;

/// The known-answer and must-reject cases of tests/vectors.
pub mod vectors {
    use pssst_core::Error;

    /// One known-answer case: keys, the RNG's ephemeral bytes, both packets.
    #[derive(Debug)]
    pub struct Kat {
        pub id: &'static str,
        pub suite: u16,
        pub server_private: [u8; 32],
        pub client_private: Option<[u8; 32]>,
        pub client_public: Option<[u8; 32]>,
        pub ephemeral_rng_bytes: [u8; 32],
        pub request_plaintext: &'static [u8],
        pub request_packet: &'static [u8],
        pub reply_plaintext: &'static [u8],
        pub reply_packet: &'static [u8],
    }

    /// One request a server must reject, and with which error.
    #[derive(Debug)]
    pub struct Reject {
        pub id: &'static str,
        pub server_private: [u8; 32],
        pub request_packet: &'static [u8],
        pub expected: Error,
        pub also_accepted: Error,
    }

    include!(concat!(env!("OUT_DIR"), "/vectors.rs"));
}
