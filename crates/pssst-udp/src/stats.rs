//! Packet counters: one set per worker (no shared cache line is written on
//! the hot path), summed when read.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Every counter a server keeps. Each received datagram ends in exactly one
/// of `Answered`, `SendFailed`, an [`UNANSWERED`](Counter::UNANSWERED)
/// reason or a [`DROPS`](Counter::DROPS) reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(usize)]
pub enum Counter {
    /// Datagrams received.
    Received,
    /// Requests answered.
    Answered,
    /// Requests the handler chose not to answer.
    NoReply,
    /// Requests the handler could not answer: it failed (an HTTP error
    /// status, a command's non-zero exit).
    HandlerFailed,
    /// Requests the handler did not answer in time.
    HandlerTimedOut,
    /// Requests the handler could not pass on (backend down, command not
    /// started).
    HandlerUnreachable,
    /// Replies the socket failed to send.
    SendFailed,
    /// Shorter than the smallest request of its kind.
    DroppedShort,
    /// REPLY flag set: not a request.
    DroppedReplyFlag,
    /// A cipher suite not implemented, or not accepted (ServerConfig::suites).
    DroppedUnknownSuite,
    /// DH parameter of small order (caught before or by X25519).
    DroppedLowOrder,
    /// AEAD authentication failed: forged, corrupted, relabeled with another
    /// suite, or for another key.
    DroppedDecryptFailed,
    /// The client-authentication proof inside the request is invalid.
    DroppedClientAuthFailed,
    /// Closed service: anonymous, or a client key not on the allowlist.
    DroppedUnauthorized,
    /// The reply would be larger than the unauthenticated request.
    DroppedAmplification,
    /// The reply would not fit in one UDP datagram.
    DroppedReplyTooLarge,
    /// A new request while the reply cache's request ids were full (as many
    /// new requests in one TTL as it has room for: it fails closed).
    DroppedCacheFull,
    /// A copy of a request answered before whose remembered reply was
    /// evicted (the reply cache's byte budget): no reply, never a second run.
    DroppedReplyForgotten,
    /// A new request while the most requests were in flight.
    DroppedBusy,
    /// A copy of a request whose handler was still running (the reply goes
    /// to the first copy's source; later retries get it from the cache).
    DroppedInProgress,
}

impl Counter {
    /// Every counter, in display order.
    pub const ALL: [Counter; 20] = [
        Counter::Received,
        Counter::Answered,
        Counter::NoReply,
        Counter::HandlerFailed,
        Counter::HandlerTimedOut,
        Counter::HandlerUnreachable,
        Counter::SendFailed,
        Counter::DroppedShort,
        Counter::DroppedReplyFlag,
        Counter::DroppedUnknownSuite,
        Counter::DroppedLowOrder,
        Counter::DroppedDecryptFailed,
        Counter::DroppedClientAuthFailed,
        Counter::DroppedUnauthorized,
        Counter::DroppedAmplification,
        Counter::DroppedReplyTooLarge,
        Counter::DroppedCacheFull,
        Counter::DroppedReplyForgotten,
        Counter::DroppedBusy,
        Counter::DroppedInProgress,
    ];

    /// The handler's reasons for not answering.
    pub const UNANSWERED: [Counter; 4] = [
        Counter::NoReply,
        Counter::HandlerFailed,
        Counter::HandlerTimedOut,
        Counter::HandlerUnreachable,
    ];

    /// The drop reasons only.
    pub const DROPS: [Counter; 13] = [
        Counter::DroppedShort,
        Counter::DroppedReplyFlag,
        Counter::DroppedUnknownSuite,
        Counter::DroppedLowOrder,
        Counter::DroppedDecryptFailed,
        Counter::DroppedClientAuthFailed,
        Counter::DroppedUnauthorized,
        Counter::DroppedAmplification,
        Counter::DroppedReplyTooLarge,
        Counter::DroppedCacheFull,
        Counter::DroppedReplyForgotten,
        Counter::DroppedBusy,
        Counter::DroppedInProgress,
    ];

    /// A short snake_case name, as printed in summaries.
    pub fn name(self) -> &'static str {
        match self {
            Counter::Received => "received",
            Counter::Answered => "answered",
            Counter::NoReply => "no_reply",
            Counter::HandlerFailed => "handler_failed",
            Counter::HandlerTimedOut => "handler_timeout",
            Counter::HandlerUnreachable => "handler_unreachable",
            Counter::SendFailed => "send_failed",
            Counter::DroppedShort => "too_short",
            Counter::DroppedReplyFlag => "reply_flag",
            Counter::DroppedUnknownSuite => "unknown_suite",
            Counter::DroppedLowOrder => "low_order_point",
            Counter::DroppedDecryptFailed => "decrypt_failed",
            Counter::DroppedClientAuthFailed => "client_auth_failed",
            Counter::DroppedUnauthorized => "unauthorized",
            Counter::DroppedAmplification => "amplification",
            Counter::DroppedReplyTooLarge => "reply_too_large",
            Counter::DroppedCacheFull => "cache_full",
            Counter::DroppedReplyForgotten => "reply_forgotten",
            Counter::DroppedBusy => "busy",
            Counter::DroppedInProgress => "in_progress",
        }
    }
}

/// The replies sent under one server key, shared by the key (kept across
/// reloads that keep it), its requests' tickets and the replies the cache
/// remembers, so a copy answered again counts under the key that sealed it.
/// Equal when they are the same count.
#[derive(Debug, Clone, Default)]
pub struct ReplyCount(Arc<AtomicU64>);

impl ReplyCount {
    /// One more reply sent.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Replies sent so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl PartialEq for ReplyCount {
    fn eq(&self, other: &ReplyCount) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ReplyCount {}

/// One worker's counters, padded to their own cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct WorkerStats {
    counts: [AtomicU64; Counter::ALL.len()],
}

impl WorkerStats {
    pub(crate) fn bump(&self, counter: Counter) {
        self.counts[counter as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self, counter: Counter) -> u64 {
        self.counts[counter as usize].load(Ordering::Relaxed)
    }
}

/// A copy of a server's counters at one moment, summed over its workers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    counts: [u64; Counter::ALL.len()],
}

impl Stats {
    pub(crate) fn sum<'a>(workers: impl IntoIterator<Item = &'a WorkerStats>) -> Stats {
        let mut stats = Stats::default();
        for worker in workers {
            for counter in Counter::ALL {
                stats.counts[counter as usize] += worker.get(counter);
            }
        }
        stats
    }

    /// The value of one counter.
    pub fn get(&self, counter: Counter) -> u64 {
        self.counts[counter as usize]
    }

    /// Datagrams received.
    pub fn received(&self) -> u64 {
        self.get(Counter::Received)
    }

    /// Requests answered.
    pub fn answered(&self) -> u64 {
        self.get(Counter::Answered)
    }

    /// All drops, whatever the reason.
    pub fn dropped(&self) -> u64 {
        Counter::DROPS.iter().map(|&c| self.get(c)).sum()
    }

    /// Datagrams whose processing has finished (answered, not answered,
    /// failed to send, or dropped): equals `received()` once the server is idle.
    pub fn settled(&self) -> u64 {
        let unanswered: u64 = Counter::UNANSWERED.iter().map(|&c| self.get(c)).sum();
        self.answered() + unanswered + self.get(Counter::SendFailed) + self.dropped()
    }

    /// Counter-wise difference `self - earlier`.
    pub fn since(&self, earlier: &Stats) -> Stats {
        let mut diff = Stats::default();
        for counter in Counter::ALL {
            diff.counts[counter as usize] = self.get(counter).saturating_sub(earlier.get(counter));
        }
        diff
    }

    /// Counter-wise sum.
    pub fn plus(&self, other: &Stats) -> Stats {
        let mut sum = *self;
        for counter in Counter::ALL {
            sum.counts[counter as usize] += other.get(counter);
        }
        sum
    }
}

/// `name=value` pairs of every non-zero counter, `received` and `answered` always.
impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for counter in Counter::ALL {
            let value = self.get(counter);
            let always = matches!(counter, Counter::Received | Counter::Answered);
            if value == 0 && !always {
                continue;
            }
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{}={value}", counter.name())?;
        }
        Ok(())
    }
}

/// Upper bounds (seconds) of the handler duration buckets: sub-millisecond
/// for in-process handlers up to the longest timeouts.
pub const HANDLER_DURATION_BOUNDS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0,
];

/// How long handlers took, from `handle` to the answer (or to giving up).
#[derive(Debug, Default)]
pub(crate) struct HandlerTimer {
    /// One count per bound, plus the overflow bucket.
    buckets: [AtomicU64; HANDLER_DURATION_BOUNDS.len() + 1],
    sum_nanos: AtomicU64,
}

impl HandlerTimer {
    pub(crate) fn record(&self, took: std::time::Duration) {
        let seconds = took.as_secs_f64();
        let bucket = HANDLER_DURATION_BOUNDS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(HANDLER_DURATION_BOUNDS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> HandlerDurations {
        let mut cumulative = 0;
        let mut buckets = [0; HANDLER_DURATION_BOUNDS.len()];
        for (slot, count) in buckets.iter_mut().zip(&self.buckets) {
            cumulative += count.load(Ordering::Relaxed);
            *slot = cumulative;
        }
        let count =
            cumulative + self.buckets[HANDLER_DURATION_BOUNDS.len()].load(Ordering::Relaxed);
        HandlerDurations {
            buckets,
            count,
            sum_seconds: self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}

/// A snapshot of the handler durations, Prometheus-style: cumulative
/// counts per upper bound ([`HANDLER_DURATION_BOUNDS`]), total count and sum.
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerDurations {
    /// Requests whose handler took at most each bound, in bound order.
    pub buckets: [u64; HANDLER_DURATION_BOUNDS.len()],
    /// Requests timed.
    pub count: u64,
    /// Their total duration, in seconds.
    pub sum_seconds: f64,
}
