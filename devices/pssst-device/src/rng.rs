//! The caller's random number generator (pssst.h's `pssst_random_fn`).

use core::ffi::{c_int, c_void};

use pssst_core::rand_core::{TryCryptoRng, TryRng};

use crate::result::{PSSST_ERR_NULL_ARGUMENT, pssst_result};

/// Fills `buffer` with `len` secure random bytes and returns 0, or returns
/// anything else on failure (the call then fails with PSSST_ERR_RNG_FAILURE).
pub type pssst_random_fn =
    Option<unsafe extern "C" fn(context: *mut c_void, buffer: *mut u8, len: usize) -> c_int>;

/// A `pssst_random_fn` and its context, as a rand_core RNG.
#[derive(Debug)]
pub struct CallbackRng {
    fill: unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> c_int,
    context: *mut c_void,
}

impl CallbackRng {
    /// PSSST_ERR_NULL_ARGUMENT for a NULL callback.
    /// # Safety
    /// `fill` writes at most the `len` bytes it is given (and its context).
    pub unsafe fn new(
        fill: pssst_random_fn,
        context: *mut c_void,
    ) -> Result<CallbackRng, pssst_result> {
        let fill = fill.ok_or(PSSST_ERR_NULL_ARGUMENT)?;
        Ok(CallbackRng { fill, context })
    }
}

/// The callback returned non-zero.
#[derive(Debug)]
pub struct CallbackFailed;

impl core::fmt::Display for CallbackFailed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the random callback failed")
    }
}

impl core::error::Error for CallbackFailed {}

impl TryRng for CallbackRng {
    type Error = CallbackFailed;

    fn try_next_u32(&mut self) -> Result<u32, CallbackFailed> {
        let mut bytes = [0; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, CallbackFailed> {
        let mut bytes = [0; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), CallbackFailed> {
        // SAFETY: `dst` is `dst.len()` writable bytes; the callback's
        // contract (CallbackRng::new) is to write only those.
        let status = unsafe { (self.fill)(self.context, dst.as_mut_ptr(), dst.len()) };
        if status == 0 {
            Ok(())
        } else {
            Err(CallbackFailed)
        }
    }
}

impl TryCryptoRng for CallbackRng {}
