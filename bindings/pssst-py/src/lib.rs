//! `pssst._pssst`: the native half of the `pssst` Python package.
//!
//! The public, pypssst-compatible API lives in `python/pssst/`; this module
//! holds the classes that do the work, on top of pssst-core:
//!
//! - [`PyClient`] (`Client`) and [`PyServer`] (`Server`) are frozen and
//!   `Sync`: one instance can be used from many Python threads at once. The
//!   X25519 work runs with the GIL released ([`Python::detach`]).
//! - The reply handlers are single-use callables; their state sits behind a
//!   `Mutex`, so sharing one between threads is safe too.
//! - Every pssst-core [`Error`] becomes one exception class defined in
//!   `pssst/errors.py`, through [`to_py_err`] alone.
//!
//! Keys arrive here as 32 raw bytes: the Python layer converts the key forms
//! pypssst accepts (hex `str`, bytes-likes, `cryptography` key objects) once,
//! in the constructors.

use std::sync::{Mutex, MutexGuard, PoisonError};

use pssst_core::rand_core::{TryCryptoRng, TryRng};
use pssst_core::{
    Client, ClientReplyHandler, DH_PARAM_LEN, Error, HEADER_LEN, Header, PACKET_OVERHEAD,
    PrivateKey, PublicKey, SUITE_X25519_AESGCM128, Server, ServerReplyHandler,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView};

/// The exception classes, imported from `pssst.errors` on first use.
mod errors {
    pyo3::import_exception!(pssst.errors, PSSSTException);
    pyo3::import_exception!(pssst.errors, PSSSTUnsupportedCipher);
    pyo3::import_exception!(pssst.errors, PSSSTClientAuthFailed);
    pyo3::import_exception!(pssst.errors, PSSSTReplyMismatch);
    pyo3::import_exception!(pssst.errors, PSSSTNotReply);
    pyo3::import_exception!(pssst.errors, PSSSTNotRequest);
    pyo3::import_exception!(pssst.errors, PSSSTDecryptFailed);
    pyo3::import_exception!(pssst.errors, PSSSTHandlerReused);
    pyo3::import_exception!(pssst.errors, PSSSTTruncated);
    pyo3::import_exception!(pssst.errors, PSSSTLowOrderPoint);
    pyo3::import_exception!(pssst.errors, PSSSTInvalidKey);
    pyo3::import_exception!(pssst.errors, PSSSTMessageTooLarge);
    pyo3::import_exception!(pssst.errors, PSSSTRngFailure);
    pyo3::import_exception!(pssst.errors, PSSSTBufferTooSmall);
}

/// The one mapping from pssst-core errors to Python exceptions.
fn to_py_err(err: Error) -> PyErr {
    use errors::*;
    let msg = err.to_string();
    match err {
        Error::Truncated => PSSSTTruncated::new_err(msg),
        Error::NotRequest => PSSSTNotRequest::new_err(msg),
        Error::NotReply => PSSSTNotReply::new_err(msg),
        Error::UnsupportedCipherSuite => PSSSTUnsupportedCipher::new_err(msg),
        Error::DecryptionFailed => PSSSTDecryptFailed::new_err(msg),
        Error::ClientAuthFailed => PSSSTClientAuthFailed::new_err(msg),
        Error::ReplyMismatch => PSSSTReplyMismatch::new_err(msg),
        Error::LowOrderPoint => PSSSTLowOrderPoint::new_err(msg),
        Error::HandlerReused => PSSSTHandlerReused::new_err(msg),
        Error::BufferTooSmall { .. } => PSSSTBufferTooSmall::new_err(msg),
        Error::RngFailure => PSSSTRngFailure::new_err(msg),
        Error::InvalidKey => PSSSTInvalidKey::new_err(msg),
        Error::MessageTooLarge => PSSSTMessageTooLarge::new_err(msg),
        // `Error` is non_exhaustive: a kind added later is still a PSSSTException.
        _ => PSSSTException::new_err(msg),
    }
}

/// The bytes of a bytes-like argument: `bytes` is borrowed (immutable, so
/// safe to read with the GIL released); `bytearray`, `memoryview` and any
/// other buffer exporter are copied first, so a concurrent writer cannot
/// change them under us.
enum Data<'py> {
    Bytes(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Data<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            Data::Bytes(bytes) => bytes.as_bytes(),
            Data::Owned(vec) => vec,
        }
    }
}

fn data_of<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Data<'py>> {
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return Ok(Data::Bytes(bytes.clone()));
    }
    if let Ok(array) = obj.cast::<PyByteArray>() {
        return Ok(Data::Owned(array.to_vec()));
    }
    // memoryview, array.array, mmap, ...: anything with the buffer protocol.
    // (Not `bytes(obj)`, which would turn an int into a zero-filled buffer.)
    match PyMemoryView::from(obj) {
        Ok(view) => {
            let bytes = view
                .call_method0(pyo3::intern!(obj.py(), "tobytes"))?
                .cast_into::<PyBytes>()?;
            Ok(Data::Bytes(bytes))
        }
        Err(_) => Err(PyTypeError::new_err(format!(
            "a bytes-like object is required, not '{}'",
            obj.get_type().name()?
        ))),
    }
}

fn key_bytes(obj: &Bound<'_, PyAny>) -> PyResult<[u8; 32]> {
    let data = data_of(obj)?;
    <[u8; 32]>::try_from(data.as_slice()).map_err(|_| to_py_err(Error::InvalidKey))
}

/// AES-GCM on a message this long or longer runs with the GIL released;
/// below it, releasing and re-taking the GIL costs more than it frees.
const DETACH_THRESHOLD: usize = 16 * 1024;

/// `X25519PublicKey.from_public_bytes` from `cryptography`, looked up once.
static PUBLIC_KEY_FROM_BYTES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn cryptography_public_key<'py>(py: Python<'py>, key: &PublicKey) -> PyResult<Bound<'py, PyAny>> {
    let from_bytes = PUBLIC_KEY_FROM_BYTES.get_or_try_init(py, || {
        py.import("cryptography.hazmat.primitives.asymmetric.x25519")?
            .getattr("X25519PublicKey")?
            .getattr("from_public_bytes")
            .map(Bound::unbind)
    })?;
    from_bytes
        .bind(py)
        .call1((PyBytes::new(py, key.as_bytes()),))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; if something ever did, the
    // handler's own `used` flag still tells the truth.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Hands out the given bytes, then fails: the testing hook for packing a
/// request with a recorded ephemeral.
struct ScriptedRng(Vec<u8>);

#[derive(Debug)]
struct RngExhausted;

impl std::fmt::Display for RngExhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("scripted RNG exhausted")
    }
}

impl std::error::Error for RngExhausted {}

impl TryRng for ScriptedRng {
    type Error = RngExhausted;
    fn try_next_u32(&mut self) -> Result<u32, RngExhausted> {
        let mut b = [0; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, RngExhausted> {
        let mut b = [0; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RngExhausted> {
        if dst.len() > self.0.len() {
            return Err(RngExhausted);
        }
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}

impl TryCryptoRng for ScriptedRng {}

/// A PSSST client for one server public key (`pssst.PSSSTClient`'s base).
#[pyclass(frozen, subclass, module = "pssst._pssst", name = "Client")]
#[derive(Debug)]
pub struct PyClient {
    inner: Client,
}

impl PyClient {
    fn handler(&self, packet: &[u8], inner: ClientReplyHandler) -> PyResult<PyClientReplyHandler> {
        let dh_param = packet
            .get(HEADER_LEN..HEADER_LEN + DH_PARAM_LEN)
            .and_then(|dh| <[u8; DH_PARAM_LEN]>::try_from(dh).ok())
            .ok_or_else(|| to_py_err(Error::Truncated))?;
        Ok(PyClientReplyHandler {
            dh_param,
            client_auth: self.inner.client_public_key().is_some(),
            inner: Mutex::new(inner),
        })
    }
}

#[pymethods]
impl PyClient {
    /// `Client(server_public, client_private=None)`, both 32 raw bytes.
    #[new]
    #[pyo3(signature = (server_public, client_private=None))]
    fn new(
        py: Python<'_>,
        server_public: &Bound<'_, PyAny>,
        client_private: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
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
        Ok(PyClient { inner })
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
        let handler = self.handler(&packet, inner)?;
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
        let mut rng = ScriptedRng(data_of(ephemeral)?.as_slice().to_vec());
        if rng.0.len() != 32 {
            return Err(PyValueError::new_err("the ephemeral must be 32 bytes"));
        }
        let (packet, inner) = self
            .inner
            .pack_request_with_rng(data.as_slice(), &mut rng)
            .map_err(to_py_err)?;
        let handler = self.handler(&packet, inner)?;
        Ok((PyBytes::new(py, &packet), handler))
    }
}

/// Unpacks the one reply to one request; callable once successfully.
#[pyclass(frozen, module = "pssst._pssst", name = "ClientReplyHandler")]
#[derive(Debug)]
pub struct PyClientReplyHandler {
    dh_param: [u8; DH_PARAM_LEN],
    client_auth: bool,
    inner: Mutex<ClientReplyHandler>,
}

impl PyClientReplyHandler {
    /// pypssst's checks, in pypssst's order, so a bad reply raises the class
    /// pypssst raises: suite field before the REPLY flag, and anything that
    /// is not this request's reply (suite 0, other auth mode, other DH
    /// parameter, too short to hold one) is a mismatch before any decryption.
    fn precheck(&self, packet: &[u8]) -> Result<(), Error> {
        let header = Header::parse(packet)?;
        if header.cipher_suite > SUITE_X25519_AESGCM128 {
            return Err(Error::UnsupportedCipherSuite);
        }
        if !header.is_reply() {
            return Err(Error::NotReply);
        }
        if header.cipher_suite != SUITE_X25519_AESGCM128
            || header.is_client_auth() != self.client_auth
            || packet.get(HEADER_LEN..HEADER_LEN + DH_PARAM_LEN) != Some(&self.dh_param[..])
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
}

/// A PSSST server for one private key (`pssst.PSSSTServer`'s base).
#[pyclass(frozen, subclass, module = "pssst._pssst", name = "Server")]
#[derive(Debug)]
pub struct PyServer {
    inner: Server,
}

#[pymethods]
impl PyServer {
    /// `Server(server_private)`, 32 raw bytes.
    #[new]
    fn new(py: Python<'_>, server_private: &Bound<'_, PyAny>) -> PyResult<Self> {
        let private = PrivateKey::from_bytes(key_bytes(server_private)?);
        let inner = py.detach(|| Server::new(private));
        Ok(PyServer { inner })
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
        if Header::parse(packet).is_ok_and(|h| h.cipher_suite > SUITE_X25519_AESGCM128) {
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
            inner: Mutex::new(request.reply_handler),
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
    inner: Mutex<ServerReplyHandler>,
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
        let packet_len = pssst_core::reply_len(message.len()).map_err(to_py_err)?;
        // The lock is taken and released inside, never held while re-taking
        // the GIL; the packet is sealed straight into the new bytes object.
        let pack = |packet: &mut [u8]| lock(&self.inner).pack_reply_into(message, packet);
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
        lock(&self.inner).is_used()
    }
}

#[pymodule(gil_used = false)]
fn _pssst(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PyClient>()?;
    m.add_class::<PyClientReplyHandler>()?;
    m.add_class::<PyServer>()?;
    m.add_class::<PyServerReplyHandler>()?;
    Ok(())
}
