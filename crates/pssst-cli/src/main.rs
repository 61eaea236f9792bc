//! `pssst`: keys, a stateless UDP server, a retrying client, a load
//! generator, the interop line protocol, and a demo of it all.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use pssst_core::{CipherSuite, Client};
use pssst_udp::{RetrySchedule, UdpClient};

mod args;
mod compat;
mod demo;
mod exec;
mod forward;
mod keys;
mod load;
mod peer;
mod serve;

/// PSSST (Packet Security for Stateless Server Transactions) over UDP.
#[derive(Debug, Parser)]
#[command(name = "pssst", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a new private key file (hex, mode 0600) and print its public key
    Keygen {
        /// The private key file to create
        file: PathBuf,
        /// Replace the file if it exists
        #[arg(long)]
        force: bool,
    },
    /// Print the public key of a private key file (hex, or PEM PKCS#8 X25519)
    Pubkey {
        /// The private key file
        file: PathBuf,
    },
    /// Run a server: echo, or answer each request with a command's output
    Serve(Box<ServeArgs>),
    /// Send one request and print the reply
    Send(SendArgs),
    /// Load-test a server: throughput and latency percentiles
    Bench(BenchArgs),
    /// Speak the interop line protocol on stdin/stdout (TAG:hex lines)
    Compat {
        /// Use only this cipher suite, as client and server (default: suite-1
        /// clients, a server of every suite)
        #[arg(long, value_parser = args::suite)]
        suite: Option<CipherSuite>,
    },
    /// Start servers on loopback, run every kind of client and junk against
    /// them, verify everything, print a summary
    Demo,
    /// Print a shell completion script (e.g. `pssst completions bash >
    /// /etc/bash_completion.d/pssst`)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; e.g. `pssst man > pssst.1; man -l pssst.1`)
    Man,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// The server's private key file. Repeat to answer to several keys
    /// (key rotation), tried in the order given. A bare file name is read
    /// from $CREDENTIALS_DIRECTORY when set (systemd LoadCredential=).
    /// Re-read on SIGHUP and when it changes (--watch-interval-ms)
    #[arg(long, required = true)]
    key: Vec<PathBuf>,
    /// Address to listen on (port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:7777")]
    listen: String,
    /// Worker threads, each with its own SO_REUSEPORT socket (0: one per core)
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=1024))]
    workers: u16,
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
    exec: Option<String>,
    /// Seconds a command may run before everything it started is killed (no
    /// reply); less than --reply-cache-ttl
    #[arg(long, default_value = "5", value_name = "SECONDS",
          value_parser = args::seconds_in(0.001, 3600.0))]
    exec_timeout: Duration,
    /// Where each command gets a cgroup v2 of its own, killed whole
    /// (cgroup.kill): auto (serve's own cgroup, e.g. a systemd unit with
    /// Delegate=yes, if serve may create cgroups there), off, or a
    /// directory. Without one, a command's processes are found through /proc
    #[arg(long, default_value = "auto", value_name = "auto|off|DIR",
          value_parser = exec::parse_cgroup)]
    exec_cgroup: exec::CgroupChoice,
    /// Pass this environment variable of serve on to commands as well
    /// (repeatable); by default they get PATH, LANG, LANGUAGE, LC_* and
    /// PSSST_* only
    #[arg(long, value_name = "NAME", value_parser = exec::parse_env_name)]
    exec_env: Vec<String>,
    /// Gateway to an HTTP application: POST each request's message to this
    /// http:// URL (headers Pssst-Peer, and Pssst-Client-Key for
    /// authenticated clients); a 2xx response's body is the reply, anything
    /// else no reply. Connections are pooled and kept alive
    #[arg(long, value_name = "URL", conflicts_with = "exec")]
    forward: Option<String>,
    /// Seconds the backend has to answer one request (no reply after it);
    /// less than --reply-cache-ttl
    #[arg(long, default_value = "5", value_name = "SECONDS",
          value_parser = args::seconds_in(0.001, 3600.0))]
    forward_timeout: Duration,
    /// Requests handed to --exec or --forward and not answered yet; past
    /// it new requests are dropped (counted as busy), never queued
    #[arg(long, default_value_t = 256, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    max_in_flight: u32,
    /// Bytes of sealed replies the reply cache keeps for retries (--exec and
    /// --forward; suffix K, M or G). The oldest are evicted first; a retry
    /// whose reply was evicted gets none (reply_forgotten), never a second run
    #[arg(long, default_value = "64M", value_name = "BYTES",
          value_parser = args::bytes_in(4096, args::REPLY_CACHE_BYTES_MAX))]
    reply_cache_bytes: usize,
    /// New requests per --reply-cache-ttl whose ids the reply cache has room
    /// for (about 2.5 bytes each; default 50,000 per second of TTL, at most
    /// 16 million). Past
    /// it, new requests are dropped (cache_full): size it above the peak
    /// request rate times the TTL
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    reply_cache_ids: Option<u64>,
    /// Seconds a remembered reply is kept (--exec and --forward); at least
    /// the protocol's retransmission window plus a delivery margin
    #[arg(long, default_value = "60", value_name = "SECONDS",
          value_parser = args::seconds_in(pssst_core::MIN_REPLY_MEMORY.as_secs_f64(), 86_400.0))]
    reply_cache_ttl: Duration,
    /// Closed service: only answer client-authenticated requests from the
    /// public keys in this file (one hex key per line). Re-read on SIGHUP
    #[arg(long, value_name = "FILE")]
    authorized_keys: Option<PathBuf>,
    /// Use --key files that group or others can read or write. By default
    /// such a file is refused, at startup and on SIGHUP, as OpenSSH does
    #[arg(long)]
    allow_insecure_key_permissions: bool,
    /// Let replies be larger than their request. By default no reply is:
    /// a source address is not authenticated, and any recorded request can
    /// be replayed from a spoofed one
    #[arg(long)]
    allow_amplification: bool,
    /// Join other processes serving the same address on this host (each
    /// started with --reuse-port; the kernel spreads clients over them).
    /// Without it, serve refuses an address another process serves
    #[arg(long)]
    reuse_port: bool,
    /// Keep the counters in this file while running: one line,
    /// "received=N answered=N ..." (as in the line printed at shutdown:
    /// received and answered always, other counters when not zero),
    /// replaced atomically (temporary file in the same directory, then
    /// rename) every --stats-interval-ms and once more at shutdown
    #[arg(long, value_name = "PATH")]
    stats_file: Option<PathBuf>,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9100),
    /// text format 0.0.4 or OpenMetrics when the Accept header asks for it
    #[arg(long, value_name = "ADDR")]
    metrics: Option<String>,
    /// Log lines on stderr as text or JSON (filter with RUST_LOG, default info)
    #[arg(long, value_enum, default_value = "text")]
    log_format: serve::logs::LogFormat,
    /// Cipher suites to accept, comma-separated: 1 (aes-gcm), gcm-siv
    /// (0xff01). Default: both; each reply uses its request's suite, other
    /// suites are dropped before any X25519 (counted as unknown_suite)
    #[arg(long, value_name = "SUITES", value_delimiter = ',', value_parser = args::suite)]
    suites: Vec<CipherSuite>,
    /// Milliseconds between two rewrites of --stats-file
    #[arg(
        long,
        default_value_t = 200,
        value_name = "MS",
        value_parser = clap::value_parser!(u64).range(1..=3_600_000)
    )]
    stats_interval_ms: u64,
    /// Milliseconds between two checks of the key files and the allowlist:
    /// a change (an edit, a `mv` over the file, a Kubernetes Secret update)
    /// reloads them as SIGHUP does. 0: reload on SIGHUP only
    #[arg(
        long,
        default_value_t = 1000,
        value_name = "MS",
        value_parser = clap::value_parser!(u64).range(0..=3_600_000)
    )]
    watch_interval_ms: u64,
}

#[derive(Debug, Args)]
struct ClientArgs {
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
    key: Option<PathBuf>,
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

#[derive(Debug, Args)]
struct SendArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// The message (default: read from stdin)
    message: Option<String>,
}

#[derive(Debug, Args)]
struct BenchArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// Transactions to send
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    requests: u64,
    /// Stop after this many seconds even if not all were sent
    #[arg(long, value_name = "SECONDS", value_parser = args::seconds_in(0.001, 86_400.0))]
    duration: Option<Duration>,
    /// Client threads, each with its own client (sockets), one transaction
    /// in flight
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    concurrency: u16,
    /// Message size in bytes
    #[arg(long, default_value_t = 64)]
    size: usize,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return args::exit_on_parse_error(&e),
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Keygen { file, force } => {
            let key = pssst_core::generate_key_pair()
                .map(|(key, _)| key)
                .map_err(|e| format!("cannot generate a key: {e}"))?;
            keys::write_private_key(&file, &key, force)?;
            print(&key.public_key().to_string())
        }
        Command::Pubkey { file } => {
            let key = keys::read_private_key(&file, keys::KeyPermissions::Unchecked)?;
            print(&key.public_key().to_string())
        }
        Command::Serve(args) => serve::serve(*args),
        Command::Send(args) => send(args),
        Command::Bench(args) => bench(args),
        Command::Compat { suite } => compat::run(io::stdin().lock(), io::stdout().lock(), suite),
        Command::Demo => demo::run(),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "pssst", &mut io::stdout().lock());
            Ok(())
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut page)
                .map_err(|e| format!("rendering the manual page: {e}"))?;
            let mut out = io::stdout().lock();
            out.write_all(&page)
                .and_then(|()| out.flush())
                .map_err(|e| format!("writing to stdout: {e}"))
        }
    }
}

/// Prints one line to stdout; a closed stdout is an error, not a panic.
fn print(line: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("writing to stdout: {e}"))
}

fn parse_addr(what: &str, text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let bad = || format!("bad {what} address {text:?}: expected HOST:PORT, e.g. 127.0.0.1:7777");
    if !text.contains(':') {
        return Err(bad());
    }
    text.to_socket_addrs()
        .map_err(|_| bad())?
        .next()
        .ok_or_else(bad)
}

fn client_for(args: &ClientArgs) -> Result<(SocketAddr, Client, RetrySchedule), String> {
    // First: a schedule past the window is refused before anything else.
    let schedule = RetrySchedule::new(Duration::from_millis(args.timeout_ms.max(1)), args.retries)
        .map_err(|e| {
            format!(
                "--timeout-ms {} --retries {}: {e}; use fewer retries or a shorter timeout",
                args.timeout_ms, args.retries
            )
        })?;
    let server = parse_addr("server", &args.server)?;
    let server_key = match (&args.server_key, &args.server_key_file) {
        (Some(hex), _) => keys::parse_public_key("--server-key", hex)?,
        (None, Some(path)) => {
            keys::read_private_key(path, keys::KeyPermissions::Unchecked)?.public_key()
        }
        (None, None) => return Err("--server-key or --server-key-file is required".into()),
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

fn send(args: SendArgs) -> Result<(), String> {
    let (server, client, schedule) = client_for(&args.client)?;
    let message = match args.message {
        Some(message) => message.into_bytes(),
        None => {
            let mut message = Vec::new();
            io::stdin()
                .read_to_end(&mut message)
                .map_err(|e| format!("reading stdin: {e}"))?;
            message
        }
    };
    let mut udp = UdpClient::connect(server, client, schedule)
        .map_err(|e| format!("cannot open a socket to {server}: {e}"))?;
    let reply = udp
        .request(&message)
        .map_err(|e| format!("request to {server}: {e}"))?;
    let mut out = io::stdout().lock();
    out.write_all(&reply)
        .and_then(|()| out.flush())
        .map_err(|e| format!("writing to stdout: {e}"))
}

fn bench(args: BenchArgs) -> Result<(), String> {
    let (server, client, schedule) = client_for(&args.client)?;
    let max = UdpClient::connect(server, client.clone(), schedule)
        .map_err(|e| format!("cannot open a socket to {server}: {e}"))?
        .max_message_len();
    let size = args.size;
    if size > max {
        return Err(format!(
            "--size {size}: at most {max} bytes fit in one datagram"
        ));
    }
    let authenticated = args.client.key.is_some();
    let load = load::Load {
        server,
        client,
        schedule,
        requests: args.requests,
        duration: args.duration,
        concurrency: args.concurrency.into(),
        size,
        progress: true,
    };
    let report = load::run(&load, Arc::new(|m: &[u8]| m.to_vec()))?;
    print(&format!(
        "bench: {server}, {} clients, {}-byte {} messages",
        args.concurrency,
        args.size,
        if authenticated {
            "client-authenticated"
        } else {
            "anonymous"
        }
    ))?;
    print(&format!(
        "transactions  {} ok, {} failed ({} timed out, {} wrong reply, {} errors), {} retransmissions",
        report.ok,
        report.failed(),
        report.timed_out,
        report.wrong,
        report.errors,
        report.retransmissions
    ))?;
    print(&format!(
        "retried       {} answered after a retransmission, {} of them on a retransmission's new source port",
        report.retried, report.answered_on_new_port
    ))?;
    if report.failed() > 0 {
        let clients: Vec<String> = report
            .failing_clients()
            .map(|(client, t)| format!("client {client}: {} of {}", t.failed, t.made))
            .collect();
        print(&format!(
            "failed by     {} of {} clients: {}",
            clients.len(),
            report.clients.len(),
            clients.join(", ")
        ))?;
    }
    if let Some(error) = &report.first_error {
        print(&format!("first error   {error}"))?;
    }
    print(&format!(
        "throughput    {} transactions/s over {:.2} s",
        load::format_count(report.throughput()),
        report.elapsed.as_secs_f64()
    ))?;
    let failures = if report.failed() > 0 {
        format!(
            " (of the {} answered; the slowest failure took {:.1} s)",
            report.ok,
            report.slowest_failure.as_secs_f64()
        )
    } else {
        String::new()
    };
    if report.ok == 0 {
        print("latency       none: no transaction was answered")?;
    } else {
        print(&format!(
            "latency       p50 {}  p99 {}  p99.9 {}  max {}{failures}",
            load::format_us(report.percentile_us(50.0)),
            load::format_us(report.percentile_us(99.0)),
            load::format_us(report.percentile_us(99.9)),
            load::format_us(report.percentile_us(100.0))
        ))?;
    }
    if report.failed() > 0 {
        return Err(format!("bench: {} transactions failed", report.failed()));
    }
    Ok(())
}
