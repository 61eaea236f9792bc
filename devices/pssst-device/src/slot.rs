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

/// `&mut *pointer`, or PSSST_ERR_NULL_ARGUMENT.
/// # Safety
/// A non-NULL `pointer` points to a valid, exclusively borrowed `T`.
pub unsafe fn out<'a, T>(pointer: *mut T) -> Result<&'a mut T, pssst_result> {
    // SAFETY: forwarded from the caller.
    unsafe { pointer.as_mut() }.ok_or(PSSST_ERR_NULL_ARGUMENT)
}

/// The `len` bytes at `pointer` (any pointer when `len` is 0), or
/// PSSST_ERR_NULL_ARGUMENT.
/// # Safety
/// A non-NULL `pointer` points to `len` readable bytes.
pub unsafe fn bytes<'a>(pointer: *const u8, len: usize) -> Result<&'a [u8], pssst_result> {
    if len == 0 {
        return Ok(&[]);
    }
    if pointer.is_null() {
        return Err(PSSST_ERR_NULL_ARGUMENT);
    }
    // SAFETY: the caller's promise.
    Ok(unsafe { core::slice::from_raw_parts(pointer, len) })
}

/// The `capacity` writable bytes at `pointer`, or PSSST_ERR_NULL_ARGUMENT.
/// # Safety
/// A non-NULL `pointer` points to `capacity` writable bytes that nothing
/// else in this call reads or writes.
pub unsafe fn bytes_mut<'a>(
    pointer: *mut u8,
    capacity: usize,
) -> Result<&'a mut [u8], pssst_result> {
    if capacity == 0 {
        return Ok(&mut []);
    }
    if pointer.is_null() {
        return Err(PSSST_ERR_NULL_ARGUMENT);
    }
    // SAFETY: the caller's promise.
    Ok(unsafe { core::slice::from_raw_parts_mut(pointer, capacity) })
}

/// A 32-byte key argument, or PSSST_ERR_NULL_ARGUMENT.
/// # Safety
/// A non-NULL `pointer` points to 32 readable bytes.
pub unsafe fn key(pointer: *const u8) -> Result<[u8; 32], pssst_result> {
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { bytes(pointer, 32) }?;
    let mut key = [0; 32];
    key.copy_from_slice(bytes);
    Ok(key)
}

/// True when the two byte ranges share a byte.
pub fn overlap(a: &[u8], b: &[u8]) -> bool {
    let (a0, b0) = (a.as_ptr() as usize, b.as_ptr() as usize);
    !a.is_empty() && !b.is_empty() && a0 < b0 + b.len() && b0 < a0 + a.len()
}
