//! [`Intake`]: everything a server does to a datagram between its socket
//! and its handler, without the socket.

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use pssst_core::{Error, PACKET_OVERHEAD, PublicKey, RequestId};

use super::ServerConfig;
use super::keys::{KeySet, ServerKeys};
use super::ticket::{InFlightSlot, Tally, Ticket};
use crate::MAX_DATAGRAM;
use crate::cache::{Known, Lookup, ReplyCache, Verdict};
use crate::stats::{Counter, ReplyCount};

/// A server's security policy for incoming requests, for any transport:
/// [`UdpServer`](crate::UdpServer) runs its workers on it, and so can an
/// event loop that owns its own socket (the Python `pssst.aio` server does).
///
/// [`receive`](Intake::receive) takes one datagram through every check,
/// each made once, cheapest first, and counts how it ended (both
/// `pssst serve`'s workers and `pssst.aio` call it):
///
/// 1. pssst-core's precheck: junk dropped before any X25519;
/// 2. the closed-service check for anonymous requests;
/// 3. the reply cache, by [`RequestId`], still before any X25519: a copy of
///    a known request gets what the first got (never larger than this
///    request allows), or nothing while it is in progress or forgotten;
/// 4. the bound on requests in flight (past it: dropped as busy, before
///    X25519);
/// 5. decryption with each key in turn, on the same buffer (pssst-core
///    leaves it untouched when a key does not open it);
/// 6. the allowlist;
/// 7. an in-flight slot and the reply cache reservation. The reservation
///    comes after decryption on purpose:
///    reserving an id before the request proves itself would let forged
///    copies of an id seen on the path (bytes, no X25519 of the
///    attacker's) hold it and drop the genuine request as in progress.
///
/// So the cache lock is taken once for a copy and twice for a new request.
/// A new request comes out with a [`Ticket`], which seals its reply under
/// the same rules. [`admit`](Intake::admit) is the same without the
/// counting.
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
/// let no_resend = |_: &[u8]| -> Result<(), std::io::Error> { unreachable!("a new request") };
/// let Some((admitted, ticket)) = intake.receive(&mut packet, &Ignore, no_resend)? else {
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
/// assert!(matches!(intake.admit(&mut junk, &Ignore), Admission::Dropped(Counter::DroppedShort)));
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
    /// A copy of a request answered before: send these bytes again, then
    /// bump `key_replies` and count [`Counter::Answered`], or count
    /// [`Counter::SendFailed`].
    Resend {
        /// The sealed reply the first copy got.
        packet: Box<[u8]>,
        /// The replies sent under the key that sealed it.
        key_replies: ReplyCount,
    },
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
    /// The request's id: the same for every copy of one request.
    pub request_id: RequestId,
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

    /// Takes one received datagram through every check (see [`Intake`])
    /// and counts how it ended, in `tally`: [`Counter::Received`], then a
    /// drop, a remembered reply sent again through `resend`
    /// ([`Counter::Answered`], or [`Counter::SendFailed`] with `resend`'s
    /// error returned), or a new request for the handler, whose ticket
    /// counts its own ending. `packet` is decrypted in place: wipe it once
    /// the request's message is no longer needed.
    pub fn receive<'p, T: Tally + Clone, E>(
        &self,
        packet: &'p mut [u8],
        tally: &T,
        resend: impl FnOnce(&[u8]) -> Result<(), E>,
    ) -> Result<Option<(Admitted<'p>, Ticket<T>)>, E> {
        tally.count(Counter::Received);
        match self.admit(packet, tally) {
            Admission::New { request, ticket } => Ok(Some((request, ticket))),
            Admission::Dropped(counter) => {
                tally.count(counter);
                Ok(None)
            }
            Admission::Resend {
                packet,
                key_replies,
            } => match resend(&packet) {
                Ok(()) => {
                    key_replies.bump();
                    tally.count(Counter::Answered);
                    Ok(None)
                }
                Err(err) => {
                    tally.count(Counter::SendFailed);
                    Err(err)
                }
            },
        }
    }

    /// [`receive`](Self::receive) without the counting and the sending: a
    /// new request's ticket counts through a clone of `tally`; the other
    /// outcomes are the caller's to count (and a resend's to send).
    pub fn admit<'p, T: Tally + Clone>(&self, packet: &'p mut [u8], tally: &T) -> Admission<'p, T> {
        // One key set for the whole request, even if a reload happens meanwhile.
        let keys = self.current_keys();
        // Junk is dropped before any X25519, by pssst-core's own checks.
        let request = match keys.precheck(packet) {
            Ok(request) => request,
            Err(err) => return Admission::Dropped(refused(err)),
        };
        // A closed service answers only authenticated clients.
        if keys.authorized_clients.is_some() && !request.is_client_auth() {
            return Admission::Dropped(Counter::DroppedUnauthorized);
        }
        // No reply larger than its request, unless allowed: a spoofed source
        // must not make the server an amplifier. A prechecked request is at
        // least PACKET_OVERHEAD long, so the limit does not underflow.
        let max_packet = if self.allow_amplification {
            MAX_DATAGRAM
        } else {
            request.packet_len().min(MAX_DATAGRAM)
        };
        // A copy of a known request gets what the first one got, no X25519.
        if let Some(cache) = &self.reply_cache
            && let Some(known) = cache.peek(&request.request_id())
        {
            return remembered(known, max_packet);
        }
        // Overloaded: no X25519 for a request that could only be dropped.
        if self.in_flight() >= self.max_in_flight {
            return Admission::Dropped(Counter::DroppedBusy);
        }
        let (opened, key) = match keys.open(&request, packet) {
            Ok(opened) => opened,
            Err(err) => return Admission::Dropped(refused(err)),
        };
        if let Some(allowed) = &keys.authorized_clients {
            let known = opened
                .client_public_key
                .is_some_and(|key| allowed.contains(&key));
            if !known {
                return Admission::Dropped(Counter::DroppedUnauthorized);
            }
        }
        // Taken now, not before decrypting: only admitted requests count
        // as in flight.
        let Some(slot) = InFlightSlot::try_take(&self.in_flight, self.max_in_flight) else {
            return Admission::Dropped(Counter::DroppedBusy);
        };
        let reservation = match &self.reply_cache {
            None => None,
            Some(cache) => match cache.lookup(&request.request_id()) {
                Lookup::New(reservation) => Some(reservation),
                // Another copy got in first, while this one was decrypted.
                Lookup::Known(known) => return remembered(known, max_packet),
                Lookup::Full => return Admission::Dropped(Counter::DroppedCacheFull),
            },
        };
        Admission::New {
            request: Admitted {
                message: &packet[opened.message],
                client_public_key: opened.client_public_key,
                request_id: request.request_id(),
                max_reply_len: max_packet - PACKET_OVERHEAD,
            },
            ticket: Ticket::new(
                opened.reply_handler,
                max_packet,
                reservation,
                key.replies.clone(),
                tally.clone(),
                slot,
            ),
        }
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

/// What a copy of a request gets from the reply cache: what the first copy
/// got, within this copy's anti-amplification limit.
fn remembered<'p, T: Tally>(known: Known, max_packet: usize) -> Admission<'p, T> {
    match known {
        // Copies of one request have its length, but a client that reuses
        // an ephemeral can send a short request with the DH parameter of a
        // long one (and anybody can forge a short copy of an id seen on the
        // path): the remembered reply must fit this request.
        Known::Answered(Verdict::Reply { packet, .. }) if packet.len() > max_packet => {
            Admission::Dropped(Counter::DroppedAmplification)
        }
        Known::Answered(Verdict::Reply {
            packet,
            key_replies,
        }) => Admission::Resend {
            packet,
            key_replies,
        },
        Known::Answered(Verdict::Dropped(counter)) => Admission::Dropped(counter),
        // Answered before, its reply since evicted: never run twice.
        Known::Forgotten => Admission::Dropped(Counter::DroppedReplyForgotten),
        // The first copy's handler is still running: not run twice.
        Known::InProgress => Admission::Dropped(Counter::DroppedInProgress),
    }
}
