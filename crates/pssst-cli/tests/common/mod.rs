//! Running the `pssst` binary in tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use pssst_core::PublicKey;

pub fn pssst() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pssst"))
}

/// A fresh directory under the target dir, removed by nobody (tests are
/// bounded; the target dir is scratch).
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `pssst keygen` into `dir/name`; returns the path.
pub fn keygen(dir: &Path, name: &str) -> (PathBuf, PublicKey) {
    let path = dir.join(name);
    let out = pssst().arg("keygen").arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = PublicKey::from_hex(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    (path, public)
}

/// A `pssst serve` child, killed on drop.
pub struct Served {
    pub child: Child,
    pub addr: SocketAddr,
    pub public_key: PublicKey,
    pub stdout: BufReader<ChildStdout>,
}

impl Served {
    /// Starts `pssst serve --key KEY --listen 127.0.0.1:0 EXTRA...` and reads
    /// its "listening on" line.
    pub fn start(key: &Path, extra: &[&str]) -> Served {
        let mut child = pssst()
            .args(["serve", "--listen", "127.0.0.1:0", "--key"])
            .arg(key)
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        // "pssst serve: listening on ADDR (N workers...), public key HEX"
        let addr = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        let public_key = PublicKey::from_hex(line.rsplit(' ').next().unwrap()).unwrap();
        Served {
            child,
            addr,
            public_key,
            stdout,
        }
    }

    /// SIGTERM, then the exit status and the rest of stdout.
    pub fn terminate(mut self) -> (bool, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(5);
        let exit = loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                break exit;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stdout, &mut rest).unwrap();
        (exit.success(), rest)
    }

    /// Resident set size of the server process, from /proc.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
