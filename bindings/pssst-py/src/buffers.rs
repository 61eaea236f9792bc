//! Bytes-like arguments: `bytes`, `bytearray`, `memoryview` and any other
//! buffer exporter, as a byte slice that is safe to read with the GIL
//! released.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView};

/// The bytes of a bytes-like argument: `bytes` is borrowed (immutable, so
/// safe to read with the GIL released); `bytearray`, `memoryview` and any
/// other buffer exporter are copied first, so a concurrent writer cannot
/// change them under us.
pub(crate) enum Data<'py> {
    Bytes(Bound<'py, PyBytes>),
    Owned(Vec<u8>),
}

impl Data<'_> {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Data::Bytes(bytes) => bytes.as_bytes(),
            Data::Owned(vec) => vec,
        }
    }
}

/// `obj` as [`Data`], or `TypeError` for anything that is not bytes-like.
pub(crate) fn data_of<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Data<'py>> {
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
