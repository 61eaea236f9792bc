//! Keys across the boundary: 32 raw bytes in, `cryptography` key objects out.
//!
//! The Python layer converts the key forms pypssst accepts (hex `str`,
//! bytes-likes, `cryptography` key objects) to raw bytes once, in the
//! constructors; the client key a server learns goes back to Python as a
//! `cryptography` `X25519PublicKey`, as pypssst returns it.

use pssst_core::{Error, PublicKey};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyBytes;

use crate::buffers::data_of;
use crate::errors::to_py_err;

/// A 32-byte key from a bytes-like argument; `PSSSTInvalidKey` otherwise.
pub(crate) fn key_bytes(obj: &Bound<'_, PyAny>) -> PyResult<[u8; 32]> {
    let data = data_of(obj)?;
    <[u8; 32]>::try_from(data.as_slice()).map_err(|_| to_py_err(Error::InvalidKey))
}

/// `X25519PublicKey.from_public_bytes` from `cryptography`, looked up once.
static PUBLIC_KEY_FROM_BYTES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `key` as a `cryptography` `X25519PublicKey`.
pub(crate) fn cryptography_public_key<'py>(
    py: Python<'py>,
    key: &PublicKey,
) -> PyResult<Bound<'py, PyAny>> {
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
