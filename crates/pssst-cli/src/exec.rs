//! `pssst serve --exec CMD`: answer each request with a command's output.
//!
//! The command runs under `sh -c` with the request message on stdin; its
//! stdout (exit status 0 only) is the reply. `PSSST_CLIENT_KEY` holds the
//! client's authenticated public key in hex (empty for anonymous requests)
//! and `PSSST_PEER` the source address (unauthenticated).
//!
//! A command's output may differ between runs, but a retransmitted request
//! is answered under the same AES-GCM key and nonce, so its reply must be
//! byte-identical: answers are remembered in a bounded, time-limited
//! [`ReplyCache`] keyed by the request's DH parameter (see its docs for the
//! trade-off).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use pssst_udp::{Handler, MAX_DATAGRAM, ReplyCache, Request};

/// Runs a shell command per request.
#[derive(Debug)]
pub struct ExecHandler {
    command: String,
    timeout: Duration,
    cache: ReplyCache,
}

impl ExecHandler {
    /// `cache_entries` and `cache_ttl` bound the reply cache.
    pub fn new(
        command: String,
        timeout: Duration,
        cache_entries: usize,
        cache_ttl: Duration,
    ) -> Self {
        ExecHandler {
            command,
            timeout,
            cache: ReplyCache::new(cache_entries, cache_ttl),
        }
    }

    fn run(&self, request: &Request<'_>) -> Option<Vec<u8>> {
        let client = request
            .client_public_key
            .map(|k| k.to_string())
            .unwrap_or_default();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .env("PSSST_CLIENT_KEY", client)
            .env("PSSST_PEER", request.peer.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| eprintln!("pssst serve: cannot run the command: {e}"))
            .ok()?;
        let mut stdin = child.stdin.take()?;
        let message = request.message.to_vec();
        let writer = thread::spawn(move || {
            // A command that does not read its input is fine.
            let _ = stdin.write_all(&message);
        });
        let stdout = child.stdout.take()?;
        let reader = thread::spawn(move || {
            let mut output = Vec::new();
            let _ = stdout
                .take(MAX_DATAGRAM as u64 + 1)
                .read_to_end(&mut output);
            output
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(2)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        let output = reader.join().ok()?;
        let _ = writer.join();
        match status {
            Some(status) if status.success() => {}
            Some(status) => {
                eprintln!("pssst serve: command failed ({status}): no reply");
                return None;
            }
            None => {
                eprintln!(
                    "pssst serve: command timed out after {:?}: no reply",
                    self.timeout
                );
                return None;
            }
        }
        if output.len() > MAX_DATAGRAM {
            eprintln!("pssst serve: command output too large for one datagram: no reply");
            return None;
        }
        Some(output)
    }
}

impl Handler for ExecHandler {
    fn handle(&self, request: &Request<'_>, reply: &mut Vec<u8>) -> bool {
        match self
            .cache
            .get_or_compute(&request.request_id, || self.run(request))
        {
            Some(output) => {
                reply.extend_from_slice(&output);
                true
            }
            None => false,
        }
    }
}
