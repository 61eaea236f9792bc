//! The load generator behind `pssst bench` and `pssst demo`: N threads,
//! each with its own client socket, sending verified transactions.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pssst_core::Client;
use pssst_udp::{ClientConfig, UdpClient};

/// What to send.
#[derive(Debug, Clone)]
pub struct Load {
    pub server: SocketAddr,
    pub client: Client,
    pub config: ClientConfig,
    /// Transactions in all.
    pub requests: u64,
    /// Stop early after this long.
    pub duration: Option<Duration>,
    pub concurrency: usize,
    /// Message size in bytes.
    pub size: usize,
    pub progress: bool,
}

/// How it went.
#[derive(Debug, Default)]
pub struct Report {
    pub ok: u64,
    /// No reply after every retry.
    pub timed_out: u64,
    /// A reply that decrypted but was not the expected one.
    pub wrong: u64,
    /// Socket errors and the like.
    pub errors: u64,
    pub retransmissions: u64,
    pub ignored: u64,
    pub elapsed: Duration,
    /// Latencies of the successful transactions in microseconds, sorted.
    latencies_us: Vec<u32>,
}

impl Report {
    pub fn failed(&self) -> u64 {
        self.timed_out + self.wrong + self.errors
    }

    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p`th percentile latency (0 < p <= 100), in microseconds.
    pub fn percentile_us(&self, p: f64) -> u32 {
        if self.latencies_us.is_empty() {
            return 0;
        }
        let rank = ((p / 100.0) * self.latencies_us.len() as f64).ceil() as usize;
        self.latencies_us[rank.clamp(1, self.latencies_us.len()) - 1]
    }

    fn merge(&mut self, other: Report) {
        self.ok += other.ok;
        self.timed_out += other.timed_out;
        self.wrong += other.wrong;
        self.errors += other.errors;
        self.retransmissions += other.retransmissions;
        self.ignored += other.ignored;
        self.latencies_us.extend(other.latencies_us);
    }
}

/// The message of transaction `n`: its number, then a pattern.
pub fn message(n: u64, size: usize) -> Vec<u8> {
    let mut message: Vec<u8> = (0..size)
        .map(|i| (n as usize).wrapping_add(i) as u8)
        .collect();
    let tag = n.to_le_bytes();
    let len = size.min(tag.len());
    message[..len].copy_from_slice(&tag[..len]);
    message
}

/// Gives the reply a message must get.
pub type Expected = Arc<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// Runs `load`; `expected` gives the reply each message must get.
pub fn run(load: &Load, expected: Expected) -> Result<Report, String> {
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = load.duration.map(|d| start + d);
    let mut threads = Vec::new();
    for _ in 0..load.concurrency.max(1) {
        let mut udp = UdpClient::connect(load.server, load.client.clone(), load.config)
            .map_err(|e| format!("cannot open a client socket: {e}"))?;
        let (next, done, expected) = (Arc::clone(&next), Arc::clone(&done), Arc::clone(&expected));
        let (requests, size) = (load.requests, load.size);
        threads.push(thread::spawn(move || {
            let mut report = Report::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let message = message(n, size);
                match udp.transact(&message) {
                    Ok(t) => {
                        report.retransmissions += u64::from(t.attempts - 1);
                        report.ignored += u64::from(t.ignored);
                        if t.reply == expected(&message) {
                            report.ok += 1;
                            let us = t.elapsed.as_micros().min(u128::from(u32::MAX)) as u32;
                            report.latencies_us.push(us);
                        } else {
                            report.wrong += 1;
                        }
                    }
                    Err(pssst_udp::ClientError::TimedOut { attempts, ignored }) => {
                        report.timed_out += 1;
                        report.retransmissions += u64::from(attempts - 1);
                        report.ignored += u64::from(ignored);
                    }
                    Err(_) => report.errors += 1,
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            report
        }));
    }

    let bar = load.progress.then(|| {
        let bar = ProgressBar::with_draw_target(Some(load.requests), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} transactions  {per_sec}  eta {eta}")
        {
            bar.set_style(style);
        }
        bar
    });
    while threads.iter().any(|t| !t.is_finished()) {
        if let Some(bar) = &bar {
            bar.set_position(done.load(Ordering::Relaxed));
        }
        thread::sleep(Duration::from_millis(50));
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut report = Report::default();
    for t in threads {
        report.merge(t.join().map_err(|_| "a load thread panicked".to_string())?);
    }
    report.elapsed = start.elapsed();
    report.latencies_us.sort_unstable();
    Ok(report)
}

/// "85 µs", "1.25 ms", "2.0 s".
pub fn format_us(us: u32) -> String {
    match us {
        0..1_000 => format!("{us} µs"),
        1_000..1_000_000 => format!("{:.2} ms", f64::from(us) / 1e3),
        _ => format!("{:.1} s", f64::from(us) / 1e6),
    }
}

/// 12345.6 -> "12,346".
pub fn format_count(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_rank() {
        let report = Report {
            latencies_us: (1..=100).collect(),
            ..Report::default()
        };
        assert_eq!(report.percentile_us(50.0), 50);
        assert_eq!(report.percentile_us(99.0), 99);
        assert_eq!(report.percentile_us(100.0), 100);
        assert_eq!(Report::default().percentile_us(50.0), 0);
    }

    #[test]
    fn numbers_are_formatted_for_people() {
        assert_eq!(format_count(12345.6), "12,346");
        assert_eq!(format_count(999.0), "999");
        assert_eq!(format_us(85), "85 µs");
        assert_eq!(format_us(1250), "1.25 ms");
    }

    #[test]
    fn messages_differ_and_have_the_asked_size() {
        assert_eq!(message(1, 0), b"");
        assert_eq!(message(1, 3).len(), 3);
        assert_ne!(message(1, 64), message(2, 64));
    }
}
