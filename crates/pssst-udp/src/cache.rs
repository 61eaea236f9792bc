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
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use pssst_core::DH_PARAM_LEN;

use crate::ClientConfig;
use crate::stats::Counter;

type Key = [u8; DH_PARAM_LEN];

/// What a request got the first time, remembered for its copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// This sealed reply packet was sent.
    Reply(Box<[u8]>),
    /// Nothing was sent, for this reason.
    Dropped(Counter),
}

type Cell = Arc<OnceLock<Verdict>>;

/// Bytes an entry costs besides its reply: map and queue slots, the cell.
pub(crate) const ENTRY_OVERHEAD: usize = 160;

/// A byte-bounded, time-limited map from request id to [`Verdict`].
#[derive(Debug)]
pub(crate) struct ReplyCache {
    budget: usize,
    ttl: Duration,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    /// Keys in insertion order (so in expiry order), with insertion time.
    order: VecDeque<(Key, Instant)>,
    /// Sum of the entries' costs.
    used: usize,
}

#[derive(Debug)]
struct Entry {
    inserted: Instant,
    cost: usize,
    cell: Cell,
}

/// What [`ReplyCache::lookup`] found.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// A live entry: its verdict, or a cell another worker is filling.
    Known(Cell),
    /// A new entry, reserved: compute the verdict, then [`ReplyCache::settle`].
    New(Cell),
    /// No room: drop the request (fail closed).
    Full,
}

impl ReplyCache {
    /// The shortest TTL a server accepts: how long the default
    /// [`ClientConfig`] keeps retrying one request.
    pub(crate) fn min_ttl() -> Duration {
        ClientConfig::default().give_up_after()
    }

    /// Entries are kept exactly `ttl`; their total cost stays within
    /// `budget` bytes.
    pub(crate) fn new(budget: usize, ttl: Duration) -> ReplyCache {
        ReplyCache {
            budget,
            ttl,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Finds the live entry for `id`, or reserves `ENTRY_OVERHEAD +
    /// max_reply` bytes for a new one.
    pub(crate) fn lookup(&self, id: &Key, max_reply: usize) -> Lookup {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.expire(now, self.ttl);
        if let Some(entry) = inner.entries.get(id) {
            return Lookup::Known(Arc::clone(&entry.cell));
        }
        let cost = ENTRY_OVERHEAD.saturating_add(max_reply);
        if inner.used.saturating_add(cost) > self.budget {
            return Lookup::Full;
        }
        let cell = Cell::default();
        inner.used += cost;
        inner.entries.insert(
            *id,
            Entry {
                inserted: now,
                cost,
                cell: Arc::clone(&cell),
            },
        );
        inner.order.push_back((*id, now));
        Lookup::New(cell)
    }

    /// Records `verdict` in the entry [`lookup`](Self::lookup) reserved and
    /// gives the unused part of the reservation back.
    pub(crate) fn settle(&self, id: &Key, cell: &Cell, verdict: Verdict) -> Verdict {
        let verdict = cell.get_or_init(|| verdict).clone();
        let mut inner = self.lock();
        let inner = &mut *inner;
        if let Some(entry) = inner.entries.get_mut(id)
            && Arc::ptr_eq(&entry.cell, cell)
        {
            let cost = ENTRY_OVERHEAD + verdict.reply_len();
            inner.used = inner.used - entry.cost + cost.min(entry.cost);
            entry.cost = cost.min(entry.cost);
        }
        verdict
    }

    /// Entries held now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Bytes accounted to the entries held now.
    #[cfg(test)]
    pub(crate) fn used_bytes(&self) -> usize {
        self.lock().used
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    /// Removes every entry older than `ttl`, and nothing else.
    fn expire(&mut self, now: Instant, ttl: Duration) {
        while let Some(&(key, inserted)) = self.order.front() {
            if now.duration_since(inserted) < ttl {
                break;
            }
            self.order.pop_front();
            if self
                .entries
                .get(&key)
                .is_some_and(|e| e.inserted == inserted)
                && let Some(entry) = self.entries.remove(&key)
            {
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
            Lookup::New(cell) => Some(cache.settle(&id(i), &cell, Verdict::Reply(reply.into()))),
            Lookup::Known(cell) => cell.get().cloned(),
            Lookup::Full => None,
        }
    }

    #[test]
    fn a_copy_gets_the_first_verdict() {
        let cache = ReplyCache::new(1 << 20, Duration::from_secs(60));
        let first = answer(&cache, 1, b"one");
        assert_eq!(first, Some(Verdict::Reply((*b"one").into())));
        assert_eq!(answer(&cache, 1, b"two"), first);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_full_cache_drops_new_requests_and_keeps_every_entry() {
        let per_entry = ENTRY_OVERHEAD + 100;
        let cache = ReplyCache::new(10 * per_entry, Duration::from_secs(60));
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
        let cache = ReplyCache::new(1 << 20, Duration::from_secs(60));
        answer(&cache, 1, b"ab");
        assert_eq!(cache.used_bytes(), ENTRY_OVERHEAD + 2);
    }

    #[test]
    fn entries_expire_after_the_ttl_and_free_their_bytes() {
        let cache = ReplyCache::new(1 << 20, Duration::from_millis(20));
        answer(&cache, 1, b"one");
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(
            answer(&cache, 1, b"two"),
            Some(Verdict::Reply((*b"two").into()))
        );
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.used_bytes(), ENTRY_OVERHEAD + 3);
    }

    #[test]
    fn the_minimum_ttl_covers_the_default_client() {
        assert_eq!(ReplyCache::min_ttl(), Duration::from_millis(11_500));
    }
}
