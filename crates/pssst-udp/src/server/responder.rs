//! Handlers that answer later: [`DeferredHandler`] and its [`Responder`].

use std::cell::RefCell;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use pssst_core::{Client, ServerReplyHandler};
use zeroize::Zeroize;

use super::{Handler, Request};
use crate::MAX_DATAGRAM;
use crate::cache::{Reservation, Verdict};
use crate::stats::{Counter, HandlerTimer, WorkerStats};

/// The application, for handlers that answer later: a slow backend, a
/// command, an HTTP call. The worker decrypts the request, calls `handle`,
/// and goes straight back to its socket; the handler answers through
/// `responder` whenever it is ready, from any thread. Many requests are then
/// in flight at once, up to [`ServerConfig::max_in_flight`](crate::ServerConfig::max_in_flight);
/// past it new requests are dropped ([`Counter::DroppedBusy`]).
///
/// `handle` itself must return quickly (hand the work to a thread, a
/// thread pool or an async runtime) and must copy what it needs from
/// `request`: the worker wipes the decrypted message as soon as `handle`
/// returns. Dropping the responder without answering means no reply.
///
/// A completion handle rather than an `async fn`: it works with any
/// runtime (tokio, a thread pool, a C callback) or none, the transport
/// allocates no boxed future per request, and the responder is the
/// request's in-flight slot, freed whatever path the handler takes.
///
/// ```
/// use pssst_udp::{ClientConfig, DeferredHandler, Request, Responder, ServerConfig, UdpClient, UdpServer};
///
/// /// Answers on a thread of its own, a while later.
/// struct Later;
///
/// impl DeferredHandler for Later {
///     fn handle(&self, request: &Request<'_>, responder: Responder) {
///         let message = request.message.to_vec();
///         std::thread::spawn(move || {
///             std::thread::sleep(std::time::Duration::from_millis(10));
///             responder.reply(&message);
///         });
///     }
/// }
///
/// let (server_key, server_public) = pssst_core::generate_key_pair()?;
/// let server = UdpServer::bind_deferred("127.0.0.1:0".parse()?, server_key, ServerConfig::default(), Later)?;
/// let client = pssst_core::Client::new(server_public)?;
/// let mut udp = UdpClient::connect(server.local_addr(), client, ClientConfig::default())?;
/// assert_eq!(udp.request(b"hello")?, b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait DeferredHandler: Send + Sync + 'static {
    /// Takes one request; answer it through `responder`, now or later.
    fn handle(&self, request: &Request<'_>, responder: Responder);
}

impl<F> DeferredHandler for F
where
    F: Fn(&Request<'_>, Responder) + Send + Sync + 'static,
{
    fn handle(&self, request: &Request<'_>, responder: Responder) {
        self(request, responder)
    }
}

/// Why a [`DeferredHandler`] gives no reply, when it is not its choice;
/// each is counted under its own [`Counter`].
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

/// Answers one request, once, from any thread. Consumed by answering;
/// dropping it unanswered counts [`Counter::NoReply`]. While it lives it
/// holds one of the server's in-flight slots.
#[derive(Debug)]
#[must_use = "dropping a responder sends no reply"]
pub struct Responder {
    pending: Option<Pending>,
}

#[derive(Debug)]
struct Pending {
    reply_handler: ServerReplyHandler,
    socket: Arc<UdpSocket>,
    peer: SocketAddr,
    max_packet: usize,
    reservation: Option<Reservation>,
    stats: Arc<[WorkerStats]>,
    worker: usize,
    /// Replies sent under the key that opened the request.
    key_answered: Arc<AtomicU64>,
    handler_timer: Arc<HandlerTimer>,
    handed_over: Instant,
    _slot: InFlightSlot,
}

/// What a responder needs from the worker that made it.
pub(super) struct Origin<'a> {
    pub(super) socket: &'a Arc<UdpSocket>,
    pub(super) stats: &'a Arc<[WorkerStats]>,
    pub(super) worker: usize,
    pub(super) handler_timer: &'a Arc<HandlerTimer>,
}

impl Responder {
    pub(super) fn new(
        origin: &Origin<'_>,
        reply_handler: ServerReplyHandler,
        peer: SocketAddr,
        max_packet: usize,
        reservation: Option<Reservation>,
        slot: InFlightSlot,
        key_answered: Arc<AtomicU64>,
    ) -> Responder {
        Responder {
            pending: Some(Pending {
                reply_handler,
                socket: Arc::clone(origin.socket),
                peer,
                max_packet,
                reservation,
                stats: Arc::clone(origin.stats),
                worker: origin.worker,
                key_answered,
                handler_timer: Arc::clone(origin.handler_timer),
                handed_over: Instant::now(),
                _slot: slot,
            }),
        }
    }

    /// The longest reply message that will be sent (see
    /// [`Request::max_reply_len`]).
    pub fn max_reply_len(&self) -> usize {
        self.pending
            .as_ref()
            .map_or(0, |p| p.max_packet - pssst_core::PACKET_OVERHEAD)
    }

    /// Seals `message` and sends it. Returns how the request ended:
    /// [`Counter::Answered`], or why it was not (too large, send failed,
    /// or [`Counter::HandlerTimedOut`] when the reply cache forgot the
    /// request before the handler finished: sending then could give a
    /// retry different bytes under the same nonce).
    pub fn reply(mut self, message: &[u8]) -> Counter {
        match self.pending.take() {
            Some(pending) => pending.reply(message),
            None => Counter::NoReply,
        }
    }

    /// Sends nothing, by the handler's choice ([`Counter::NoReply`]).
    pub fn no_reply(self) -> Counter {
        self.fail_with(Counter::NoReply)
    }

    /// Sends nothing, and counts why.
    pub fn fail(self, failure: HandlerFailure) -> Counter {
        self.fail_with(failure.counter())
    }

    fn fail_with(mut self, counter: Counter) -> Counter {
        if let Some(pending) = self.pending.take() {
            pending.finish_without_reply(counter);
        }
        counter
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if let Some(pending) = self.pending.take() {
            pending.finish_without_reply(Counter::NoReply);
        }
    }
}

thread_local! {
    /// Where replies are sealed: one buffer per thread, not per reply.
    static SEALED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Pending {
    fn reply(self, message: &[u8]) -> Counter {
        self.handler_timer.record(self.handed_over.elapsed());
        // No reply larger than its request (unless allowed), none larger
        // than a datagram.
        let too_large = match Client::reply_len(message.len()) {
            Ok(len) if len > MAX_DATAGRAM => Some(Counter::DroppedReplyTooLarge),
            Ok(len) if len > self.max_packet => Some(Counter::DroppedAmplification),
            Ok(_) => None,
            Err(_) => Some(Counter::DroppedReplyTooLarge),
        };
        if let Some(counter) = too_large {
            self.finish_without_reply(counter);
            return counter;
        }
        SEALED.with_borrow_mut(|out| {
            out.resize(MAX_DATAGRAM, 0);
            let Pending {
                reply_handler,
                socket,
                peer,
                reservation,
                stats,
                worker,
                key_answered,
                ..
            } = self;
            let counter = match reply_handler.pack_reply_into(message, out) {
                Err(_) => Counter::DroppedReplyTooLarge,
                Ok(len) => {
                    let live =
                        reservation.is_none_or(|r| r.settle(Verdict::Reply(out[..len].into())));
                    if !live {
                        Counter::HandlerTimedOut
                    } else if socket.send_to(&out[..len], peer).is_ok() {
                        key_answered.fetch_add(1, Ordering::Relaxed);
                        Counter::Answered
                    } else {
                        Counter::SendFailed
                    }
                }
            };
            stats[worker].bump(counter);
            counter
        })
    }

    fn finish_without_reply(self, counter: Counter) {
        self.handler_timer.record(self.handed_over.elapsed());
        if let Some(reservation) = self.reservation {
            if counter == Counter::HandlerUnreachable {
                // Never started: forgotten (dropped unsettled), so a retry
                // gets a second chance. No bytes went out either way.
                drop(reservation);
            } else {
                // Copies get the same nothing.
                let _ = reservation.settle(Verdict::Dropped(counter));
            }
        }
        self.stats[self.worker].bump(counter);
    }
}

/// One of the server's in-flight slots, given back on drop.
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

/// A blocking [`Handler`] as a [`DeferredHandler`]: answered on the worker,
/// before it takes the next datagram.
pub(super) struct Blocking<H>(pub(super) H);

thread_local! {
    /// The plaintext reply of a blocking handler, wiped after each request.
    static PLAINTEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl<H: Handler> DeferredHandler for Blocking<H> {
    fn handle(&self, request: &Request<'_>, responder: Responder) {
        PLAINTEXT.with_borrow_mut(|reply| {
            let reply = WipeOnDrop(reply);
            reply.0.clear();
            if self.0.handle(request, &mut *reply.0) {
                responder.reply(reply.0);
            } else {
                responder.no_reply();
            }
        });
    }
}

/// Wipes a buffer however the scope is left (a panicking handler too).
struct WipeOnDrop<'a>(&'a mut Vec<u8>);

impl Drop for WipeOnDrop<'_> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}
