//! Key pairs: pssst-ffi-core's key functions with the caller's RNG.

use core::ffi::c_void;

use pssst_ffi_core::{CallbackRng, keys, pssst_random_fn, status};

use crate::OUT_RULE;
use crate::result::pssst_result;

/// Makes a key pair with 32 bytes from `random`: private key (clamped) into
/// `private_key[32]`, public key into `public_key[32]`.
/// # Safety
/// Non-NULL pointers point to 32 writable bytes each; `random` follows
/// pssst_random_fn's contract.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_device_generate_key_pair(
    random: pssst_random_fn,
    random_context: *mut c_void,
    private_key: *mut u8,
    public_key: *mut u8,
) -> pssst_result {
    status(|| {
        // SAFETY: the caller's promises, as documented.
        unsafe {
            let mut rng = CallbackRng::new(random, random_context)?;
            keys::generate_key_pair(OUT_RULE, &mut rng, private_key, public_key)
        }
    })
}

/// Writes the public key of `private_key[32]` to `public_key[32]`.
/// # Safety
/// `private_key` points to 32 readable bytes, `public_key` to 32 writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_device_public_key(
    private_key: *const u8,
    public_key: *mut u8,
) -> pssst_result {
    // SAFETY: the caller's promises, as documented.
    status(|| unsafe { keys::public_key(OUT_RULE, private_key, public_key) })
}
