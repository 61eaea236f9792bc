//! `pssst._pssst.Server` and its single-use reply handler.

use std::sync::Mutex;

use pssst_core::{
    CipherSuite, CipherSuites, Error, Header, PrivateKey, Server, ServerReplyHandler,
};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::buffers::data_of;
use crate::errors::to_py_err;
use crate::keys::{cryptography_public_key, key_bytes};
use crate::{DETACH_THRESHOLD, is_unknown_suite, lock};

/// A PSSST server for one private key (`pssst.PSSSTServer`'s base).
#[pyclass(frozen, subclass, module = "pssst._pssst", name = "Server")]
#[derive(Debug)]
pub struct PyServer {
    inner: Server,
}

#[pymethods]
impl PyServer {
    /// `Server(server_private, suites=None)`: the key 32 raw bytes,
    /// `suites` the cipher suite identifiers it accepts (None: every suite).
    #[new]
    #[pyo3(signature = (server_private, suites=None))]
    fn new(
        py: Python<'_>,
        server_private: &Bound<'_, PyAny>,
        suites: Option<Vec<u16>>,
    ) -> PyResult<Self> {
        let suites = match suites {
            None => CipherSuites::ALL,
            Some(ids) => CipherSuites::from_ids(ids).map_err(to_py_err)?,
        };
        let private = PrivateKey::from_bytes(key_bytes(server_private)?);
        let inner = py.detach(|| Server::new(private)).with_suites(suites);
        Ok(PyServer { inner })
    }

    /// The cipher suite identifiers this server accepts.
    #[getter]
    fn suites(&self) -> Vec<u16> {
        self.inner.suites().iter().map(CipherSuite::id).collect()
    }

    /// Decrypts a request packet; returns `(data, client_public_key or None,
    /// reply_handler)`, the client key as a `cryptography` X25519PublicKey.
    fn unpack_request<'py>(
        &self,
        py: Python<'py>,
        packet: &Bound<'py, PyAny>,
    ) -> PyResult<(
        Bound<'py, PyBytes>,
        Option<Bound<'py, PyAny>>,
        PyServerReplyHandler,
    )> {
        let data = data_of(packet)?;
        let packet = data.as_slice();
        // pypssst reads the suite field before the REPLY flag: an unknown
        // suite is PSSSTUnsupportedCipher even on a packet marked as a reply.
        if Header::parse(packet).is_ok_and(|h| is_unknown_suite(h.cipher_suite)) {
            return Err(to_py_err(Error::UnsupportedCipherSuite));
        }
        let request = py
            .detach(|| self.inner.unpack_request(packet))
            .map_err(to_py_err)?;
        let client_key = request
            .client_public_key
            .as_ref()
            .map(|key| cryptography_public_key(py, key))
            .transpose()?;
        let handler = PyServerReplyHandler {
            inner: Mutex::new(Some(request.reply_handler)),
        };
        Ok((PyBytes::new(py, &request.message), client_key, handler))
    }

    /// The server's public key, 32 raw bytes.
    fn _public_key_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.public_key().as_bytes())
    }
}

/// Packs the one reply to one request; callable once.
#[pyclass(frozen, module = "pssst._pssst", name = "ServerReplyHandler")]
#[derive(Debug)]
pub struct PyServerReplyHandler {
    /// `None` once packed: pypssst's API reports reuse as
    /// PSSSTHandlerReused, where Rust makes it impossible.
    inner: Mutex<Option<ServerReplyHandler>>,
}

#[pymethods]
impl PyServerReplyHandler {
    /// `handler(reply_message) -> reply packet`; a second call raises
    /// PSSSTHandlerReused.
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let data = data_of(data)?;
        let message = data.as_slice();
        let packet_len = pssst_core::Client::reply_len(message.len()).map_err(to_py_err)?;
        // The lock is taken and released inside, never held while re-taking
        // the GIL; the packet is sealed straight into the new bytes object.
        // The buffer is exactly the reply's size, so packing cannot fail
        // for want of room after the handler is taken.
        let pack = |packet: &mut [u8]| {
            let handler = lock(&self.inner).take().ok_or(Error::HandlerReused)?;
            handler.pack_reply_into(message, packet)
        };
        PyBytes::new_with(py, packet_len, |packet| {
            if message.len() >= DETACH_THRESHOLD {
                py.detach(|| pack(packet))
            } else {
                pack(packet)
            }
            .map(drop)
            .map_err(to_py_err)
        })
    }

    /// True once the reply has been packed.
    #[getter]
    fn used(&self) -> bool {
        lock(&self.inner).is_none()
    }
}
