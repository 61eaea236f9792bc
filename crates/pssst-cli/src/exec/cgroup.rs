//! Containment of `--exec` commands in cgroup v2: one cgroup per command,
//! killed whole with `cgroup.kill` (Linux 5.14), which reaches every process
//! in it wherever it moved in the process tree (`setsid`, double forks).
//!
//! The cgroups are created under one directory, the base: the one given by
//! `--exec-cgroup DIR`, or with `auto` serve's own cgroup v2 (under systemd
//! with `Delegate=yes`, the unit's cgroup, which belongs to its user).

use std::fs;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustix::process::Pid;

/// Where commands' cgroups go (`--exec-cgroup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupChoice {
    /// Serve's own cgroup v2 if serve may create cgroups in it, otherwise
    /// the process-tree fallback.
    Auto,
    /// Never cgroups: the process-tree fallback.
    Off,
    /// This cgroup v2 directory (an error at startup if unusable).
    Dir(PathBuf),
}

/// Parses `--exec-cgroup`: `auto`, `off` or an absolute directory.
pub fn parse_choice(text: &str) -> Result<CgroupChoice, String> {
    match text {
        "auto" => Ok(CgroupChoice::Auto),
        "off" => Ok(CgroupChoice::Off),
        dir if dir.starts_with('/') => Ok(CgroupChoice::Dir(dir.into())),
        _ => Err(format!(
            "{text:?}: expected auto, off or an absolute cgroup v2 directory"
        )),
    }
}

/// The directory commands' cgroups are created in.
#[derive(Debug)]
pub struct CgroupBase {
    dir: PathBuf,
    /// Names are `pssst-exec-<serve's pid>-<n>`: unique on the host.
    prefix: String,
    next: AtomicU64,
}

impl CgroupBase {
    /// The base chosen, checked by creating (and removing) a cgroup in it.
    /// `None`: no cgroup (`off`, or `auto` where serve may not create one).
    pub fn find(choice: &CgroupChoice) -> Result<Option<CgroupBase>, String> {
        let dir = match choice {
            CgroupChoice::Off => return Ok(None),
            CgroupChoice::Dir(dir) => dir.clone(),
            CgroupChoice::Auto => match own_cgroup() {
                Some(dir) => dir,
                None => return Ok(None),
            },
        };
        let base = CgroupBase {
            prefix: format!("pssst-exec-{}", std::process::id()),
            dir,
            next: AtomicU64::new(0),
        };
        match base.create().and_then(CommandCgroup::close) {
            Ok(()) => Ok(Some(base)),
            Err(_) if *choice == CgroupChoice::Auto => Ok(None),
            Err(e) => Err(format!(
                "--exec-cgroup {}: cannot create a cgroup v2 with cgroup.kill in it: {e}",
                base.dir.display()
            )),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A new, empty cgroup for one command.
    pub fn create(&self) -> io::Result<CommandCgroup> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir.join(format!("{}-{n}", self.prefix));
        fs::create_dir(&dir)?;
        // cgroup v1 directories and kernels before 5.14 have no cgroup.kill.
        if !dir.join("cgroup.kill").exists() {
            fs::remove_dir(&dir)?;
            return Err(io::Error::new(ErrorKind::Unsupported, "no cgroup.kill"));
        }
        Ok(CommandCgroup { dir, closed: false })
    }
}

/// One command's cgroup: dropping it kills everything in it and removes it.
#[derive(Debug)]
pub struct CommandCgroup {
    dir: PathBuf,
    closed: bool,
}

impl CommandCgroup {
    /// Moves a process (and so its future children) into the cgroup.
    pub fn adopt(&self, pid: Pid) -> io::Result<()> {
        fs::write(
            self.dir.join("cgroup.procs"),
            pid.as_raw_nonzero().to_string(),
        )
    }

    /// Kills every process in the cgroup, waits (bounded) until none is
    /// left and removes the cgroup.
    fn kill_and_remove(&self) -> io::Result<()> {
        fs::write(self.dir.join("cgroup.kill"), "1")?;
        let give_up = Instant::now() + KILL_PATIENCE;
        while self.populated()? && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(1));
        }
        fs::remove_dir(&self.dir)
    }

    fn populated(&self) -> io::Result<bool> {
        let events = fs::read_to_string(self.dir.join("cgroup.events"))?;
        Ok(events.lines().any(|line| line == "populated 1"))
    }

    /// Kills, waits and removes, saying whether that worked.
    pub fn close(mut self) -> io::Result<()> {
        self.closed = true;
        self.kill_and_remove()
    }
}

impl Drop for CommandCgroup {
    fn drop(&mut self) {
        if !self.closed
            && let Err(e) = self.kill_and_remove()
        {
            tracing::error!(cgroup = %self.dir.display(), "cannot kill a command's cgroup: {e}");
        }
    }
}

/// How long a kill may take to empty a cgroup.
const KILL_PATIENCE: Duration = Duration::from_secs(2);

/// Serve's own cgroup v2 directory: its path in `/proc/self/cgroup` (line
/// `0::PATH`) under the cgroup2 mount of `/proc/self/mountinfo`.
fn own_cgroup() -> Option<PathBuf> {
    let membership = fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = membership.lines().find_map(|l| l.strip_prefix("0::"))?;
    let mounts = fs::read_to_string("/proc/self/mountinfo").ok()?;
    mounts.lines().find_map(|line| {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - FSTYPE SOURCE ...
        let (left, right) = line.split_once(" - ")?;
        if right.split(' ').next()? != "cgroup2" {
            return None;
        }
        let fields: Vec<&str> = left.split(' ').collect();
        let (root, mount_point) = (fields.get(3)?, fields.get(4)?);
        let relative = path.strip_prefix(root.trim_end_matches('/'))?;
        let relative = relative.trim_start_matches('/');
        let mount_point = Path::new(mount_point);
        Some(match relative {
            "" => mount_point.to_owned(),
            _ => mount_point.join(relative),
        })
    })
}
