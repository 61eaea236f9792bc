//! The opaque C handles (`pssst_client *`, ...): how a Rust value becomes a
//! heap object C holds a pointer to, how the pointer is borrowed back, and
//! how it is freed. Every such cast is here, once (rustls-ffi's
//! `Castable`); the class modules say only which Rust value each handle owns.
#![allow(unsafe_code)]

use pssst_ffi_core::args::{Out, required};

use crate::result::pssst_result;

/// A C handle type: an opaque heap object that owns one Rust value.
pub(crate) trait Castable: Sized + 'static {
    /// The value behind the handle.
    type RustType: 'static;
    fn wrap(value: Self::RustType) -> Self;
    fn get(&self) -> &Self::RustType;
    fn get_mut(&mut self) -> &mut Self::RustType;
}

/// Implements [`Castable`] for a handle struct `{ inner: RustType }`.
macro_rules! castable {
    ($handle:ident => $rust:ty) => {
        impl $crate::handle::Castable for $handle {
            type RustType = $rust;
            fn wrap(inner: $rust) -> $handle {
                $handle { inner }
            }
            fn get(&self) -> &$rust {
                &self.inner
            }
            fn get_mut(&mut self) -> &mut $rust {
                &mut self.inner
            }
        }
    };
}
pub(crate) use castable;

/// Moves `value` to the heap and writes its new handle to `out`; C frees
/// it with the class's `_free`, which calls [`free`].
pub(crate) fn write_new<C: Castable>(out: &mut Out<*mut C>, value: C::RustType) {
    out.write(Box::into_raw(Box::new(C::wrap(value))));
}

/// The value behind `handle`, shared, or `PSSST_ERR_NULL_ARGUMENT`.
///
/// # Safety
/// `handle` is NULL or a live handle from [`write_new`] that no thread
/// uses mutably during `'a`.
pub(crate) unsafe fn try_ref<'a, C: Castable>(
    handle: *const C,
) -> Result<&'a C::RustType, pssst_result> {
    let handle = required(handle)?;
    // SAFETY: non-NULL, and a live, properly aligned `C` only read during
    // 'a (the contract).
    Ok(unsafe { handle.as_ref() }.get())
}

/// The value behind `handle`, exclusively, or `PSSST_ERR_NULL_ARGUMENT`.
///
/// # Safety
/// `handle` is NULL or a live handle from [`write_new`] that nothing else
/// uses during `'a`.
pub(crate) unsafe fn try_mut<'a, C: Castable>(
    handle: *mut C,
) -> Result<&'a mut C::RustType, pssst_result> {
    let mut handle = required(handle)?;
    // SAFETY: non-NULL, and a live, properly aligned `C` used by this
    // caller alone during 'a (the contract).
    Ok(unsafe { handle.as_mut() }.get_mut())
}

/// Frees `handle` and drops its value (keys are wiped by their own Drop).
/// NULL is a no-op.
///
/// # Safety
/// `handle` is NULL or a handle from [`write_new`] not yet freed and not in
/// use by another thread.
pub(crate) unsafe fn free<C: Castable>(handle: *mut C) {
    if !handle.is_null() {
        // SAFETY: it came from Box::into_raw in write_new and is freed
        // exactly once (the contract).
        drop(unsafe { Box::from_raw(handle) });
    }
}
