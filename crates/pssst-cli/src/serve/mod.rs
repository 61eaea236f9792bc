//! `pssst serve`: the UDP server with its handler (echo, `--exec`,
//! `--forward`), signals (SIGINT/SIGTERM stop, SIGHUP reloads), reload on
//! a changed key file or allowlist, metrics endpoint, logs and stats file.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pssst_udp::{Echo, ServerConfig, UdpServer};
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::{addr, exec, forward, keys, stdout};

mod args;
pub mod logs;
mod metrics;
mod metrics_listener;
mod reload;
mod stats_file;
mod watch;

use self::args::HandlerChoice;
pub(crate) use self::args::ServeArgs;
use reload::{Loaded, Reloader};
use stats_file::StatsFile;
use watch::FileWatch;

pub(crate) fn run(args: ServeArgs) -> Result<(), String> {
    logs::init(args.log_format)?;
    let sources = args.sources();
    // Seen before they are read: a change after this reading is one the
    // watch reports, even one made before the server listens.
    let watch = FileWatch::new(
        watch::watched_paths(&sources),
        Duration::from_millis(args.watch_interval_ms),
    );
    let loaded = sources.load()?;
    let reloader = Reloader::new(sources);
    let listen = addr::parse("listen", &args.listen)?;
    let metrics_addr = match &args.metrics {
        Some(addr) => Some(addr::parse("metrics", addr)?),
        None => None,
    };
    let runtime = HandlerRuntime::start(args.max_in_flight as usize)?;
    let (server, commands) = bind(&args, listen, loaded, &runtime)?;
    let metrics_bound = match metrics_addr {
        Some(addr) => Some(metrics::start(addr, server.monitor())?),
        None => None,
    };
    let signals = Signals::install()?;
    // The first snapshot is written before the server announces itself: a
    // bad path is a startup error, and the file exists once it listens.
    let stats_file = match &args.stats_file {
        Some(path) => {
            let file = StatsFile::new(path.clone())?;
            file.write(&server.stats())
                .map_err(|e| format!("--stats-file {}", file.describe(&e)))?;
            Some(file)
        }
        None => None,
    };
    announce(&server, args.authorized_keys.is_some(), metrics_bound)?;
    let mut running = Running {
        signals,
        watch,
        reloader,
        stats_file,
        stats_interval: Duration::from_millis(args.stats_interval_ms),
    };
    running.until_stopped(&server);
    let stats = server.shutdown();
    runtime.shutdown_background();
    if let Some(commands) = commands {
        // Nothing a command started outlives serve.
        commands.kill_everything();
    }
    if let Some(file) = &mut running.stats_file {
        file.update(&stats);
    }
    tracing::info!(counters = %stats, "stopped");
    stdout::line(&format!("pssst serve: stopped; {stats}"))
}

/// Binds the server with the handler the flags choose. Returns it with,
/// for `--exec`, the processes of its commands (to kill what is left at
/// the end).
fn bind(
    args: &ServeArgs,
    listen: SocketAddr,
    loaded: Loaded,
    runtime: &HandlerRuntime,
) -> Result<(UdpServer, Option<Arc<exec::Family>>), String> {
    let mut config = ServerConfig::default()
        .workers(args.workers.into())
        .allow_amplification(args.allow_amplification)
        .reuse_port(args.reuse_port)
        .suites(crate::args::suite_set(&args.suites));
    if let Some(allowed) = loaded.authorized_clients {
        config = config.authorized_clients(allowed);
    }
    let cannot_bind = |e: io::Error| match e.kind() {
        io::ErrorKind::AddrInUse if !args.reuse_port => format!(
            "cannot listen on {listen}: another process serves it (--reuse-port joins it on purpose)"
        ),
        _ => format!("cannot listen on {listen}: {}", keys::io_reason(&e)),
    };
    let handler = args.handler();
    if let Some((flag, timeout)) = handler.timeout() {
        config = deferred_config(config, args, flag, timeout)?;
    }
    let runtime = runtime.handle().clone();
    match handler {
        HandlerChoice::Echo => {
            let server = UdpServer::bind(listen, loaded.keys, config, Echo).map_err(cannot_bind)?;
            Ok((server, None))
        }
        HandlerChoice::Exec { command, settings } => {
            let handler = exec::ExecHandler::new(command, settings, runtime)?;
            let commands = handler.family();
            let server = UdpServer::bind_deferred(listen, loaded.keys, config, handler)
                .map_err(cannot_bind)?;
            Ok((server, Some(commands)))
        }
        HandlerChoice::Forward { url, timeout } => {
            let handler = forward::ForwardHandler::new(&url, timeout, runtime)?;
            let server = UdpServer::bind_deferred(listen, loaded.keys, config, handler)
                .map_err(cannot_bind)?;
            Ok((server, None))
        }
    }
}

/// The server configuration of a handler that answers later (`--exec`,
/// `--forward`), whose run is bounded by `flag` (`timeout`): a reply cache
/// and a bound on requests in flight.
fn deferred_config(
    config: ServerConfig,
    args: &ServeArgs,
    flag: &str,
    timeout: Duration,
) -> Result<ServerConfig, String> {
    // Output may vary between runs: copies of a request must get the bytes
    // of the first reply, so the cache must outlive a run.
    if timeout >= args.reply_cache_ttl {
        return Err(format!(
            "{flag} ({timeout:?}) must be shorter than --reply-cache-ttl ({:?})",
            args.reply_cache_ttl
        ));
    }
    let mut config = config
        .reply_cache(args.reply_cache_bytes, args.reply_cache_ttl)
        .max_in_flight(args.max_in_flight as usize);
    if let Some(ids) = args.reply_cache_ids {
        config = config.reply_cache_ids(ids as usize);
    }
    // On shutdown, the requests in flight get their answers.
    Ok(config.drain_timeout(timeout + DRAIN_MARGIN))
}

/// The "listening on" line (scripts and tests read the address and key
/// from it) and its log event.
fn announce(
    server: &UdpServer,
    closed: bool,
    metrics_bound: Option<SocketAddr>,
) -> Result<(), String> {
    let closed_note = if closed { ", closed service" } else { "" };
    let metrics_note = metrics_bound
        .map(|addr| format!(", metrics http://{addr}/metrics"))
        .unwrap_or_default();
    stdout::line(&format!(
        "pssst serve: listening on {} ({} workers{closed_note}), public key {}{metrics_note}",
        server.local_addr(),
        server.workers(),
        server.public_key()
    ))?;
    tracing::info!(
        listen = %server.local_addr(),
        workers = server.workers(),
        keys = server.replies_by_key().len(),
        closed,
        metrics = metrics_bound.map(|a| a.to_string()).unwrap_or_default(),
        "serving"
    );
    Ok(())
}

/// The flags the signal handlers set: SIGINT and SIGTERM stop, SIGHUP
/// reloads.
struct Signals {
    stop: Arc<AtomicBool>,
    hangup: Arc<AtomicBool>,
}

impl Signals {
    fn install() -> Result<Signals, String> {
        let signals = Signals {
            stop: Arc::new(AtomicBool::new(false)),
            hangup: Arc::new(AtomicBool::new(false)),
        };
        for (signal, flag) in [
            (signal_hook::consts::SIGINT, &signals.stop),
            (signal_hook::consts::SIGTERM, &signals.stop),
            (signal_hook::consts::SIGHUP, &signals.hangup),
        ] {
            signal_hook::flag::register(signal, Arc::clone(flag))
                .map_err(|e| format!("cannot install a signal handler: {e}"))?;
        }
        Ok(signals)
    }
}

/// What the serve loop tends while the workers answer.
struct Running {
    signals: Signals,
    watch: Option<FileWatch>,
    reloader: Reloader,
    stats_file: Option<StatsFile>,
    stats_interval: Duration,
}

impl Running {
    /// Writes the stats file, handles SIGHUP and watches the files until
    /// SIGINT or SIGTERM (a reload reads its files on a thread of its own,
    /// never waited for).
    fn until_stopped(&mut self, server: &UdpServer) {
        let mut next_write = Instant::now() + self.stats_interval;
        while !self.signals.stop.load(Ordering::Relaxed) {
            let files_changed = self
                .watch
                .as_mut()
                .is_some_and(|watch| watch.changed(Instant::now()));
            if self.signals.hangup.swap(false, Ordering::Relaxed) | files_changed {
                self.reloader.request();
            }
            self.reloader.poll(server);
            let now = Instant::now();
            if let Some(file) = &mut self.stats_file
                && now >= next_write
            {
                file.update(&server.stats());
                next_write = now + self.stats_interval;
            }
            let nap = match self.stats_file {
                Some(_) => next_write.saturating_duration_since(Instant::now()),
                None => POLL,
            };
            std::thread::sleep(nap.min(POLL));
        }
    }
}

/// How often `serve` checks for signals.
const POLL: Duration = Duration::from_millis(50);

/// Shutdown waits this much past the handler timeout for requests in flight.
const DRAIN_MARGIN: Duration = Duration::from_secs(1);

/// The runtime of `--exec` and `--forward` handlers (the metrics endpoint
/// has its own, see `metrics_listener`): HTTP on one thread (measured
/// faster than two here: fewer cross-thread wakeups), a current-thread
/// runtime driven by a thread of its own; commands on blocking threads
/// (one per request in flight).
struct HandlerRuntime {
    handle: Handle,
    stop: oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl HandlerRuntime {
    fn start(max_in_flight: usize) -> Result<HandlerRuntime, String> {
        let cannot = |e: io::Error| format!("cannot start the handler runtime: {e}");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(max_in_flight)
            .thread_name("pssst-handler")
            .enable_io()
            .enable_time()
            .build()
            .map_err(cannot)?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("pssst-handler".into())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                runtime.shutdown_background();
            })
            .map_err(cannot)?;
        Ok(HandlerRuntime {
            handle,
            stop,
            thread,
        })
    }

    fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Stops the runtime without waiting for its tasks (the server has
    /// drained the requests in flight) or blocking threads.
    fn shutdown_background(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}
