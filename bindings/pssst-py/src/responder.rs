//! `pssst._pssst.Responder`: everything `pssst.aio.serve` does to a datagram
//! except the I/O and running the handler.
//!
//! asyncio receives a datagram and hands it to [`PyResponder::receive`],
//! which drops junk (pssst-core's precheck, before any X25519), refuses
//! anonymous requests to a closed service, enforces the bound on requests
//! in flight, decrypts with the GIL released, checks the allowlist and
//! returns a [`PyRequest`] for the handler. The handler's answer goes back
//! through [`PyRequest::reply`], which enforces anti-amplification, seals
//! the reply and sends it through the transport's `sendto`. Every datagram
//! ends in exactly one counter ([`Outcome`]).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use pssst_core::{Error, PrivateKey, PublicKey, Server, ServerReplyHandler};
use pssst_udp::{Counter, MAX_DATAGRAM};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::buffers::data_of;
use crate::errors::to_py_err;
use crate::keys::{cryptography_public_key, key_bytes};
use crate::{DETACH_THRESHOLD, lock};

/// How one received datagram ended: `pssst serve`'s counters, plus the
/// outcomes only an asyncio server has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// One of `pssst serve`'s counters, with its name.
    Udp(Counter),
    /// `max_in_flight` handlers were running: dropped before any X25519.
    Busy,
    /// The handler raised.
    HandlerFailed,
    /// The server closed while the handler ran.
    Cancelled,
}

impl Outcome {
    /// Every outcome, in display order; `received` first.
    const ALL: [Outcome; Counter::ALL.len() + 3] = {
        let mut all = [Outcome::Busy; Counter::ALL.len() + 3];
        let mut i = 0;
        while i < Counter::ALL.len() {
            all[i] = Outcome::Udp(Counter::ALL[i]);
            i += 1;
        }
        all[i] = Outcome::Busy;
        all[i + 1] = Outcome::HandlerFailed;
        all[i + 2] = Outcome::Cancelled;
        all
    };

    fn index(self) -> usize {
        match self {
            Outcome::Udp(counter) => counter as usize,
            Outcome::Busy => Counter::ALL.len(),
            Outcome::HandlerFailed => Counter::ALL.len() + 1,
            Outcome::Cancelled => Counter::ALL.len() + 2,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Outcome::Udp(counter) => counter.name(),
            Outcome::Busy => "busy",
            Outcome::HandlerFailed => "handler_failed",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// The counter for a request pssst-core refused.
    fn of_error(err: Error) -> Outcome {
        Outcome::Udp(match err {
            Error::NotRequest => Counter::DroppedReplyFlag,
            Error::UnsupportedCipherSuite => Counter::DroppedUnknownSuite,
            Error::LowOrderPoint => Counter::DroppedLowOrder,
            Error::Truncated => Counter::DroppedShort,
            Error::ClientAuthFailed => Counter::DroppedClientAuthFailed,
            _ => Counter::DroppedDecryptFailed,
        })
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
    counts: [AtomicU64; Outcome::ALL.len()],
}

impl Shared {
    fn count(&self, outcome: Outcome) {
        self.counts[outcome.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Reserves a place for one more handler, if there is one.
    fn enter(&self) -> bool {
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_in_flight).then_some(n + 1)
            })
            .is_ok()
    }

    fn leave(&self, outcome: Outcome) {
        self.count(outcome);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
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
    /// max_in_flight)`: raw 32-byte keys; `authorized_keys` is `None` (open
    /// service) or a list of client public keys (closed service).
    #[new]
    fn new(
        py: Python<'_>,
        server_private: &Bound<'_, PyAny>,
        authorized_keys: Option<Vec<Bound<'_, PyAny>>>,
        allow_amplification: bool,
        max_in_flight: usize,
    ) -> PyResult<Self> {
        if max_in_flight == 0 {
            return Err(PyValueError::new_err("max_in_flight must be at least 1"));
        }
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
                counts: Default::default(),
            }),
        })
    }

    /// `receive(datagram, peer, send) -> Request | None`: `None` when the
    /// datagram was dropped (and counted); otherwise the request for the
    /// handler, whose reply goes out as `send(packet, peer)`.
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
        let packet = data.as_slice();
        match self.open(py, packet) {
            Ok(opened) => {
                let client_public_key = opened
                    .client_public_key
                    .as_ref()
                    .map(|key| cryptography_public_key(py, key).map(Bound::unbind))
                    .transpose()?;
                Ok(Some(PyRequest {
                    message: PyBytes::new(py, &opened.message).unbind(),
                    client_public_key,
                    pending: Mutex::new(Some(Pending {
                        shared: Arc::clone(shared),
                        reply_handler: opened.reply_handler,
                        max_packet: opened.max_packet,
                        peer,
                        send,
                    })),
                }))
            }
            Err(outcome) => {
                shared.count(outcome);
                Ok(None)
            }
        }
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

    /// `{counter name: count}`, every counter.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = PyDict::new(py);
        for outcome in Outcome::ALL {
            let count = self.shared.counts[outcome.index()].load(Ordering::Relaxed);
            stats.set_item(outcome.name(), count)?;
        }
        Ok(stats)
    }
}

/// A request that passed every check, with a place among those in flight.
struct Opened {
    message: Vec<u8>,
    client_public_key: Option<PublicKey>,
    reply_handler: ServerReplyHandler,
    max_packet: usize,
}

impl PyResponder {
    /// Every check, cheapest first; on success one place in flight is taken.
    fn open(&self, py: Python<'_>, packet: &[u8]) -> Result<Opened, Outcome> {
        let shared = &self.shared;
        // Junk is dropped before any X25519, by pssst-core's own checks.
        let header = Server::precheck(packet).map_err(Outcome::of_error)?;
        // A closed service answers only authenticated clients.
        if shared.authorized.is_some() && !header.is_client_auth() {
            return Err(Outcome::Udp(Counter::DroppedUnauthorized));
        }
        if !shared.enter() {
            return Err(Outcome::Busy);
        }
        let opened = self.unpack(py, packet);
        if opened.is_err() {
            shared.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
        opened
    }

    fn unpack(&self, py: Python<'_>, packet: &[u8]) -> Result<Opened, Outcome> {
        let shared = &self.shared;
        let request = py
            .detach(|| shared.server.unpack_request(packet))
            .map_err(Outcome::of_error)?;
        if let Some(allowed) = &shared.authorized {
            let known = request
                .client_public_key
                .is_some_and(|key| allowed.contains(&key));
            if !known {
                return Err(Outcome::Udp(Counter::DroppedUnauthorized));
            }
        }
        // No reply larger than its request, unless allowed: a spoofed
        // source must not make the server an amplifier.
        let max_packet = if shared.allow_amplification {
            MAX_DATAGRAM
        } else {
            packet.len().min(MAX_DATAGRAM)
        };
        Ok(Opened {
            message: request.message,
            client_public_key: request.client_public_key,
            reply_handler: request.reply_handler,
            max_packet,
        })
    }
}

/// What a request needs to be answered, until it is.
struct Pending {
    shared: Arc<Shared>,
    reply_handler: ServerReplyHandler,
    max_packet: usize,
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

/// One request for the handler; answered (or given up) once.
#[pyclass(frozen, module = "pssst._pssst", name = "Request")]
#[derive(Debug)]
pub struct PyRequest {
    message: Py<PyBytes>,
    client_public_key: Option<Py<PyAny>>,
    /// `None` once settled: replied, refused, failed or cancelled.
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

    /// `reply(message)`: seals `message` and sends it, unless it is larger
    /// than the request allows (anti-amplification) or than a datagram;
    /// `reply(None)`: no reply. Returns whether a reply was sent.
    fn reply(&self, py: Python<'_>, message: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        // Converted before the request is settled: a bad type leaves it open.
        let message = message.map(data_of).transpose()?;
        let pending = self.take()?;
        let Some(message) = message else {
            pending.shared.leave(Outcome::Udp(Counter::NoReply));
            return Ok(false);
        };
        let message = message.as_slice();
        let reply_len = pssst_core::Client::reply_len(message.len()).unwrap_or(usize::MAX);
        if reply_len > MAX_DATAGRAM {
            pending
                .shared
                .leave(Outcome::Udp(Counter::DroppedReplyTooLarge));
            return Ok(false);
        }
        if reply_len > pending.max_packet {
            pending
                .shared
                .leave(Outcome::Udp(Counter::DroppedAmplification));
            return Ok(false);
        }
        let Pending {
            shared,
            reply_handler,
            peer,
            send,
            ..
        } = pending;
        let pack = |packet: &mut [u8]| reply_handler.pack_reply_into(message, packet);
        let packet = PyBytes::new_with(py, reply_len, |packet| {
            if message.len() >= DETACH_THRESHOLD {
                py.detach(|| pack(packet))
            } else {
                pack(packet)
            }
            .map(drop)
            .map_err(to_py_err)
        });
        let sent = packet.and_then(|packet| send.call1(py, (packet, peer)));
        match sent {
            Ok(_) => {
                shared.leave(Outcome::Udp(Counter::Answered));
                Ok(true)
            }
            Err(err) => {
                shared.leave(Outcome::Udp(Counter::SendFailed));
                Err(err)
            }
        }
    }

    /// The handler raised: no reply.
    fn fail(&self) -> PyResult<()> {
        self.take()?.shared.leave(Outcome::HandlerFailed);
        Ok(())
    }

    /// The server is closing: no reply.
    fn cancel(&self) -> PyResult<()> {
        self.take()?.shared.leave(Outcome::Cancelled);
        Ok(())
    }
}

impl Drop for PyRequest {
    /// A request dropped unanswered gives its place back.
    fn drop(&mut self) {
        if let Some(pending) = lock(&self.pending).take() {
            pending.shared.leave(Outcome::Cancelled);
        }
    }
}
