//! The retry schedule of pssst-core, for `pssst.aio` and Python retry loops.

use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::to_py_err;

/// The wait of each send of one request, in seconds (`retries + 1` of
/// them): the first waits `first_wait`, each later one twice the one before
/// up to 4 times the first. Raises `PSSSTRetryWindowExceeded` when a copy
/// would leave later than `RETRANSMISSION_WINDOW` after the first.
#[pyfunction]
#[pyo3(signature = (first_wait=0.5, retries=6))]
pub(crate) fn retry_waits(first_wait: f64, retries: u32) -> PyResult<Vec<f64>> {
    let first_wait = Duration::try_from_secs_f64(first_wait).map_err(|_| {
        PyValueError::new_err(format!(
            "first_wait must be a non-negative number of seconds, not {first_wait}"
        ))
    })?;
    let schedule = pssst_core::RetrySchedule::new(first_wait, retries).map_err(to_py_err)?;
    Ok(schedule.waits().map(|wait| wait.as_secs_f64()).collect())
}
