//! [`AnsweredIds`]: which request ids were answered recently, in a few bits
//! per id, with no false negatives.
//!
//! The guarantee "never two different replies to one request id" needs only
//! the ids, not the replies: an attacker who sends large valid requests can
//! fill any byte budget of replies, but each id costs it one X25519 on the
//! server whatever its size. Two generations of Bloom filters, each holding
//! at most `capacity` ids: new ids go into the current one; when it is a
//! window old (or full) and the previous one holds nothing younger than a
//! window, the previous one is cleared and they swap. So an id is found for
//! at least a window after it was added (no false negatives), and a fresh
//! id is mistaken for an answered one with probability at most
//! [`AnsweredIds::false_positive_bound`] (the cost: that request is dropped,
//! never run twice). When the current generation is full and the previous
//! one cannot be cleared yet, there is no room ([`AnsweredIds::has_room`]):
//! the server then drops new requests (fails closed), which takes
//! `capacity` valid requests per window to bring about.

use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use pssst_core::RequestId;

/// Bits of filter per id of capacity: with [`HASHES`] probes, a full
/// generation answers a fresh id "seen" with probability about 0.8 %.
pub(crate) const BITS_PER_ID: usize = 10;
/// Probes per id (about `BITS_PER_ID * ln 2`, the optimum).
const HASHES: u32 = 7;

/// Request ids answered within the last window (and some older ones).
#[derive(Debug)]
pub(crate) struct AnsweredIds {
    window: Duration,
    capacity: usize,
    /// Keyed per process, so nobody can aim ids at chosen bits.
    hashers: [RandomState; 2],
    current: Generation,
    previous: Generation,
}

#[derive(Debug)]
struct Generation {
    words: Vec<u64>,
    count: usize,
    started: Instant,
    /// When its newest id was added; `None` while empty.
    newest: Option<Instant>,
}

impl AnsweredIds {
    /// Room for `capacity` ids per generation; each id is found for at
    /// least `window` after it is added.
    pub(crate) fn new(capacity: usize, window: Duration, now: Instant) -> AnsweredIds {
        let capacity = capacity.max(1);
        AnsweredIds {
            window,
            capacity,
            hashers: [RandomState::new(), RandomState::new()],
            current: Generation::new(capacity, now),
            previous: Generation::new(capacity, now),
        }
    }

    /// Bytes the filters take.
    pub(crate) fn memory_bytes(&self) -> usize {
        (self.current.words.len() + self.previous.words.len()) * 8
    }

    /// Ids per generation.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// True when `id` was added (within the last window, or up to two), or,
    /// rarely, when it was not (a false positive).
    pub(crate) fn contains(&self, id: &RequestId) -> bool {
        let probes = self.probes(id);
        self.current.has_all(probes.clone()) || self.previous.has_all(probes)
    }

    /// True when `reserved + 1` more ids can be added without losing one
    /// younger than the window (rotating first if that makes room).
    pub(crate) fn has_room(&mut self, now: Instant, reserved: usize) -> bool {
        self.rotate_if_due(now, reserved);
        self.current.count.saturating_add(reserved) < self.capacity
    }

    /// Adds `id` (room was checked by [`has_room`](Self::has_room) when its
    /// request was admitted).
    pub(crate) fn insert(&mut self, id: &RequestId, now: Instant) {
        self.rotate_if_due(now, 0);
        let probes = self.probes(id);
        self.current.set_all(probes);
        self.current.count += 1;
        self.current.newest = Some(now);
    }

    /// The chance that a fresh id is taken for an answered one, with both
    /// generations holding as many ids as they do now.
    pub(crate) fn false_positive_bound(&self) -> f64 {
        self.current.false_positive_rate() + self.previous.false_positive_rate()
    }

    fn rotate_if_due(&mut self, now: Instant, reserved: usize) {
        let previous_expired = self
            .previous
            .newest
            .is_none_or(|newest| now.saturating_duration_since(newest) >= self.window);
        let current_done = now.saturating_duration_since(self.current.started) >= self.window
            || self.current.count.saturating_add(reserved) >= self.capacity;
        if previous_expired && current_done {
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.clear(now);
        }
    }

    /// The bit indices of `id` (double hashing over two keyed hashes).
    fn probes(&self, id: &RequestId) -> Probes {
        Probes {
            first: self.hashers[0].hash_one(id),
            step: self.hashers[1].hash_one(id) | 1,
            left: HASHES,
        }
    }
}

#[derive(Debug, Clone)]
struct Probes {
    first: u64,
    step: u64,
    left: u32,
}

impl Iterator for Probes {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        self.left = self.left.checked_sub(1)?;
        let probe = self.first;
        self.first = self.first.wrapping_add(self.step);
        Some(probe)
    }
}

impl Generation {
    fn new(capacity: usize, now: Instant) -> Generation {
        let bits = capacity.saturating_mul(BITS_PER_ID);
        Generation {
            words: vec![0; bits.div_ceil(64).max(1)],
            count: 0,
            started: now,
            newest: None,
        }
    }

    fn bits(&self) -> u64 {
        self.words.len() as u64 * 64
    }

    /// Maps a 64-bit probe onto a bit index without a division bias worth
    /// the name (Lemire's multiply-shift).
    fn index(&self, probe: u64) -> (usize, u64) {
        let bit = ((u128::from(probe) * u128::from(self.bits())) >> 64) as u64;
        ((bit / 64) as usize, 1 << (bit % 64))
    }

    fn has_all(&self, mut probes: Probes) -> bool {
        probes.all(|probe| {
            let (word, mask) = self.index(probe);
            self.words[word] & mask != 0
        })
    }

    fn set_all(&mut self, probes: Probes) {
        for probe in probes {
            let (word, mask) = self.index(probe);
            self.words[word] |= mask;
        }
    }

    fn clear(&mut self, now: Instant) {
        self.words.fill(0);
        self.count = 0;
        self.started = now;
        self.newest = None;
    }

    /// (1 - e^(-k n / m))^k for n ids in m bits with k probes.
    fn false_positive_rate(&self) -> f64 {
        let filled = -(f64::from(HASHES) * self.count as f64 / self.bits() as f64);
        (1.0 - filled.exp()).powi(HASHES as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u64) -> RequestId {
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&i.to_le_bytes());
        RequestId::from_bytes(id)
    }

    #[test]
    fn every_id_added_is_found_for_a_window_across_rotations() {
        let start = Instant::now();
        let window = Duration::from_secs(10);
        let mut ids = AnsweredIds::new(1000, window, start);
        // 900 ids per second for 40 s: generations fill up and rotate.
        let mut added = Vec::new();
        for step in 0..400u64 {
            let now = start + Duration::from_millis(step * 100);
            for i in 0..90 {
                let n = step * 90 + i;
                if ids.has_room(now, 0) {
                    ids.insert(&id(n), now);
                    added.push((n, now));
                }
            }
            for &(n, when) in added.iter().rev().take_while(|(_, t)| now - *t < window) {
                assert!(ids.contains(&id(n)), "id {n} added at {when:?} lost");
            }
        }
    }

    #[test]
    fn when_full_within_the_window_there_is_no_room() {
        let now = Instant::now();
        let mut ids = AnsweredIds::new(100, Duration::from_secs(10), now);
        let mut admitted = 0;
        for n in 0..1000 {
            if ids.has_room(now, 0) {
                ids.insert(&id(n), now);
                admitted += 1;
            }
        }
        // The current generation filled, rotated once (the previous was
        // empty), and filled again: nothing younger than the window is lost.
        assert_eq!(admitted, 200);
        assert!((0..200).all(|n| ids.contains(&id(n))));
        // A window later there is room again.
        assert!(ids.has_room(now + Duration::from_secs(10), 0));
    }

    #[test]
    fn reserved_ids_count_against_the_room() {
        let now = Instant::now();
        let mut ids = AnsweredIds::new(10, Duration::from_secs(10), now);
        for n in 0..10 {
            ids.insert(&id(n), now);
        }
        // Full: rotates (the previous is empty), then 9 reserved fit, 10 do not.
        assert!(ids.has_room(now, 9));
        ids.insert(&id(100), now);
        assert!(!ids.has_room(now, 9));
    }

    #[test]
    fn false_positives_at_capacity_stay_near_the_bound() {
        let now = Instant::now();
        let capacity = 20_000;
        let mut ids = AnsweredIds::new(capacity, Duration::from_secs(60), now);
        for n in 0..capacity as u64 {
            ids.insert(&id(n), now);
        }
        let trials = 100_000;
        let false_positives = (0..trials)
            .filter(|n| ids.contains(&id(1 << 40 | n)))
            .count();
        let rate = false_positives as f64 / trials as f64;
        let bound = ids.false_positive_bound();
        eprintln!("false positives at capacity: measured {rate}, bound {bound}");
        assert!(bound < 0.01, "{bound}");
        // Generous: the measured rate is a sample around the bound.
        assert!(rate < 2.0 * bound, "measured {rate}, bound {bound}");
    }
}
