//! [`Intake`]: everything a server does to a datagram between its socket
//! and its handler, without the socket.

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use pssst_core::{DH_PARAM_LEN, Error, HEADER_LEN, PACKET_OVERHEAD, PublicKey};

use super::ServerConfig;
use super::keys::{KeyEntry, KeySet, ServerKeys};
use super::ticket::{InFlightSlot, Tally, Ticket};
use crate::MAX_DATAGRAM;
use crate::cache::{Lookup, ReplyCache, Verdict};
use crate::stats::Counter;

/// A server's security policy for incoming requests, for any transport:
/// [`UdpServer`](crate::UdpServer) runs its workers on it, and so can an
/// event loop that owns its own socket (the Python `pssst.aio` server does).
///
/// [`admit`](Intake::admit) takes one datagram through every check,
/// cheapest first, in this order: pssst-core's precheck (junk dropped before
/// any X25519), the closed-service check for anonymous requests, the bound
/// on requests in flight (before X25519; copies of requests already
/// answered may pass), decryption with each key in turn, the allowlist,
/// the reply cache (copies get what the first got, never larger than this
/// request allows), an in-flight slot, and the reply cache reservation.
/// A new request comes out with a [`Ticket`], which seals its reply under
/// the same rules.
///
/// ```
/// use pssst_udp::{Admission, Counter, Intake, ServerConfig, Tally};
///
/// /// Counts nothing (a real server keeps counters).
/// #[derive(Clone)]
/// struct Ignore;
/// impl Tally for Ignore {
///     fn count(&self, _counter: Counter) {}
/// }
///
/// let (server_key, server_public) = pssst_core::generate_key_pair()?;
/// let intake = Intake::new(server_key, &ServerConfig::default())?;
/// let client = pssst_core::Client::new(server_public)?;
/// let (mut packet, mut reply_handler) = client.pack_request(b"hello")?;
///
/// let Admission::New { request: admitted, ticket } = intake.admit(&mut packet, &mut Vec::new(), &Ignore) else {
///     panic!("a good request is admitted");
/// };
/// assert_eq!(admitted.message, b"hello");
/// let mut sent = Vec::new();
/// let ended = ticket.reply(b"hi", |packet| {
///     sent.extend_from_slice(packet); // a real server sends it
///     Ok::<(), std::io::Error>(())
/// });
/// assert_eq!(ended?, Counter::Answered);
/// assert_eq!(reply_handler.unpack_reply(&sent)?, b"hi");
///
/// // Junk is dropped, and says why.
/// let mut junk = [0u8; 3];
/// assert!(matches!(intake.admit(&mut junk, &mut Vec::new(), &Ignore), Admission::Dropped(Counter::DroppedShort)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Intake {
    keys: RwLock<Arc<KeySet>>,
    allow_amplification: bool,
    reply_cache: Option<ReplyCache>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: usize,
}

/// What [`Intake::admit`] made of a datagram.
// Not boxed: the ticket (with its expanded AES key) is moved on at once,
// and a box would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Admission<'p, T: Tally> {
    /// Nothing to send; count this.
    Dropped(Counter),
    /// A copy of a request answered before: send these bytes again, and
    /// count [`Counter::Answered`] or [`Counter::SendFailed`].
    Resend(Box<[u8]>),
    /// A new request for the handler, answered through its ticket.
    New {
        /// The request, decrypted in place.
        request: Admitted<'p>,
        /// How it is answered.
        ticket: Ticket<T>,
    },
}

/// A new request, as [`Intake::admit`] lets it in.
#[derive(Debug)]
pub struct Admitted<'p> {
    /// The decrypted application message (inside the packet given to
    /// [`Intake::admit`]: wipe that once done with it).
    pub message: &'p [u8],
    /// The client's authenticated public key; `None` for anonymous requests.
    pub client_public_key: Option<PublicKey>,
    /// The request's DH parameter: the same for every copy of one request.
    pub request_id: [u8; DH_PARAM_LEN],
    /// The longest reply message that will be sent (see
    /// [`Ticket::max_reply_len`]).
    pub max_reply_len: usize,
}

impl Intake {
    /// An intake for these keys, with `config`'s allowlist,
    /// anti-amplification, bound on requests in flight and reply cache
    /// (the rest of `config` is about sockets and threads). Fails with
    /// `InvalidInput` for a reply cache TTL shorter than the default
    /// client's retries.
    pub fn new(keys: impl Into<ServerKeys>, config: &ServerConfig) -> io::Result<Intake> {
        let reply_cache = match config.reply_cache {
            Some((budget, ttl)) => Some(ReplyCache::with_id_capacity(
                budget,
                ttl,
                config
                    .reply_cache_ids
                    .unwrap_or_else(|| ReplyCache::default_id_capacity(ttl)),
            )?),
            None => None,
        };
        let keys = KeySet::new(
            keys.into(),
            config.suites,
            config.authorized_clients.clone(),
            None,
        );
        Ok(Intake {
            keys: RwLock::new(Arc::new(keys)),
            allow_amplification: config.allow_amplification,
            reply_cache,
            in_flight: Arc::new(AtomicUsize::new(0)),
            max_in_flight: config.max_in_flight.max(1),
        })
    }

    /// Replaces the keys and the allowlist (`None`: an open service) at
    /// once: each request is admitted entirely under the old or entirely
    /// under the new set. Reply counts of keys kept carry over.
    pub fn reload(&self, keys: ServerKeys, authorized_clients: Option<HashSet<PublicKey>>) {
        let mut current = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        // The accepted suites are the config's, kept across reloads.
        let suites = current.suites;
        *current = Arc::new(KeySet::new(
            keys,
            suites,
            authorized_clients,
            Some(&current),
        ));
    }

    /// The public key clients must encrypt to (the first of the keys).
    pub fn public_key(&self) -> PublicKey {
        self.current_keys().primary()
    }

    /// Each public key, in the order tried, with the replies sent under it.
    pub fn replies_by_key(&self) -> Vec<(PublicKey, u64)> {
        self.current_keys().answered()
    }

    /// Requests admitted whose tickets are not settled yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// How long the reply cache remembers a request, if there is one (a
    /// transport may give up on handlers that run longer).
    pub fn reply_cache_ttl(&self) -> Option<Duration> {
        self.reply_cache.as_ref().map(ReplyCache::ttl)
    }

    fn current_keys(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Takes one received datagram through every check (see [`Intake`]).
    /// `packet` is decrypted in place: wipe it once the request's message
    /// is no longer needed. `spare` keeps the ciphertext while several keys
    /// are tried (reuse one per thread: nothing is allocated then). A new
    /// request's ticket counts through a clone of `tally`; the other
    /// outcomes are the caller's to count.
    pub fn admit<'p, T: Tally + Clone>(
        &self,
        packet: &'p mut [u8],
        spare: &mut Vec<u8>,
        tally: &T,
    ) -> Admission<'p, T> {
        // One key set for the whole request, even if a reload happens meanwhile.
        let keys = self.current_keys();
        // Junk is dropped before any X25519, by pssst-core's own checks.
        let header = match keys.precheck(packet) {
            Ok(header) => header,
            Err(err) => return Admission::Dropped(refused(err)),
        };
        // A closed service answers only authenticated clients.
        if keys.authorized_clients.is_some() && !header.is_client_auth() {
            return Admission::Dropped(Counter::DroppedUnauthorized);
        }
        // Overloaded: no X25519 for a request that could only be dropped (a
        // copy of one already answered costs no handler work, so it may pass).
        if self.in_flight() >= self.max_in_flight && !self.is_answered_copy(packet) {
            return Admission::Dropped(Counter::DroppedBusy);
        }
        let request_len = packet.len();

        let request = match keys.decrypt(packet, spare) {
            Ok(request) => request,
            Err(err) => return Admission::Dropped(refused(err)),
        };
        if let Some(allowed) = &keys.authorized_clients {
            let known = request
                .client_public_key
                .is_some_and(|key| allowed.contains(&key));
            if !known {
                return Admission::Dropped(Counter::DroppedUnauthorized);
            }
        }
        // No reply larger than its request, unless allowed: a spoofed source
        // must not make the server an amplifier. Packets are at least
        // PACKET_OVERHEAD long once unpacked, so this does not underflow.
        let max_packet = if self.allow_amplification {
            MAX_DATAGRAM
        } else {
            request_len.min(MAX_DATAGRAM)
        };
        let request_id = request.reply_handler.request_id();
        // A copy of a known request gets what the first one got.
        if let Some(cache) = &self.reply_cache
            && let Some(known) = cache.peek(&request_id)
        {
            return remembered(known, max_packet, request.key);
        }
        let Some(slot) = InFlightSlot::try_take(&self.in_flight, self.max_in_flight) else {
            return Admission::Dropped(Counter::DroppedBusy);
        };
        let reservation = match &self.reply_cache {
            None => None,
            Some(cache) => match cache.lookup(&request_id) {
                Lookup::New(reservation) => Some(reservation),
                // Another thread took it between the peek and now.
                known => return remembered(known, max_packet, request.key),
            },
        };
        Admission::New {
            request: Admitted {
                message: &packet[request.message],
                client_public_key: request.client_public_key,
                request_id,
                max_reply_len: max_packet - PACKET_OVERHEAD,
            },
            ticket: Ticket::new(
                request.reply_handler,
                max_packet,
                reservation,
                Arc::clone(&request.key.answered),
                tally.clone(),
                slot,
            ),
        }
    }

    /// True when the packet's DH parameter names a request the reply cache
    /// has answered (checked again, after decryption, before it is used).
    fn is_answered_copy(&self, packet: &[u8]) -> bool {
        let Some(cache) = &self.reply_cache else {
            return false;
        };
        let Some(id) = packet
            .get(HEADER_LEN..HEADER_LEN + DH_PARAM_LEN)
            .and_then(|id| <[u8; DH_PARAM_LEN]>::try_from(id).ok())
        else {
            return false;
        };
        matches!(cache.peek(&id), Some(Lookup::Known(_)))
    }
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("allow_amplification", &self.allow_amplification)
            .field("max_in_flight", &self.max_in_flight)
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

/// The counter for a request pssst-core refused, by precheck (truncated,
/// a reply, an unknown suite, a small-order DH parameter) or by
/// decryption (those, a bad client proof, or anything else: AES-GCM said no).
fn refused(err: Error) -> Counter {
    match err {
        Error::Truncated => Counter::DroppedShort,
        Error::NotRequest => Counter::DroppedReplyFlag,
        Error::UnsupportedCipherSuite => Counter::DroppedUnknownSuite,
        Error::LowOrderPoint => Counter::DroppedLowOrder,
        Error::ClientAuthFailed => Counter::DroppedClientAuthFailed,
        _ => Counter::DroppedDecryptFailed,
    }
}

/// What a copy of a request gets from the reply cache (a reply is counted
/// under the key that opened the copy).
fn remembered<'p, T: Tally>(lookup: Lookup, max_packet: usize, key: &KeyEntry) -> Admission<'p, T> {
    match lookup {
        // Copies of one request have its length, but a client that reuses
        // an ephemeral can send a short request with the DH parameter of a
        // long one: the remembered reply must still fit this request.
        Lookup::Known(Verdict::Reply(packet)) if packet.len() > max_packet => {
            Admission::Dropped(Counter::DroppedAmplification)
        }
        Lookup::Known(Verdict::Reply(packet)) => {
            key.answered.fetch_add(1, Ordering::Relaxed);
            Admission::Resend(packet)
        }
        Lookup::Known(Verdict::Dropped(counter)) => Admission::Dropped(counter),
        // Answered before, its reply since evicted: never run twice.
        Lookup::Forgotten => Admission::Dropped(Counter::DroppedReplyForgotten),
        // The first copy's handler is still running: not run twice.
        Lookup::InProgress => Admission::Dropped(Counter::DroppedInProgress),
        Lookup::Full => Admission::Dropped(Counter::DroppedCacheFull),
        // Not produced by `peek`, and `lookup`'s `New` is taken above.
        Lookup::New(_) => Admission::Dropped(Counter::DroppedBusy),
    }
}
