//! Turning C pointers into Rust references: every check in one place.
//!
//! Rules for every export: a pointer argument must not be NULL, except a
//! buffer pointer whose length (or capacity) is 0; lengths above
//! `isize::MAX` are refused; an input buffer may not overlap an output
//! buffer (Rust may not alias a `&[u8]` with a `&mut [u8]`).
#![allow(unsafe_code)]

use std::ptr::NonNull;

use pssst_core::Error;

use crate::PSSST_KEY_LEN;
use crate::result::pssst_result::{self, *};

/// `ptr` as a `NonNull`, or `PSSST_ERR_NULL_ARGUMENT`.
pub(crate) fn required<T>(ptr: *const T) -> Result<NonNull<T>, pssst_result> {
    NonNull::new(ptr.cast_mut()).ok_or(PSSST_ERR_NULL_ARGUMENT)
}

/// Checks a `(pointer, length)` buffer without touching its memory.
fn check_buffer(ptr: *const u8, len: usize) -> Result<(), pssst_result> {
    if ptr.is_null() && len > 0 {
        return Err(PSSST_ERR_NULL_ARGUMENT);
    }
    if len > isize::MAX as usize || (ptr as usize).checked_add(len).is_none() {
        return Err(PSSST_ERR_MESSAGE_TOO_LARGE);
    }
    Ok(())
}

/// Checks an input and an output buffer, and that they do not overlap.
pub(crate) fn check_buffers(
    input: (*const u8, usize),
    output: (*mut u8, usize),
) -> Result<(), pssst_result> {
    check_buffer(input.0, input.1)?;
    check_buffer(output.0, output.1)?;
    let (input_start, output_start) = (input.0 as usize, output.0 as usize);
    let overlap = input.1 > 0
        && output.1 > 0
        && input_start < output_start + output.1
        && output_start < input_start + input.1;
    if overlap {
        return Err(PSSST_ERR_BUFFERS_OVERLAP);
    }
    Ok(())
}

/// The input buffer `(ptr, len)`.
///
/// # Safety
/// `check_buffers` accepted the buffer, and `ptr` is valid for reads of
/// `len` bytes that nothing writes to during `'a` (or `len` is 0).
pub(crate) unsafe fn input<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: non-NULL (checked), length at most isize::MAX without
    // wrapping (checked), readable and unaliased by writes (the contract).
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// The output buffer `(ptr, capacity)`.
///
/// # Safety
/// `check_buffers` accepted the buffer, and `ptr` is valid for reads and
/// writes of `capacity` bytes that nothing else accesses during `'a` (or
/// `capacity` is 0).
pub(crate) unsafe fn output<'a>(ptr: *mut u8, capacity: usize) -> &'a mut [u8] {
    if capacity == 0 {
        return &mut [];
    }
    // SAFETY: as for `input`, and the buffer is exclusively ours (the
    // contract, and `check_buffers` proved it does not overlap the input).
    unsafe { std::slice::from_raw_parts_mut(ptr, capacity) }
}

/// A copy of the `len` 16-bit values at `ptr` (read unaligned, so any
/// pointer C can form works): NULL only with `len` 0.
///
/// # Safety
/// `ptr` is NULL or valid for reads of `len` `uint16_t`s.
pub(crate) unsafe fn u16_list(ptr: *const u16, len: usize) -> Result<Vec<u16>, pssst_result> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let ptr = required(ptr)?;
    let bytes = len.checked_mul(2).ok_or(PSSST_ERR_MESSAGE_TOO_LARGE)?;
    check_buffer(ptr.as_ptr().cast(), bytes)?;
    Ok((0..len)
        // SAFETY: in bounds of the `len` readable values (the contract;
        // `check_buffer` proved the range does not wrap), read unaligned.
        .map(|i| unsafe { ptr.as_ptr().add(i).read_unaligned() })
        .collect())
}

/// A copy of the 32-byte key at `ptr`.
///
/// # Safety
/// `ptr` is NULL or valid for reads of 32 bytes.
pub(crate) unsafe fn key(ptr: *const u8) -> Result<[u8; PSSST_KEY_LEN], pssst_result> {
    let ptr = required(ptr)?;
    // SAFETY: non-NULL and readable for 32 bytes (the contract); a
    // [u8; 32] has alignment 1, and the read copies.
    Ok(unsafe { ptr.cast::<[u8; PSSST_KEY_LEN]>().read() })
}

/// Reports the length a call wrote, or on `BufferTooSmall` the length it
/// needs, through `len_out`, and passes the rest of the result on.
pub(crate) fn write_len<T>(
    len_out: &mut Out<usize>,
    result: Result<(usize, T), Error>,
) -> Result<T, pssst_result> {
    match result {
        Ok((len, value)) => {
            len_out.write(len);
            Ok(value)
        }
        Err(Error::BufferTooSmall { needed }) => {
            len_out.write(needed);
            Err(PSSST_ERR_BUFFER_TOO_SMALL)
        }
        Err(error) => Err(error.into()),
    }
}

/// An out-parameter: checked for NULL once, then written without reading.
#[derive(Debug)]
pub(crate) struct Out<T>(NonNull<T>);

impl<T: Copy> Out<T> {
    /// Checks `ptr` and, when it is not NULL, writes `initial` to it at
    /// once, so a failing call never leaves a stale value behind (callers
    /// can free a handler out-parameter unconditionally).
    ///
    /// # Safety
    /// `ptr` is NULL or valid for writes of a `T` for as long as the `Out`
    /// is used.
    pub(crate) unsafe fn reset(ptr: *mut T, initial: T) -> Result<Out<T>, pssst_result> {
        let mut out = required(ptr).map(Out)?;
        out.write(initial);
        Ok(out)
    }

    pub(crate) fn write(&mut self, value: T) {
        // SAFETY: non-NULL and writable (the contract of `reset`); `T: Copy`
        // so nothing is dropped, and nothing is read.
        unsafe { self.0.as_ptr().write(value) }
    }
}

impl Out<u8> {
    /// A 32-byte key out-parameter (`uint8_t key[32]` in C), reset to zeros.
    ///
    /// # Safety
    /// `ptr` is NULL or valid for writes of 32 bytes while the `Out` is used.
    pub(crate) unsafe fn key(ptr: *mut u8) -> Result<Out<[u8; PSSST_KEY_LEN]>, pssst_result> {
        // SAFETY: forwarded contract; [u8; 32] has alignment 1.
        unsafe { Out::reset(ptr.cast(), [0; PSSST_KEY_LEN]) }
    }
}
