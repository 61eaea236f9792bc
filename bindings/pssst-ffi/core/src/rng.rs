//! The caller's random number generator, as rand_core sees it.

use core::ffi::{c_int, c_void};
use core::fmt;

use pssst_core::rand_core::{TryCryptoRng, TryRng};

use crate::pssst_result::{self, PSSST_ERR_NULL_ARGUMENT};

/// A random number generator the caller supplies: fills `buffer` with `len`
/// cryptographically secure random bytes and returns 0, or returns any
/// other value on failure (the pssst call then fails with
/// `PSSST_ERR_RNG_FAILURE`). `context` is passed through unchanged.
pub type pssst_random_fn =
    Option<unsafe extern "C" fn(context: *mut c_void, buffer: *mut u8, len: usize) -> c_int>;

/// The callback failed.
#[derive(Debug)]
pub struct CallbackFailed;

impl fmt::Display for CallbackFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the random callback failed")
    }
}

impl core::error::Error for CallbackFailed {}

/// Adapts a `pssst_random_fn` and its context to rand_core.
#[derive(Debug)]
pub struct CallbackRng {
    fill: unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> c_int,
    context: *mut c_void,
}

impl CallbackRng {
    /// `PSSST_ERR_NULL_ARGUMENT` for a NULL callback.
    ///
    /// # Safety
    /// `fill` fills the buffer it is given with that many bytes, reads and
    /// writes nothing else but `context`, and does not unwind.
    #[allow(unsafe_code)] // Records the callback's contract.
    pub unsafe fn new(
        fill: pssst_random_fn,
        context: *mut c_void,
    ) -> Result<CallbackRng, pssst_result> {
        let fill = fill.ok_or(PSSST_ERR_NULL_ARGUMENT)?;
        Ok(CallbackRng { fill, context })
    }
}

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
        #[allow(unsafe_code)]
        // SAFETY: `dst` is a valid, exclusive buffer of `dst.len()` bytes,
        // and `new`'s contract says the callback writes only inside it.
        let status = unsafe { (self.fill)(self.context, dst.as_mut_ptr(), dst.len()) };
        if status == 0 {
            Ok(())
        } else {
            Err(CallbackFailed)
        }
    }
}

/// The caller promised cryptographically secure bytes.
impl TryCryptoRng for CallbackRng {}
