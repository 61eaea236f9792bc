//! Turning C arguments into Rust values: every pointer check of both C
//! libraries, in one place.
//!
//! Rules: a pointer argument must not be NULL, except a buffer pointer whose
//! length (or capacity) is 0; a buffer longer than `isize::MAX` bytes, or one
//! that wraps around the address space, is refused; an input buffer may not
//! overlap an output buffer (Rust may not alias a `&[u8]` with a
//! `&mut [u8]`). Out-parameters are checked for NULL before anything else
//! happens; when they are written is each library's [`OutRule`].
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

/// When a C library writes its out-parameters; each library states its
/// rule once and passes it to every call here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutRule {
    /// pssst.h: every out-parameter is reset before anything can fail
    /// (lengths to 0, keys to zeros, flags to false), so a failed call
    /// leaves no stale value behind.
    ResetFirst,
    /// pssst_device.h: out-parameters are written with a result only (and a
    /// too-small buffer's needed size); a failed call leaves them as they
    /// were.
    OnResult,
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
        // SAFETY: the contract.
        unsafe { Out::under(OutRule::ResetFirst, ptr, initial) }
    }

    /// Checks `ptr` and, under [`OutRule::ResetFirst`], writes `initial` to
    /// it at once.
    ///
    /// # Safety
    /// As for [`reset`](Self::reset).
    pub unsafe fn under(rule: OutRule, ptr: *mut T, initial: T) -> Result<Out<T>, pssst_result> {
        let mut out = required(ptr).map(Out)?;
        if rule == OutRule::ResetFirst {
            out.write(initial);
        }
        Ok(out)
    }

    /// Writes `value`.
    pub fn write(&mut self, value: T) {
        // SAFETY: non-NULL and writable (the contract of `under`); `T: Copy`
        // so nothing is dropped, and nothing is read.
        unsafe { self.0.as_ptr().write(value) }
    }
}

impl Out<u8> {
    /// A 32-byte key out-parameter (`uint8_t key[32]` in C), reset to zeros
    /// under [`OutRule::ResetFirst`].
    ///
    /// # Safety
    /// `ptr` is NULL or valid for writes of 32 bytes while the `Out` is used.
    pub unsafe fn key(rule: OutRule, ptr: *mut u8) -> Result<Out<[u8; KEY_LEN]>, pssst_result> {
        // SAFETY: forwarded contract; [u8; 32] has alignment 1.
        unsafe { Out::under(rule, ptr.cast(), [0; KEY_LEN]) }
    }
}

/// The three arguments every pack and unpack takes: the buffer it reads,
/// the buffer it writes and the length out-parameter. The buffers are
/// checked when they are borrowed.
#[derive(Debug)]
pub struct Buffers<'a> {
    input: (*const u8, usize),
    output: (*mut u8, usize),
    len_out: Out<usize>,
    borrowed: PhantomData<&'a mut [u8]>,
}

impl<'a> Buffers<'a> {
    /// Checks `len_out` for NULL (under [`OutRule::ResetFirst`] it is reset
    /// to 0 at once); the buffers are checked later, by
    /// [`borrow`](Self::borrow).
    ///
    /// # Safety
    /// `input` is NULL or readable for its length, `output` NULL or
    /// writable for its capacity, and nothing else accesses either during
    /// `'a` but through the `Buffers`; `len_out` is NULL or writable during
    /// `'a`.
    pub unsafe fn new(
        rule: OutRule,
        input: (*const u8, usize),
        output: (*mut u8, usize),
        len_out: *mut usize,
    ) -> Result<Buffers<'a>, pssst_result> {
        // SAFETY: the contract.
        let len_out = unsafe { Out::under(rule, len_out, 0) }?;
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
            // contract of `new`).
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `Buffers` over `input` and `output` (a `len_out` of 7 before).
    fn borrow_of(
        rule: OutRule,
        input: (*const u8, usize),
        output: (*mut u8, usize),
    ) -> (Result<(usize, usize), pssst_result>, usize) {
        let mut len = 7;
        // SAFETY: the tests pass NULL or their own live arrays.
        let mut buffers = unsafe { Buffers::new(rule, input, output, &mut len) }.unwrap();
        let borrowed = buffers.borrow().map(|(i, o)| (i.len(), o.len()));
        (borrowed, len)
    }

    #[test]
    fn reset_first_zeroes_the_length_and_on_result_leaves_it() {
        let (input, mut output) = ([1u8; 4], [0u8; 8]);
        let (i, o) = ((input.as_ptr(), 4), (output.as_mut_ptr(), 8));
        assert_eq!(borrow_of(OutRule::ResetFirst, i, o), (Ok((4, 8)), 0));
        assert_eq!(borrow_of(OutRule::OnResult, i, o), (Ok((4, 8)), 7));
    }

    #[test]
    fn null_buffers_are_refused_unless_empty() {
        let mut output = [0u8; 8];
        let o = (output.as_mut_ptr(), 8);
        let rule = OutRule::ResetFirst;
        assert_eq!(borrow_of(rule, (core::ptr::null(), 0), o).0, Ok((0, 8)));
        assert_eq!(
            borrow_of(rule, (core::ptr::null(), 1), o).0,
            Err(PSSST_ERR_NULL_ARGUMENT)
        );
        let i = (output.as_ptr(), 0);
        let null_out = (core::ptr::null_mut(), 1);
        assert_eq!(borrow_of(rule, i, null_out).0, Err(PSSST_ERR_NULL_ARGUMENT));
    }

    #[test]
    fn overlapping_buffers_are_refused_adjacent_ones_are_not() {
        let mut bytes = [0u8; 16];
        let base = bytes.as_mut_ptr();
        let rule = OutRule::OnResult;
        // SAFETY: in bounds of `bytes`.
        let (at4, at8) = unsafe { (base.add(4), base.add(8)) };
        assert_eq!(
            borrow_of(rule, (base, 8), (at4, 8)).0,
            Err(PSSST_ERR_BUFFERS_OVERLAP)
        );
        assert_eq!(
            borrow_of(rule, (at8, 8), (at4, 8)).0,
            Err(PSSST_ERR_BUFFERS_OVERLAP)
        );
        assert_eq!(borrow_of(rule, (base, 8), (at8, 8)).0, Ok((8, 8)));
    }

    #[test]
    fn impossible_lengths_are_refused() {
        let mut output = [0u8; 8];
        let o = (output.as_mut_ptr(), 8);
        let huge = (output.as_ptr(), isize::MAX as usize + 1);
        let rule = OutRule::ResetFirst;
        assert_eq!(borrow_of(rule, huge, o).0, Err(PSSST_ERR_MESSAGE_TOO_LARGE));
        let wraps = (usize::MAX as *const u8, 2);
        assert_eq!(
            borrow_of(rule, wraps, o).0,
            Err(PSSST_ERR_MESSAGE_TOO_LARGE)
        );
    }

    #[test]
    fn a_second_borrow_gets_nothing() {
        let (input, mut output, mut len) = ([1u8; 4], [0u8; 8], 0);
        let (i, o) = ((input.as_ptr(), 4), (output.as_mut_ptr(), 8));
        // SAFETY: live arrays.
        let mut buffers = unsafe { Buffers::new(OutRule::OnResult, i, o, &mut len) }.unwrap();
        assert!(buffers.borrow().is_ok());
        let (again_in, again_out) = buffers.borrow().unwrap();
        assert!(again_in.is_empty() && again_out.is_empty());
    }

    #[test]
    fn finish_reports_the_length_written_or_needed_and_nothing_else() {
        for rule in [OutRule::ResetFirst, OutRule::OnResult] {
            let finish = |result: pssst_core::Result<(usize, ())>| {
                let mut len = 7;
                // SAFETY: empty buffers; `len` outlives the Buffers.
                let buffers = unsafe {
                    Buffers::new(
                        rule,
                        (core::ptr::null(), 0),
                        (core::ptr::null_mut(), 0),
                        &mut len,
                    )
                }
                .unwrap();
                (buffers.finish(result), len)
            };
            let untouched = if rule == OutRule::ResetFirst { 0 } else { 7 };
            assert_eq!(finish(Ok((5, ()))), (Ok(()), 5));
            let too_small = Err(Error::BufferTooSmall { needed: 9 });
            assert_eq!(finish(too_small), (Err(PSSST_ERR_BUFFER_TOO_SMALL), 9));
            let failed = Err(Error::DecryptionFailed);
            assert_eq!(
                finish(failed),
                (Err(PSSST_ERR_DECRYPTION_FAILED), untouched)
            );
        }
    }

    #[test]
    fn null_out_parameters_are_refused_under_both_rules() {
        for rule in [OutRule::ResetFirst, OutRule::OnResult] {
            // SAFETY: NULL is allowed by the contract.
            let len = unsafe {
                Buffers::new(
                    rule,
                    (core::ptr::null(), 0),
                    (core::ptr::null_mut(), 0),
                    core::ptr::null_mut(),
                )
            };
            assert_eq!(len.err(), Some(PSSST_ERR_NULL_ARGUMENT));
            // SAFETY: as above.
            let key = unsafe { Out::key(rule, core::ptr::null_mut()) };
            assert_eq!(key.err(), Some(PSSST_ERR_NULL_ARGUMENT));
        }
    }
}
