//! `pssst._pssst.Responder`: everything `pssst.aio.serve` does to a datagram
//! except the I/O and running the handler, in the order and with the
//! counters of `pssst serve`'s workers (pssst-udp).
//!
//! asyncio hands each datagram to [`PyResponder::receive`], which drops
//! junk (pssst-core's precheck, before any X25519), refuses anonymous
//! requests to a closed service, drops new requests while `max_in_flight`
//! handlers run (before any X25519), decrypts with the GIL released, checks
//! the allowlist, answers copies of known requests from pssst-udp's
//! [`ReplyCache`], and returns a [`PyRequest`] for a new one. The handler's
//! answer goes back through [`PyRequest::reply`]: anti-amplification,
//! sealing, the cache, and the transport's `sendto`. Every datagram ends in
//! exactly one counter.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pssst_core::{Error, PrivateKey, PublicKey, Server, ServerReplyHandler};
use pssst_udp::{Counter, Lookup, MAX_DATAGRAM, ReplyCache, Reservation, Verdict};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::buffers::data_of;
use crate::errors::to_py_err;
use crate::keys::{cryptography_public_key, key_bytes};
use crate::{DETACH_THRESHOLD, lock, request_id_of};

/// How a datagram ended: one of `pssst serve`'s counters, or `cancelled`
/// (the server closed while its handler ran), which only an asyncio server
/// has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Udp(Counter),
    Cancelled,
}

const OUTCOMES: usize = Counter::ALL.len() + 1;

impl Outcome {
    fn index(self) -> usize {
        match self {
            Outcome::Udp(counter) => counter as usize,
            Outcome::Cancelled => Counter::ALL.len(),
        }
    }
}

/// The counter for a request pssst-core refused (as pssst-udp's worker).
fn refused(err: Error) -> Counter {
    match err {
        Error::NotRequest => Counter::DroppedReplyFlag,
        Error::UnsupportedCipherSuite => Counter::DroppedUnknownSuite,
        Error::LowOrderPoint => Counter::DroppedLowOrder,
        Error::Truncated => Counter::DroppedShort,
        Error::ClientAuthFailed => Counter::DroppedClientAuthFailed,
        _ => Counter::DroppedDecryptFailed,
    }
}

/// What every request of one server shares.
#[derive(Debug)]
struct Shared {
    server: Server,
    authorized: Option<HashSet<PublicKey>>,
    allow_amplification: bool,
    max_in_flight: usize,
    in_flight: AtomicUsize,
    cache: ReplyCache,
    counts: [AtomicU64; OUTCOMES],
}

impl Shared {
    fn count(&self, outcome: Outcome) {
        self.counts[outcome.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Takes an in-flight place, if one is free.
    fn enter(&self) -> bool {
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_in_flight).then_some(n + 1)
            })
            .is_ok()
    }

    /// Counts how a request in flight ended and gives its place back.
    fn leave(&self, outcome: Outcome) {
        self.count(outcome);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    /// True when the packet's request id names a request already answered
    /// (checked again after decryption, before it is used).
    fn is_answered_copy(&self, packet: &[u8]) -> bool {
        request_id_of(packet)
            .is_some_and(|id| matches!(self.cache.peek(&id), Some(Lookup::Known(_))))
    }
}

/// What became of a datagram, short of the handler.
enum Received {
    /// A new request for the handler; it holds an in-flight place. (Boxed:
    /// the reply handler holds an expanded AES key.)
    New(Box<Opened>),
    /// A copy of a request answered before: send these bytes again.
    Resend(Box<[u8]>),
    /// Nothing to send; count this.
    Done(Counter),
}

/// A new request that passed every check.
struct Opened {
    message: Vec<u8>,
    client_public_key: Option<PublicKey>,
    reply_handler: ServerReplyHandler,
    max_packet: usize,
    reservation: Reservation,
}

/// The datagram side of one `pssst.aio` server (one private key).
#[pyclass(frozen, module = "pssst._pssst", name = "Responder")]
#[derive(Debug)]
pub struct PyResponder {
    shared: Arc<Shared>,
}

#[pymethods]
impl PyResponder {
    /// `Responder(server_private, authorized_keys, allow_amplification,
    /// max_in_flight, reply_cache_bytes, reply_cache_ttl)`: raw 32-byte
    /// keys; `authorized_keys` is `None` (open service) or a list of client
    /// public keys (closed service); the TTL in seconds, at least
    /// `REPLY_CACHE_MIN_TTL`.
    #[new]
    fn new(
        py: Python<'_>,
        server_private: &Bound<'_, PyAny>,
        authorized_keys: Option<Vec<Bound<'_, PyAny>>>,
        allow_amplification: bool,
        max_in_flight: usize,
        reply_cache_bytes: usize,
        reply_cache_ttl: f64,
    ) -> PyResult<Self> {
        if max_in_flight == 0 {
            return Err(PyValueError::new_err("max_in_flight must be at least 1"));
        }
        let ttl = Duration::try_from_secs_f64(reply_cache_ttl).map_err(|_| {
            PyValueError::new_err(format!(
                "reply_cache_ttl must be a number of seconds, not {reply_cache_ttl}"
            ))
        })?;
        let cache = ReplyCache::new(reply_cache_bytes, ttl)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let private = PrivateKey::from_bytes(key_bytes(server_private)?);
        let authorized = authorized_keys
            .map(|keys| {
                keys.iter()
                    .map(|key| key_bytes(key).map(PublicKey::from_bytes))
                    .collect::<PyResult<HashSet<_>>>()
            })
            .transpose()?;
        let server = py.detach(|| Server::new(private));
        Ok(PyResponder {
            shared: Arc::new(Shared {
                server,
                authorized,
                allow_amplification,
                max_in_flight,
                in_flight: AtomicUsize::new(0),
                cache,
                counts: Default::default(),
            }),
        })
    }

    /// `receive(datagram, peer, send) -> Request | None`: a new request for
    /// the handler, whose reply will go out as `send(packet, peer)`; or
    /// `None` when there is nothing for the handler (dropped, or a copy of
    /// a known request, answered here through `send`).
    fn receive(
        &self,
        py: Python<'_>,
        datagram: &Bound<'_, PyAny>,
        peer: Py<PyAny>,
        send: Py<PyAny>,
    ) -> PyResult<Option<PyRequest>> {
        let shared = &self.shared;
        shared.count(Outcome::Udp(Counter::Received));
        let data = data_of(datagram)?;
        let opened = match self.open(py, data.as_slice()) {
            Received::New(opened) => opened,
            Received::Resend(packet) => {
                let sent = send.call1(py, (PyBytes::new(py, &packet), peer));
                shared.count(Outcome::Udp(match sent {
                    Ok(_) => Counter::Answered,
                    Err(_) => Counter::SendFailed,
                }));
                return sent.map(|_| None);
            }
            Received::Done(counter) => {
                shared.count(Outcome::Udp(counter));
                return Ok(None);
            }
        };
        let client_public_key = match opened.client_public_key.as_ref() {
            None => None,
            Some(key) => match cryptography_public_key(py, key) {
                Ok(key) => Some(key.unbind()),
                Err(err) => {
                    // `cryptography` failed us: the request was not handled.
                    shared.leave(Outcome::Udp(Counter::HandlerFailed));
                    return Err(err);
                }
            },
        };
        Ok(Some(PyRequest {
            message: PyBytes::new(py, &opened.message).unbind(),
            client_public_key,
            pending: Mutex::new(Some(Pending {
                shared: Arc::clone(shared),
                reply_handler: opened.reply_handler,
                max_packet: opened.max_packet,
                reservation: opened.reservation,
                peer,
                send,
            })),
        }))
    }

    /// The server's public key, 32 raw bytes.
    fn _public_key_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.shared.server.public_key().as_bytes())
    }

    /// Handlers running now.
    #[getter]
    fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::Acquire)
    }

    /// Seconds a reply is remembered; a handler that takes longer cannot
    /// have its reply sent.
    #[getter]
    fn reply_cache_ttl(&self) -> f64 {
        self.shared.cache.ttl().as_secs_f64()
    }

    /// `{counter name: count}`, every counter.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = PyDict::new(py);
        let outcomes = Counter::ALL.map(Outcome::Udp);
        for outcome in outcomes.iter().chain(&[Outcome::Cancelled]) {
            let name = match outcome {
                Outcome::Udp(counter) => counter.name(),
                Outcome::Cancelled => "cancelled",
            };
            let count = self.shared.counts[outcome.index()].load(Ordering::Relaxed);
            stats.set_item(name, count)?;
        }
        Ok(stats)
    }
}

impl PyResponder {
    /// Every check, cheapest first, as pssst-udp's worker does them.
    fn open(&self, py: Python<'_>, packet: &[u8]) -> Received {
        let shared = &self.shared;
        // Junk is dropped before any X25519, by pssst-core's own checks.
        let header = match Server::precheck(packet) {
            Ok(header) => header,
            Err(err) => return Received::Done(refused(err)),
        };
        // A closed service answers only authenticated clients.
        if shared.authorized.is_some() && !header.is_client_auth() {
            return Received::Done(Counter::DroppedUnauthorized);
        }
        // Overloaded: no X25519 for a request that could only be dropped (a
        // copy of one already answered costs no handler work, so it may pass).
        if shared.in_flight.load(Ordering::Acquire) >= shared.max_in_flight
            && !shared.is_answered_copy(packet)
        {
            return Received::Done(Counter::DroppedBusy);
        }
        let request = match py.detach(|| shared.server.unpack_request(packet)) {
            Ok(request) => request,
            Err(err) => return Received::Done(refused(err)),
        };
        if let Some(allowed) = &shared.authorized {
            let known = request
                .client_public_key
                .is_some_and(|key| allowed.contains(&key));
            if !known {
                return Received::Done(Counter::DroppedUnauthorized);
            }
        }
        // No reply larger than its request, unless allowed: a spoofed
        // source must not make the server an amplifier.
        let max_packet = if shared.allow_amplification {
            MAX_DATAGRAM
        } else {
            packet.len().min(MAX_DATAGRAM)
        };
        let request_id = request.reply_handler.request_id();
        if let Some(known) = shared.cache.peek(&request_id) {
            return remembered(known, max_packet);
        }
        if !shared.enter() {
            return Received::Done(Counter::DroppedBusy);
        }
        match shared.cache.lookup(&request_id, max_packet) {
            Lookup::New(reservation) => Received::New(Box::new(Opened {
                message: request.message,
                client_public_key: request.client_public_key,
                reply_handler: request.reply_handler,
                max_packet,
                reservation,
            })),
            known => {
                shared.in_flight.fetch_sub(1, Ordering::AcqRel);
                remembered(known, max_packet)
            }
        }
    }
}

/// What a copy of a request gets from the reply cache.
fn remembered(lookup: Lookup, max_packet: usize) -> Received {
    match lookup {
        // A client that reuses an ephemeral can send a short request with
        // the DH parameter of a long one: the reply must fit this request.
        Lookup::Known(Verdict::Reply(packet)) if packet.len() > max_packet => {
            Received::Done(Counter::DroppedAmplification)
        }
        Lookup::Known(Verdict::Reply(packet)) => Received::Resend(packet),
        Lookup::Known(Verdict::Dropped(counter)) => Received::Done(counter),
        // The first copy's handler is still running: not run twice.
        Lookup::InProgress => Received::Done(Counter::DroppedInProgress),
        Lookup::Full => Received::Done(Counter::DroppedCacheFull),
        // `peek` never gives `New`, and `lookup`'s is taken by the caller.
        Lookup::New(_) => Received::Done(Counter::DroppedBusy),
    }
}

/// What a request needs to be answered, until it is.
struct Pending {
    shared: Arc<Shared>,
    reply_handler: ServerReplyHandler,
    max_packet: usize,
    reservation: Reservation,
    peer: Py<PyAny>,
    send: Py<PyAny>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("max_packet", &self.max_packet)
            .finish_non_exhaustive()
    }
}

impl Pending {
    /// No reply: copies get the same nothing until the TTL.
    fn finish_without_reply(self, counter: Counter) {
        // Whether the entry was still live does not matter: nothing is sent.
        let _ = self.reservation.settle(Verdict::Dropped(counter));
        self.shared.leave(Outcome::Udp(counter));
    }
}

/// One request for the handler, answered (or given up) once; until then it
/// holds one of the server's in-flight places and a reply cache entry.
#[pyclass(frozen, module = "pssst._pssst", name = "Request")]
#[derive(Debug)]
pub struct PyRequest {
    message: Py<PyBytes>,
    client_public_key: Option<Py<PyAny>>,
    /// `None` once settled.
    pending: Mutex<Option<Pending>>,
}

impl PyRequest {
    fn take(&self) -> PyResult<Pending> {
        lock(&self.pending)
            .take()
            .ok_or_else(|| to_py_err(Error::HandlerReused))
    }
}

#[pymethods]
impl PyRequest {
    /// The decrypted message.
    #[getter]
    fn message(&self, py: Python<'_>) -> Py<PyBytes> {
        self.message.clone_ref(py)
    }

    /// The client's authenticated `X25519PublicKey`, `None` if anonymous.
    #[getter]
    fn client_public_key(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.client_public_key.as_ref().map(|key| key.clone_ref(py))
    }

    /// `reply(message)` seals `message`, remembers it for copies of the
    /// request and sends it; `reply(None)` sends nothing. Returns whether
    /// it was sent: not when larger than the request allows
    /// (anti-amplification) or than a datagram, nor when the reply cache
    /// forgot the request while the handler ran (a copy arriving after the
    /// TTL may have run the handler again under the same nonce).
    fn reply(&self, py: Python<'_>, message: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        // Converted first: a message of the wrong type leaves it open.
        let message = message.map(data_of).transpose()?;
        let pending = self.take()?;
        let Some(message) = message else {
            pending.finish_without_reply(Counter::NoReply);
            return Ok(false);
        };
        let message = message.as_slice();
        let too_large = match pssst_core::Client::reply_len(message.len()) {
            Ok(len) if len <= pending.max_packet => None,
            Ok(len) if len <= MAX_DATAGRAM => Some(Counter::DroppedAmplification),
            _ => Some(Counter::DroppedReplyTooLarge),
        };
        if let Some(counter) = too_large {
            pending.finish_without_reply(counter);
            return Ok(false);
        }
        let Pending {
            shared,
            reply_handler,
            reservation,
            peer,
            send,
            ..
        } = pending;
        let packet = if message.len() >= DETACH_THRESHOLD {
            py.detach(|| reply_handler.pack_reply(message))
        } else {
            reply_handler.pack_reply(message)
        };
        let Ok(packet) = packet else {
            // Cannot happen for a length checked above; counted all the same.
            let _ = reservation.settle(Verdict::Dropped(Counter::DroppedReplyTooLarge));
            shared.leave(Outcome::Udp(Counter::DroppedReplyTooLarge));
            return Ok(false);
        };
        let py_packet = PyBytes::new(py, &packet);
        if !reservation.settle(Verdict::Reply(packet.into_boxed_slice())) {
            shared.leave(Outcome::Udp(Counter::HandlerTimedOut));
            return Ok(false);
        }
        let sent = send.call1(py, (py_packet, peer));
        shared.leave(Outcome::Udp(match sent {
            Ok(_) => Counter::Answered,
            Err(_) => Counter::SendFailed,
        }));
        sent.map(|_| true)
    }

    /// The handler raised: no reply, now or to copies.
    fn fail(&self) -> PyResult<()> {
        self.take()?.finish_without_reply(Counter::HandlerFailed);
        Ok(())
    }

    /// The handler ran past the reply cache's TTL and was stopped: no reply.
    fn time_out(&self) -> PyResult<()> {
        self.take()?.finish_without_reply(Counter::HandlerTimedOut);
        Ok(())
    }

    /// The server is closing: no reply. The cache entry is forgotten.
    fn cancel(&self) -> PyResult<()> {
        self.take()?.shared.leave(Outcome::Cancelled);
        Ok(())
    }
}

impl Drop for PyRequest {
    /// A request dropped unanswered (its task never ran) gives its place back.
    fn drop(&mut self) {
        if let Some(pending) = lock(&self.pending).take() {
            pending.shared.leave(Outcome::Cancelled);
        }
    }
}
