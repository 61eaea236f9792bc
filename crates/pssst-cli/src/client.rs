//! The options `send` and `bench` share: which server, its key, ours, the
//! retry schedule and the cipher suite.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use pssst_core::{CipherSuite, Client};
use pssst_udp::RetrySchedule;

use crate::{addr, args, keys};

#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    /// Server address, HOST:PORT
    #[arg(long)]
    server: String,
    /// The server's public key, 64 hex digits
    #[arg(long, value_name = "HEX", required_unless_present = "server_key_file")]
    server_key: Option<String>,
    /// Instead of --server-key: the server's private key file, whose public
    /// key is used (a readiness probe beside the server, in its own pod)
    #[arg(long, value_name = "FILE", conflicts_with = "server_key")]
    server_key_file: Option<PathBuf>,
    /// Authenticate with this private key file (default: anonymous)
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
    /// Milliseconds to wait for the first reply; doubles on each retry, up
    /// to 4 times this. Every retransmission must leave within the protocol's
    /// 10 s retransmission window (a longer schedule is refused)
    #[arg(long, default_value_t = RetrySchedule::DEFAULT.first_wait().as_millis() as u64, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    timeout_ms: u64,
    /// Retransmissions before giving up, each from a new source port (behind
    /// a load balancer that pins flows, it can reach another server)
    #[arg(long, default_value_t = RetrySchedule::DEFAULT.retries(),
          value_parser = clap::value_parser!(u32).range(0..=100))]
    retries: u32,
    /// Cipher suite: 1 (aes-gcm, every PSSST server's) or gcm-siv (0xff01,
    /// AES-GCM-SIV: a reply that differs on a retry stays safe; pssst-rs
    /// servers only)
    #[arg(long, default_value = "1", value_parser = args::suite)]
    suite: CipherSuite,
}

/// What a client of the server needs, checked in this order: the retry
/// schedule, the server address, the keys.
pub(crate) fn client_for(args: &ClientArgs) -> Result<(SocketAddr, Client, RetrySchedule), String> {
    // First: a schedule past the window is refused before anything else.
    let schedule = RetrySchedule::new(Duration::from_millis(args.timeout_ms.max(1)), args.retries)
        .map_err(|e| {
            format!(
                "--timeout-ms {} --retries {}: {e}; use fewer retries or a shorter timeout",
                args.timeout_ms, args.retries
            )
        })?;
    let server = addr::parse("server", &args.server)?;
    // clap requires one of --server-key and --server-key-file.
    let server_key = match &args.server_key_file {
        Some(path) => keys::read_private_key(path, keys::KeyPermissions::Unchecked)?.public_key(),
        None => keys::parse_public_key(
            "--server-key",
            args.server_key.as_deref().unwrap_or_default(),
        )?,
    };
    let client = match &args.key {
        None => Client::new(server_key),
        Some(path) => Client::with_client_auth(
            server_key,
            &keys::read_private_key(path, keys::KeyPermissions::Unchecked)?,
        ),
    }
    .map_err(|e| format!("--server-key: {e}"))?
    .with_suite(args.suite);
    Ok((server, client, schedule))
}
