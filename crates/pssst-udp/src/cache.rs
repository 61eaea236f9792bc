//! The reply cache: byte-identical replies to retransmitted requests, for
//! handlers whose output is not a function of the request.
//!
//! A retransmitted request makes the server derive the same AES-GCM key and
//! nonce again, so its reply must be the same bytes as the first one, or no
//! reply at all. An echo, or any pure function of the request, gives that
//! for free. A handler whose output changes between runs (a clock, a shell
//! command) needs the server to remember what it did, keyed by the
//! request's DH parameter (its request id). Two parts, with two prices:
//!
//! - **The guarantee**, "never run a request twice, so never two replies to
//!   one id", needs only the ids answered recently ([`answered`]: Bloom
//!   filters, 10 bits an id, no false negatives, kept at least the TTL).
//!   Its capacity is counted in requests, and every request costs an
//!   attacker one X25519 on the server, whatever its size: filling it takes
//!   `ids` valid requests per TTL. Only then does it fail closed (new
//!   requests dropped as [`Counter::DroppedCacheFull`]). Its false
//!   positives drop a fresh request, never run one twice.
//! - **The convenience**, "a copy gets the same bytes", keeps the sealed
//!   replies (never plaintext) in a byte budget that evicts the oldest
//!   first. A copy whose reply was evicted gets no reply
//!   ([`Counter::DroppedReplyForgotten`]), never a second run: bytes can
//!   push replies out, but cannot lock new requests out.
//!
//! While a request's handler runs, its id is held apart (never evicted;
//! there are at most as many as requests in flight), so a copy is not run
//! again ([`Known::InProgress`]). A request whose handler could not even
//! start is forgotten, so a retry gets a second chance. The TTL must outlast
//! every client's retransmissions: at least [`pssst_core::MIN_REPLY_MEMORY`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pssst_core::{MIN_REPLY_MEMORY, RequestId};

use crate::stats::{Counter, ReplyCount};

mod answered;

use answered::AnsweredIds;

type Key = RequestId;

/// Requests per second per TTL second the default id capacity is sized for:
/// above what this server does on two cores with the fastest handler.
pub const DEFAULT_IDS_PER_SECOND: usize = 50_000;
/// The default id capacity's ceiling (about 40 MiB of filters), reached
/// with TTLs above 5 minutes; a larger one must be asked for.
const MAX_DEFAULT_IDS: usize = 16_000_000;

/// What a request got the first time, remembered for its copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// This sealed reply packet was sent.
    Reply {
        /// The reply, sealed (never its plaintext).
        packet: Box<[u8]>,
        /// The replies sent under the key that sealed it (a copy that gets
        /// it again counts there too).
        key_replies: ReplyCount,
    },
    /// Nothing was sent, for this reason.
    Dropped(Counter),
}

/// Bytes a remembered verdict costs besides its reply: map and queue
/// slots, the entry.
pub const ENTRY_OVERHEAD: usize = 160;

/// The reply cache (see the module docs). Cloning gives another handle to
/// the same cache.
///
/// ```
/// use std::time::Duration;
/// use pssst_core::RequestId;
/// use pssst_udp::{Known, Lookup, ReplyCache, ReplyCount, Verdict};
///
/// let cache = ReplyCache::new(1 << 20, Duration::from_secs(30))?;
/// let request_id = RequestId::from_bytes([7u8; 32]);
/// let Lookup::New(reservation) = cache.lookup(&request_id) else { unreachable!() };
/// // ... run the handler, seal its reply ...
/// let sealed: Box<[u8]> = vec![1, 2, 3].into();
/// reservation.settle(Verdict::Reply { packet: sealed.clone(), key_replies: ReplyCount::default() });
/// // A copy of the request gets the same bytes.
/// assert!(matches!(
///     cache.peek(&request_id),
///     Some(Known::Answered(Verdict::Reply { packet, .. })) if packet == sealed
/// ));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReplyCache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    budget: usize,
    ttl: Duration,
    table: Mutex<Table>,
}

#[derive(Debug)]
struct Table {
    /// The guarantee: ids answered (or refused for good) recently.
    answered: AnsweredIds,
    /// Ids whose handler is running, with the serial of their reservation.
    in_progress: HashMap<Key, u64>,
    /// The convenience: remembered verdicts, evicted oldest first.
    verdicts: HashMap<Key, Remembered>,
    /// Keys of `verdicts` in insertion order, with their serial.
    order: VecDeque<(Key, u64)>,
    /// Sum of the remembered verdicts' costs.
    used: usize,
    next_serial: u64,
}

#[derive(Debug)]
struct Remembered {
    serial: u64,
    inserted: Instant,
    cost: usize,
    verdict: Verdict,
}

/// What the cache knows of a request id it has seen.
#[derive(Debug)]
pub enum Known {
    /// A copy of a request already handled: send (or not) what it got.
    Answered(Verdict),
    /// A copy of a request already handled whose reply was evicted to make
    /// room: drop it (never run a request twice).
    Forgotten,
    /// A copy of a request whose handler has not finished: drop it (its
    /// reply goes to the first copy's source; a later retry gets it too).
    InProgress,
}

/// What [`ReplyCache::lookup`] found.
#[derive(Debug)]
pub enum Lookup {
    /// A request seen before: see [`Known`].
    Known(Known),
    /// A new request: handle it, then [`Reservation::settle`].
    New(Reservation),
    /// As many new requests in one TTL as the ids can hold: drop it (the
    /// cache fails closed).
    Full,
}

/// A new request's place in the cache while its handler runs. Dropping it
/// unsettled forgets the request, so a copy can run it again (for a
/// request that was never handled, e.g. a backend that was down).
#[derive(Debug)]
#[must_use = "settle the reservation, or drop it to forget the request"]
pub struct Reservation {
    cache: ReplyCache,
    key: Key,
    serial: u64,
    settled: bool,
}

impl ReplyCache {
    /// The shortest TTL accepted: pssst-core's [`MIN_REPLY_MEMORY`], the
    /// retransmission window every client keeps to, and a delivery margin.
    pub fn min_ttl() -> Duration {
        MIN_REPLY_MEMORY
    }

    /// Replies kept up to `ttl` within `budget_bytes` (oldest evicted
    /// first), and room for the ids of [`DEFAULT_IDS_PER_SECOND`] requests
    /// per second of `ttl`. Fails with `InvalidInput` for a TTL shorter than
    /// [`min_ttl`](Self::min_ttl).
    pub fn new(budget_bytes: usize, ttl: Duration) -> std::io::Result<ReplyCache> {
        Self::with_id_capacity(budget_bytes, ttl, Self::default_id_capacity(ttl))
    }

    /// As [`new`](Self::new), with room for `ids` new requests per TTL
    /// (before the cache fails closed). The ids take about `2.5 * ids` bytes.
    pub fn with_id_capacity(
        budget_bytes: usize,
        ttl: Duration,
        ids: usize,
    ) -> std::io::Result<ReplyCache> {
        if ttl < Self::min_ttl() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "reply cache TTL {ttl:?} is shorter than the protocol's retransmission \
                     window and delivery margin ({:?})",
                    Self::min_ttl()
                ),
            ));
        }
        Ok(Self::new_unchecked(budget_bytes, ttl, ids))
    }

    /// The id capacity [`new`](Self::new) gives a TTL: [`DEFAULT_IDS_PER_SECOND`]
    /// per second of it, at most 16 million.
    pub fn default_id_capacity(ttl: Duration) -> usize {
        ((ttl.as_secs_f64() * DEFAULT_IDS_PER_SECOND as f64).ceil() as usize).min(MAX_DEFAULT_IDS)
    }

    pub(crate) fn new_unchecked(budget: usize, ttl: Duration, ids: usize) -> ReplyCache {
        ReplyCache {
            inner: Arc::new(Inner {
                budget,
                ttl,
                table: Mutex::new(Table {
                    answered: AnsweredIds::new(ids, ttl, Instant::now()),
                    in_progress: HashMap::new(),
                    verdicts: HashMap::new(),
                    order: VecDeque::new(),
                    used: 0,
                    next_serial: 0,
                }),
            }),
        }
    }

    /// How long an id, and at most a reply, is kept.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// What a copy of `request_id` gets, or a reservation for a new request.
    pub fn lookup(&self, request_id: &Key) -> Lookup {
        let now = Instant::now();
        let mut table = self.lock();
        table.expire(now, self.inner.ttl);
        if let Some(known) = table.known(request_id) {
            return Lookup::Known(known);
        }
        let reserved = table.in_progress.len();
        if !table.answered.has_room(now, reserved) {
            return Lookup::Full;
        }
        let serial = table.next_serial;
        table.next_serial += 1;
        table.in_progress.insert(*request_id, serial);
        Lookup::New(Reservation {
            cache: self.clone(),
            key: *request_id,
            serial,
            settled: false,
        })
    }

    /// What a copy of `request_id` gets, if the request is known. Reserves
    /// nothing, so a server can look before it spends an X25519 on a
    /// request, and reserve only once the request has proven itself.
    pub fn peek(&self, request_id: &Key) -> Option<Known> {
        self.lock().known(request_id)
    }

    /// Replies and other verdicts remembered now.
    pub fn len(&self) -> usize {
        self.lock().verdicts.len()
    }

    /// True when no verdict is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes accounted to the remembered verdicts (at most the budget).
    pub fn used_bytes(&self) -> usize {
        self.lock().used
    }

    /// Bytes the ids take (fixed at creation).
    pub fn id_memory_bytes(&self) -> usize {
        self.lock().answered.memory_bytes()
    }

    /// New requests per TTL the ids have room for.
    pub fn id_capacity(&self) -> usize {
        self.lock().answered.capacity()
    }

    /// The chance, now, that a fresh request is taken for a copy of an
    /// answered one and dropped.
    pub fn false_positive_bound(&self) -> f64 {
        self.lock().answered.false_positive_bound()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.inner
            .table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Reservation {
    /// Records `verdict`: the request id joins the answered ids (a copy is
    /// never run again within the TTL), and the verdict is remembered for
    /// the copies to come while the byte budget allows.
    pub fn settle(mut self, verdict: Verdict) {
        self.settled = true;
        let now = Instant::now();
        let budget = self.cache.inner.budget;
        let mut table = self.cache.lock();
        if table.in_progress.get(&self.key) == Some(&self.serial) {
            table.in_progress.remove(&self.key);
        }
        table.answered.insert(&self.key, now);
        table.remember(self.key, verdict, now, budget);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let mut table = self.cache.lock();
        if table.in_progress.get(&self.key) == Some(&self.serial) {
            table.in_progress.remove(&self.key);
        }
    }
}

impl Table {
    /// What a copy of `key` gets, if the request is known at all.
    fn known(&self, key: &Key) -> Option<Known> {
        if self.in_progress.contains_key(key) {
            return Some(Known::InProgress);
        }
        if let Some(remembered) = self.verdicts.get(key) {
            return Some(Known::Answered(remembered.verdict.clone()));
        }
        self.answered.contains(key).then_some(Known::Forgotten)
    }

    /// Keeps `verdict` for `key`, evicting the oldest verdicts to stay
    /// within `budget` (a verdict larger than the budget is not kept).
    fn remember(&mut self, key: Key, verdict: Verdict, now: Instant, budget: usize) {
        let cost = ENTRY_OVERHEAD.saturating_add(verdict.reply_len());
        if cost > budget {
            return;
        }
        while self.used + cost > budget && self.pop_oldest() {}
        let serial = self.next_serial;
        self.next_serial += 1;
        if let Some(old) = self.verdicts.insert(
            key,
            Remembered {
                serial,
                inserted: now,
                cost,
                verdict,
            },
        ) {
            // A request forgotten and run again after its TTL: replaced.
            self.used -= old.cost;
        }
        self.used += cost;
        self.order.push_back((key, serial));
    }

    /// Removes verdicts older than `ttl`.
    fn expire(&mut self, now: Instant, ttl: Duration) {
        while let Some((key, serial)) = self.order.front() {
            let expired = self
                .verdicts
                .get(key)
                .filter(|r| r.serial == *serial)
                .is_none_or(|r| now.saturating_duration_since(r.inserted) >= ttl);
            if !expired {
                break;
            }
            self.pop_oldest();
        }
    }

    /// Removes the oldest verdict (or a stale queue slot); false when empty.
    fn pop_oldest(&mut self) -> bool {
        let Some((key, serial)) = self.order.pop_front() else {
            return false;
        };
        if self.verdicts.get(&key).is_some_and(|r| r.serial == serial)
            && let Some(removed) = self.verdicts.remove(&key)
        {
            self.used -= removed.cost;
        }
        true
    }
}

impl Verdict {
    fn reply_len(&self) -> usize {
        match self {
            Verdict::Reply { packet, .. } => packet.len(),
            Verdict::Dropped(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests;
