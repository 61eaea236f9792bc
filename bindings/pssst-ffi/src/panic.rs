//! The panic boundary: `#[ffi_export]` runs every exported body through
//! [`guard`], so a panic never unwinds into C.

use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::result::pssst_result;

/// What an export returns to C when its body panicked.
pub(crate) trait PanicValue {
    fn panic_value() -> Self;
}

impl PanicValue for pssst_result {
    fn panic_value() -> Self {
        pssst_result::PSSST_ERR_PANIC
    }
}

impl PanicValue for () {
    fn panic_value() -> Self {}
}

/// Sizes: 0 is never a valid packet size, so it doubles as "failed".
impl PanicValue for usize {
    fn panic_value() -> Self {
        0
    }
}

impl PanicValue for *const c_char {
    fn panic_value() -> Self {
        c"pssst-ffi: internal panic".as_ptr()
    }
}

/// Runs `body`, turning a panic into `T::panic_value()`.
///
/// Unwind safety is asserted: the objects a body can touch are either
/// immutable (clients, servers) or single-owner handlers whose state only
/// changes after the operation that could panic has finished.
pub(crate) fn guard<T: PanicValue>(body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| T::panic_value())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_panic_value() {
        let result: pssst_result = guard(|| panic!("boom"));
        assert_eq!(result, pssst_result::PSSST_ERR_PANIC);
        assert_eq!(guard::<usize>(|| panic!("boom")), 0);
        guard::<()>(|| panic!("boom"));
        assert!(!guard::<*const c_char>(|| panic!("boom")).is_null());
    }

    #[test]
    fn no_panic_passes_the_value_through() {
        assert_eq!(guard(|| 52usize), 52);
    }
}
