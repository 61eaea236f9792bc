//! `pssst_retry_schedule`: when a client resends a request, from
//! pssst-core's one schedule and its retransmission window.

use std::time::Duration;

use pssst_core::RetrySchedule;
use pssst_ffi_core::args::Out;
use pssst_ffi_core::status;
use pssst_ffi_macros::ffi_export;

use crate::result::pssst_result;

/// No client may send a copy of a request later than this many
/// milliseconds after its first copy: the server may have forgotten its
/// reply, and a second, different reply would reuse the AES-GCM nonce. To
/// keep trying after that, pack a fresh request (the server's handler may
/// then run twice).
pub const PSSST_RETRANSMISSION_WINDOW_MS: u64 = 10_000;
const _: () = assert!(PSSST_RETRANSMISSION_WINDOW_MS == pssst_core::RETRANSMISSION_WINDOW_MS);

/// When a client sends the copies of one request: the first copy waits
/// `first_wait_ms` for the reply, each later wait is twice the one before
/// up to 4 times the first, and `retries` copies follow the first.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct pssst_retry_schedule {
    /// How long the first copy waits for the reply, in milliseconds.
    pub first_wait_ms: u32,
    /// Copies sent after the first.
    pub retries: u32,
}

impl From<RetrySchedule> for pssst_retry_schedule {
    fn from(schedule: RetrySchedule) -> pssst_retry_schedule {
        let ms = |wait: Duration| u32::try_from(wait.as_millis()).unwrap_or(u32::MAX);
        pssst_retry_schedule {
            first_wait_ms: ms(schedule.first_wait()),
            retries: schedule.retries(),
        }
    }
}

impl TryFrom<pssst_retry_schedule> for RetrySchedule {
    type Error = pssst_core::Error;

    fn try_from(schedule: pssst_retry_schedule) -> Result<RetrySchedule, pssst_core::Error> {
        let ms = |ms: u32| Duration::from_millis(ms.into());
        RetrySchedule::new(ms(schedule.first_wait_ms), schedule.retries)
    }
}

/// Writes the schedule pssst's own clients use (500 ms, doubling up to
/// 2000 ms, 6 retries) to `schedule`.
///
/// # Safety
/// `schedule` is NULL or writable.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_retry_schedule_default(
    schedule: *mut pssst_retry_schedule,
) -> pssst_result {
    status(|| {
        let default = RetrySchedule::DEFAULT.into();
        // SAFETY: the contract above.
        unsafe { Out::reset(schedule, default) }?;
        Ok(())
    })
}

/// Writes to `wait_ms` how long copy number `copy` (0 = the first send)
/// waits for the reply before the next copy goes out, or 0 when `copy` is
/// past the schedule's last copy (give up). Fails with
/// `PSSST_ERR_RETRY_WINDOW_EXCEEDED` (and writes 0) when the schedule would
/// send a copy later than `PSSST_RETRANSMISSION_WINDOW_MS` after the first.
///
/// # Safety
/// `wait_ms` is NULL or writable.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_retry_schedule_wait_ms(
    schedule: pssst_retry_schedule,
    copy: u32,
    wait_ms: *mut u32,
) -> pssst_result {
    status(|| {
        // SAFETY: the contract above.
        let mut out = unsafe { Out::reset(wait_ms, 0) }?;
        let schedule = RetrySchedule::try_from(schedule)?;
        let wait = schedule.waits().nth(copy as usize).unwrap_or_default();
        out.write(u32::try_from(wait.as_millis()).unwrap_or(u32::MAX));
        Ok(())
    })
}

#[cfg(test)]
#[allow(unsafe_code)] // Calls the exports as C would.
mod tests {
    use super::*;

    fn waits(schedule: pssst_retry_schedule) -> Result<Vec<u32>, pssst_result> {
        let mut waits = Vec::new();
        for copy in 0.. {
            let mut wait = u32::MAX;
            // SAFETY: a valid out-parameter.
            match unsafe { pssst_retry_schedule_wait_ms(schedule, copy, &mut wait) } {
                pssst_result::PSSST_OK if wait == 0 => return Ok(waits),
                pssst_result::PSSST_OK => waits.push(wait),
                error => return Err(error),
            }
        }
        unreachable!()
    }

    #[test]
    fn the_default_schedule_is_core_s() {
        let mut schedule = pssst_retry_schedule {
            first_wait_ms: 1,
            retries: 1,
        };
        assert_eq!(
            // SAFETY: a valid out-parameter.
            unsafe { pssst_retry_schedule_default(&mut schedule) },
            pssst_result::PSSST_OK
        );
        let core: Vec<u32> = RetrySchedule::DEFAULT
            .waits()
            .map(|w| w.as_millis() as u32)
            .collect();
        assert_eq!(waits(schedule), Ok(core));
    }

    #[test]
    fn a_schedule_past_the_window_is_refused() {
        let long = pssst_retry_schedule {
            first_wait_ms: 5_000,
            retries: 2,
        };
        assert_eq!(
            waits(long),
            Err(pssst_result::PSSST_ERR_RETRY_WINDOW_EXCEEDED)
        );
        assert_eq!(
            // SAFETY: NULL is refused, not written.
            unsafe { pssst_retry_schedule_wait_ms(long, 0, std::ptr::null_mut()) },
            pssst_result::PSSST_ERR_NULL_ARGUMENT
        );
    }
}
