//! X25519 key types.

use core::fmt;

use rand_core::TryCryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{Error, Result, backend};

/// Length of a private or public key in bytes.
pub const KEY_LEN: usize = 32;

/// An X25519 private key. Zeroized on drop; `Debug` never shows it.
///
/// Any 32 bytes are a valid key: X25519 clamps the scalar itself.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PrivateKey([u8; KEY_LEN]);

/// An X25519 public key (a Montgomery u-coordinate), 32 bytes.
///
/// Any 32 bytes are accepted here; a low-order key is rejected with
/// [`Error::LowOrderPoint`] where it is used.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; KEY_LEN]);

impl PrivateKey {
    /// Wraps 32 secret bytes. Pass them by value and zeroize your own copy.
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> PrivateKey {
        PrivateKey(bytes)
    }

    /// From a 32-byte slice; [`Error::InvalidKey`] for any other length.
    pub fn try_from_slice(bytes: &[u8]) -> Result<PrivateKey> {
        Ok(PrivateKey(bytes.try_into().map_err(|_| Error::InvalidKey)?))
    }

    /// From 64 hex digits (either case, surrounding whitespace ignored), the
    /// format of pypssst's key files. Decoded in constant time.
    pub fn from_hex(hex: &str) -> Result<PrivateKey> {
        let mut key = PrivateKey([0; KEY_LEN]);
        decode_hex(hex, &mut key.0)?;
        Ok(key)
    }

    /// The secret bytes. Handle with care.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// X25519(self, 9).
    pub fn public_key(&self) -> PublicKey {
        PublicKey(backend::x25519_base(&self.0))
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

impl PublicKey {
    /// Wraps 32 bytes.
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> PublicKey {
        PublicKey(bytes)
    }

    /// From a 32-byte slice; [`Error::InvalidKey`] for any other length.
    pub fn try_from_slice(bytes: &[u8]) -> Result<PublicKey> {
        Ok(PublicKey(bytes.try_into().map_err(|_| Error::InvalidKey)?))
    }

    /// From 64 hex digits (either case, surrounding whitespace ignored).
    pub fn from_hex(hex: &str) -> Result<PublicKey> {
        let mut bytes = [0; KEY_LEN];
        decode_hex(hex, &mut bytes)?;
        Ok(PublicKey(bytes))
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The 32 bytes, by value.
    pub const fn to_bytes(self) -> [u8; KEY_LEN] {
        self.0
    }

    /// True when this is the canonical encoding of a u-coordinate: bit 255
    /// clear and u < p = 2^255 - 19. X25519 ignores bit 255 and reduces u
    /// mod p, so a non-canonical key acts exactly like its canonical twin;
    /// a server must not accept the twin as a second identity. (Public data:
    /// no need for constant time.)
    pub fn is_canonical(&self) -> bool {
        let high = self.0[31];
        if high & 0x80 != 0 {
            return false;
        }
        // u >= p exactly when u is 2^255 - 19 ..= 2^255 - 1:
        // 0x7f, then thirty 0xff bytes, then a low byte >= 0xed.
        !(high == 0x7f && self.0[1..31].iter().all(|&b| b == 0xff) && self.0[0] >= 0xed)
    }
}

impl From<[u8; KEY_LEN]> for PublicKey {
    fn from(bytes: [u8; KEY_LEN]) -> PublicKey {
        PublicKey(bytes)
    }
}

impl AsRef<[u8]> for PublicKey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// Lowercase hex.
impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 2 * KEY_LEN];
        let hex = base16ct::lower::encode_str(&self.0, &mut buf).map_err(|_| fmt::Error)?;
        f.write_str(hex)
    }
}

/// A fresh key pair from `rng`; the private key is clamped as gopssst's
/// `GenerateKeyPair` does. The one way to make keys in Rust.
pub fn generate_key_pair_with_rng<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
) -> Result<(PrivateKey, PublicKey)> {
    let mut private = PrivateKey([0; KEY_LEN]);
    rng.try_fill_bytes(&mut private.0)
        .map_err(|_| Error::RngFailure)?;
    clamp(&mut private.0);
    let public = private.public_key();
    Ok((private, public))
}

/// A fresh key pair from the operating system's RNG.
#[cfg(feature = "getrandom")]
pub fn generate_key_pair() -> Result<(PrivateKey, PublicKey)> {
    generate_key_pair_with_rng(&mut getrandom::SysRng)
}

/// RFC 7748 clamping, as gopssst applies it to generated keys and ephemerals.
pub(crate) fn clamp(scalar: &mut [u8; KEY_LEN]) {
    scalar[0] &= 248;
    scalar[31] &= 127;
    scalar[31] |= 64;
}

fn decode_hex(hex: &str, out: &mut [u8; KEY_LEN]) -> Result<()> {
    let decoded_len = base16ct::mixed::decode(hex.trim().as_bytes(), out).map(|d| d.len());
    if decoded_len == Ok(KEY_LEN) {
        Ok(())
    } else {
        out.zeroize();
        Err(Error::InvalidKey)
    }
}
