//! Notices, without a signal, that a key file or the allowlist changed, so
//! that `serve` reloads them (the same all-or-nothing reload as SIGHUP).
//!
//! Polling, not inotify: Kubernetes updates a mounted Secret by writing a
//! new timestamped directory and renaming a `..data` symlink over the old
//! one, and the key file is a symlink through `..data`. A watch on the file
//! sees nothing of that and one on the directory sees a rename of a name
//! that is not the file's; a `stat` that follows the links sees a new inode.
//! A few `stat`s a second cost nothing beside the server's work, and the
//! same check catches an editor's in-place write or a `mv` over the file.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::reload::{Sources, credential};

/// What identifies one version of a file, seen through every symlink.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    File {
        target: Option<PathBuf>,
        device: u64,
        inode: u64,
        size: u64,
        modified_ns: i128,
        changed_ns: i128,
    },
    /// Missing or unreadable metadata: its change back is a change too.
    Error(std::io::ErrorKind),
}

impl Seen {
    fn of(path: &std::path::Path) -> Self {
        match std::fs::metadata(path) {
            Ok(m) => Seen::File {
                target: std::fs::canonicalize(path).ok(),
                device: m.dev(),
                inode: m.ino(),
                size: m.size(),
                modified_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
                changed_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
            },
            Err(e) => Seen::Error(e.kind()),
        }
    }
}

/// The files a reload reads, and how they looked when last checked.
#[derive(Debug)]
pub(super) struct FileWatch {
    paths: Vec<PathBuf>,
    seen: Vec<Seen>,
    interval: Duration,
    next_check: Instant,
}

impl FileWatch {
    /// Watches `paths` (as the reload resolves them), checking every
    /// `interval`; `None` for a zero interval (reload on SIGHUP only).
    pub(super) fn new(paths: Vec<PathBuf>, interval: Duration) -> Option<Self> {
        if interval.is_zero() {
            return None;
        }
        let seen = paths.iter().map(|p| Seen::of(p)).collect();
        Some(FileWatch {
            paths,
            seen,
            interval,
            next_check: Instant::now() + interval,
        })
    }

    /// Whether any file changed since the last check, when a check is due.
    /// A change is reported once; the files as they are now become the
    /// reference, so a reload that failed is retried on the next change.
    pub(super) fn changed(&mut self, now: Instant) -> bool {
        if now < self.next_check {
            return false;
        }
        self.next_check = now + self.interval;
        let mut changed = false;
        for (path, seen) in self.paths.iter().zip(self.seen.iter_mut()) {
            let current = Seen::of(path);
            if current != *seen {
                tracing::info!(file = %path.display(), "changed on disk");
                *seen = current;
                changed = true;
            }
        }
        changed
    }
}

/// The files a reload reads, resolved as the reload resolves them.
pub(super) fn watched_paths(sources: &Sources) -> Vec<PathBuf> {
    sources
        .keys
        .iter()
        .chain(&sources.authorized_keys)
        .map(|path| credential(path))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::FileWatch;
    use std::os::unix::fs::symlink;
    use std::time::{Duration, Instant};

    /// A clock that moves a second per reading: every check is due.
    fn clock() -> impl FnMut() -> Instant {
        let start = Instant::now();
        let mut seconds = 0;
        move || {
            seconds += 1;
            start + Duration::from_secs(seconds)
        }
    }

    #[test]
    fn a_kubelet_style_symlink_swap_is_a_change() {
        let dir = std::env::temp_dir().join(format!("pssst-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("..2026_01")).unwrap();
        std::fs::write(dir.join("..2026_01/server.key"), "one").unwrap();
        symlink("..2026_01", dir.join("..data")).unwrap();
        symlink("..data/server.key", dir.join("server.key")).unwrap();
        let mut tick = clock();
        let mut watch =
            FileWatch::new(vec![dir.join("server.key")], Duration::from_millis(1)).unwrap();
        assert!(!watch.changed(tick()), "nothing changed yet");
        // Same size, maybe the same mtime: the inode and target differ.
        std::fs::create_dir_all(dir.join("..2026_02")).unwrap();
        std::fs::write(dir.join("..2026_02/server.key"), "two").unwrap();
        symlink("..2026_02", dir.join("..data_tmp")).unwrap();
        std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
        std::fs::remove_dir_all(dir.join("..2026_01")).unwrap();
        assert!(watch.changed(tick()), "the swap was not seen");
        assert!(!watch.changed(tick()), "one change is reported once");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_that_goes_and_comes_back_is_a_change_each_time() {
        let dir = std::env::temp_dir().join(format!("pssst-watch-gone-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("allowed");
        std::fs::write(&file, "a").unwrap();
        let mut tick = clock();
        let mut watch = FileWatch::new(vec![file.clone()], Duration::from_millis(1)).unwrap();
        std::fs::remove_file(&file).unwrap();
        assert!(watch.changed(tick()));
        assert!(!watch.changed(tick()));
        std::fs::write(&file, "a").unwrap();
        assert!(watch.changed(tick()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn no_check_before_it_is_due_and_zero_means_off() {
        assert!(FileWatch::new(vec![], Duration::ZERO).is_none());
        let mut watch =
            FileWatch::new(vec!["/nonexistent/pssst".into()], Duration::from_secs(3600)).unwrap();
        assert!(!watch.changed(Instant::now()));
    }
}
