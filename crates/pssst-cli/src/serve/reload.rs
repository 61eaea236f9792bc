//! The files `pssst serve` reads at startup and again on SIGHUP: its key
//! files and the allowlist. A bare file name (no `/`) is looked up in
//! `$CREDENTIALS_DIRECTORY` when systemd sets it (`LoadCredential=`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use pssst_core::PublicKey;
use pssst_udp::ServerKeys;

use crate::keys;

/// Where the configuration comes from.
#[derive(Debug)]
pub(super) struct Sources {
    pub(super) keys: Vec<PathBuf>,
    pub(super) authorized_keys: Option<PathBuf>,
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
            .map(|path| keys::read_private_key(&credential(path)))
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
