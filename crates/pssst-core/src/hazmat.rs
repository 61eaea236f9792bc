//! Raw protocol steps for tests that build packets by hand (feature
//! `hazmat`, off by default).
//!
//! Not part of the supported API: nothing here is needed to use PSSST, and
//! using it wrongly (reusing a nonce, skipping the low-order check) breaks
//! the protocol's security. It exists so that the Python package can offer
//! pypssst's private `pssst.pssst._DKF_SHA256`, which pypssst's own tests
//! use to forge a client-authenticated request, with the KDF computed here
//! rather than a second time in Python.

use crate::session::DH_PARAM_LEN;
pub use crate::session::SessionSecrets;

/// The KDF of every suite (pypssst's `_DKF_SHA256`): `h = SHA-256(dh_param ||
/// shared)`, key `h[0..16]`, request nonce `h[16..24] || "RQST"`, reply
/// nonce `h[24..32] || "RPLY"`. The very derivation the client and server
/// use.
pub fn kdf_sha256(dh_param: &[u8; DH_PARAM_LEN], shared: &[u8; 32]) -> SessionSecrets {
    SessionSecrets::derive(dh_param, shared)
}

#[cfg(test)]
mod tests {
    use aes_gcm::aead::AeadInOut;
    use aes_gcm::{Aes128Gcm, KeyInit};
    use aes_gcm_siv::Aes128GcmSiv;

    use super::kdf_sha256;
    use crate::header::{FLAG_REPLY, Header};
    use crate::session::{Direction, SessionKeys, TAG_LEN};
    use crate::suite::CipherSuite;

    /// Seals `text` with the suite's AEAD, called directly, under the given
    /// key and nonce.
    fn seal(
        suite: CipherSuite,
        key: &[u8; 16],
        nonce: &[u8; 12],
        aad: &[u8],
        text: &mut [u8],
    ) -> [u8; TAG_LEN] {
        let (key, nonce) = (&(*key).into(), &(*nonce).into());
        match suite {
            CipherSuite::X25519Aes128Gcm => {
                Aes128Gcm::new(key).encrypt_inout_detached(nonce, aad, text.into())
            }
            CipherSuite::X25519Aes128GcmSiv => {
                Aes128GcmSiv::new(key).encrypt_inout_detached(nonce, aad, text.into())
            }
        }
        .unwrap()
        .into()
    }

    #[test]
    fn kdf_matches_the_session_keys_the_protocol_uses_in_every_suite() {
        let dh_param = [0x5a; 32];
        let shared = [0xc3; 32];
        let secrets = kdf_sha256(&dh_param, &shared);
        for suite in CipherSuite::ALL {
            let keys = SessionKeys::derive(suite, &dh_param, &shared);
            for (direction, nonce, flags) in [
                (Direction::Request, &secrets.request_nonce, 0),
                (Direction::Reply, &secrets.reply_nonce, FLAG_REPLY),
            ] {
                let header = Header {
                    flags,
                    cipher_suite: suite.id(),
                };
                let mut ours = *b"a message of some length\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
                keys.seal(direction, header, &mut ours).unwrap();
                let mut expected = *b"a message of some length";
                let tag = seal(
                    suite,
                    &secrets.key,
                    nonce,
                    &header.to_bytes(),
                    &mut expected,
                );
                assert_eq!(ours[..24], expected, "{suite}");
                assert_eq!(ours[24..], tag, "{suite}");
            }
        }
    }

    #[test]
    fn kdf_nonces_end_in_their_direction_labels() {
        let secrets = kdf_sha256(&[1; 32], &[2; 32]);
        assert_eq!(&secrets.request_nonce[8..], b"RQST");
        assert_eq!(&secrets.reply_nonce[8..], b"RPLY");
    }
}
