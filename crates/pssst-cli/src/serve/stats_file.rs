//! `serve --stats-file`: the counters line, replaced atomically.

use std::io::{self, Write};
use std::path::PathBuf;

use crate::keys;

/// `serve --stats-file`: the counters line, replaced atomically.
pub(super) struct StatsFile {
    path: PathBuf,
    warned: bool,
}

impl StatsFile {
    pub(super) fn new(path: PathBuf) -> Result<StatsFile, String> {
        if path.file_name().is_none() {
            return Err(format!("--stats-file {}: not a file name", path.display()));
        }
        Ok(StatsFile {
            path,
            warned: false,
        })
    }

    /// Writes a new temporary file beside the path, then renames it over
    /// the path. The temporary name is random and created exclusively
    /// (`O_CREAT | O_EXCL`, which never follows a symlink): in a shared
    /// directory, a name planted in advance is skipped, not written through.
    pub(super) fn write(&self, stats: &pssst_udp::Stats) -> io::Result<()> {
        let (temp, mut file) = self.create_temp()?;
        let result = file
            .write_all(format!("{stats}\n").as_bytes())
            .and_then(|()| std::fs::rename(&temp, &self.path));
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result
    }

    fn create_temp(&self) -> io::Result<(PathBuf, std::fs::File)> {
        let name = self.path.file_name().unwrap_or_default();
        let mut last = io::Error::other("no temporary name left");
        for _ in 0..16 {
            let mut random = [0u8; 8];
            getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
            let mut temp_name = std::ffi::OsString::from(".");
            temp_name.push(name);
            temp_name.push(format!(".{}.tmp", u64::from_le_bytes(random)));
            let temp = self.path.with_file_name(temp_name);
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
            {
                Ok(file) => return Ok((temp, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// Writes; the first failure is a one-line warning, the server goes on.
    pub(super) fn update(&mut self, stats: &pssst_udp::Stats) {
        if let Err(e) = self.write(stats)
            && !self.warned
        {
            self.warned = true;
            tracing::warn!(
                "cannot update --stats-file {} (not reported again)",
                self.describe(&e)
            );
        }
    }

    pub(super) fn describe(&self, e: &io::Error) -> String {
        format!("{}: {}", self.path.display(), keys::io_reason(e))
    }
}
