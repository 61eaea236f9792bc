//! Testing hooks: pypssst's private KDF and a scripted ephemeral.
//!
//! Not part of the supported API. They let tests build packets by hand (as
//! pypssst's own test suite does with `pssst.pssst._DKF_SHA256`) and pack
//! requests with a recorded ephemeral (the known-answer vectors), with every
//! byte of crypto still computed by pssst-core.

use pssst_core::hazmat::kdf_sha256;
use pssst_core::{DH_PARAM_LEN, KEY_LEN};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::buffers::data_of;

/// `_kdf_sha256(dh_param, shared_secret) -> (key, request_nonce,
/// reply_nonce)`: the KDF of every suite, as pypssst's `_DKF_SHA256` returns it
/// (16, 12 and 12 bytes). Both inputs are 32 bytes.
#[pyfunction]
pub(crate) fn _kdf_sha256<'py>(
    py: Python<'py>,
    dh_param: &Bound<'py, PyAny>,
    shared_secret: &Bound<'py, PyAny>,
) -> PyResult<(
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
)> {
    let dh_param = data_of(dh_param)?;
    let shared_secret = data_of(shared_secret)?;
    let dh_param = <&[u8; DH_PARAM_LEN]>::try_from(dh_param.as_slice())
        .map_err(|_| PyValueError::new_err("the DH parameter must be 32 bytes"))?;
    let shared_secret = <&[u8; KEY_LEN]>::try_from(shared_secret.as_slice())
        .map_err(|_| PyValueError::new_err("the shared secret must be 32 bytes"))?;
    let secrets = kdf_sha256(dh_param, shared_secret);
    Ok((
        PyBytes::new(py, &secrets.key),
        PyBytes::new(py, &secrets.request_nonce),
        PyBytes::new(py, &secrets.reply_nonce),
    ))
}
