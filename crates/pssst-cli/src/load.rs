//! The load generator behind `pssst bench` and `pssst demo`: N threads,
//! each with its own client, sending verified transactions. Every
//! transaction started is counted, failures included: a thread stuck on
//! failing requests finishes the one in flight (up to the client's whole
//! retry window) before the run ends, and the report says which clients
//! failed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pssst_core::Client;
use pssst_udp::{ClientError, RetrySchedule, Transaction, UdpClient};

/// What to send.
#[derive(Debug, Clone)]
pub struct Load {
    pub server: SocketAddr,
    pub client: Client,
    pub schedule: RetrySchedule,
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
    /// The first socket error, to show.
    pub first_error: Option<String>,
    pub retransmissions: u64,
    /// Transactions answered after at least one retransmission.
    pub retried: u64,
    /// Of those, the ones whose reply came to a retransmission's own socket
    /// (a new source port, maybe another backend) rather than the first.
    pub answered_on_new_port: u64,
    pub ignored: u64,
    pub elapsed: Duration,
    /// Per client thread, in order: transactions that failed, of those it
    /// made.
    pub clients: Vec<ClientTally>,
    /// Latencies of the successful transactions in microseconds, sorted.
    latencies_us: Vec<u32>,
    /// How long the slowest failed transaction took to fail.
    pub slowest_failure: Duration,
}

/// One client thread's share of the load.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ClientTally {
    pub made: u64,
    pub failed: u64,
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

    /// The clients that had failures, as (client number from 1, tally).
    pub fn failing_clients(&self) -> impl Iterator<Item = (usize, ClientTally)> + '_ {
        self.clients
            .iter()
            .enumerate()
            .filter(|(_, t)| t.failed > 0)
            .map(|(i, t)| (i + 1, *t))
    }

    /// Adds one client thread's report (threads in order).
    fn merge(&mut self, other: Report) {
        self.ok += other.ok;
        self.timed_out += other.timed_out;
        self.wrong += other.wrong;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error.clone();
        }
        self.retransmissions += other.retransmissions;
        self.retried += other.retried;
        self.answered_on_new_port += other.answered_on_new_port;
        self.ignored += other.ignored;
        self.clients.push(ClientTally {
            made: other.ok + other.failed(),
            failed: other.failed(),
        });
        self.latencies_us.extend(other.latencies_us);
        self.slowest_failure = self.slowest_failure.max(other.slowest_failure);
    }

    /// Counts one transaction's outcome.
    fn record(
        &mut self,
        outcome: Result<Transaction, ClientError>,
        expected: &[u8],
        took: Duration,
    ) {
        match outcome {
            Ok(t) => {
                self.retransmissions += u64::from(t.attempts - 1);
                self.ignored += u64::from(t.ignored);
                if t.attempts > 1 {
                    self.retried += 1;
                }
                if t.answered_attempt > 1 {
                    self.answered_on_new_port += 1;
                }
                if t.reply == expected {
                    self.ok += 1;
                    let us = t.elapsed.as_micros().min(u128::from(u32::MAX)) as u32;
                    self.latencies_us.push(us);
                    return;
                }
                self.wrong += 1;
            }
            Err(ClientError::TimedOut { attempts, ignored }) => {
                self.timed_out += 1;
                self.retransmissions += u64::from(attempts - 1);
                self.ignored += u64::from(ignored);
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| e.to_string());
            }
        }
        self.slowest_failure = self.slowest_failure.max(took);
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
        let mut udp = UdpClient::connect(load.server, load.client.clone(), load.schedule)
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
                let sent = Instant::now();
                let outcome = udp.transact(&message);
                report.record(outcome, &expected(&message), sent.elapsed());
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

    fn answered(
        attempts: u32,
        answered_attempt: u32,
        reply: &[u8],
    ) -> Result<Transaction, ClientError> {
        Ok(Transaction {
            reply: reply.to_vec(),
            attempts,
            answered_attempt,
            ignored: 0,
            elapsed: Duration::from_millis(1),
        })
    }

    fn gave_up() -> Result<Transaction, ClientError> {
        Err(ClientError::TimedOut {
            attempts: 5,
            ignored: 1,
        })
    }

    #[test]
    fn every_failure_is_counted_against_its_client() {
        let (mut healthy, mut stuck) = (Report::default(), Report::default());
        let took = Duration::from_millis(2);
        for _ in 0..3 {
            healthy.record(answered(1, 1, b"m"), b"m", took);
            stuck.record(gave_up(), b"m", Duration::from_secs(11));
        }
        stuck.record(answered(1, 1, b"not m"), b"m", took);
        stuck.record(
            Err(ClientError::Io(std::io::ErrorKind::Other.into())),
            b"m",
            took,
        );
        let mut report = Report::default();
        report.merge(healthy);
        report.merge(stuck);
        assert_eq!((report.ok, report.failed()), (3, 5));
        assert_eq!((report.timed_out, report.wrong, report.errors), (3, 1, 1));
        assert_eq!(report.retransmissions, 12);
        assert_eq!(report.ignored, 3);
        assert!(report.first_error.is_some());
        let failing: Vec<_> = report.failing_clients().collect();
        assert_eq!(failing, [(2, ClientTally { made: 5, failed: 5 })]);
        assert_eq!(report.clients[0], ClientTally { made: 3, failed: 0 });
        assert_eq!(report.slowest_failure, Duration::from_secs(11));
        // Only answered transactions have a latency.
        assert_eq!(report.latencies_us.len(), 3);
    }

    #[test]
    fn retried_transactions_and_replies_on_a_new_port_are_told_apart() {
        let mut report = Report::default();
        let took = Duration::from_millis(600);
        report.record(answered(2, 1, b"m"), b"m", took);
        report.record(answered(3, 2, b"m"), b"m", took);
        report.record(answered(1, 1, b"m"), b"m", took);
        assert_eq!((report.ok, report.retransmissions), (3, 3));
        assert_eq!((report.retried, report.answered_on_new_port), (2, 1));
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
