//! Talking to a command through its three pipes, from one thread: the
//! request goes to stdin, stdout is the reply, stderr goes to the log. All
//! non-blocking, `poll` in between, nothing past the deadline.

use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::process::{ChildStderr, ChildStdin, ChildStdout};
use std::time::Instant;

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use zeroize::Zeroizing;

use super::stderr::StderrLog;

/// A running command's pipes.
pub struct Pipes {
    pub stdin: ChildStdin,
    pub stdout: ChildStdout,
    pub stderr: ChildStderr,
}

/// Why a command gave no reply.
pub enum Stop {
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

impl From<rustix::io::Errno> for Stop {
    fn from(_: rustix::io::Errno) -> Stop {
        Stop::Io
    }
}

/// Feeds `input` to the command and reads its output until end of file
/// and until `sh` (its `pidfd`) has exited, stderr into `log` all along,
/// without blocking past `deadline`; stops as soon as more than `limit`
/// bytes came.
pub fn exchange(
    pipes: Pipes,
    sh: &OwnedFd,
    input: &[u8],
    limit: usize,
    deadline: Instant,
    log: &mut StderrLog,
) -> Result<Zeroizing<Vec<u8>>, Stop> {
    let Pipes {
        stdin,
        stdout,
        stderr,
    } = pipes;
    rustix::io::ioctl_fionbio(&stdin, true)?;
    rustix::io::ioctl_fionbio(&stdout, true)?;
    rustix::io::ioctl_fionbio(&stderr, true)?;
    let (mut stdin, mut stdout, mut stderr) = (Some(stdin), Some(stdout), Some(stderr));
    let mut exited = false;
    let mut written = 0;
    let mut chunk = Zeroizing::new([0u8; 8192]);
    // Room for everything that may be read: no reallocation leaves a copy.
    let mut output = Zeroizing::new(Vec::with_capacity(limit + chunk.len()));
    while stdout.is_some() || !exited {
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
        let ready = {
            let mut fds = Vec::with_capacity(4);
            let slots = [
                watch(&mut fds, stdin.as_ref().map(AsFd::as_fd), PollFlags::OUT),
                watch(&mut fds, stdout.as_ref().map(AsFd::as_fd), PollFlags::IN),
                watch(&mut fds, stderr.as_ref().map(AsFd::as_fd), PollFlags::IN),
                watch(&mut fds, (!exited).then(|| sh.as_fd()), PollFlags::IN),
            ];
            match poll(&mut fds, Some(&timeout)) {
                Err(rustix::io::Errno::INTR) => continue,
                result => result?,
            };
            slots.map(|slot| slot.is_some_and(|i| !fds[i].revents().is_empty()))
        };
        let [input_ready, output_ready, errors_ready, sh_ready] = ready;
        if input_ready && let Some(pipe) = &mut stdin {
            match pipe.write(&input[written..]) {
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                // The command does not read its input: fine.
                Err(_) => written = input.len(),
            }
        }
        if errors_ready && let Some(pipe) = &mut stderr {
            match pipe.read(&mut chunk[..]) {
                Ok(0) => stderr = None,
                Ok(n) => log.push(&chunk[..n]),
                Err(e) if retry(&e) => {}
                Err(_) => stderr = None,
            }
        }
        if output_ready && let Some(pipe) = &mut stdout {
            match pipe.read(&mut chunk[..]) {
                Ok(0) => stdout = None,
                Ok(n) => {
                    output.extend_from_slice(&chunk[..n]);
                    if output.len() > limit {
                        return Err(Stop::TooLong(output));
                    }
                }
                Err(e) if retry(&e) => {}
                Err(_) => return Err(Stop::Io),
            }
        }
        exited |= sh_ready;
    }
    if let Some(pipe) = &mut stderr {
        // What it holds now; a background process may write later: not
        // waited for (it dies with the command).
        while let Ok(n @ 1..) = pipe.read(&mut chunk[..]) {
            log.push(&chunk[..n]);
            if log.is_full() {
                break;
            }
        }
    }
    Ok(output)
}

/// Adds `fd` (if any) to `fds`: its index there.
fn watch<'a>(
    fds: &mut Vec<PollFd<'a>>,
    fd: Option<BorrowedFd<'a>>,
    flags: PollFlags,
) -> Option<usize> {
    fd.map(|fd| {
        fds.push(PollFd::from_borrowed_fd(fd, flags));
        fds.len() - 1
    })
}

fn retry(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}
