//! `pssst._pssst`: the native half of the `pssst` Python package.
//!
//! The public, pypssst-compatible API lives in `python/pssst/`; this module
//! holds the classes that do the work, on top of pssst-core:
//!
//! - [`client::PyClient`] (`Client`) and [`server::PyServer`] (`Server`) are
//!   frozen and `Sync`: one instance can be used from many Python threads at
//!   once. The X25519 work runs with the GIL released ([`Python::detach`]).
//! - The reply handlers are single-use callables; their state sits behind a
//!   `Mutex`, so sharing one between threads is safe too.
//! - Every pssst-core error becomes one exception class defined in
//!   `pssst/errors.py`, through [`errors::to_py_err`] alone.
//!
//! One file per concern: `errors` (the exception mapping), `buffers`
//! (bytes-like arguments), `keys` (raw key bytes in, `cryptography` keys
//! out), `client`, `server`, `responder` (what `pssst.aio.serve` does to a
//! datagram, short of the I/O) and `hazmat` (testing hooks: pypssst's
//! private KDF, a scripted ephemeral). This file assembles the module and
//! holds the two things client and server share.

use std::sync::{Mutex, MutexGuard, PoisonError};

use pyo3::prelude::*;

mod buffers;
mod client;
mod errors;
mod hazmat;
mod keys;
mod responder;
mod retry;
mod server;

/// AES-GCM on a message this long or longer runs with the GIL released;
/// below it, releasing and re-taking the GIL costs more than it frees.
const DETACH_THRESHOLD: usize = 16 * 1024;

/// True for a suite field pypssst's header parser refuses before anything
/// else (PSSSTUnsupportedCipher even on a packet with the wrong REPLY
/// flag): neither NONE (0) nor a suite pssst-core implements.
fn is_unknown_suite(id: u16) -> bool {
    id != 0 && pssst_core::CipherSuite::from_id(id).is_err()
}

/// Locks a reply handler's state.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; if something ever did, the
    // handler's own `used` flag still tells the truth.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[pymodule(gil_used = false)]
fn _pssst(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // Which X25519 implementation this build uses: "aws-lc" or "x25519-dalek".
    m.add("_backend", pssst_core::BACKEND)?;
    m.add_class::<client::PyClient>()?;
    m.add_class::<client::PyClientReplyHandler>()?;
    m.add_class::<server::PyServer>()?;
    m.add_class::<server::PyServerReplyHandler>()?;
    m.add_function(wrap_pyfunction!(hazmat::_kdf_sha256, m)?)?;
    // pssst.aio: the datagram work of its client and server.
    m.add("MAX_DATAGRAM", pssst_udp::MAX_DATAGRAM)?;
    // The shortest reply-cache TTL a server accepts, in seconds.
    m.add(
        "REPLY_CACHE_MIN_TTL",
        pssst_udp::ReplyCache::min_ttl().as_secs_f64(),
    )?;
    // No copy of a request is sent later than this after the first (seconds).
    m.add(
        "RETRANSMISSION_WINDOW",
        pssst_core::RETRANSMISSION_WINDOW.as_secs_f64(),
    )?;
    m.add_function(wrap_pyfunction!(retry::retry_waits, m)?)?;
    m.add_function(wrap_pyfunction!(client::_reply_request_id, m)?)?;
    m.add_class::<responder::PyResponder>()?;
    m.add_class::<responder::PyRequest>()?;
    Ok(())
}
