//! `pssst serve --exec CMD`: answer each request with a command's output.
//!
//! The command runs under `sh -c` with the request message on stdin; its
//! stdout (exit status 0 only) is the reply. `PSSST_CLIENT_KEY` holds the
//! client's authenticated public key in hex (empty for anonymous requests)
//! and `PSSST_PEER` the source address (unauthenticated).
//!
//! Each command runs in a process group of its own. At the deadline, or as
//! soon as its output is longer than the reply the server may send, the
//! whole group is killed, its pipes are no longer read, and every process
//! of the group is reaped: `serve` is the child subreaper of its commands,
//! so their orphaned children are its own to reap. A command that leaves
//! its process group (`setsid`) is not followed. Commands run on blocking
//! threads, not on the workers: a slow one delays no other request, and at
//! most `--max-in-flight` run at once. Each ending is counted: non-zero
//! exit `handler_failed`, timeout `handler_timeout`, cannot start
//! `handler_unreachable`, output too long `amplification` or
//! `reply_too_large`.
//!
//! A command's output may differ between runs, but a retransmitted request
//! is answered under the same AES-GCM key and nonce, so `serve --exec`
//! turns on the server's reply cache (see pssst-udp).

use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pssst_udp::{DeferredHandler, HandlerFailure, MAX_DATAGRAM, Request, Responder};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::process::{
    Pid, Signal, WaitId, WaitIdOptions, kill_process_group, test_kill_process_group, waitid,
};
use tokio::runtime::Handle;
use zeroize::Zeroizing;

/// Runs a shell command per request, each on a blocking thread of the
/// runtime: at most as many at once as the server has requests in flight.
#[derive(Debug)]
pub struct ExecHandler {
    command: Arc<str>,
    timeout: Duration,
    runtime: Handle,
}

/// One command run: what it needs, owned (the worker wipes the request).
struct Job {
    command: Arc<str>,
    timeout: Duration,
    message: Zeroizing<Vec<u8>>,
    client_key: String,
    peer: String,
    limit: usize,
}

impl ExecHandler {
    /// Makes this process the reaper of its commands' orphans.
    pub fn new(command: String, timeout: Duration, runtime: Handle) -> io::Result<Self> {
        // The argument is a flag: any pid sets it (`None` would clear it).
        rustix::process::set_child_subreaper(Some(Pid::INIT))?;
        Ok(ExecHandler {
            command: command.into(),
            timeout,
            runtime,
        })
    }
}

impl DeferredHandler for ExecHandler {
    fn handle(&self, request: &Request<'_>, responder: Responder) {
        let job = Job {
            command: Arc::clone(&self.command),
            timeout: self.timeout,
            message: Zeroizing::new(request.message.to_vec()),
            client_key: request
                .client_public_key
                .map(|k| k.to_string())
                .unwrap_or_default(),
            peer: crate::peer::shown(request.peer),
            limit: responder.max_reply_len().min(MAX_DATAGRAM),
        };
        self.runtime.spawn_blocking(move || {
            match job.run() {
                Ok(output) => responder.reply(&output),
                Err(failure) => responder.fail(failure),
            };
        });
    }
}

impl Job {
    /// The command's output, or why there is none. Output past the limit
    /// is returned as read so far (just past it): the responder counts it
    /// as too large.
    fn run(&self) -> Result<Zeroizing<Vec<u8>>, HandlerFailure> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&*self.command)
            .env("PSSST_CLIENT_KEY", &self.client_key)
            .env("PSSST_PEER", &self.peer)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .map_err(|_| HandlerFailure::Unreachable)?;
        // From here on, whatever happens (a panic too), the group dies and
        // is reaped when `group` goes out of scope.
        let group = ProcessGroup(Pid::from_child(&child));
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(HandlerFailure::Unreachable);
        };
        let deadline = Instant::now() + self.timeout;
        let outcome = exchange(stdin, stdout, &self.message, self.limit, deadline)
            .and_then(|output| group.wait_until(deadline).map(|ok| (ok, output)));
        drop(group);
        match outcome {
            Ok((true, output)) => Ok(output),
            Ok((false, _)) => Err(HandlerFailure::Failed),
            Err(Stop::TimedOut) => Err(HandlerFailure::TimedOut),
            Err(Stop::TooLong(output)) => Ok(output),
            Err(Stop::Io) => Err(HandlerFailure::Failed),
        }
    }
}

/// Why a command gave no reply.
enum Stop {
    TimedOut,
    /// The output read so far, already longer than the limit.
    TooLong(Zeroizing<Vec<u8>>),
    /// A pipe failed.
    Io,
}

impl From<io::Error> for Stop {
    fn from(_: io::Error) -> Stop {
        Stop::Io
    }
}

/// Feeds `input` to the command and reads its output until end of file,
/// without blocking past `deadline`, and stops as soon as more than `limit`
/// bytes came: one thread, both pipes non-blocking, `poll` in between.
fn exchange(
    stdin: ChildStdin,
    mut stdout: ChildStdout,
    input: &[u8],
    limit: usize,
    deadline: Instant,
) -> Result<Zeroizing<Vec<u8>>, Stop> {
    rustix::io::ioctl_fionbio(&stdin, true).map_err(io::Error::from)?;
    rustix::io::ioctl_fionbio(&stdout, true).map_err(io::Error::from)?;
    let mut stdin = Some(stdin);
    let mut written = 0;
    let mut chunk = Zeroizing::new([0u8; 8192]);
    // Room for everything that may be read: no reallocation leaves a copy.
    let mut output = Zeroizing::new(Vec::with_capacity(limit + chunk.len()));
    loop {
        if written == input.len() {
            // End of input: the command sees EOF.
            stdin = None;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Stop::TimedOut);
        }
        let timeout = Timespec::try_from(left).unwrap_or(Timespec {
            tv_sec: 1,
            tv_nsec: 0,
        });
        let mut fds = vec![PollFd::new(&stdout, PollFlags::IN)];
        if let Some(stdin) = &stdin {
            fds.push(PollFd::new(stdin, PollFlags::OUT));
        }
        poll(&mut fds, Some(&timeout)).map_err(io::Error::from)?;
        let input_ready = fds.get(1).is_some_and(|fd| !fd.revents().is_empty());
        let output_ready = !fds[0].revents().is_empty();
        drop(fds);
        if input_ready && let Some(pipe) = &mut stdin {
            match pipe.write(&input[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // The command does not read its input: fine.
                Err(_) => written = input.len(),
            }
        }
        if output_ready {
            match stdout.read(&mut chunk[..]) {
                Ok(0) => return Ok(output),
                Ok(n) => {
                    output.extend_from_slice(&chunk[..n]);
                    if output.len() > limit {
                        return Err(Stop::TooLong(output));
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                Err(_) => return Err(Stop::Io),
            }
        }
    }
}

/// A command's process group, led by its `sh`. Dropping it kills every
/// process left in the group and reaps them all.
struct ProcessGroup(Pid);

impl ProcessGroup {
    /// Waits (until `deadline`) for `sh` to exit, leaving it a zombie so the
    /// group id cannot be reused before the group is killed. True when it
    /// exited with status 0.
    fn wait_until(&self, deadline: Instant) -> Result<bool, Stop> {
        let peek = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        loop {
            match waitid(WaitId::Pid(self.0), peek).map_err(io::Error::from)? {
                Some(status) => return Ok(status.exited() && status.exit_status() == Some(0)),
                None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
                None => return Err(Stop::TimedOut),
            }
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // ESRCH (nobody left) is fine.
        let _ = kill_process_group(self.0, Signal::KILL);
        // Every member is dead or dying. Reap them (`sh`, and its orphans,
        // which become ours as their subreaper) until the group is empty:
        // an orphan may be handed over a moment after its parent died.
        // Bounded, in case one is stuck in the kernel.
        let give_up = Instant::now() + REAP_PATIENCE;
        let reap = WaitIdOptions::EXITED | WaitIdOptions::NOHANG;
        loop {
            while let Ok(Some(_)) = waitid(WaitId::Pgid(Some(self.0)), reap) {}
            if test_kill_process_group(self.0).is_err() || Instant::now() > give_up {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// How long a worker waits for a killed group to be gone.
const REAP_PATIENCE: Duration = Duration::from_secs(2);
