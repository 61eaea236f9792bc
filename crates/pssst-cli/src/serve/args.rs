//! `pssst serve`'s command line, and what it chooses: the handler and the
//! files to (re)load.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use pssst_core::CipherSuite;

use super::logs;
use super::reload::Sources;
use crate::keys::KeyPermissions;
use crate::{args, exec};

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The server's private key file. Repeat to answer to several keys
    /// (key rotation), tried in the order given. A bare file name is read
    /// from $CREDENTIALS_DIRECTORY when set (systemd LoadCredential=).
    /// Re-read on SIGHUP and when it changes (--watch-interval-ms)
    #[arg(long, required = true)]
    pub(super) key: Vec<PathBuf>,
    /// Address to listen on (port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:7777")]
    pub(super) listen: String,
    /// Worker threads, each with its own SO_REUSEPORT socket (0: one per core)
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub(super) workers: u16,
    /// Answer with this shell command's stdout (message on stdin;
    /// PSSST_CLIENT_KEY and PSSST_PEER in its environment, besides PATH, the
    /// locale, PSSST_* and --exec-env; its stderr is logged, escaped)
    /// instead of echoing.
    /// The output should depend only on the request: a retry reuses the
    /// request's AES-GCM key and nonce, and the reply cache is per process,
    /// so in a pool of servers a command whose output varies can answer one
    /// request twice with different bytes (nonce reuse; suite 1 only:
    /// clients of --suite gcm-siv are not exposed). Everything a command
    /// starts is killed when it exits, at the timeout, or when its output is
    /// longer than the reply may be (see --allow-amplification; no reply)
    #[arg(long, value_name = "CMD")]
    pub(super) exec: Option<String>,
    /// Seconds a command may run before everything it started is killed (no
    /// reply); less than --reply-cache-ttl
    #[arg(long, default_value = "5", value_name = "SECONDS",
          value_parser = args::seconds_in(0.001, 3600.0))]
    pub(super) exec_timeout: Duration,
    /// Where each command gets a cgroup v2 of its own, killed whole
    /// (cgroup.kill): auto (serve's own cgroup, e.g. a systemd unit with
    /// Delegate=yes, if serve may create cgroups there), off, or a
    /// directory. Without one, a command's processes are found through /proc
    #[arg(long, default_value = "auto", value_name = "auto|off|DIR",
          value_parser = exec::parse_cgroup)]
    pub(super) exec_cgroup: exec::CgroupChoice,
    /// Pass this environment variable of serve on to commands as well
    /// (repeatable); by default they get PATH, LANG, LANGUAGE, LC_* and
    /// PSSST_* only
    #[arg(long, value_name = "NAME", value_parser = exec::parse_env_name)]
    pub(super) exec_env: Vec<String>,
    /// Gateway to an HTTP application: POST each request's message to this
    /// http:// URL (headers Pssst-Peer, and Pssst-Client-Key for
    /// authenticated clients); a 2xx response's body is the reply, anything
    /// else no reply. Connections are pooled and kept alive
    #[arg(long, value_name = "URL", conflicts_with = "exec")]
    pub(super) forward: Option<String>,
    /// Seconds the backend has to answer one request (no reply after it);
    /// less than --reply-cache-ttl
    #[arg(long, default_value = "5", value_name = "SECONDS",
          value_parser = args::seconds_in(0.001, 3600.0))]
    pub(super) forward_timeout: Duration,
    /// Requests handed to --exec or --forward and not answered yet; past
    /// it new requests are dropped (counted as busy), never queued
    #[arg(long, default_value_t = 256, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub(super) max_in_flight: u32,
    /// Bytes of sealed replies the reply cache keeps for retries (--exec and
    /// --forward; suffix K, M or G). The oldest are evicted first; a retry
    /// whose reply was evicted gets none (reply_forgotten), never a second run
    #[arg(long, default_value = "64M", value_name = "BYTES",
          value_parser = args::bytes_in(4096, args::REPLY_CACHE_BYTES_MAX))]
    pub(super) reply_cache_bytes: usize,
    /// New requests per --reply-cache-ttl whose ids the reply cache has room
    /// for (about 2.5 bytes each; default 50,000 per second of TTL, at most
    /// 16 million). Past
    /// it, new requests are dropped (cache_full): size it above the peak
    /// request rate times the TTL
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    pub(super) reply_cache_ids: Option<u64>,
    /// Seconds a remembered reply is kept (--exec and --forward); at least
    /// the protocol's retransmission window plus a delivery margin
    #[arg(long, default_value = "60", value_name = "SECONDS",
          value_parser = args::seconds_in(pssst_core::MIN_REPLY_MEMORY.as_secs_f64(), 86_400.0))]
    pub(super) reply_cache_ttl: Duration,
    /// Closed service: only answer client-authenticated requests from the
    /// public keys in this file (one hex key per line). Re-read on SIGHUP
    #[arg(long, value_name = "FILE")]
    pub(super) authorized_keys: Option<PathBuf>,
    /// Use --key files that group or others can read or write. By default
    /// such a file is refused, at startup and on SIGHUP, as OpenSSH does
    #[arg(long)]
    pub(super) allow_insecure_key_permissions: bool,
    /// Let replies be larger than their request. By default no reply is:
    /// a source address is not authenticated, and any recorded request can
    /// be replayed from a spoofed one
    #[arg(long)]
    pub(super) allow_amplification: bool,
    /// Join other processes serving the same address on this host (each
    /// started with --reuse-port; the kernel spreads clients over them).
    /// Without it, serve refuses an address another process serves
    #[arg(long)]
    pub(super) reuse_port: bool,
    /// Keep the counters in this file while running: one line,
    /// "received=N answered=N ..." (as in the line printed at shutdown:
    /// received and answered always, other counters when not zero),
    /// replaced atomically (temporary file in the same directory, then
    /// rename) every --stats-interval-ms and once more at shutdown
    #[arg(long, value_name = "PATH")]
    pub(super) stats_file: Option<PathBuf>,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9100),
    /// text format 0.0.4 or OpenMetrics when the Accept header asks for it
    #[arg(long, value_name = "ADDR")]
    pub(super) metrics: Option<String>,
    /// Log lines on stderr as text or JSON (filter with RUST_LOG, default info)
    #[arg(long, value_enum, default_value = "text")]
    pub(super) log_format: logs::LogFormat,
    /// Cipher suites to accept, comma-separated: 1 (aes-gcm), gcm-siv
    /// (0xff01). Default: both; each reply uses its request's suite, other
    /// suites are dropped before any X25519 (counted as unknown_suite)
    #[arg(long, value_name = "SUITES", value_delimiter = ',', value_parser = args::suite)]
    pub(super) suites: Vec<CipherSuite>,
    /// Milliseconds between two rewrites of --stats-file
    #[arg(
        long,
        default_value_t = 200,
        value_name = "MS",
        value_parser = clap::value_parser!(u64).range(1..=3_600_000)
    )]
    pub(super) stats_interval_ms: u64,
    /// Milliseconds between two checks of the key files and the allowlist:
    /// a change (an edit, a `mv` over the file, a Kubernetes Secret update)
    /// reloads them as SIGHUP does. 0: reload on SIGHUP only
    #[arg(
        long,
        default_value_t = 1000,
        value_name = "MS",
        value_parser = clap::value_parser!(u64).range(0..=3_600_000)
    )]
    pub(super) watch_interval_ms: u64,
}

/// What answers requests, as the flags choose it.
pub(super) enum HandlerChoice {
    Echo,
    Exec {
        command: String,
        settings: exec::Settings,
    },
    Forward {
        url: String,
        timeout: Duration,
    },
}

impl HandlerChoice {
    /// The flag that bounds one handler run, and its value; `None` for
    /// echo, which answers on the worker.
    pub(super) fn timeout(&self) -> Option<(&'static str, Duration)> {
        match self {
            HandlerChoice::Echo => None,
            HandlerChoice::Exec { settings, .. } => Some(("--exec-timeout", settings.timeout)),
            HandlerChoice::Forward { timeout, .. } => Some(("--forward-timeout", *timeout)),
        }
    }
}

impl ServeArgs {
    /// The files read at startup and on every reload.
    pub(super) fn sources(&self) -> Sources {
        let key_permissions = if self.allow_insecure_key_permissions {
            KeyPermissions::Unchecked
        } else {
            KeyPermissions::OwnerOnly
        };
        Sources {
            keys: self.key.clone(),
            authorized_keys: self.authorized_keys.clone(),
            key_permissions,
        }
    }

    /// The handler the flags choose.
    pub(super) fn handler(&self) -> HandlerChoice {
        // clap refuses --exec with --forward.
        match (&self.exec, &self.forward) {
            (Some(command), _) => HandlerChoice::Exec {
                command: command.clone(),
                settings: exec::Settings {
                    timeout: self.exec_timeout,
                    cgroup: self.exec_cgroup.clone(),
                    env: self.exec_env.clone(),
                },
            },
            (None, Some(url)) => HandlerChoice::Forward {
                url: url.clone(),
                timeout: self.forward_timeout,
            },
            (None, None) => HandlerChoice::Echo,
        }
    }
}
