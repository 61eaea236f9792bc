//! # pssst-core
//!
//! PSSST (Packet Security for Stateless Server Transactions), cipher suite 1
//! (X25519 + SHA-256 KDF + AES-128-GCM), byte-for-byte compatible with the
//! Go (gopssst) and Python (pypssst) reference implementations, and suite
//! 0xFF01, the same with AES-128-GCM-SIV ([`CipherSuite`]).
//!
//! A [`Client`] encrypts one request into one packet for a server whose
//! public key it knows; the [`Server`] decrypts it, learns the client's
//! authenticated public key if the client chose to prove it, and encrypts
//! one reply with the [`ServerReplyHandler`] it got for that request. The
//! server keeps no state between packets.
//!
//! ```
//! use pssst_core::{Client, Server, generate_key_pair};
//!
//! let (server_private, server_public) = generate_key_pair()?;
//! let (client_private, client_public) = generate_key_pair()?;
//! let server = Server::new(server_private);
//! let client = Client::with_client_auth(server_public, &client_private)?;
//!
//! let (request, mut reply_handler) = client.pack_request(b"what time is it?")?;
//! let incoming = server.unpack_request(&request)?;
//! assert_eq!(incoming.client_public_key, Some(client_public));
//!
//! let reply = incoming.reply_handler.pack_reply(b"tea time")?;
//! assert_eq!(reply_handler.unpack_reply(&reply)?, b"tea time");
//! # Ok::<(), pssst_core::Error>(())
//! ```
//!
//! Every operation has an allocation-free variant (`*_into`, `*_in_place`)
//! and every randomized one a `*_with_rng` twin taking any
//! [`rand_core::TryCryptoRng`].
//!
//! ## Retries and nonce reuse
//! A retried request makes the server derive the same key and reply nonce
//! again. Under suite 1 the reply to a retry must be byte-identical to the
//! first one, or AES-GCM's nonce is reused with two different plaintexts.
//! Suite 0xFF01 (AES-GCM-SIV, [`Client::with_suite`]) resists that misuse:
//! two different replies reveal only that they differ. Servers accept both
//! suites unless told otherwise ([`Server::with_suites`]) and reply in the
//! suite of the request.
//!
//! How long a client may resend identical copies of a request is one
//! constant, [`RETRANSMISSION_WINDOW`]; [`RetrySchedule`] is the retry
//! schedule every client of this project follows, and servers remember
//! replies at least [`MIN_REPLY_MEMORY`].
//!
//! ## Features
//! - `std` (default), `alloc`: `Vec`-returning APIs. Without default
//!   features the crate is `no_std` and allocation-free.
//! - `getrandom` (default): the OS RNG for the methods without `_with_rng`.
//! - `client` (default): [`Client`] and [`ClientReplyHandler`].
//! - `server` (default): [`Server`] and [`ServerReplyHandler`].
//! - `precomputed-tables` (default): x25519-dalek's basepoint tables, about
//!   30 KiB of flash for twice as fast key generation and anonymous requests.
//! - `aws-lc`: X25519 from AWS-LC (about 2x faster) instead of x25519-dalek.
//! - `cortex-m4-asm` (opt-in, Cortex-M4/M33 only): X25519 from the crate
//!   `salty`, Björn Haase's Cortex-M4 assembly field arithmetic.
//!
//! `default-features = false` is the smallest build, for microcontrollers:
//! no tables, no allocator, no OS RNG, and neither half until asked for
//! (`features = ["client"]` on a device). See docs/embedded.md.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
// allowed only in backend/aws_lc.rs
// With neither half compiled in, the shared packet machinery has no user.
#![cfg_attr(not(any(feature = "client", feature = "server")), allow(dead_code))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

// The raw X25519 calls are public (feature `hazmat`) only so that
// benchmarks can time them and tests build packets by hand. `BACKEND` names it.
#[cfg(feature = "hazmat")]
pub mod backend;
#[cfg(not(feature = "hazmat"))]
mod backend;
#[cfg(feature = "client")]
mod client;
mod error;
#[cfg(feature = "hazmat")]
pub mod hazmat;
mod header;
mod keys;
pub mod layout;
#[cfg(feature = "server")]
mod precheck;
mod request_id;
mod retry;
#[cfg(feature = "server")]
mod server;
mod session;
mod suite;

#[cfg(feature = "client")]
pub use client::{Client, ClientReplyHandler};
pub use error::{Error, Result};
pub use header::{FLAG_CLIENT_AUTH, FLAG_REPLY, HEADER_LEN, Header};
#[cfg(feature = "getrandom")]
pub use keys::generate_key_pair;
pub use keys::{KEY_LEN, PrivateKey, PublicKey, generate_key_pair_with_rng};
#[cfg(feature = "server")]
pub use precheck::{LOW_ORDER_POINTS, Prechecked};
pub use request_id::RequestId;
pub use retry::{
    MAX_WAIT_FACTOR, MIN_REPLY_MEMORY, RETRANSMISSION_WINDOW, RETRANSMISSION_WINDOW_MS,
    RetrySchedule,
};
#[cfg(all(feature = "server", feature = "alloc"))]
pub use server::Request;
#[cfg(feature = "server")]
pub use server::{OpenedRequest, RequestRef, Server, ServerReplyHandler};
pub use session::{DH_PARAM_LEN, TAG_LEN};
pub use suite::{CipherSuite, CipherSuites, SUITE_X25519_AESGCM128, SUITE_X25519_AESGCMSIV128};

/// Name of the X25519 backend compiled in: `"aws-lc"`, `"x25519-dalek"` or
/// `"salty"` (feature `cortex-m4-asm`, on a Cortex-M4).
pub const BACKEND: &str = backend::NAME;

/// Re-exported so callers can name the RNG traits the `_with_rng` methods take.
pub use rand_core;

/// Bytes every packet adds to its message: header, DH parameter and tag (52).
pub const PACKET_OVERHEAD: usize = HEADER_LEN + DH_PARAM_LEN + TAG_LEN;
/// Extra bytes in a client-authenticated request: client key and ephemeral (64).
pub const CLIENT_AUTH_OVERHEAD: usize = 2 * KEY_LEN;

/// The README's Rust examples run as doctests.
#[cfg(all(doctest, feature = "client", feature = "server"))]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// This crate's own README (crates.io, docs.rs) too.
#[cfg(all(doctest, feature = "client", feature = "server"))]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
