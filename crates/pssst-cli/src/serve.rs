//! `pssst serve`: the UDP server, its signal handling and its stats file.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pssst_udp::{Echo, ServerConfig, UdpServer};

use crate::{ServeArgs, exec, forward, keys, parse_addr, print};

pub(crate) fn serve(args: ServeArgs) -> Result<(), String> {
    let key = keys::read_private_key(&args.key)?;
    let listen = parse_addr("listen", &args.listen)?;
    let mut config = ServerConfig::default()
        .workers(args.workers.into())
        .allow_amplification(args.allow_amplification)
        .reuse_port(args.reuse_port);
    if let Some(path) = &args.authorized_keys {
        config = config.authorized_clients(keys::read_authorized_keys(path)?);
    }
    let cannot_bind = |e: io::Error| match e.kind() {
        io::ErrorKind::AddrInUse if !args.reuse_port => format!(
            "cannot listen on {listen}: another process serves it (--reuse-port joins it on purpose)"
        ),
        _ => format!("cannot listen on {listen}: {}", keys::io_reason(&e)),
    };
    let (server, runtime) = match (args.exec, &args.forward) {
        (None, None) => {
            let server = UdpServer::bind(listen, key, config, Echo).map_err(cannot_bind)?;
            (server, None)
        }
        (exec, forward) => {
            // Output may vary between runs: copies of a request must get
            // the bytes of the first reply, so the cache must outlive a run.
            let (flag, timeout) = match exec {
                Some(_) => ("--exec-timeout", args.exec_timeout),
                None => ("--forward-timeout", args.forward_timeout),
            };
            if timeout >= args.reply_cache_ttl {
                return Err(format!(
                    "{flag} ({timeout:?}) must be shorter than --reply-cache-ttl ({:?})",
                    args.reply_cache_ttl
                ));
            }
            let max_in_flight = args.max_in_flight as usize;
            let runtime = handler_runtime(max_in_flight)?;
            let config = config
                .reply_cache(args.reply_cache_bytes, args.reply_cache_ttl)
                .max_in_flight(max_in_flight)
                // On shutdown, the requests in flight get their answers.
                .drain_timeout(timeout + DRAIN_MARGIN);
            let handle = runtime.handle().clone();
            let server = match (exec, forward) {
                (Some(command), _) => {
                    let handler = exec::ExecHandler::new(command, timeout, handle)
                        .map_err(|e| format!("cannot supervise commands: {e}"))?;
                    UdpServer::bind_deferred(listen, key, config, handler)
                }
                (None, url) => {
                    let url = url.as_deref().unwrap_or_default();
                    let handler = forward::ForwardHandler::new(url, timeout, handle)?;
                    UdpServer::bind_deferred(listen, key, config, handler)
                }
            }
            .map_err(cannot_bind)?;
            (server, Some(runtime))
        }
    };

    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| format!("cannot install a signal handler: {e}"))?;
    }
    // The first snapshot is written before the server announces itself: a
    // bad path is a startup error, and the file exists once it listens.
    let mut stats_file = match &args.stats_file {
        Some(path) => {
            let file = StatsFile::new(path.clone())?;
            file.write(&server.stats())
                .map_err(|e| format!("--stats-file {}", file.describe(&e)))?;
            Some(file)
        }
        None => None,
    };
    let interval = Duration::from_millis(args.stats_interval_ms);
    print(&format!(
        "pssst serve: listening on {} ({} workers{}), public key {}",
        server.local_addr(),
        server.workers(),
        if args.authorized_keys.is_some() {
            ", closed service"
        } else {
            ""
        },
        server.public_key()
    ))?;
    // The stats file is written from this loop: no extra thread to stop.
    let mut next_write = Instant::now() + interval;
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if let Some(file) = &mut stats_file
            && now >= next_write
        {
            file.update(&server.stats());
            next_write = now + interval;
        }
        let nap = match stats_file {
            Some(_) => next_write.saturating_duration_since(Instant::now()),
            None => POLL,
        };
        std::thread::sleep(nap.min(POLL));
    }
    let stats = server.shutdown();
    if let Some(runtime) = runtime {
        runtime.shutdown_background();
    }
    if let Some(file) = &mut stats_file {
        file.update(&stats);
    }
    print(&format!("pssst serve: stopped; {stats}"))
}

/// How often `serve` checks for SIGINT/SIGTERM.
const POLL: Duration = Duration::from_millis(50);

/// Shutdown waits this much past the handler timeout for requests in flight.
const DRAIN_MARGIN: Duration = Duration::from_secs(1);

/// The runtime `--exec` and `--forward` handlers run on: HTTP exchanges on
/// one thread (measured faster than two here: fewer cross-thread wakeups),
/// commands on blocking threads (one per request in flight).
fn handler_runtime(max_in_flight: usize) -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(max_in_flight)
        .thread_name("pssst-handler")
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the handler runtime: {e}"))
}

/// `serve --stats-file`: the counters line, replaced atomically.
struct StatsFile {
    path: PathBuf,
    warned: bool,
}

impl StatsFile {
    fn new(path: PathBuf) -> Result<StatsFile, String> {
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
    fn write(&self, stats: &pssst_udp::Stats) -> io::Result<()> {
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
    fn update(&mut self, stats: &pssst_udp::Stats) {
        if let Err(e) = self.write(stats)
            && !self.warned
        {
            self.warned = true;
            eprintln!(
                "pssst serve: warning: cannot update --stats-file {} (not reported again)",
                self.describe(&e)
            );
        }
    }

    fn describe(&self, e: &io::Error) -> String {
        format!("{}: {}", self.path.display(), keys::io_reason(e))
    }
}
