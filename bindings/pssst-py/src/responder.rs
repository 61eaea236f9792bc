//! `pssst._pssst.Responder`: everything `pssst.aio.serve` does to a datagram
//! except the I/O and running the handler, by `pssst serve`'s own code:
//! pssst-udp's [`Intake`].
//!
//! asyncio hands each datagram to [`PyResponder::receive`], which runs it
//! through the intake with the GIL released (junk dropped before any
//! X25519, the closed service, the bound on handlers in flight, decryption,
//! the allowlist, the reply cache) and returns a [`PyRequest`] for a new
//! request. The handler's answer goes back through [`PyRequest::reply`]:
//! the request's [`Ticket`] seals it (anti-amplification, the cache) and
//! hands it to the transport's `sendto`. Every datagram ends in exactly one
//! counter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pssst_core::{Error, PrivateKey, PublicKey};
use pssst_udp::{Counter, HandlerFailure, Intake, ServerConfig, Tally, Ticket};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use zeroize::Zeroizing;

use crate::buffers::data_of;
use crate::errors::to_py_err;
use crate::keys::{cryptography_public_key, key_bytes};
use crate::{DETACH_THRESHOLD, lock};

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

/// One server's outcome counts, shared with its requests' tickets.
#[derive(Debug, Clone, Default)]
struct Counts(Arc<[AtomicU64; OUTCOMES]>);

impl Counts {
    fn add(&self, outcome: Outcome) {
        self.0[outcome.index()].fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self, outcome: Outcome) -> u64 {
        self.0[outcome.index()].load(Ordering::Relaxed)
    }
}

impl Tally for Counts {
    fn count(&self, counter: Counter) {
        self.add(Outcome::Udp(counter));
    }
}

/// The datagram side of one `pssst.aio` server (one private key).
#[pyclass(frozen, module = "pssst._pssst", name = "Responder")]
#[derive(Debug)]
pub struct PyResponder {
    intake: Intake,
    counts: Counts,
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
        let private = PrivateKey::from_bytes(key_bytes(server_private)?);
        let mut config = ServerConfig::default()
            .allow_amplification(allow_amplification)
            .max_in_flight(max_in_flight)
            .reply_cache(reply_cache_bytes, ttl);
        if let Some(keys) = authorized_keys {
            let keys = keys
                .iter()
                .map(|key| key_bytes(key).map(PublicKey::from_bytes))
                .collect::<PyResult<Vec<_>>>()?;
            config = config.authorized_clients(keys);
        }
        let intake = py
            .detach(|| Intake::new(private, &config))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PyResponder {
            intake,
            counts: Counts::default(),
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
        // Decrypted in place, so a copy; wiped on the way out.
        let mut packet = Zeroizing::new(data_of(datagram)?.as_slice().to_vec());
        // A copy of a known request is answered inside, through `send`.
        let resend = |reply: &[u8]| {
            Python::attach(|py| send.call1(py, (PyBytes::new(py, reply), &peer)).map(drop))
        };
        let received = py.detach(|| self.intake.receive(&mut packet, &self.counts, resend));
        let Some((admitted, ticket)) = received? else {
            return Ok(None);
        };
        let client_public_key = match admitted.client_public_key.as_ref() {
            None => None,
            Some(key) => match cryptography_public_key(py, key) {
                Ok(key) => Some(key.unbind()),
                Err(err) => {
                    // `cryptography` failed us: the request was not handled.
                    ticket.fail(HandlerFailure::Failed);
                    return Err(err);
                }
            },
        };
        Ok(Some(PyRequest {
            message: PyBytes::new(py, admitted.message).unbind(),
            client_public_key,
            pending: Mutex::new(Some(Pending { ticket, peer, send })),
            counts: self.counts.clone(),
        }))
    }

    /// The server's public key, 32 raw bytes.
    fn _public_key_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.intake.public_key().as_bytes())
    }

    /// Handlers running now.
    #[getter]
    fn in_flight(&self) -> usize {
        self.intake.in_flight()
    }

    /// Seconds a reply is remembered; a handler that takes longer cannot
    /// have its reply sent.
    #[getter]
    fn reply_cache_ttl(&self) -> f64 {
        self.intake
            .reply_cache_ttl()
            .map_or(f64::INFINITY, |ttl| ttl.as_secs_f64())
    }

    /// `{counter name: count}`, every counter.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = PyDict::new(py);
        let outcomes = Counter::ALL.map(Outcome::Udp);
        for &outcome in outcomes.iter().chain(&[Outcome::Cancelled]) {
            let name = match outcome {
                Outcome::Udp(counter) => counter.name(),
                Outcome::Cancelled => "cancelled",
            };
            stats.set_item(name, self.counts.get(outcome))?;
        }
        Ok(stats)
    }
}

/// What a request needs to be answered, until it is.
#[derive(Debug)]
struct Pending {
    ticket: Ticket<Counts>,
    peer: Py<PyAny>,
    send: Py<PyAny>,
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
    counts: Counts,
}

impl PyRequest {
    fn take(&self) -> PyResult<Pending> {
        lock(&self.pending)
            .take()
            .ok_or_else(|| to_py_err(Error::HandlerReused))
    }

    /// The server closed first: no reply, the cache entry forgotten.
    fn cancelled(&self, pending: Pending) {
        self.counts.add(Outcome::Cancelled);
        pending.ticket.cancel();
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
        let Pending { ticket, peer, send } = self.take()?;
        let Some(message) = message else {
            ticket.no_reply();
            return Ok(false);
        };
        let message = message.as_slice();
        let send = |packet: &[u8]| {
            Python::attach(|py| send.call1(py, (PyBytes::new(py, packet), &peer)).map(drop))
        };
        // Sealing a long message runs with the GIL released.
        let ended = if message.len() >= DETACH_THRESHOLD {
            py.detach(|| ticket.reply(message, send))
        } else {
            ticket.reply(message, send)
        };
        Ok(ended? == Counter::Answered)
    }

    /// The handler raised: no reply, now or to copies.
    fn fail(&self) -> PyResult<()> {
        self.take()?.ticket.fail(HandlerFailure::Failed);
        Ok(())
    }

    /// The handler ran past the reply cache's TTL and was stopped: no reply.
    fn time_out(&self) -> PyResult<()> {
        self.take()?.ticket.fail(HandlerFailure::TimedOut);
        Ok(())
    }

    /// The server is closing: no reply. The cache entry is forgotten.
    fn cancel(&self) -> PyResult<()> {
        self.cancelled(self.take()?);
        Ok(())
    }
}

impl Drop for PyRequest {
    /// A request dropped unanswered (its task never ran) gives its place back.
    fn drop(&mut self) {
        if let Some(pending) = lock(&self.pending).take() {
            self.cancelled(pending);
        }
    }
}
