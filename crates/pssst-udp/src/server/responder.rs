//! Handlers that answer later: [`DeferredHandler`] and its [`Responder`].

use std::cell::RefCell;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroize;

use super::ticket::{HandlerFailure, Tally, Ticket};
use super::{Handler, Request};
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
/// use pssst_udp::{RetrySchedule, DeferredHandler, Request, Responder, ServerConfig, UdpClient, UdpServer};
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
/// let mut udp = UdpClient::connect(server.local_addr(), client, RetrySchedule::default())?;
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

/// Answers one request, once, from any thread. Consumed by answering;
/// dropping it unanswered counts [`Counter::NoReply`]. While it lives it
/// holds one of the server's in-flight slots.
#[derive(Debug)]
#[must_use = "dropping a responder sends no reply"]
pub struct Responder {
    ticket: Ticket<WorkerTally>,
    socket: Arc<UdpSocket>,
    peer: SocketAddr,
}

/// Where a worker's requests are counted, whichever thread answers them.
#[derive(Debug, Clone)]
pub(super) struct WorkerTally {
    pub(super) stats: Arc<[WorkerStats]>,
    pub(super) worker: usize,
    pub(super) handler_timer: Arc<HandlerTimer>,
}

impl Tally for WorkerTally {
    fn count(&self, counter: Counter) {
        self.stats[self.worker].bump(counter);
    }

    fn handler_took(&self, took: Duration) {
        self.handler_timer.record(took);
    }
}

impl Responder {
    pub(super) fn new(
        ticket: Ticket<WorkerTally>,
        socket: Arc<UdpSocket>,
        peer: SocketAddr,
    ) -> Responder {
        Responder {
            ticket,
            socket,
            peer,
        }
    }

    /// The longest reply message that will be sent (see
    /// [`Request::max_reply_len`]).
    pub fn max_reply_len(&self) -> usize {
        self.ticket.max_reply_len()
    }

    /// Seals `message` and sends it. Returns how the request ended:
    /// [`Counter::Answered`], or why it was not (too large for the request
    /// or a datagram, or the send failed). However long the handler took,
    /// the reply cache holds the request's id while it runs, so a copy
    /// never runs it twice.
    pub fn reply(self, message: &[u8]) -> Counter {
        let Responder {
            ticket,
            socket,
            peer,
        } = self;
        ticket
            .reply(message, |packet| socket.send_to(packet, peer).map(drop))
            .unwrap_or(Counter::SendFailed)
    }

    /// Sends nothing, by the handler's choice ([`Counter::NoReply`]).
    pub fn no_reply(self) -> Counter {
        self.ticket.no_reply()
    }

    /// Sends nothing, and counts why.
    pub fn fail(self, failure: HandlerFailure) -> Counter {
        self.ticket.fail(failure)
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
