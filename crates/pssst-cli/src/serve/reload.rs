//! The files `pssst serve` reads at startup and again on SIGHUP: its key
//! files and the allowlist. A bare file name (no `/`) is looked up in
//! `$CREDENTIALS_DIRECTORY` when systemd sets it (`LoadCredential=`).
//!
//! A reload reads the files on a thread of its own (`Reloader`): however
//! long a file takes to read, the serve loop keeps answering signals, and
//! shutdown never waits for a reload.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, TryRecvError};

use pssst_core::PublicKey;
use pssst_udp::{ServerKeys, UdpServer};

use crate::keys::{self, KeyPermissions};

/// Where the configuration comes from.
#[derive(Debug)]
pub(super) struct Sources {
    pub(super) keys: Vec<PathBuf>,
    pub(super) authorized_keys: Option<PathBuf>,
    pub(super) key_permissions: KeyPermissions,
}

/// One reading of the sources.
pub(super) struct Loaded {
    pub(super) keys: ServerKeys,
    pub(super) authorized_clients: Option<HashSet<PublicKey>>,
}

impl Sources {
    /// Reads every file; any error leaves nothing half-read.
    pub(super) fn load(&self) -> Result<Loaded, String> {
        let keys = self
            .keys
            .iter()
            .map(|path| keys::read_private_key(&credential(path), self.key_permissions))
            .collect::<Result<Vec<_>, _>>()?;
        let keys = ServerKeys::new(keys).map_err(|e| format!("--key: {e}"))?;
        let authorized_clients = match &self.authorized_keys {
            Some(path) => Some(
                keys::read_authorized_keys(&credential(path))?
                    .into_iter()
                    .collect(),
            ),
            None => None,
        };
        Ok(Loaded {
            keys,
            authorized_clients,
        })
    }
}

/// The one way to reload a running server (SIGHUP today; any other trigger
/// calls `request` too). All or nothing: a file that does not parse keeps
/// the running configuration.
#[derive(Debug)]
pub(super) struct Reloader {
    sources: Arc<Sources>,
    /// The reading under way, if any.
    reading: Option<Receiver<Result<Loaded, String>>>,
    /// Asked again while reading: the files may have changed since.
    again: bool,
}

impl Reloader {
    pub(super) fn new(sources: Sources) -> Reloader {
        Reloader {
            sources: Arc::new(sources),
            reading: None,
            again: false,
        }
    }

    /// Starts reading the files on a thread of its own, or, when a reading
    /// is under way, asks for one more after it.
    pub(super) fn request(&mut self) {
        if self.reading.is_some() {
            self.again = true;
            return;
        }
        let (done, reading) = mpsc::sync_channel(1);
        let sources = Arc::clone(&self.sources);
        let started = std::thread::Builder::new()
            .name("pssst-reload".into())
            .spawn(move || {
                let _ = done.send(sources.load());
            });
        match started {
            Ok(_) => self.reading = Some(reading),
            Err(e) => tracing::error!(
                "reload failed, the previous configuration stays in force: cannot start a thread: {e}"
            ),
        }
    }

    /// Applies a finished reading to `server`; called from the serve loop.
    pub(super) fn poll(&mut self, server: &UdpServer) {
        let Some(reading) = &self.reading else {
            return;
        };
        let outcome = match reading.try_recv() {
            Ok(outcome) => outcome,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => Err("the reading thread died".into()),
        };
        self.reading = None;
        match outcome {
            Ok(loaded) => {
                let keys = loaded.keys.public_keys().len();
                let closed = loaded.authorized_clients.is_some();
                server.reload(loaded.keys, loaded.authorized_clients);
                tracing::info!(keys, closed, public_key = %server.public_key(), "reloaded");
            }
            Err(error) => {
                tracing::error!(
                    "reload failed, the previous configuration stays in force: {error}"
                );
            }
        }
        if std::mem::take(&mut self.again) {
            self.request();
        }
    }
}

/// `path`, or for a bare name with `$CREDENTIALS_DIRECTORY` set, that
/// name in the credentials directory.
pub(super) fn credential(path: &Path) -> PathBuf {
    resolve_in(path, std::env::var_os("CREDENTIALS_DIRECTORY").as_deref())
}

fn resolve_in(path: &Path, credentials: Option<&std::ffi::OsStr>) -> PathBuf {
    let bare = path.components().count() == 1 && path.parent() == Some(Path::new(""));
    match credentials {
        Some(directory) if bare && !directory.is_empty() => Path::new(directory).join(path),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn only_bare_names_are_credentials() {
        for (given, expected) in [
            ("server.key", "/run/creds/server.key"),
            ("./server.key", "./server.key"),
            ("/etc/pssst/server.key", "/etc/pssst/server.key"),
            ("keys/server.key", "keys/server.key"),
        ] {
            assert_eq!(
                super::resolve_in(Path::new(given), Some("/run/creds".as_ref())),
                Path::new(expected),
                "{given}"
            );
        }
        assert_eq!(
            super::resolve_in(Path::new("server.key"), None),
            Path::new("server.key")
        );
    }
}
