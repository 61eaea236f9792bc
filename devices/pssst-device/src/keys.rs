//! Key pairs.

use core::ffi::c_void;

use pssst_core::{PrivateKey, generate_key_pair_with_rng};

use crate::result::{core, pssst_result, status};
use crate::slot::{bytes_mut, key};
use pssst_ffi_core::{CallbackRng, pssst_random_fn};

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
        let (private_out, public_out) =
            unsafe { (bytes_mut(private_key, 32)?, bytes_mut(public_key, 32)?) };
        // SAFETY: as documented.
        let mut rng = unsafe { CallbackRng::new(random, random_context) }?;
        let (private, public) = core(generate_key_pair_with_rng(&mut rng))?;
        private_out.copy_from_slice(private.as_bytes());
        public_out.copy_from_slice(public.as_bytes());
        Ok(())
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
    status(|| {
        // SAFETY: the caller's promises, as documented.
        let (private, public_out) = unsafe { (key(private_key)?, bytes_mut(public_key, 32)?) };
        public_out.copy_from_slice(PrivateKey::from_bytes(private).public_key().as_bytes());
        Ok(())
    })
}
