//! Turning C arguments into Rust values: every pointer check of both C
//! libraries, in one place.
//!
//! Rules: a pointer argument must not be NULL, except a buffer pointer whose
//! length (or capacity) is 0; a buffer longer than `isize::MAX` bytes, or one
//! that wraps around the address space, is refused; an input buffer may not
//! overlap an output buffer (Rust may not alias a `&[u8]` with a
//! `&mut [u8]`); every out-parameter is reset before anything can fail, so a
//! failed call never leaves a stale value behind.
#![allow(unsafe_code)]

use core::marker::PhantomData;
use core::ptr::NonNull;

use pssst_core::{Error, KEY_LEN};

use crate::pssst_result::{self, *};

/// `ptr` as a `NonNull`, or `PSSST_ERR_NULL_ARGUMENT`.
pub fn required<T>(ptr: *const T) -> Result<NonNull<T>, pssst_result> {
    NonNull::new(ptr.cast_mut()).ok_or(PSSST_ERR_NULL_ARGUMENT)
}

/// Checks a `(pointer, length)` buffer without touching its memory.
pub fn check_buffer(ptr: *const u8, len: usize) -> Result<(), pssst_result> {
    if ptr.is_null() && len > 0 {
        return Err(PSSST_ERR_NULL_ARGUMENT);
    }
    if len > isize::MAX as usize || (ptr as usize).checked_add(len).is_none() {
        return Err(PSSST_ERR_MESSAGE_TOO_LARGE);
    }
    Ok(())
}

/// A copy of the 32-byte key at `ptr`.
///
/// # Safety
/// `ptr` is NULL or valid for reads of 32 bytes.
pub unsafe fn key(ptr: *const u8) -> Result<[u8; KEY_LEN], pssst_result> {
    let ptr = required(ptr)?;
    // SAFETY: non-NULL and readable for 32 bytes (the contract); a
    // [u8; 32] has alignment 1, and the read copies.
    Ok(unsafe { ptr.cast::<[u8; KEY_LEN]>().read() })
}

/// An out-parameter: checked for NULL once, then written without reading.
#[derive(Debug)]
pub struct Out<T>(NonNull<T>);

impl<T: Copy> Out<T> {
    /// Checks `ptr` and, when it is not NULL, writes `initial` to it at
    /// once, so a failing call never leaves a stale value behind (callers
    /// can free a handler out-parameter unconditionally).
    ///
    /// # Safety
    /// `ptr` is NULL or valid for writes of a `T` for as long as the `Out`
    /// is used.
    pub unsafe fn reset(ptr: *mut T, initial: T) -> Result<Out<T>, pssst_result> {
        let mut out = required(ptr).map(Out)?;
        out.write(initial);
        Ok(out)
    }

    /// Writes `value`.
    pub fn write(&mut self, value: T) {
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
    pub unsafe fn key(ptr: *mut u8) -> Result<Out<[u8; KEY_LEN]>, pssst_result> {
        // SAFETY: forwarded contract; [u8; 32] has alignment 1.
        unsafe { Out::reset(ptr.cast(), [0; KEY_LEN]) }
    }
}

/// The three arguments every pack and unpack takes: the buffer it reads,
/// the buffer it writes and the length out-parameter, whose length is
/// reset at once and whose buffers are checked when they are borrowed.
#[derive(Debug)]
pub struct Buffers<'a> {
    input: (*const u8, usize),
    output: (*mut u8, usize),
    len_out: Out<usize>,
    borrowed: PhantomData<&'a mut [u8]>,
}

impl<'a> Buffers<'a> {
    /// Resets `*len_out` to 0 (`PSSST_ERR_NULL_ARGUMENT` if it is NULL); the
    /// buffers are checked later, by [`borrow`](Self::borrow).
    ///
    /// # Safety
    /// `input` is NULL or readable for its length, `output` NULL or
    /// writable for its capacity, and nothing else accesses either during
    /// `'a` but through the `Buffers`; `len_out` is NULL or writable during
    /// `'a`.
    pub unsafe fn reset(
        input: (*const u8, usize),
        output: (*mut u8, usize),
        len_out: *mut usize,
    ) -> Result<Buffers<'a>, pssst_result> {
        // SAFETY: the contract.
        let len_out = unsafe { Out::reset(len_out, 0) }?;
        let borrowed = PhantomData;
        Ok(Buffers {
            input,
            output,
            len_out,
            borrowed,
        })
    }

    /// The input and the output buffer, once they pass the checks.
    pub fn borrow(&mut self) -> Result<(&'a [u8], &'a mut [u8]), pssst_result> {
        let ((input, input_len), (output, capacity)) = (self.input, self.output);
        check_buffer(input, input_len)?;
        check_buffer(output, capacity)?;
        let (input_start, output_start) = (input as usize, output as usize);
        if input_len > 0
            && capacity > 0
            && input_start < output_start + capacity
            && output_start < input_start + input_len
        {
            return Err(PSSST_ERR_BUFFERS_OVERLAP);
        }
        // Borrowed once: a second borrow sees two empty buffers.
        self.input.1 = 0;
        self.output.1 = 0;
        let input = match input_len {
            0 => &[][..],
            // SAFETY: non-NULL, at most isize::MAX bytes without wrapping
            // (checked), readable and written by nobody during 'a (the
            // contract of `reset`).
            len => unsafe { core::slice::from_raw_parts(input, len) },
        };
        let output = match capacity {
            0 => &mut [][..],
            // SAFETY: as for the input, writable, ours alone during 'a (the
            // contract) and disjoint from the input (checked above).
            len => unsafe { core::slice::from_raw_parts_mut(output, len) },
        };
        Ok((input, output))
    }

    /// Reports the length a call wrote, or on `BufferTooSmall` the length
    /// it needs, and passes the rest of the result on.
    pub fn finish<T>(mut self, result: pssst_core::Result<(usize, T)>) -> Result<T, pssst_result> {
        match result {
            Ok((len, value)) => {
                self.len_out.write(len);
                Ok(value)
            }
            Err(Error::BufferTooSmall { needed }) => {
                self.len_out.write(needed);
                Err(PSSST_ERR_BUFFER_TOO_SMALL)
            }
            Err(error) => Err(error.into()),
        }
    }
}
