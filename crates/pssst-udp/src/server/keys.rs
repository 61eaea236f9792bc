//! The keys a server answers to, and the allowlist: replaced as a whole on
//! reload, while the workers keep serving.

use std::collections::HashSet;
use std::io;

use pssst_core::{CipherSuites, Error, OpenedRequest, Prechecked, PrivateKey, PublicKey, Server};

use crate::stats::ReplyCount;

/// The private keys a server answers to, tried in the order given.
///
/// PSSST carries no key identifier, so a request is tried against each key
/// until one decrypts it: a request to the n-th key costs n X25519
/// operations. During a key rotation, list the key most clients use first.
#[derive(Clone)]
pub struct ServerKeys(Vec<PrivateKey>);

impl ServerKeys {
    /// At least one key. A key given twice is kept once, at its first
    /// place: a pool can list the same file paths throughout a rotation
    /// (`current.key` and `next.key` may hold the same key before and after).
    pub fn new(keys: Vec<PrivateKey>) -> io::Result<ServerKeys> {
        if keys.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a server needs at least one key",
            ));
        }
        let mut seen = HashSet::new();
        let unique = keys
            .into_iter()
            .filter(|key| seen.insert(key.public_key()))
            .collect();
        Ok(ServerKeys(unique))
    }

    /// The public keys, in order.
    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.0.iter().map(PrivateKey::public_key).collect()
    }
}

impl From<PrivateKey> for ServerKeys {
    fn from(key: PrivateKey) -> ServerKeys {
        ServerKeys(vec![key])
    }
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.public_keys()).finish()
    }
}

/// What the workers read for every request: swapped whole on reload.
pub(super) struct KeySet {
    entries: Vec<KeyEntry>,
    /// The cipher suites every key accepts (kept across reloads).
    pub(super) suites: CipherSuites,
    pub(super) authorized_clients: Option<HashSet<PublicKey>>,
}

/// One key and the replies sent under it (kept across reloads that keep
/// the key, so the count only grows).
pub(super) struct KeyEntry {
    server: Server,
    pub(super) replies: ReplyCount,
}

impl KeySet {
    /// A key set; counters of keys also in `previous` carry over.
    pub(super) fn new(
        keys: ServerKeys,
        suites: CipherSuites,
        authorized_clients: Option<HashSet<PublicKey>>,
        previous: Option<&KeySet>,
    ) -> KeySet {
        let entries = keys
            .0
            .into_iter()
            .map(|key| {
                let server = Server::new(key).with_suites(suites);
                let replies = previous
                    .and_then(|p| {
                        p.entries
                            .iter()
                            .find(|e| e.public_key() == server.public_key())
                    })
                    .map_or_else(ReplyCount::default, |e| e.replies.clone());
                KeyEntry { server, replies }
            })
            .collect();
        KeySet {
            entries,
            suites,
            authorized_clients,
        }
    }

    pub(super) fn primary(&self) -> PublicKey {
        self.entries[0].public_key()
    }

    /// (public key, replies sent under it), in order.
    pub(super) fn answered(&self) -> Vec<(PublicKey, u64)> {
        self.entries
            .iter()
            .map(|e| (e.public_key(), e.replies.get()))
            .collect()
    }

    /// pssst-core's checks before any X25519 (every key accepts the same
    /// suites, so the first key's server speaks for all).
    pub(super) fn precheck(&self, packet: &[u8]) -> Result<Prechecked, Error> {
        self.entries[0].server.precheck(packet)
    }

    /// Decrypts `packet` in place with the first key that opens it. A key
    /// that does not leaves the buffer untouched (pssst-core's promise), so
    /// the next one tries the same bytes: no copy.
    pub(super) fn open(
        &self,
        request: &Prechecked,
        packet: &mut [u8],
    ) -> Result<(OpenedRequest, &KeyEntry), Error> {
        for key in &self.entries {
            match key.server.open_in_place(request, packet) {
                Ok(opened) => return Ok((opened, key)),
                // Not for this key (or a forgery): try the next one.
                Err(Error::DecryptionFailed) => {}
                Err(e) => return Err(e),
            }
        }
        Err(Error::DecryptionFailed)
    }
}

impl KeyEntry {
    fn public_key(&self) -> PublicKey {
        self.server.public_key()
    }
}
