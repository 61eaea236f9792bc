//! How long a client may resend one request, and the one retry schedule
//! every client of this project follows.
//!
//! A retransmitted request makes the server derive the same key and reply
//! nonce again, so under suite 1 the server must answer every copy with the
//! same bytes: servers remember their replies for a while (the reply cache)
//! and a client must stop sending copies before they forget. That bound is
//! [`RETRANSMISSION_WINDOW`]: no client sends a copy of a request later
//! than this after its first copy, and no server remembers its replies for
//! less than [`MIN_REPLY_MEMORY`] (the window plus the time a late copy may
//! spend in the network). A caller that wants to keep trying past the window
//! sends a *fresh* request (a new ephemeral key, a new request id): its
//! handler may then run twice (at-least-once), but never under one nonce.

use core::time::Duration;

use crate::{Error, Result};

/// The longest time between the first and the last copy of one request
/// that a client sends.
pub const RETRANSMISSION_WINDOW: Duration = Duration::from_millis(RETRANSMISSION_WINDOW_MS);
/// [`RETRANSMISSION_WINDOW`] in milliseconds (for C and Python).
pub const RETRANSMISSION_WINDOW_MS: u64 = 10_000;

/// How long a copy sent at the end of the window may still be on its way.
const DELIVERY_MARGIN_MS: u64 = 1_500;

/// The shortest time a server may remember a request and its reply: a copy
/// sent within [`RETRANSMISSION_WINDOW`] and delivered within the margin
/// still finds it. Servers refuse a reply-cache TTL below this.
pub const MIN_REPLY_MEMORY: Duration =
    Duration::from_millis(RETRANSMISSION_WINDOW_MS + DELIVERY_MARGIN_MS);

/// When a client sends the copies of one request and when it gives up: the
/// first copy waits `first_wait` for the reply, each later wait is twice the
/// one before up to [`MAX_WAIT_FACTOR`] times the first, and `retries`
/// copies follow the first. Every copy is sent within
/// [`RETRANSMISSION_WINDOW`] of the first (checked by
/// [`RetrySchedule::new`]), so every schedule is safe with every server.
///
/// ```
/// use core::time::Duration;
/// use pssst_core::RetrySchedule;
///
/// let schedule = RetrySchedule::default(); // 500 ms, doubling up to 2 s, 6 retries
/// let waits: Vec<_> = schedule.waits().map(|w| w.as_millis()).collect();
/// assert_eq!(waits, [500, 1000, 2000, 2000, 2000, 2000, 2000]);
/// assert_eq!(schedule.give_up_after(), Duration::from_millis(11_500));
///
/// // A copy 15 s after the first: refused.
/// let long = RetrySchedule::new(Duration::from_secs(5), 2);
/// assert_eq!(long, Err(pssst_core::Error::RetryWindowExceeded));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RetrySchedule {
    first_wait: Duration,
    retries: u32,
}

/// The longest wait of a [`RetrySchedule`], in multiples of its first.
pub const MAX_WAIT_FACTOR: u32 = 4;

impl RetrySchedule {
    /// 500 ms, doubling up to 2 s, 6 retries: the last copy leaves 9.5 s
    /// after the first, and the client gives up after 11.5 s. Many short
    /// waits rather than few long ones: behind a balancer that pins flows,
    /// each retransmission (from a new source port) is a new draw, and a
    /// request stuck with a dead backend fails only if every draw hits it.
    pub const DEFAULT: RetrySchedule = RetrySchedule {
        first_wait: Duration::from_millis(500),
        retries: 6,
    };

    /// A schedule, or [`Error::RetryWindowExceeded`] when a copy would leave
    /// later than [`RETRANSMISSION_WINDOW`] after the first.
    pub fn new(first_wait: Duration, retries: u32) -> Result<RetrySchedule> {
        let schedule = RetrySchedule {
            first_wait,
            retries,
        };
        if schedule.last_copy_after() > RETRANSMISSION_WINDOW {
            return Err(Error::RetryWindowExceeded);
        }
        Ok(schedule)
    }

    /// How long the first copy waits for the reply.
    pub fn first_wait(&self) -> Duration {
        self.first_wait
    }

    /// Copies sent after the first.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The longest wait: [`MAX_WAIT_FACTOR`] times the first.
    pub fn max_wait(&self) -> Duration {
        self.first_wait.saturating_mul(MAX_WAIT_FACTOR)
    }

    /// Each copy's wait for the reply, in order (`retries + 1` of them):
    /// send a copy, wait this long, send the next.
    pub fn waits(&self) -> impl Iterator<Item = Duration> + use<> {
        let max_wait = self.max_wait();
        let mut wait = self.first_wait;
        (0..=self.retries).map(move |_| {
            let this = wait;
            wait = wait.saturating_mul(2).min(max_wait);
            this
        })
    }

    /// From the first copy to the last (the sum of every wait but the last).
    pub fn last_copy_after(&self) -> Duration {
        self.total_of(self.retries)
    }

    /// From the first copy to giving up: the sum of the waits.
    pub fn give_up_after(&self) -> Duration {
        self.total_of(self.retries.saturating_add(1))
    }

    /// The sum of the first `count` waits, in a few steps however many
    /// retries there are (once a wait reaches the maximum, the rest do too).
    fn total_of(&self, count: u32) -> Duration {
        let max_wait = self.max_wait();
        let mut total = Duration::ZERO;
        let mut wait = self.first_wait;
        for summed in 0..count {
            if wait >= max_wait {
                return total.saturating_add(max_wait.saturating_mul(count - summed));
            }
            total = total.saturating_add(wait);
            wait = wait.saturating_mul(2).min(max_wait);
        }
        total
    }
}

impl Default for RetrySchedule {
    fn default() -> RetrySchedule {
        RetrySchedule::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn the_default_is_a_valid_schedule_inside_the_window() {
        let d = RetrySchedule::DEFAULT;
        assert_eq!(RetrySchedule::new(d.first_wait, d.retries), Ok(d));
        assert_eq!(d.max_wait(), ms(2_000));
        assert_eq!(d.last_copy_after(), ms(9_500));
        assert_eq!(d.give_up_after(), ms(11_500));
        assert!(d.give_up_after() <= MIN_REPLY_MEMORY);
    }

    #[test]
    fn totals_match_the_waits() {
        for (first, retries) in [(100, 0), (100, 3), (250, 9), (7, 300), (0, 5)] {
            let s = RetrySchedule::new(ms(first), retries).unwrap();
            let waits: std::vec::Vec<Duration> = s.waits().collect();
            assert_eq!(waits.len(), retries as usize + 1);
            assert_eq!(s.give_up_after(), waits.iter().sum());
            assert_eq!(s.last_copy_after(), waits[..retries as usize].iter().sum());
        }
    }

    #[test]
    fn a_copy_past_the_window_is_refused() {
        // 5 s, then 10 s: the third copy would leave at 15 s.
        assert_eq!(
            RetrySchedule::new(ms(5_000), 2),
            Err(Error::RetryWindowExceeded)
        );
        // A copy exactly at the window is fine; a millisecond later is not.
        let at_the_edge = RetrySchedule::new(ms(10_000), 1).unwrap();
        assert_eq!(at_the_edge.last_copy_after(), RETRANSMISSION_WINDOW);
        assert!(RetrySchedule::new(ms(10_001), 1).is_err());
        // One copy may wait as long as it likes: nothing is resent.
        assert!(RetrySchedule::new(ms(600_000), 0).is_ok());
        // Huge values saturate instead of overflowing.
        assert!(RetrySchedule::new(Duration::MAX, u32::MAX).is_err());
    }
}
