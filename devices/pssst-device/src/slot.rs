//! Caller-owned storage: a fixed-size, 16-byte-aligned block of bytes that
//! holds one Rust value, tagged so that a zeroed, cleared or used block is
//! told apart from a live one.

use core::mem::{MaybeUninit, align_of, size_of};

use crate::result::{PSSST_ERR_NULL_ARGUMENT, pssst_result};

/// The tag of a block that holds a live value. Any other tag (a zeroed
/// block: 0) means empty.
const LIVE: u32 = 0x5053_5354; // "PSST"

/// A block of `N` bytes as C sees it (`struct { _Alignas(16) uint8_t opaque[N]; }`).
#[repr(C, align(16))]
#[derive(Debug)]
pub struct Storage<const N: usize> {
    opaque: [MaybeUninit<u8>; N],
}

/// What the block holds: the tag, then the value.
#[repr(C)]
struct Slot<T> {
    tag: u32,
    value: MaybeUninit<T>,
}

impl<const N: usize> Storage<N> {
    /// Compile-time proof that a `T` fits in `N` bytes (use it in a `const _`).
    pub const fn fits<T>() -> bool {
        size_of::<Slot<T>>() <= N && align_of::<Slot<T>>() <= align_of::<Self>()
    }

    fn slot<T>(&mut self) -> *mut Slot<T> {
        self.opaque.as_mut_ptr().cast()
    }

    /// Stores `value`, dropping (zeroizing) whatever live value was there.
    /// # Safety
    /// `T` fits (`fits::<T>()`), and the block only ever holds `T`s.
    pub unsafe fn put<T>(&mut self, value: T) {
        // SAFETY: forwarded from the caller.
        drop(unsafe { self.take::<T>() });
        // SAFETY: the block is large and aligned enough for a Slot<T> (the
        // caller's promise) and is ours to write through `&mut self`.
        unsafe {
            self.slot::<T>().write(Slot {
                tag: LIVE,
                value: MaybeUninit::new(value),
            })
        };
    }

    /// The live value, if any.
    /// # Safety
    /// As for [`put`](Self::put).
    pub unsafe fn get<T>(&mut self) -> Option<&mut T> {
        let slot = self.slot::<T>();
        // SAFETY: aligned and in bounds (caller's promise); the tag is
        // plain bytes, whatever the caller left there (C structs are
        // initialised before use, as the header says).
        let tag = unsafe { (*slot).tag };
        if tag != LIVE {
            return None;
        }
        // SAFETY: a LIVE tag is written only together with a value of T.
        Some(unsafe { (*slot).value.assume_init_mut() })
    }

    /// Moves the live value out, leaving the block empty.
    /// # Safety
    /// As for [`put`](Self::put).
    pub unsafe fn take<T>(&mut self) -> Option<T> {
        // SAFETY: forwarded from the caller.
        unsafe { self.get::<T>() }?;
        let slot = self.slot::<T>();
        // SAFETY: live (checked above); the tag is cleared at once, so the
        // value is moved out exactly once.
        unsafe {
            (*slot).tag = 0;
            Some((*slot).value.assume_init_read())
        }
    }
}

/// Drops (zeroizes) the live value of the block at `pointer`, if any,
/// leaving it empty; NULL is a no-op. The body of every `_clear`.
/// # Safety
/// `pointer` is NULL or points to a block that only ever holds `T`s.
pub unsafe fn clear<T, const N: usize>(pointer: *mut Storage<N>) {
    // SAFETY: the caller's promise.
    if let Ok(storage) = unsafe { storage(pointer) } {
        // SAFETY: as above.
        drop(unsafe { storage.take::<T>() });
    }
}

/// The caller's storage block at `pointer`, or PSSST_ERR_NULL_ARGUMENT.
/// (Every other argument is checked by pssst-ffi-core.)
/// # Safety
/// A non-NULL `pointer` points to a valid, exclusively borrowed `T`.
pub unsafe fn storage<'a, T>(pointer: *mut T) -> Result<&'a mut T, pssst_result> {
    // SAFETY: forwarded from the caller.
    unsafe { pointer.as_mut() }.ok_or(PSSST_ERR_NULL_ARGUMENT)
}
