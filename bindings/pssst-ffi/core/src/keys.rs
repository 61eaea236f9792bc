//! The bodies of the key functions both C libraries export.

use pssst_core::rand_core::TryCryptoRng;
use pssst_core::{PrivateKey, generate_key_pair_with_rng};
use zeroize::Zeroizing;

use crate::args::{self, Out, OutRule};
use crate::pssst_result;

/// Makes a key pair with 32 bytes from `rng` (the private key clamped, as
/// the Go reference's keys are) into `private_key[32]` and `public_key[32]`.
///
/// # Safety
/// `private_key` and `public_key` are NULL or 32 writable bytes each.
#[allow(unsafe_code)] // Writes the two key out-parameters.
pub unsafe fn generate_key_pair<R: TryCryptoRng + ?Sized>(
    rule: OutRule,
    rng: &mut R,
    private_key: *mut u8,
    public_key: *mut u8,
) -> Result<(), pssst_result> {
    // SAFETY: the contract.
    let private_out = unsafe { Out::key(rule, private_key) };
    // SAFETY: the contract.
    let public_out = unsafe { Out::key(rule, public_key) };
    let (mut private_out, mut public_out) = (private_out?, public_out?);
    let (private, public) = generate_key_pair_with_rng(rng)?;
    private_out.write(*private.as_bytes());
    public_out.write(public.to_bytes());
    Ok(())
}

/// Writes the public key of `private_key[32]` (X25519(private_key, 9)) to
/// `public_key[32]`.
///
/// # Safety
/// `private_key` is NULL or 32 readable bytes, `public_key` NULL or 32
/// writable bytes.
#[allow(unsafe_code)] // Reads and writes the two key arguments.
pub unsafe fn public_key(
    rule: OutRule,
    private_key: *const u8,
    public_key: *mut u8,
) -> Result<(), pssst_result> {
    // SAFETY: the contract.
    let mut public_out = unsafe { Out::key(rule, public_key) }?;
    // SAFETY: the contract.
    let private = Zeroizing::new(unsafe { args::key(private_key) }?);
    public_out.write(PrivateKey::from_bytes(*private).public_key().to_bytes());
    Ok(())
}
