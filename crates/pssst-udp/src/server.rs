//! The UDP server: one worker thread per core, each with its own socket
//! bound to the same address with `SO_REUSEPORT`, so the kernel spreads
//! datagrams over the workers and no lock or queue sits between them.

use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use pssst_core::{PublicKey, RequestId};

use crate::stats::{HandlerDurations, HandlerTimer, Stats, WorkerStats};

mod config;
mod intake;
mod keys;
mod responder;
mod sockets;
mod ticket;
mod worker;

pub use config::ServerConfig;
pub use intake::{Admission, Admitted, Intake};
pub use keys::ServerKeys;
pub use responder::{DeferredHandler, Responder};
pub use ticket::{HandlerFailure, Tally, Ticket};

/// One request, as a [`Handler`] sees it.
#[derive(Debug)]
pub struct Request<'a> {
    /// The decrypted application message.
    pub message: &'a [u8],
    /// The client's authenticated public key; `None` for anonymous requests.
    pub client_public_key: Option<PublicKey>,
    /// Where the datagram came from (not authenticated: it can be spoofed).
    pub peer: SocketAddr,
    /// The request's id (its DH parameter): the same for every
    /// retransmission of one request, different for every new request.
    pub request_id: RequestId,
    /// The longest reply message the server will send to this request
    /// (longer ones are dropped): without [`ServerConfig::allow_amplification`]
    /// the reply packet may not be larger than the request. A handler can
    /// stop producing output once past it.
    pub max_reply_len: usize,
}

impl<'a> Request<'a> {
    /// What a handler sees of an admitted request: the intake's view, and
    /// where the datagram came from (which only the transport knows).
    fn new(admitted: Admitted<'a>, peer: SocketAddr) -> Request<'a> {
        Request {
            message: admitted.message,
            client_public_key: admitted.client_public_key,
            peer,
            request_id: admitted.request_id,
            max_reply_len: admitted.max_reply_len,
        }
    }
}

/// The application: turns a request into a reply, on the worker thread
/// (the worker takes its next datagram when it returns). For handlers that
/// wait on something, see [`DeferredHandler`].
///
/// `reply` is empty on entry; write the reply into it and return `true` to
/// send it, or return `false` to send nothing. Called concurrently from
/// every worker.
///
/// A retransmitted request must get a byte-identical reply: both are
/// encrypted with the same key and nonce. Make the reply a function of the
/// request, or turn on the server's reply cache
/// ([`ServerConfig::reply_cache`]).
pub trait Handler: Send + Sync + 'static {
    /// Handles one request.
    fn handle(&self, request: &Request<'_>, reply: &mut Vec<u8>) -> bool;
}

impl<F> Handler for F
where
    F: Fn(&Request<'_>, &mut Vec<u8>) -> bool + Send + Sync + 'static,
{
    fn handle(&self, request: &Request<'_>, reply: &mut Vec<u8>) -> bool {
        self(request, reply)
    }
}

/// Replies with the request's message.
#[derive(Debug, Clone, Copy, Default)]
pub struct Echo;

impl Handler for Echo {
    fn handle(&self, request: &Request<'_>, reply: &mut Vec<u8>) -> bool {
        reply.extend_from_slice(request.message);
        true
    }
}

/// A running server. Stops when [`shutdown`](UdpServer::shutdown) is called
/// or when dropped.
#[derive(Debug)]
pub struct UdpServer {
    local_addr: SocketAddr,
    intake: Arc<Intake>,
    shutdown: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
    stats: Arc<[WorkerStats]>,
    drain_timeout: Duration,
    handler_timer: Arc<HandlerTimer>,
}

/// Reads a running server's counters: see [`UdpServer::monitor`]. Cheap to
/// clone; reading never blocks the workers for long.
#[derive(Debug, Clone)]
pub struct ServerMonitor {
    stats: Arc<[WorkerStats]>,
    intake: Arc<Intake>,
    handler_timer: Arc<HandlerTimer>,
}

impl ServerMonitor {
    /// The counters so far, summed over the workers.
    pub fn stats(&self) -> Stats {
        Stats::sum(self.stats.iter())
    }

    /// Requests handed to the handler and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.intake.in_flight()
    }

    /// Each public key served, in the order tried, with the replies sent
    /// under it.
    pub fn replies_by_key(&self) -> Vec<(PublicKey, u64)> {
        self.intake.replies_by_key()
    }

    /// How long handlers took so far.
    pub fn handler_durations(&self) -> HandlerDurations {
        self.handler_timer.snapshot()
    }
}

/// What every worker shares (read-only, but for counters).
struct Shared<H> {
    intake: Arc<Intake>,
    handler: H,
    shutdown: Arc<AtomicBool>,
    stats: Arc<[WorkerStats]>,
    handler_timer: Arc<HandlerTimer>,
}

impl UdpServer {
    /// Binds `addr` (port 0 picks a free port) and starts the workers.
    ///
    /// Fails with `AddrInUse` when another process serves `addr` (unless
    /// [`ServerConfig::reuse_port`]), and with `InvalidInput` for a reply
    /// cache TTL shorter than the default client's retries.
    pub fn bind<H: Handler>(
        addr: SocketAddr,
        keys: impl Into<ServerKeys>,
        config: ServerConfig,
        handler: H,
    ) -> io::Result<UdpServer> {
        UdpServer::bind_deferred(addr, keys, config, responder::Blocking(handler))
    }

    /// Like [`bind`](Self::bind), for a handler that answers later: many
    /// requests in flight at once, none waiting for another.
    pub fn bind_deferred<H: DeferredHandler>(
        addr: SocketAddr,
        keys: impl Into<ServerKeys>,
        config: ServerConfig,
        handler: H,
    ) -> io::Result<UdpServer> {
        let intake = Arc::new(Intake::new(keys, &config)?);
        let workers = match config.workers {
            0 => thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let sockets = sockets::bind_sockets(addr, workers, &config)?;
        let local_addr = sockets[0].local_addr()?;
        let shutdown = Arc::new(AtomicBool::new(false));
        let stats: Arc<[WorkerStats]> = (0..workers).map(|_| WorkerStats::default()).collect();
        let handler_timer = Arc::new(HandlerTimer::default());
        let shared = Arc::new(Shared {
            intake: Arc::clone(&intake),
            handler,
            shutdown: Arc::clone(&shutdown),
            stats: Arc::clone(&stats),
            handler_timer: Arc::clone(&handler_timer),
        });
        let mut handles = Vec::with_capacity(workers);
        for (index, socket) in sockets.into_iter().enumerate() {
            let shared = Arc::clone(&shared);
            let spawned = thread::Builder::new()
                .name(format!("pssst-udp-{index}"))
                .spawn(move || worker::worker(&shared, Arc::new(socket), index));
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    shutdown.store(true, Ordering::Relaxed);
                    for handle in handles {
                        let _ = handle.join();
                    }
                    return Err(e);
                }
            }
        }
        Ok(UdpServer {
            local_addr,
            intake,
            shutdown,
            workers: handles,
            stats,
            drain_timeout: config.drain_timeout,
            handler_timer,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The public key clients must encrypt to (the first of its keys).
    pub fn public_key(&self) -> PublicKey {
        self.intake.public_key()
    }

    /// Number of worker threads (and sockets).
    pub fn workers(&self) -> usize {
        self.stats.len()
    }

    /// A handle that reads the server's counters from anywhere (a metrics
    /// endpoint, another thread), for as long as it is kept.
    pub fn monitor(&self) -> ServerMonitor {
        ServerMonitor {
            stats: Arc::clone(&self.stats),
            intake: Arc::clone(&self.intake),
            handler_timer: Arc::clone(&self.handler_timer),
        }
    }

    /// The counters so far, summed over the workers.
    pub fn stats(&self) -> Stats {
        self.monitor().stats()
    }

    /// Requests handed to the handler and not answered yet.
    pub fn in_flight(&self) -> usize {
        self.monitor().in_flight()
    }

    /// Each public key the server answers to, in the order tried, with the
    /// replies sent under it so far (a key kept across reloads keeps its count).
    pub fn replies_by_key(&self) -> Vec<(PublicKey, u64)> {
        self.monitor().replies_by_key()
    }

    /// How long handlers took so far.
    pub fn handler_durations(&self) -> HandlerDurations {
        self.monitor().handler_durations()
    }

    /// Replaces the keys and the allowlist (`None`: an open service) at
    /// once, while the workers keep serving: each request is handled
    /// entirely under the old or entirely under the new set.
    pub fn reload(&self, keys: ServerKeys, authorized_clients: Option<HashSet<PublicKey>>) {
        self.intake.reload(keys, authorized_clients);
    }

    /// Stops taking datagrams, waits for the workers (about one poll
    /// interval plus the request in hand), then for the requests in flight
    /// to be answered (at most [`ServerConfig::drain_timeout`]), and
    /// returns the counters.
    pub fn shutdown(mut self) -> Stats {
        self.stop();
        self.stats()
    }

    fn stop(&mut self) {
        self.shutdown.store(true, Ordering::Relaxed);
        for handle in self.workers.drain(..) {
            let _ = handle.join();
        }
        let give_up = Instant::now() + self.drain_timeout;
        while self.in_flight() > 0 && Instant::now() < give_up {
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for UdpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
