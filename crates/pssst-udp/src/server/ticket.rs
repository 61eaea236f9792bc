//! [`Ticket`]: one admitted request, from the handler to the sealed reply,
//! and [`Tally`], where it counts how it ended.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pssst_core::{PACKET_OVERHEAD, ServerReplyHandler};

use crate::MAX_DATAGRAM;
use crate::cache::{Reservation, Verdict};
use crate::stats::{Counter, ReplyCount};

/// Where a [`Ticket`] counts how its request ended: exactly one
/// [`count`](Tally::count) per ticket (none for [`Ticket::cancel`]).
/// Cloned into every ticket, so make it cheap to clone (an `Arc`).
pub trait Tally {
    /// One request ended this way.
    fn count(&self, counter: Counter);

    /// How long the handler took, from admission to its answer (or to
    /// giving up). Ignored by default.
    fn handler_took(&self, took: Duration) {
        let _ = took;
    }
}

/// Why a handler gives no reply, when it is not its choice; each is
/// counted under its own [`Counter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandlerFailure {
    /// The work failed: an error status, a non-zero exit
    /// ([`Counter::HandlerFailed`]).
    Failed,
    /// The work took too long ([`Counter::HandlerTimedOut`]).
    TimedOut,
    /// The work could not be started or reached: a backend down, a command
    /// that cannot run ([`Counter::HandlerUnreachable`]). Nothing was done
    /// and nothing sent, so the reply cache forgets the request: a retry
    /// tries again.
    Unreachable,
}

impl HandlerFailure {
    fn counter(self) -> Counter {
        match self {
            HandlerFailure::Failed => Counter::HandlerFailed,
            HandlerFailure::TimedOut => Counter::HandlerTimedOut,
            HandlerFailure::Unreachable => Counter::HandlerUnreachable,
        }
    }
}

/// One admitted request until it is answered, from any thread: it holds
/// the reply key, the reply cache reservation and one of the in-flight
/// slots. Consumed by answering; dropping it unanswered counts
/// [`Counter::NoReply`] (and copies of the request get nothing too).
#[must_use = "dropping a ticket sends no reply"]
pub struct Ticket<T: Tally> {
    // `None` only once a method taking the ticket by value took it (then `Drop` has nothing to do).
    open: Option<Open<T>>,
}

struct Open<T: Tally> {
    reply_handler: ServerReplyHandler,
    max_packet: usize,
    reservation: Option<Reservation>,
    /// Replies sent under the key that opened the request.
    key_replies: ReplyCount,
    tally: T,
    admitted: Instant,
    _slot: InFlightSlot,
}

thread_local! {
    /// Where replies are sealed: one buffer per thread, not per reply.
    static SEALED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl<T: Tally> Ticket<T> {
    pub(super) fn new(
        reply_handler: ServerReplyHandler,
        max_packet: usize,
        reservation: Option<Reservation>,
        key_replies: ReplyCount,
        tally: T,
        slot: InFlightSlot,
    ) -> Ticket<T> {
        Ticket {
            open: Some(Open {
                reply_handler,
                max_packet,
                reservation,
                key_replies,
                tally,
                admitted: Instant::now(),
                _slot: slot,
            }),
        }
    }

    /// The longest reply message that will be sent: without
    /// anti-amplification relief, the sealed reply may not be larger than
    /// its request.
    pub fn max_reply_len(&self) -> usize {
        self.open().max_packet - PACKET_OVERHEAD
    }

    /// Seals `message`, remembers it in the reply cache, and hands the
    /// packet to `send`. Returns how the request ended, as counted:
    /// [`Counter::Answered`], or why nothing was sent (too large for the
    /// request or a datagram).
    /// `send`'s error comes back as is, counted as [`Counter::SendFailed`].
    pub fn reply<E>(
        self,
        message: &[u8],
        send: impl FnOnce(&[u8]) -> Result<(), E>,
    ) -> Result<Counter, E> {
        self.into_open().reply(message, send)
    }

    /// Sends nothing, by the handler's choice ([`Counter::NoReply`]).
    pub fn no_reply(self) -> Counter {
        self.finish(Counter::NoReply)
    }

    /// Sends nothing, and counts why.
    pub fn fail(self, failure: HandlerFailure) -> Counter {
        self.finish(failure.counter())
    }

    /// Gives up without an outcome of its own (the transport closing):
    /// nothing is sent or counted, and the reply cache forgets the request.
    /// The caller counts it its own way.
    pub fn cancel(self) {
        drop(self.into_open());
    }

    fn finish(self, counter: Counter) -> Counter {
        self.into_open().finish_without_reply(counter);
        counter
    }

    /// The request's state. A ticket is open from `new` until a method
    /// taking it by value (or `Drop`) takes its state out, so no `&self`
    /// method ever sees it closed.
    fn open(&self) -> &Open<T> {
        self.open.as_ref().expect("a ticket is open until consumed")
    }

    /// Takes the state out, disarming `Drop` (see [`open`](Self::open)).
    fn into_open(mut self) -> Open<T> {
        self.open.take().expect("a ticket is open until consumed")
    }
}

impl<T: Tally> Drop for Ticket<T> {
    fn drop(&mut self) {
        if let Some(open) = self.open.take() {
            open.finish_without_reply(Counter::NoReply);
        }
    }
}

impl<T: Tally> std::fmt::Debug for Ticket<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("max_reply_len", &self.max_reply_len())
            .finish_non_exhaustive()
    }
}

impl<T: Tally> Open<T> {
    fn reply<E>(
        self,
        message: &[u8],
        send: impl FnOnce(&[u8]) -> Result<(), E>,
    ) -> Result<Counter, E> {
        self.tally.handler_took(self.admitted.elapsed());
        // No reply larger than its request (unless allowed), none larger
        // than a datagram.
        let too_large = match self.reply_handler.reply_len(message.len()) {
            Ok(len) if len > MAX_DATAGRAM => Some(Counter::DroppedReplyTooLarge),
            Ok(len) if len > self.max_packet => Some(Counter::DroppedAmplification),
            Ok(_) => None,
            Err(_) => Some(Counter::DroppedReplyTooLarge),
        };
        if let Some(counter) = too_large {
            self.finish_without_reply(counter);
            return Ok(counter);
        }
        with_seal_buffer(|out| {
            out.resize(MAX_DATAGRAM, 0);
            let Open {
                reply_handler,
                reservation,
                key_replies,
                tally,
                ..
            } = self;
            let ended = match reply_handler.pack_reply_into(message, out) {
                Err(_) => Ok(Counter::DroppedReplyTooLarge),
                Ok(len) => {
                    if let Some(reservation) = reservation {
                        reservation.settle(Verdict::Reply {
                            packet: out[..len].into(),
                            key_replies: key_replies.clone(),
                        });
                    }
                    send(&out[..len]).map(|()| {
                        key_replies.bump();
                        Counter::Answered
                    })
                }
            };
            tally.count(*ended.as_ref().unwrap_or(&Counter::SendFailed));
            // The in-flight slot goes back after the count.
            ended
        })
    }

    fn finish_without_reply(self, counter: Counter) {
        self.tally.handler_took(self.admitted.elapsed());
        if let Some(reservation) = self.reservation {
            if counter == Counter::HandlerUnreachable {
                // Never started: forgotten (dropped unsettled), so a retry
                // gets a second chance. No bytes went out either way.
                drop(reservation);
            } else {
                // Copies get the same nothing.
                reservation.settle(Verdict::Dropped(counter));
            }
        }
        self.tally.count(counter);
    }
}

/// Runs `seal` on this thread's sealing buffer, or on a fresh one when a
/// reply is sealed from inside another's `send` (the buffer is in use).
fn with_seal_buffer<R>(seal: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    SEALED.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut out) => seal(&mut out),
        Err(_) => seal(&mut Vec::new()),
    })
}

/// One of the in-flight slots, given back on drop.
#[derive(Debug)]
pub(super) struct InFlightSlot(Arc<AtomicUsize>);

impl InFlightSlot {
    /// A slot, if fewer than `max` are taken.
    pub(super) fn try_take(in_flight: &Arc<AtomicUsize>, max: usize) -> Option<InFlightSlot> {
        in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| InFlightSlot(Arc::clone(in_flight)))
    }
}

impl Drop for InFlightSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
