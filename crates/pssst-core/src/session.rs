//! Per-request keys (the KDF) and the AEAD seal/open steps.

use aes_gcm::aead::AeadInOut;
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce, Tag};
use aes_gcm_siv::Aes128GcmSiv;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::header::Header;
use crate::suite::CipherSuite;
use crate::{Error, Result};

/// Length of the DH parameter that follows the header.
pub const DH_PARAM_LEN: usize = 32;
/// Length of the AEAD tag at the end of every packet (both suites).
pub const TAG_LEN: usize = 16;
/// Offset of the ciphertext in a packet.
pub(crate) const BODY_OFFSET: usize = crate::layout::BODY.start;
/// Largest plaintext AES-GCM seals under one nonce (2^36 - 32 bytes);
/// AES-GCM-SIV's limit (2^36) is higher, one limit keeps packet sizes
/// independent of the suite.
const AES_GCM_MAX_PLAINTEXT: u64 = (1 << 36) - 32;

/// What both sides derive from one request: h = SHA-256(dh_param || shared),
/// key = h[0..16], request nonce = h[16..24] || "RQST",
/// reply nonce = h[24..32] || "RPLY".
///
/// The AES key is expanded once per request and kept expanded: the request
/// and its reply share it, and expanding and wiping the key schedule was a
/// quarter of the cost of packing a reply. The cipher wipes itself on drop.
pub(crate) struct SessionKeys {
    cipher: SuiteCipher,
    request_nonce: [u8; 12],
    reply_nonce: [u8; 12],
}

impl Drop for SessionKeys {
    fn drop(&mut self) {
        self.request_nonce.zeroize();
        self.reply_nonce.zeroize();
    }
}

impl ZeroizeOnDrop for SessionKeys {}

/// What the KDF (the same for every suite) derives for one request: the AES-128 key and the
/// two 12-byte AES-GCM nonces. Wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SessionSecrets {
    /// The AES-128 key, `SHA-256(dh_param || shared)[0..16]`.
    pub key: [u8; 16],
    /// The request nonce, `h[16..24] || "RQST"`.
    pub request_nonce: [u8; 12],
    /// The reply nonce, `h[24..32] || "RPLY"`.
    pub reply_nonce: [u8; 12],
}

impl SessionSecrets {
    /// h = SHA-256(dh_param || shared): the one place the KDF is written.
    pub(crate) fn derive(dh_param: &[u8; DH_PARAM_LEN], shared: &[u8; 32]) -> SessionSecrets {
        let mut hasher = Sha256::new();
        hasher.update(dh_param);
        hasher.update(shared);
        // The digest goes into a buffer that wipes itself.
        let mut h = Zeroizing::new([0u8; 32]);
        hasher.finalize_into((&mut *h).into());
        let mut secrets = SessionSecrets {
            key: [0; 16],
            request_nonce: [0; 12],
            reply_nonce: [0; 12],
        };
        secrets.key.copy_from_slice(&h[..16]);
        secrets.request_nonce[..8].copy_from_slice(&h[16..24]);
        secrets.request_nonce[8..].copy_from_slice(b"RQST");
        secrets.reply_nonce[..8].copy_from_slice(&h[24..32]);
        secrets.reply_nonce[8..].copy_from_slice(b"RPLY");
        secrets
    }
}

impl core::fmt::Debug for SessionSecrets {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SessionSecrets(<redacted>)")
    }
}

/// Which of the two nonces a packet uses.
#[derive(Clone, Copy)]
pub(crate) enum Direction {
    Request,
    Reply,
}

/// The AEAD of each suite, keyed: the one place a suite picks its cipher.
/// Both wipe their key schedules on drop (`aes/zeroize`, `polyval/zeroize`).
enum SuiteCipher {
    Gcm(Aes128Gcm),
    GcmSiv(Aes128GcmSiv),
}

impl SuiteCipher {
    fn new(suite: CipherSuite, key: &[u8; 16]) -> SuiteCipher {
        match suite {
            CipherSuite::X25519Aes128Gcm => SuiteCipher::Gcm(Aes128Gcm::new(key.into())),
            CipherSuite::X25519Aes128GcmSiv => SuiteCipher::GcmSiv(Aes128GcmSiv::new(key.into())),
        }
    }

    fn encrypt(&self, nonce: &Nonce<U12>, aad: &[u8], text: InOutBuf<'_, '_, u8>) -> Result<Tag> {
        match self {
            SuiteCipher::Gcm(cipher) => cipher.encrypt_inout_detached(nonce, aad, text),
            SuiteCipher::GcmSiv(cipher) => cipher.encrypt_inout_detached(nonce, aad, text),
        }
        .map_err(|_| Error::MessageTooLarge)
    }

    fn decrypt(
        &self,
        nonce: &Nonce<U12>,
        aad: &[u8],
        text: InOutBuf<'_, '_, u8>,
        tag: &Tag<U16>,
    ) -> Result<()> {
        match self {
            SuiteCipher::Gcm(cipher) => cipher.decrypt_inout_detached(nonce, aad, text, tag),
            SuiteCipher::GcmSiv(cipher) => cipher.decrypt_inout_detached(nonce, aad, text, tag),
        }
        .map_err(|_| Error::DecryptionFailed)
    }
}

impl SessionKeys {
    pub(crate) fn derive(
        suite: CipherSuite,
        dh_param: &[u8; DH_PARAM_LEN],
        shared: &[u8; 32],
    ) -> SessionKeys {
        let secrets = SessionSecrets::derive(dh_param, shared);
        SessionKeys {
            cipher: SuiteCipher::new(suite, &secrets.key),
            request_nonce: secrets.request_nonce,
            reply_nonce: secrets.reply_nonce,
        }
    }

    fn nonce(&self, direction: Direction) -> Nonce<U12> {
        match direction {
            Direction::Request => self.request_nonce.into(),
            Direction::Reply => self.reply_nonce.into(),
        }
    }

    /// Encrypts `body[..body.len() - TAG_LEN]` in place and writes the tag
    /// into the last TAG_LEN bytes.
    pub(crate) fn seal(&self, direction: Direction, header: Header, body: &mut [u8]) -> Result<()> {
        let text_len = body.len().checked_sub(TAG_LEN).ok_or(Error::Truncated)?;
        let (text, tag_out) = body.split_at_mut(text_len);
        let tag = self
            .cipher
            .encrypt(&self.nonce(direction), &header.to_bytes(), text.into())?;
        tag_out.copy_from_slice(&tag);
        Ok(())
    }

    /// Verifies and decrypts `ciphertext || tag` into `out` (same length as
    /// the ciphertext). When the tag is wrong `out` is left zeroed: GCM-SIV
    /// decrypts before it can verify, and its clean-up restores the
    /// ciphertext only when decrypting in place.
    pub(crate) fn open_into(
        &self,
        direction: Direction,
        header: Header,
        sealed: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        let text_len = sealed.len().checked_sub(TAG_LEN).ok_or(Error::Truncated)?;
        let (text, tag) = sealed.split_at(text_len);
        let tag = Tag::<U16>::try_from(tag).map_err(|_| Error::Truncated)?;
        let buf = InOutBuf::new(text, &mut *out)
            .map_err(|_| Error::BufferTooSmall { needed: text_len })?;
        let opened = self
            .cipher
            .decrypt(&self.nonce(direction), &header.to_bytes(), buf, &tag);
        if opened.is_err() {
            out.zeroize();
        }
        opened
    }

    /// Verifies and decrypts `ciphertext || tag` in place; returns the
    /// plaintext length. The buffer is left unchanged when the tag is wrong.
    pub(crate) fn open_in_place(
        &self,
        direction: Direction,
        header: Header,
        sealed: &mut [u8],
    ) -> Result<usize> {
        let text_len = sealed.len().checked_sub(TAG_LEN).ok_or(Error::Truncated)?;
        let (text, tag) = sealed.split_at_mut(text_len);
        let tag = Tag::<U16>::try_from(&*tag).map_err(|_| Error::Truncated)?;
        self.cipher.decrypt(
            &self.nonce(direction),
            &header.to_bytes(),
            text.into(),
            &tag,
        )?;
        Ok(text_len)
    }
}

/// Packet length for a plaintext of `plaintext_len` bytes, or
/// [`Error::MessageTooLarge`] past AES-GCM's limit or `usize`.
pub(crate) fn packet_len(plaintext_len: usize) -> Result<usize> {
    if plaintext_len as u64 > AES_GCM_MAX_PLAINTEXT {
        return Err(Error::MessageTooLarge);
    }
    plaintext_len
        .checked_add(BODY_OFFSET + TAG_LEN)
        .ok_or(Error::MessageTooLarge)
}

impl core::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SessionKeys(<redacted>)")
    }
}
