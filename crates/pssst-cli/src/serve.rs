//! `pssst serve`: the UDP server, its signal handling and its stats file.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pssst_udp::{Echo, ServerConfig, UdpServer};

use crate::{ServeArgs, exec, keys, parse_addr, print, seconds};

pub(crate) fn serve(args: ServeArgs) -> Result<(), String> {
    let key = keys::read_private_key(&args.key)?;
    let listen = parse_addr("listen", &args.listen)?;
    let mut config = ServerConfig::default()
        .workers(args.workers)
        .allow_amplification(args.allow_amplification);
    if let Some(path) = &args.authorized_keys {
        config = config.authorized_clients(keys::read_authorized_keys(path)?);
    }
    let cannot_bind = |e: io::Error| format!("cannot listen on {listen}: {}", keys::io_reason(&e));
    let server = match args.exec {
        Some(command) => {
            let handler = exec::ExecHandler::new(
                command,
                seconds("--exec-timeout", args.exec_timeout)?,
                args.reply_cache_entries,
                seconds("--reply-cache-ttl", args.reply_cache_ttl)?,
            );
            UdpServer::bind(listen, key, config, handler).map_err(cannot_bind)?
        }
        None => UdpServer::bind(listen, key, config, Echo).map_err(cannot_bind)?,
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
    if let Some(file) = &mut stats_file {
        file.update(&stats);
    }
    print(&format!("pssst serve: stopped; {stats}"))
}

/// How often `serve` checks for SIGINT/SIGTERM.
const POLL: Duration = Duration::from_millis(50);

/// `serve --stats-file`: the counters line, replaced atomically.
struct StatsFile {
    path: PathBuf,
    temp: PathBuf,
    warned: bool,
}

impl StatsFile {
    fn new(path: PathBuf) -> Result<StatsFile, String> {
        let Some(name) = path.file_name() else {
            return Err(format!("--stats-file {}: not a file name", path.display()));
        };
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.tmp", std::process::id()));
        let temp = path.with_file_name(temp_name);
        Ok(StatsFile {
            path,
            temp,
            warned: false,
        })
    }

    /// Writes the temporary file, then renames it over the path.
    fn write(&self, stats: &pssst_udp::Stats) -> io::Result<()> {
        let result = std::fs::write(&self.temp, format!("{stats}\n"))
            .and_then(|()| std::fs::rename(&self.temp, &self.path));
        if result.is_err() {
            let _ = std::fs::remove_file(&self.temp);
        }
        result
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
