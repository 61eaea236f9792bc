//! The keys a server answers to, and the allowlist: replaced as a whole on
//! reload, while the workers keep serving.

use std::collections::HashSet;
use std::io;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use pssst_core::{CipherSuites, Error, Header, PrivateKey, PublicKey, Server, ServerReplyHandler};

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
    pub(super) answered: Arc<AtomicU64>,
}

/// A request decrypted in place: where its message is in the packet.
pub(super) struct Decrypted<'k> {
    pub(super) message: Range<usize>,
    pub(super) client_public_key: Option<PublicKey>,
    pub(super) reply_handler: ServerReplyHandler,
    pub(super) key: &'k KeyEntry,
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
                let answered = previous
                    .and_then(|p| {
                        p.entries
                            .iter()
                            .find(|e| e.public_key() == server.public_key())
                    })
                    .map_or_else(Arc::default, |e| Arc::clone(&e.answered));
                KeyEntry { server, answered }
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
            .map(|e| (e.public_key(), e.answered.load(Ordering::Relaxed)))
            .collect()
    }

    /// pssst-core's checks before any X25519 (every key accepts the same
    /// suites, so the first key's server speaks for all).
    pub(super) fn precheck(&self, packet: &[u8]) -> Result<Header, Error> {
        self.entries[0].server.precheck(packet)
    }

    /// Decrypts `packet` in place with the first key that opens it. With
    /// more than one key, `spare` keeps the ciphertext between attempts
    /// (a failed attempt leaves no plaintext, and nothing usable, behind).
    pub(super) fn decrypt(
        &self,
        packet: &mut [u8],
        spare: &mut Vec<u8>,
    ) -> Result<Decrypted<'_>, Error> {
        let last = self.entries.len() - 1;
        if last > 0 {
            spare.clear();
            spare.extend_from_slice(packet);
        }
        for (index, key) in self.entries.iter().enumerate() {
            if index > 0 {
                packet.copy_from_slice(spare);
            }
            let start = packet.as_ptr() as usize;
            match key.server.unpack_request_in_place(packet) {
                Ok(request) => {
                    let offset = request.message.as_ptr() as usize - start;
                    return Ok(Decrypted {
                        message: offset..offset + request.message.len(),
                        client_public_key: request.client_public_key,
                        reply_handler: request.reply_handler,
                        key,
                    });
                }
                // Not for this key (or a forgery): try the next one.
                Err(Error::DecryptionFailed) if index < last => {}
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
