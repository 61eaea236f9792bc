//! The reply cache: byte-identical replies to retransmitted requests, for
//! handlers whose output is not a function of the request.
//!
//! A retransmitted request makes the server derive the same AES-GCM key and
//! nonce again, so its reply must be the same bytes as the first one. An
//! echo, or any pure function of the request, gives that for free. A
//! handler whose output changes between runs (a clock, a shell command)
//! needs the server to remember what it sent: this cache, keyed by the
//! request's DH parameter, holding the sealed reply packet itself (never
//! the plaintext), or the verdict "no reply".
//!
//! It fails closed. An entry is never evicted before its TTL, whatever an
//! attacker sends: when the byte budget is spent, new requests are dropped
//! (and counted) instead, and copies of requests already answered still get
//! their remembered bytes. Each new request reserves room for the largest
//! reply it may get before its handler runs, so the budget holds even while
//! handlers are running. After the TTL a copy runs the handler again; the
//! TTL must therefore outlast every client's retries, which the server
//! checks at startup against the default client ([`ReplyCache::min_ttl`]).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pssst_core::DH_PARAM_LEN;

use crate::ClientConfig;
use crate::stats::Counter;

type Key = [u8; DH_PARAM_LEN];

/// What a request got the first time, remembered for its copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// This sealed reply packet was sent.
    Reply(Box<[u8]>),
    /// Nothing was sent, for this reason.
    Dropped(Counter),
}

/// Bytes an entry costs besides its reply: map and queue slots, the entry.
pub const ENTRY_OVERHEAD: usize = 160;

/// A byte-bounded, time-limited map from request id (the request's DH
/// parameter) to [`Verdict`]. Cloning gives another handle to the same
/// cache.
///
/// ```
/// use std::time::Duration;
/// use pssst_udp::{Lookup, ReplyCache, Verdict};
///
/// let cache = ReplyCache::new(1 << 20, Duration::from_secs(30))?;
/// let request_id = [7u8; 32];
/// let Lookup::New(reservation) = cache.lookup(&request_id, 100) else { unreachable!() };
/// // ... run the handler, seal its reply ...
/// let sealed: Box<[u8]> = vec![1, 2, 3].into();
/// assert!(reservation.settle(Verdict::Reply(sealed.clone())), "still live: send it");
/// // A copy of the request gets the same bytes.
/// assert!(matches!(cache.lookup(&request_id, 100), Lookup::Known(Verdict::Reply(p)) if p == sealed));
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

#[derive(Debug, Default)]
struct Table {
    entries: HashMap<Key, Entry>,
    /// Keys in insertion order (so in expiry order), with their serial.
    order: VecDeque<(Key, u64)>,
    /// Sum of the entries' costs.
    used: usize,
    /// Tells entries apart that had the same key at different times.
    next_serial: u64,
}

#[derive(Debug)]
struct Entry {
    serial: u64,
    inserted: Instant,
    cost: usize,
    /// `None` while the first copy is still being handled.
    verdict: Option<Verdict>,
}

/// What [`ReplyCache::lookup`] found.
#[derive(Debug)]
pub enum Lookup {
    /// A copy of a request already handled: send (or not) what it got.
    Known(Verdict),
    /// A copy of a request whose handler has not finished: drop it (its
    /// reply goes to the first copy's source; a later retry gets it too).
    InProgress,
    /// A new request, with room reserved for its reply: handle it, then
    /// [`Reservation::settle`].
    New(Reservation),
    /// No room for a new request: drop it (the cache fails closed).
    Full,
}

/// Room reserved for one new request's verdict. Dropping it unsettled
/// gives the room back and forgets the request, so a copy can run it again
/// (for a request that was never handled, e.g. refused for overload).
#[derive(Debug)]
#[must_use = "settle the reservation, or drop it to forget the request"]
pub struct Reservation {
    cache: ReplyCache,
    key: Key,
    serial: u64,
    settled: bool,
}

impl ReplyCache {
    /// The shortest TTL accepted: how long the default [`ClientConfig`]
    /// keeps retrying one request.
    pub fn min_ttl() -> Duration {
        ClientConfig::default().give_up_after()
    }

    /// Entries are kept exactly `ttl`; their total cost stays within
    /// `budget_bytes`. Fails with `InvalidInput` for a TTL shorter than
    /// [`min_ttl`](Self::min_ttl): a retry after the entry expired would run
    /// the handler again and could get different bytes under the same nonce.
    pub fn new(budget_bytes: usize, ttl: Duration) -> std::io::Result<ReplyCache> {
        if ttl < Self::min_ttl() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "reply cache TTL {ttl:?} is shorter than a default client's retries ({:?})",
                    Self::min_ttl()
                ),
            ));
        }
        Ok(Self::new_unchecked(budget_bytes, ttl))
    }

    pub(crate) fn new_unchecked(budget: usize, ttl: Duration) -> ReplyCache {
        ReplyCache {
            inner: Arc::new(Inner {
                budget,
                ttl,
                table: Mutex::new(Table::default()),
            }),
        }
    }

    /// How long an entry is kept.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }

    /// Finds the live entry for `request_id`, or reserves `ENTRY_OVERHEAD +
    /// max_reply_packet` bytes for a new one.
    pub fn lookup(&self, request_id: &Key, max_reply_packet: usize) -> Lookup {
        let now = Instant::now();
        let mut table = self.lock();
        table.expire(now, self.inner.ttl);
        if let Some(entry) = table.entries.get(request_id) {
            return match &entry.verdict {
                Some(verdict) => Lookup::Known(verdict.clone()),
                None => Lookup::InProgress,
            };
        }
        let cost = ENTRY_OVERHEAD.saturating_add(max_reply_packet);
        if table.used.saturating_add(cost) > self.inner.budget {
            return Lookup::Full;
        }
        let serial = table.next_serial;
        table.next_serial += 1;
        table.used += cost;
        table.entries.insert(
            *request_id,
            Entry {
                serial,
                inserted: now,
                cost,
                verdict: None,
            },
        );
        table.order.push_back((*request_id, serial));
        Lookup::New(Reservation {
            cache: self.clone(),
            key: *request_id,
            serial,
            settled: false,
        })
    }

    /// What a copy of `request_id` gets, if the request is known:
    /// [`Lookup::Known`] or [`Lookup::InProgress`]. Reserves nothing, so a
    /// server can look before it takes an in-flight slot for a new request.
    pub fn peek(&self, request_id: &Key) -> Option<Lookup> {
        let now = Instant::now();
        let table = self.lock();
        let entry = table
            .entries
            .get(request_id)
            .filter(|e| now.duration_since(e.inserted) < self.inner.ttl)?;
        Some(match &entry.verdict {
            Some(verdict) => Lookup::Known(verdict.clone()),
            None => Lookup::InProgress,
        })
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes accounted to the entries held now.
    pub fn used_bytes(&self) -> usize {
        self.lock().used
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.inner
            .table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Reservation {
    /// Records `verdict` for the copies to come, and gives the unused part
    /// of the reservation back. Returns `false` when the entry is no longer
    /// live (its TTL passed while the handler ran): the reply must then not
    /// be sent, since a copy arriving after the TTL may have run the
    /// handler again under the same nonce.
    pub fn settle(mut self, verdict: Verdict) -> bool {
        self.settled = true;
        let now = Instant::now();
        let ttl = self.cache.inner.ttl;
        let mut table = self.cache.lock();
        let table = &mut *table;
        let Some(entry) = table.entries.get_mut(&self.key) else {
            return false;
        };
        if entry.serial != self.serial || now.duration_since(entry.inserted) >= ttl {
            return false;
        }
        let cost = (ENTRY_OVERHEAD + verdict.reply_len()).min(entry.cost);
        table.used = table.used - entry.cost + cost;
        entry.cost = cost;
        entry.verdict = Some(verdict);
        true
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let mut table = self.cache.lock();
        if table
            .entries
            .get(&self.key)
            .is_some_and(|e| e.serial == self.serial)
            && let Some(entry) = table.entries.remove(&self.key)
        {
            table.used -= entry.cost;
        }
        // Usually it was the last one in: keep the queue from holding it.
        if table.order.back() == Some(&(self.key, self.serial)) {
            table.order.pop_back();
        }
    }
}

impl Table {
    /// Removes every entry older than `ttl`, and nothing else.
    fn expire(&mut self, now: Instant, ttl: Duration) {
        while let Some(&(key, serial)) = self.order.front() {
            let Some(entry) = self.entries.get(&key).filter(|e| e.serial == serial) else {
                // Forgotten early (an unsettled reservation was dropped).
                self.order.pop_front();
                continue;
            };
            if now.duration_since(entry.inserted) < ttl {
                break;
            }
            self.order.pop_front();
            if let Some(entry) = self.entries.remove(&key) {
                self.used -= entry.cost;
            }
        }
    }
}

impl Verdict {
    fn reply_len(&self) -> usize {
        match self {
            Verdict::Reply(packet) => packet.len(),
            Verdict::Dropped(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u32) -> Key {
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&i.to_le_bytes());
        id
    }

    fn answer(cache: &ReplyCache, i: u32, reply: &[u8]) -> Option<Verdict> {
        match cache.lookup(&id(i), 100) {
            Lookup::New(reservation) => {
                let verdict = Verdict::Reply(reply.into());
                assert!(reservation.settle(verdict.clone()));
                Some(verdict)
            }
            Lookup::Known(verdict) => Some(verdict),
            Lookup::InProgress => panic!("nothing is in progress here"),
            Lookup::Full => None,
        }
    }

    fn long_lived(budget: usize) -> ReplyCache {
        ReplyCache::new(budget, Duration::from_secs(60)).unwrap()
    }

    #[test]
    fn a_copy_gets_the_first_verdict() {
        let cache = long_lived(1 << 20);
        let first = answer(&cache, 1, b"one");
        assert_eq!(first, Some(Verdict::Reply((*b"one").into())));
        assert_eq!(answer(&cache, 1, b"two"), first);
        assert!(matches!(cache.peek(&id(1)), Some(Lookup::Known(v)) if Some(v.clone()) == first));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_copy_of_a_request_in_progress_is_not_run_again() {
        let cache = long_lived(1 << 20);
        let Lookup::New(reservation) = cache.lookup(&id(1), 100) else {
            panic!("new")
        };
        assert!(matches!(cache.lookup(&id(1), 100), Lookup::InProgress));
        assert!(matches!(cache.peek(&id(1)), Some(Lookup::InProgress)));
        assert!(reservation.settle(Verdict::Dropped(Counter::NoReply)));
        assert!(matches!(
            cache.lookup(&id(1), 100),
            Lookup::Known(Verdict::Dropped(Counter::NoReply))
        ));
    }

    #[test]
    fn a_full_cache_drops_new_requests_and_keeps_every_entry() {
        let per_entry = ENTRY_OVERHEAD + 100;
        let cache = long_lived(10 * per_entry);
        for i in 0..10 {
            assert!(answer(&cache, i, &[0; 100]).is_some(), "{i}");
        }
        // Full: new ones are refused, old ones still answered identically.
        for i in 10..1000 {
            assert_eq!(answer(&cache, i, b"new"), None, "{i}");
        }
        for i in 0..10 {
            assert_eq!(
                answer(&cache, i, b"other"),
                Some(Verdict::Reply([0; 100].into()))
            );
        }
        assert_eq!(cache.len(), 10);
        assert!(cache.used_bytes() <= 10 * per_entry);
    }

    #[test]
    fn unused_reservation_is_given_back() {
        let cache = long_lived(1 << 20);
        answer(&cache, 1, b"ab");
        assert_eq!(cache.used_bytes(), ENTRY_OVERHEAD + 2);
    }

    #[test]
    fn a_dropped_reservation_forgets_the_request() {
        let cache = long_lived(1 << 20);
        let Lookup::New(reservation) = cache.lookup(&id(1), 100) else {
            panic!("new")
        };
        drop(reservation);
        assert_eq!((cache.len(), cache.used_bytes()), (0, 0));
        assert!(cache.inner.table.lock().unwrap().order.is_empty());
        assert!(matches!(cache.lookup(&id(1), 100), Lookup::New(_)));
    }

    #[test]
    fn entries_expire_after_the_ttl_and_free_their_bytes() {
        let cache = ReplyCache::new_unchecked(1 << 20, Duration::from_millis(20));
        answer(&cache, 1, b"one");
        std::thread::sleep(Duration::from_millis(40));
        assert!(cache.peek(&id(1)).is_none());
        assert_eq!(
            answer(&cache, 1, b"two"),
            Some(Verdict::Reply((*b"two").into()))
        );
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.used_bytes(), ENTRY_OVERHEAD + 3);
    }

    #[test]
    fn a_verdict_settled_after_the_ttl_must_not_be_sent() {
        let cache = ReplyCache::new_unchecked(1 << 20, Duration::from_millis(20));
        let Lookup::New(late) = cache.lookup(&id(1), 100) else {
            panic!("new")
        };
        std::thread::sleep(Duration::from_millis(40));
        // A copy after the TTL runs the handler again...
        let Lookup::New(again) = cache.lookup(&id(1), 100) else {
            panic!("expired, so new")
        };
        // ...so the first run's reply, if it comes now, must not go out.
        assert!(!late.settle(Verdict::Reply((*b"late").into())));
        assert!(again.settle(Verdict::Reply((*b"again").into())));
        assert!(
            matches!(cache.peek(&id(1)), Some(Lookup::Known(Verdict::Reply(p))) if &*p == b"again")
        );
    }

    #[test]
    fn a_ttl_shorter_than_the_default_client_is_refused() {
        let short = ReplyCache::min_ttl() - Duration::from_millis(1);
        assert!(ReplyCache::new(1 << 20, short).is_err());
        assert!(ReplyCache::new(1 << 20, ReplyCache::min_ttl()).is_ok());
    }

    #[test]
    fn the_minimum_ttl_covers_the_default_client() {
        assert_eq!(ReplyCache::min_ttl(), Duration::from_millis(11_500));
    }
}
