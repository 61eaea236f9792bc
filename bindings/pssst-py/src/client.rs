//! `pssst._pssst.Client` and its single-use reply handler.

use std::sync::Mutex;

use pssst_core::{
    CipherSuite, Client, ClientReplyHandler, Error, Header, PACKET_OVERHEAD, PrivateKey, PublicKey,
    RequestId,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::buffers::data_of;
use crate::errors::to_py_err;
use crate::keys::key_bytes;
use crate::{DETACH_THRESHOLD, is_unknown_suite, lock};

/// A PSSST client for one server public key (`pssst.PSSSTClient`'s base).
#[pyclass(frozen, subclass, module = "pssst._pssst", name = "Client")]
#[derive(Debug)]
pub struct PyClient {
    inner: Client,
}

impl PyClient {
    fn handler(&self, inner: ClientReplyHandler) -> PyClientReplyHandler {
        PyClientReplyHandler {
            suite: inner.suite().id(),
            request_id: inner.request_id(),
            client_auth: self.inner.client_public_key().is_some(),
            inner: Mutex::new(inner),
        }
    }
}

#[pymethods]
impl PyClient {
    /// `Client(server_public, client_private=None, suite=1)`: both keys 32
    /// raw bytes, `suite` the header's cipher suite identifier.
    #[new]
    // A literal default, so the text signature (and stubtest) shows it.
    #[pyo3(signature = (server_public, client_private=None, suite=1))]
    fn new(
        py: Python<'_>,
        server_public: &Bound<'_, PyAny>,
        client_private: Option<&Bound<'_, PyAny>>,
        suite: u16,
    ) -> PyResult<Self> {
        let suite = CipherSuite::from_id(suite).map_err(to_py_err)?;
        let server_public = PublicKey::from_bytes(key_bytes(server_public)?);
        let client_private = client_private
            .map(|key| key_bytes(key).map(PrivateKey::from_bytes))
            .transpose()?;
        let inner = py
            .detach(|| match &client_private {
                None => Client::new(server_public),
                Some(private) => Client::with_client_auth(server_public, private),
            })
            .map_err(to_py_err)?;
        Ok(PyClient {
            inner: inner.with_suite(suite),
        })
    }

    /// The cipher suite identifier of this client's requests.
    #[getter]
    fn suite(&self) -> u16 {
        self.inner.suite().id()
    }

    /// Encrypts `data` into a request packet; returns `(packet, reply_handler)`.
    fn pack_request<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyBytes>, PyClientReplyHandler)> {
        let data = data_of(data)?;
        let message = data.as_slice();
        let (packet, inner) = py
            .detach(|| self.inner.pack_request(message))
            .map_err(to_py_err)?;
        let handler = self.handler(inner);
        Ok((PyBytes::new(py, &packet), handler))
    }

    /// Testing only: `pack_request` with the 32 ephemeral bytes given instead
    /// of drawn from the OS RNG (for the known-answer vectors). Never use an
    /// ephemeral twice.
    fn _pack_request_with_ephemeral<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        ephemeral: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyBytes>, PyClientReplyHandler)> {
        let data = data_of(data)?;
        let ephemeral = data_of(ephemeral)?;
        let Ok(ephemeral) = <&[u8; 32]>::try_from(ephemeral.as_slice()) else {
            return Err(PyValueError::new_err("the ephemeral must be 32 bytes"));
        };
        let (packet, inner) = self
            .inner
            .pack_request_with_ephemeral(data.as_slice(), ephemeral)
            .map_err(to_py_err)?;
        let handler = self.handler(inner);
        Ok((PyBytes::new(py, &packet), handler))
    }
}

/// Unpacks the one reply to one request; callable once successfully.
#[pyclass(frozen, module = "pssst._pssst", name = "ClientReplyHandler")]
#[derive(Debug)]
pub struct PyClientReplyHandler {
    suite: u16,
    request_id: RequestId,
    client_auth: bool,
    inner: Mutex<ClientReplyHandler>,
}

impl PyClientReplyHandler {
    /// pypssst's checks, in pypssst's order, so a bad reply raises the class
    /// pypssst raises: an unknown suite field before the REPLY flag, and
    /// anything that is not this request's reply (suite 0 or the other
    /// suite, other auth mode, other DH parameter, too short to hold one)
    /// is a mismatch before any decryption.
    fn precheck(&self, packet: &[u8]) -> Result<(), Error> {
        let header = Header::parse(packet)?;
        if is_unknown_suite(header.cipher_suite) {
            return Err(Error::UnsupportedCipherSuite);
        }
        if !header.is_reply() {
            return Err(Error::NotReply);
        }
        if header.cipher_suite != self.suite
            || header.is_client_auth() != self.client_auth
            || RequestId::of(packet) != Some(self.request_id)
        {
            return Err(Error::ReplyMismatch);
        }
        Ok(())
    }

    /// Everything, into `out` (`packet.len() - PACKET_OVERHEAD` bytes). The
    /// lock is taken and released here, never held while re-taking the GIL.
    fn unpack_into(&self, packet: &[u8], out: &mut [u8]) -> Result<(), Error> {
        let mut inner = lock(&self.inner);
        if inner.is_used() {
            return Err(Error::HandlerReused);
        }
        self.precheck(packet)?;
        inner.unpack_reply_into(packet, out).map(drop)
    }
}

#[pymethods]
impl PyClientReplyHandler {
    /// `handler(reply_packet) -> reply message`. A reply that fails leaves
    /// the handler usable; after one success it raises PSSSTHandlerReused.
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let data = data_of(data)?;
        let packet = data.as_slice();
        let Some(message_len) = packet.len().checked_sub(PACKET_OVERHEAD) else {
            // Too short for any reply: find the right error, allocate nothing.
            let err = self.unpack_into(packet, &mut []).err();
            return Err(to_py_err(err.unwrap_or(Error::Truncated)));
        };
        // Decrypt straight into the new bytes object.
        PyBytes::new_with(py, message_len, |out| {
            if packet.len() >= DETACH_THRESHOLD {
                py.detach(|| self.unpack_into(packet, out))
            } else {
                self.unpack_into(packet, out)
            }
            .map_err(to_py_err)
        })
    }

    /// True once a reply has been accepted.
    #[getter]
    fn used(&self) -> bool {
        lock(&self.inner).is_used()
    }

    /// The request's identifier: its DH parameter (32 bytes), which its
    /// reply carries too; see [`_reply_request_id`].
    #[getter]
    fn request_id<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.request_id.as_bytes())
    }
}

/// `_reply_request_id(datagram) -> bytes | None`: the identifier of the
/// request a datagram claims to answer (the DH parameter it carries), or
/// `None` when it is not shaped like a reply. Lets a client with many
/// requests in flight hand each datagram to the one reply handler that can
/// open it; the handler still checks everything.
#[pyfunction]
pub(crate) fn _reply_request_id<'py>(
    py: Python<'py>,
    datagram: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let data = data_of(datagram)?;
    let packet = data.as_slice();
    if packet.len() < PACKET_OVERHEAD || !Header::parse(packet).is_ok_and(Header::is_reply) {
        return Ok(None);
    }
    Ok(RequestId::of(packet).map(|id| PyBytes::new(py, id.as_bytes())))
}
