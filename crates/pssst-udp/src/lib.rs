//! # pssst-udp
//!
//! PSSST over UDP, done the way a stateless server should be run:
//!
//! - [`UdpServer`]: one worker per core, each with its own socket bound with
//!   `SO_REUSEPORT` (Linux), so the kernel spreads datagrams over the cores
//!   with no lock or queue in between. Before any X25519 work a worker drops
//!   what is cheap to recognise as junk: too short, REPLY flag set, unknown
//!   cipher suite, a DH parameter of small order. No reply may be larger
//!   than its request (anti-amplification, configurable). An optional reply
//!   cache ([`ReplyCache`]) never runs a request twice within its TTL and
//!   gives copies the same bytes while its byte budget keeps them. An optional allowlist of client keys makes a closed
//!   service. Every datagram is counted, by outcome and drop reason
//!   ([`Stats`]). No per-client state anywhere.
//! - Handlers: a blocking [`Handler`] answers on the worker; a
//!   [`DeferredHandler`] answers later through a [`Responder`], from any
//!   thread or runtime, with many requests in flight (bounded by
//!   [`ServerConfig::max_in_flight`]) and none waiting for another.
//! - [`Intake`]: all of the above short of the socket (every check, the
//!   reply cache, the in-flight bound, sealing under anti-amplification),
//!   for a server on another transport or event loop; each new request
//!   comes with a [`Ticket`] that seals its reply and counts how it ended.
//! - [`UdpClient`]: blocking; sends a request and retransmits the same
//!   packet, each time from a new source port (a load balancer that pins
//!   flows then draws a backend anew), until the reply to any attempt
//!   arrives, ignoring anything that is not the reply (forged, stale, for
//!   another request).
//! - `AsyncUdpClient` (feature `tokio`): the same client on tokio, with the
//!   same configuration, retries, errors and results.
//! - `junk` (feature `junk`): malformed packets for demos, soak tests and
//!   fuzzing your own server, each kind with the drop reason it must end in.
//!
//! ```
//! use pssst_udp::{RetrySchedule, Echo, ServerConfig, UdpClient, UdpServer};
//!
//! let (server_key, server_public) = pssst_core::generate_key_pair()?;
//! let server = UdpServer::bind(
//!     "127.0.0.1:0".parse()?,
//!     server_key,
//!     ServerConfig::default().workers(2),
//!     Echo,
//! )?;
//!
//! let client = pssst_core::Client::new(server_public)?;
//! let mut udp = UdpClient::connect(server.local_addr(), client, RetrySchedule::default())?;
//! assert_eq!(udp.request(b"hello")?, b"hello");
//!
//! let stats = server.shutdown();
//! assert_eq!(stats.answered(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Retries and non-deterministic handlers
//! A retransmitted request is encrypted to the same key and nonce as the
//! original, so the reply to it must be byte-identical. Handlers that are a
//! function of the request (like [`Echo`]) get that for free; for others,
//! turn on the reply cache ([`ServerConfig::reply_cache`]).
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

#[cfg(feature = "tokio")]
mod async_client;
mod cache;
mod client;
#[cfg(feature = "junk")]
pub mod junk;
mod server;
mod stats;

#[cfg(feature = "tokio")]
pub use async_client::AsyncUdpClient;
pub use cache::{
    DEFAULT_IDS_PER_SECOND, ENTRY_OVERHEAD, Known, Lookup, ReplyCache, Reservation, Verdict,
};
pub use client::{ClientError, Transaction, UdpClient};
// The retry schedule is the protocol's (its window is a server's guarantee).
pub use pssst_core::RetrySchedule;
pub use server::{
    Admission, Admitted, DeferredHandler, Echo, Handler, HandlerFailure, Intake, Request,
    Responder, ServerConfig, ServerKeys, ServerMonitor, Tally, Ticket, UdpServer,
};
pub use stats::{Counter, HANDLER_DURATION_BOUNDS, HandlerDurations, ReplyCount, Stats};

/// Largest UDP payload over IPv4 (65,535 - 8 - 20): the largest request or
/// reply either side sends.
pub const MAX_DATAGRAM: usize = 65_507;

/// This crate's README (crates.io, docs.rs) runs as a doctest too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
