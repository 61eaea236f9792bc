//! `pssst serve`: the UDP server with its handler (echo, `--exec`,
//! `--forward`), signals (SIGINT/SIGTERM stop, SIGHUP reloads), reload on
//! a changed key file or allowlist, metrics
//! endpoint, logs and stats file.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pssst_udp::{Echo, ServerConfig, UdpServer};
use tokio::runtime::Runtime;

use crate::{ServeArgs, args, exec, forward, keys, parse_addr, print};

pub mod logs;
mod metrics;
mod metrics_listener;
mod reload;
mod stats_file;
mod watch;

use reload::{Reloader, Sources};
use stats_file::StatsFile;
use watch::FileWatch;

pub(crate) fn serve(args: ServeArgs) -> Result<(), String> {
    logs::init(args.log_format)?;
    let key_permissions = if args.allow_insecure_key_permissions {
        keys::KeyPermissions::Unchecked
    } else {
        keys::KeyPermissions::OwnerOnly
    };
    let sources = Sources {
        keys: args.key.clone(),
        authorized_keys: args.authorized_keys.clone(),
        key_permissions,
    };
    // Seen before they are read: a change after this reading is one the
    // watch reports, even one made before the server listens.
    let mut watch = FileWatch::new(
        watch::watched_paths(&sources),
        Duration::from_millis(args.watch_interval_ms),
    );
    let loaded = sources.load()?;
    let mut reloader = Reloader::new(sources);
    let listen = parse_addr("listen", &args.listen)?;
    let metrics_addr = match &args.metrics {
        Some(addr) => Some(parse_addr("metrics", addr)?),
        None => None,
    };
    let mut config = ServerConfig::default()
        .workers(args.workers.into())
        .allow_amplification(args.allow_amplification)
        .reuse_port(args.reuse_port)
        .suites(args::suite_set(&args.suites));
    if let Some(allowed) = loaded.authorized_clients {
        config = config.authorized_clients(allowed);
    }
    let cannot_bind = |e: io::Error| match e.kind() {
        io::ErrorKind::AddrInUse if !args.reuse_port => format!(
            "cannot listen on {listen}: another process serves it (--reuse-port joins it on purpose)"
        ),
        _ => format!("cannot listen on {listen}: {}", keys::io_reason(&e)),
    };
    let max_in_flight = args.max_in_flight as usize;
    let runtime = handler_runtime(max_in_flight)?;
    // The processes of --exec commands, to kill what is left at the end.
    let mut commands = None;
    let server = match (args.exec, &args.forward) {
        (None, None) => UdpServer::bind(listen, loaded.keys, config, Echo).map_err(cannot_bind)?,
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
            let mut config = config
                .reply_cache(args.reply_cache_bytes, args.reply_cache_ttl)
                .max_in_flight(max_in_flight);
            if let Some(ids) = args.reply_cache_ids {
                config = config.reply_cache_ids(ids as usize);
            }
            let config = config
                // On shutdown, the requests in flight get their answers.
                .drain_timeout(timeout + DRAIN_MARGIN);
            let handle = runtime.handle().clone();
            match (exec, forward) {
                (Some(command), _) => {
                    let settings = exec::Settings {
                        timeout,
                        cgroup: args.exec_cgroup,
                        env: args.exec_env,
                    };
                    let handler = exec::ExecHandler::new(command, settings, handle)?;
                    commands = Some(handler.family());
                    UdpServer::bind_deferred(listen, loaded.keys, config, handler)
                }
                (None, url) => {
                    let url = url.as_deref().unwrap_or_default();
                    let handler = forward::ForwardHandler::new(url, timeout, handle)?;
                    UdpServer::bind_deferred(listen, loaded.keys, config, handler)
                }
            }
            .map_err(cannot_bind)?
        }
    };
    let metrics_bound = match metrics_addr {
        Some(addr) => Some(metrics::start(addr, server.monitor())?),
        None => None,
    };

    let stop = Arc::new(AtomicBool::new(false));
    let hangup = Arc::new(AtomicBool::new(false));
    let signals = [
        (signal_hook::consts::SIGINT, &stop),
        (signal_hook::consts::SIGTERM, &stop),
        (signal_hook::consts::SIGHUP, &hangup),
    ];
    for (signal, flag) in signals {
        signal_hook::flag::register(signal, Arc::clone(flag))
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
    let closed = if args.authorized_keys.is_some() {
        ", closed service"
    } else {
        ""
    };
    let metrics_note = metrics_bound
        .map(|addr| format!(", metrics http://{addr}/metrics"))
        .unwrap_or_default();
    print(&format!(
        "pssst serve: listening on {} ({} workers{closed}), public key {}{metrics_note}",
        server.local_addr(),
        server.workers(),
        server.public_key()
    ))?;
    tracing::info!(
        listen = %server.local_addr(),
        workers = server.workers(),
        keys = server.replies_by_key().len(),
        closed = args.authorized_keys.is_some(),
        metrics = metrics_bound.map(|a| a.to_string()).unwrap_or_default(),
        "serving"
    );
    // The stats file is written, SIGHUP handled and the files watched from
    // this loop (a reload reads its files on a thread of its own, never
    // waited for).
    let mut next_write = Instant::now() + interval;
    while !stop.load(Ordering::Relaxed) {
        let files_changed = watch
            .as_mut()
            .is_some_and(|watch| watch.changed(Instant::now()));
        if hangup.swap(false, Ordering::Relaxed) | files_changed {
            reloader.request();
        }
        reloader.poll(&server);
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
    runtime.shutdown_background();
    if let Some(commands) = commands {
        // Nothing a command started outlives serve.
        commands.kill_everything();
    }
    if let Some(file) = &mut stats_file {
        file.update(&stats);
    }
    tracing::info!(counters = %stats, "stopped");
    print(&format!("pssst serve: stopped; {stats}"))
}

/// How often `serve` checks for signals.
const POLL: Duration = Duration::from_millis(50);

/// Shutdown waits this much past the handler timeout for requests in flight.
const DRAIN_MARGIN: Duration = Duration::from_secs(1);

/// The runtime of `--exec` and `--forward` handlers (the metrics endpoint
/// has its own, see `metrics_listener`): HTTP on one thread (measured faster than two here: fewer
/// cross-thread wakeups), commands on blocking threads (one per request in
/// flight).
fn handler_runtime(max_in_flight: usize) -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(max_in_flight)
        .thread_name("pssst-handler")
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the handler runtime: {e}"))
}
