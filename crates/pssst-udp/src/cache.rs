//! Remembering replies, for handlers whose output is not a function of the
//! request.
//!
//! A retransmitted request makes the server derive the same AES-GCM key and
//! nonce again, so its reply must be byte-identical to the first one. An
//! echo, or any pure function of the request, gives that for free. A
//! handler whose output changes between runs (a clock, a shell command)
//! must remember what it answered: that is this cache, keyed by the
//! request's DH parameter ([`Request::request_id`](crate::Request)).
//!
//! It is bounded in entries and in age, which is the trade-off: a copy of a
//! request that arrives after its entry was evicted (older than the TTL, or
//! pushed out by `capacity` newer requests) runs the handler again, and if
//! the output differs, two plaintexts are encrypted under one nonce. Retries
//! from a live client come within seconds, far inside the TTL; what is left
//! is an attacker replaying a recorded request later, who would learn the
//! XOR of the two outputs. Deterministic handlers do not have the problem.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use pssst_core::DH_PARAM_LEN;

type Key = [u8; DH_PARAM_LEN];
type Cell = Arc<OnceLock<Option<Vec<u8>>>>;

/// A bounded, time-limited map from request id to reply (or to "no reply").
///
/// Concurrent calls for the same request wait for the first to finish, so
/// the handler runs once per request even when copies reach two workers.
#[derive(Debug)]
pub struct ReplyCache {
    capacity: usize,
    ttl: Duration,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<Key, (Instant, Cell)>,
    /// Keys in insertion order, with their insertion time, to evict from.
    order: VecDeque<(Key, Instant)>,
}

impl ReplyCache {
    /// At most `capacity` entries (at least 1), each kept at most `ttl`.
    /// Worst-case memory is `capacity` times the largest reply.
    pub fn new(capacity: usize, ttl: Duration) -> ReplyCache {
        ReplyCache {
            capacity: capacity.max(1),
            ttl,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The cached answer for `id`, or `compute()`'s, remembered.
    pub fn get_or_compute(
        &self,
        id: &Key,
        compute: impl FnOnce() -> Option<Vec<u8>>,
    ) -> Option<Vec<u8>> {
        let cell = self.cell(id);
        cell.get_or_init(compute).clone()
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn cell(&self, id: &Key) -> Cell {
        let now = Instant::now();
        let mut inner = self.lock();
        // Evict what is too old, then what is over capacity.
        while let Some(&(key, inserted)) = inner.order.front() {
            let expired = now.duration_since(inserted) >= self.ttl;
            if !expired && inner.order.len() < self.capacity {
                break;
            }
            inner.order.pop_front();
            if inner.entries.get(&key).is_some_and(|(t, _)| *t == inserted) {
                inner.entries.remove(&key);
            }
        }
        if let Some((inserted, cell)) = inner.entries.get(id) {
            if now.duration_since(*inserted) < self.ttl {
                return Arc::clone(cell);
            }
        }
        let cell: Cell = Arc::default();
        inner.entries.insert(*id, (now, Arc::clone(&cell)));
        inner.order.push_back((*id, now));
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn same_request_gets_the_first_answer() {
        let cache = ReplyCache::new(8, Duration::from_secs(60));
        let runs = AtomicU32::new(0);
        let run = || {
            let n = runs.fetch_add(1, Ordering::SeqCst);
            Some(vec![n as u8])
        };
        assert_eq!(cache.get_or_compute(&[1; 32], run), Some(vec![0]));
        assert_eq!(cache.get_or_compute(&[1; 32], run), Some(vec![0]));
        assert_eq!(cache.get_or_compute(&[2; 32], run), Some(vec![1]));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn no_reply_is_remembered_too() {
        let cache = ReplyCache::new(8, Duration::from_secs(60));
        assert_eq!(cache.get_or_compute(&[1; 32], || None), None);
        assert_eq!(cache.get_or_compute(&[1; 32], || Some(vec![1])), None);
    }

    #[test]
    fn capacity_bounds_the_entries() {
        let cache = ReplyCache::new(100, Duration::from_secs(60));
        for i in 0..10_000u32 {
            let mut id = [0u8; 32];
            id[..4].copy_from_slice(&i.to_le_bytes());
            cache.get_or_compute(&id, || Some(vec![0; 16]));
            assert!(cache.len() <= 100);
        }
        assert_eq!(cache.len(), 100);
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = ReplyCache::new(100, Duration::from_millis(20));
        cache.get_or_compute(&[1; 32], || Some(vec![1]));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(
            cache.get_or_compute(&[1; 32], || Some(vec![2])),
            Some(vec![2])
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn concurrent_copies_run_the_handler_once() {
        let cache = Arc::new(ReplyCache::new(8, Duration::from_secs(60)));
        let runs = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let cache = Arc::clone(&cache);
                let runs = Arc::clone(&runs);
                std::thread::spawn(move || {
                    cache.get_or_compute(&[7; 32], || {
                        std::thread::sleep(Duration::from_millis(20));
                        Some(vec![runs.fetch_add(1, Ordering::SeqCst) as u8])
                    })
                })
            })
            .collect();
        let answers: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(answers.iter().all(|a| *a == Some(vec![0])));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}
