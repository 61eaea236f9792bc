//! `pssst serve --exec CMD`: answer each request with a command's output.
//!
//! The command runs under `sh -c` with the request message on stdin; its
//! stdout (exit status 0 only) is the reply, its stderr goes to the log,
//! escaped. `PSSST_CLIENT_KEY` holds the client's authenticated public key
//! in hex (empty for anonymous requests) and `PSSST_PEER` the source address
//! (unauthenticated); the rest of its environment is an allowlist (`env`).
//!
//! Each command is contained: in a cgroup v2 of its own where serve may
//! create one (`cgroup`), otherwise in its process group and process tree
//! (`family`). At the deadline, or as soon as its output is longer than the
//! reply the server may send, or when it has exited, everything it started
//! is killed, wherever it moved (`setsid`), and reaped: `serve` is the child
//! subreaper of its commands. Commands run on blocking threads, not on the
//! workers: a slow one delays no other request, and at most
//! `--max-in-flight` run at once. Each ending is counted: non-zero exit
//! `handler_failed`, timeout `handler_timeout`, cannot start
//! `handler_unreachable`, output too long `amplification` or
//! `reply_too_large`.
//!
//! A command's output may differ between runs, but a retransmitted request
//! is answered under the same AES-GCM key and nonce, so `serve --exec`
//! turns on the server's reply cache (see pssst-udp).

mod cgroup;
mod env;
mod family;
mod pipes;
mod stderr;

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pssst_udp::{DeferredHandler, HandlerFailure, Request, Responder};
use rustix::process::{Pid, PidfdFlags, WaitId, WaitIdOptions, pidfd_open, waitid};
use tokio::runtime::Handle;
use zeroize::Zeroizing;

pub use cgroup::{CgroupChoice, parse_choice as parse_cgroup};
pub use env::parse_name as parse_env_name;
pub use family::Family;

use cgroup::{CgroupBase, CommandCgroup};
use pipes::{Pipes, Stop};
use stderr::StderrLog;

/// How commands run, besides the command itself.
#[derive(Debug)]
pub struct Settings {
    pub timeout: Duration,
    /// `--exec-cgroup`.
    pub cgroup: CgroupChoice,
    /// `--exec-env`: names passed on besides the allowlist.
    pub env: Vec<String>,
}

/// Runs a shell command per request, each on a blocking thread of the
/// runtime: at most as many at once as the server has requests in flight.
#[derive(Debug)]
pub struct ExecHandler {
    shared: Arc<Shared>,
    runtime: Handle,
}

/// What every run needs.
#[derive(Debug)]
struct Shared {
    command: String,
    /// `sh`, found once in serve's PATH.
    shell: PathBuf,
    timeout: Duration,
    env: Vec<(OsString, OsString)>,
    cgroups: Option<CgroupBase>,
    family: Arc<Family>,
}

/// One command run: what it needs, owned (the worker wipes the request).
struct Job {
    shared: Arc<Shared>,
    message: Zeroizing<Vec<u8>>,
    client_key: String,
    peer: String,
    /// The longest reply the server will send (`Responder::max_reply_len`,
    /// which a datagram always holds): output past it is cut short.
    limit: usize,
}

impl ExecHandler {
    /// Makes this process the reaper of its commands' orphans and finds
    /// where commands are contained (logged).
    pub fn new(command: String, settings: Settings, runtime: Handle) -> Result<Self, String> {
        let cgroups = CgroupBase::find(&settings.cgroup)?;
        let family = Family::new(cgroups.is_none())
            .map_err(|e| format!("cannot supervise commands: {e}"))?;
        match &cgroups {
            Some(base) => tracing::info!(
                containment = "cgroup",
                cgroup = %base.dir().display(),
                "each command runs in a cgroup of its own"
            ),
            None => tracing::warn!(
                containment = "process-tree",
                "no cgroup v2 to contain commands (--exec-cgroup): their processes are found through /proc"
            ),
        }
        Ok(ExecHandler {
            shared: Arc::new(Shared {
                command,
                shell: env::shell(),
                timeout: settings.timeout,
                env: env::allowed(&settings.env),
                cgroups,
                family,
            }),
            runtime,
        })
    }

    /// Every process commands started: kill what is left at shutdown.
    pub fn family(&self) -> Arc<Family> {
        Arc::clone(&self.shared.family)
    }
}

impl DeferredHandler for ExecHandler {
    fn handle(&self, request: &Request<'_>, responder: Responder) {
        let job = Job {
            shared: Arc::clone(&self.shared),
            message: Zeroizing::new(request.message.to_vec()),
            client_key: request
                .client_public_key
                .map(|k| k.to_string())
                .unwrap_or_default(),
            peer: crate::peer::shown(request.peer),
            limit: responder.max_reply_len(),
        };
        self.runtime.spawn_blocking(move || {
            match job.run() {
                Ok(output) => responder.reply(&output),
                Err(failure) => responder.fail(failure),
            };
        });
    }
}

/// In a cgroup, `sh` reads one line of stdin before the command: by then
/// serve has moved it into the cgroup, so nothing it starts can be outside
/// (std offers no way to spawn into a cgroup). A line of its own before
/// the command's text: the same shell runs both, no second exec.
const GATE: &str = "read -r _ || exit 125\n";

impl Job {
    /// The command's output, or why there is none. Output past the limit
    /// is returned as read so far (just past it): the responder counts it
    /// as too large.
    fn run(&self) -> Result<Zeroizing<Vec<u8>>, HandlerFailure> {
        let shared = &*self.shared;
        let cgroup = match &shared.cgroups {
            Some(base) => Some(base.create().map_err(|e| {
                tracing::error!("cannot create a cgroup for a command: {e}");
                HandlerFailure::Unreachable
            })?),
            None => None,
        };
        let mut command = Command::new(&shared.shell);
        match cgroup {
            Some(_) => command.arg("-c").arg(format!("{GATE}{}", shared.command)),
            None => command.args(["-c", &shared.command]),
        };
        command
            .env_clear()
            .envs(shared.env.iter().map(|(k, v)| (k, v)))
            .env("PSSST_CLIENT_KEY", &self.client_key)
            .env("PSSST_PEER", &self.peer)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = shared
            .family
            .spawn(&mut command)
            .map_err(|_| HandlerFailure::Unreachable)?;
        // From here on, whatever happens (a panic too), everything the
        // command started dies and is reaped when `running` is dropped.
        let mut running = Running {
            sh: Pid::from_child(&child),
            cgroup,
            family: &shared.family,
        };
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(HandlerFailure::Unreachable);
        };
        let mut input = Zeroizing::new(Vec::with_capacity(self.message.len() + 1));
        if let Some(cgroup) = &running.cgroup {
            if let Err(e) = cgroup.adopt(running.sh) {
                tracing::error!("cannot move a command into its cgroup: {e}");
                // Not in it: its process tree is killed instead.
                running.cgroup = None;
                return Err(HandlerFailure::Unreachable);
            }
            // Opens the gate.
            input.push(b'\n');
        }
        input.extend_from_slice(&self.message);
        // `sh` is our unreaped child: the pidfd is that process.
        let pidfd =
            pidfd_open(running.sh, PidfdFlags::empty()).map_err(|_| HandlerFailure::Unreachable)?;
        let deadline = Instant::now() + shared.timeout;
        let mut log = StderrLog::default();
        let pipes = Pipes {
            stdin,
            stdout,
            stderr,
        };
        let outcome = pipes::exchange(pipes, &pidfd, &input, self.limit, deadline, &mut log)
            .map(|output| (running.succeeded(), output));
        drop(running);
        log.log();
        match outcome {
            Ok((true, output)) => Ok(output),
            Ok((false, _)) => Err(HandlerFailure::Failed),
            Err(Stop::TimedOut) => Err(HandlerFailure::TimedOut),
            Err(Stop::TooLong(output)) => Ok(output),
            Err(Stop::Io) => Err(HandlerFailure::Failed),
        }
    }
}

/// A started command. Dropping it kills everything the command started
/// (its cgroup, or its process group and tree) and reaps `sh`; the sweep
/// reaps the rest.
struct Running<'a> {
    sh: Pid,
    cgroup: Option<CommandCgroup>,
    family: &'a Family,
}

impl Running<'_> {
    /// Whether `sh` exited with status 0 (left unreaped: its pid stays its
    /// own until everything is killed).
    fn succeeded(&self) -> bool {
        let peek = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        matches!(waitid(WaitId::Pid(self.sh), peek),
            Ok(Some(status)) if status.exited() && status.exit_status() == Some(0))
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        match self.cgroup.take().map(CommandCgroup::close) {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                tracing::error!("cannot kill a command's cgroup, killing its process tree: {e}");
                self.family.kill_tree(self.sh);
            }
            None => self.family.kill_tree(self.sh),
        }
        self.family.release(self.sh);
    }
}
