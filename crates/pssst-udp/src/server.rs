//! The UDP server: one worker thread per core, each with its own socket
//! bound to the same address with `SO_REUSEPORT`, so the kernel spreads
//! datagrams over the workers and no lock or queue sits between them.

use std::collections::HashSet;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use pssst_core::{DH_PARAM_LEN, Error, HEADER_LEN, PrivateKey, PublicKey, Server};
use socket2::{Domain, Protocol, Socket, Type};

use crate::MAX_DATAGRAM;
use crate::filter::{Precheck, precheck};
use crate::stats::{Counter, Stats, WorkerStats};

/// One request, as a [`Handler`] sees it.
#[derive(Debug)]
pub struct Request<'a> {
    /// The decrypted application message.
    pub message: &'a [u8],
    /// The client's authenticated public key; `None` for anonymous requests.
    pub client_public_key: Option<PublicKey>,
    /// Where the datagram came from (not authenticated: it can be spoofed).
    pub peer: SocketAddr,
    /// The request's DH parameter: the same for every retransmission of one
    /// request, different for every new request. Key a
    /// [`ReplyCache`](crate::ReplyCache) with it.
    pub request_id: [u8; DH_PARAM_LEN],
}

/// The application: turns a request into a reply.
///
/// `reply` is empty on entry; write the reply into it and return `true` to
/// send it, or return `false` to send nothing. Called concurrently from
/// every worker.
///
/// A retransmitted request must get a byte-identical reply: both are
/// encrypted with the same key and nonce. Make the reply a function of the
/// request, or remember it with a [`ReplyCache`](crate::ReplyCache).
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

/// How a [`UdpServer`] runs. Build it with the methods, starting from
/// [`ServerConfig::default()`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    workers: usize,
    allow_amplification: bool,
    authorized_clients: Option<HashSet<PublicKey>>,
    recv_buffer_bytes: usize,
    shutdown_poll: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            workers: 0,
            allow_amplification: false,
            authorized_clients: None,
            recv_buffer_bytes: 4 << 20,
            shutdown_poll: Duration::from_millis(50),
        }
    }
}

impl ServerConfig {
    /// Worker threads (each with its own socket); 0, the default, means one
    /// per available core.
    pub fn workers(mut self, workers: usize) -> ServerConfig {
        self.workers = workers;
        self
    }

    /// Anti-amplification. By default a reply to an anonymous request may
    /// not be larger than the request (a spoofed source address must not
    /// turn the server into an amplifier); replies to client-authenticated
    /// requests are not limited. `true` lifts the limit for anonymous ones.
    pub fn allow_amplification(mut self, allow: bool) -> ServerConfig {
        self.allow_amplification = allow;
        self
    }

    /// Closed service: answer only client-authenticated requests from these
    /// keys. Anonymous requests are dropped before any cryptography,
    /// requests from other keys after decryption, before the handler.
    pub fn authorized_clients(mut self, keys: impl IntoIterator<Item = PublicKey>) -> ServerConfig {
        self.authorized_clients = Some(keys.into_iter().collect());
        self
    }

    /// `SO_RCVBUF` asked for each socket (the kernel may cap it); default 4 MiB.
    pub fn recv_buffer_bytes(mut self, bytes: usize) -> ServerConfig {
        self.recv_buffer_bytes = bytes;
        self
    }

    /// How often idle workers look for a shutdown request; default 50 ms.
    pub fn shutdown_poll(mut self, interval: Duration) -> ServerConfig {
        self.shutdown_poll = interval;
        self
    }
}

/// A running server. Stops when [`shutdown`](UdpServer::shutdown) is called
/// or when dropped.
#[derive(Debug)]
pub struct UdpServer {
    local_addr: SocketAddr,
    public_key: PublicKey,
    shutdown: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
    stats: Arc<[WorkerStats]>,
}

/// What every worker shares (read-only).
struct Shared<H> {
    server: Server,
    handler: H,
    allow_amplification: bool,
    authorized_clients: Option<HashSet<PublicKey>>,
    shutdown: Arc<AtomicBool>,
    stats: Arc<[WorkerStats]>,
}

impl UdpServer {
    /// Binds `addr` (port 0 picks a free port) and starts the workers.
    pub fn bind<H: Handler>(
        addr: SocketAddr,
        key: PrivateKey,
        config: ServerConfig,
        handler: H,
    ) -> io::Result<UdpServer> {
        let workers = match config.workers {
            0 => thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let sockets = bind_sockets(addr, workers, &config)?;
        let local_addr = sockets[0].local_addr()?;
        let shutdown = Arc::new(AtomicBool::new(false));
        let stats: Arc<[WorkerStats]> = (0..workers).map(|_| WorkerStats::default()).collect();
        let server = Server::new(key);
        let public_key = server.public_key();
        let shared = Arc::new(Shared {
            server,
            handler,
            allow_amplification: config.allow_amplification,
            authorized_clients: config.authorized_clients,
            shutdown: Arc::clone(&shutdown),
            stats: Arc::clone(&stats),
        });
        let mut handles = Vec::with_capacity(workers);
        for (index, socket) in sockets.into_iter().enumerate() {
            let shared = Arc::clone(&shared);
            let spawned = thread::Builder::new()
                .name(format!("pssst-udp-{index}"))
                .spawn(move || worker(&shared, &socket, index));
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
            public_key,
            shutdown,
            workers: handles,
            stats,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The public key clients must encrypt to.
    pub fn public_key(&self) -> PublicKey {
        self.public_key
    }

    /// Number of worker threads (and sockets).
    pub fn workers(&self) -> usize {
        self.stats.len()
    }

    /// The counters so far, summed over the workers.
    pub fn stats(&self) -> Stats {
        Stats::sum(self.stats.iter())
    }

    /// Stops the workers, waits for them (at most about one poll interval
    /// plus the request in hand) and returns the final counters.
    pub fn shutdown(mut self) -> Stats {
        self.stop();
        self.stats()
    }

    fn stop(&mut self) {
        self.shutdown.store(true, Ordering::Relaxed);
        for handle in self.workers.drain(..) {
            let _ = handle.join();
        }
    }
}

impl Drop for UdpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `workers` sockets on one address. On Linux each has `SO_REUSEPORT`, so
/// the kernel balances datagrams across them by 4-tuple (a client's
/// retransmissions reach the same worker). Elsewhere the workers share
/// clones of one socket.
fn bind_sockets(
    addr: SocketAddr,
    workers: usize,
    config: &ServerConfig,
) -> io::Result<Vec<UdpSocket>> {
    let reuse_port = cfg!(any(target_os = "linux", target_os = "android")) && workers > 1;
    let first = new_socket(addr, reuse_port, config)?;
    let bound = first.local_addr()?;
    let mut sockets = vec![first];
    for _ in 1..workers {
        let next = if reuse_port {
            new_socket(bound, true, config)?
        } else {
            sockets[0].try_clone()?
        };
        sockets.push(next);
    }
    Ok(sockets)
}

fn new_socket(addr: SocketAddr, reuse_port: bool, config: &ServerConfig) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    #[cfg(not(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    )))]
    let _ = reuse_port;
    // Best effort: the kernel caps it at net.core.rmem_max.
    let _ = socket.set_recv_buffer_size(config.recv_buffer_bytes);
    socket.bind(&addr.into())?;
    socket.set_read_timeout(Some(config.shutdown_poll))?;
    Ok(socket.into())
}

/// One worker: receive, filter, decrypt, handle, encrypt, send. Allocates
/// nothing per packet (the handler may).
fn worker<H: Handler>(shared: &Shared<H>, socket: &UdpSocket, index: usize) {
    let stats = &shared.stats[index];
    let mut packet = vec![0u8; 1 << 16];
    let mut out = vec![0u8; 1 << 16];
    let mut reply = Vec::with_capacity(1 << 16);
    while !shared.shutdown.load(Ordering::Relaxed) {
        let (len, peer) = match socket.recv_from(&mut packet) {
            Ok(received) => received,
            Err(e) if is_transient(&e) => continue,
            // Anything else (e.g. an ICMP error surfacing) is about one
            // datagram, not the socket: keep serving.
            Err(_) => continue,
        };
        stats.bump(Counter::Received);
        let outcome = serve_one(shared, &mut packet[..len], peer, &mut reply, &mut out);
        let counter = match outcome {
            Outcome::Send(reply_len) => match socket.send_to(&out[..reply_len], peer) {
                Ok(_) => Counter::Answered,
                Err(_) => Counter::SendFailed,
            },
            Outcome::Done(counter) => counter,
        };
        stats.bump(counter);
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

enum Outcome {
    /// Send `out[..len]` back.
    Send(usize),
    /// Nothing to send; count this.
    Done(Counter),
}

fn serve_one<H: Handler>(
    shared: &Shared<H>,
    packet: &mut [u8],
    peer: SocketAddr,
    reply: &mut Vec<u8>,
    out: &mut [u8],
) -> Outcome {
    let client_auth = match precheck(packet, shared.authorized_clients.is_some()) {
        Precheck::Request { client_auth } => client_auth,
        Precheck::Drop(counter) => return Outcome::Done(counter),
    };
    let request_len = packet.len();
    let mut request_id = [0u8; DH_PARAM_LEN];
    request_id.copy_from_slice(&packet[HEADER_LEN..HEADER_LEN + DH_PARAM_LEN]);

    let request = match shared.server.unpack_request_in_place(packet) {
        Ok(request) => request,
        Err(Error::LowOrderPoint) => return Outcome::Done(Counter::DroppedLowOrder),
        Err(Error::ClientAuthFailed) => return Outcome::Done(Counter::DroppedClientAuthFailed),
        Err(Error::Truncated) => return Outcome::Done(Counter::DroppedShort),
        Err(_) => return Outcome::Done(Counter::DroppedDecryptFailed),
    };
    if let Some(allowed) = &shared.authorized_clients {
        let known = request
            .client_public_key
            .is_some_and(|key| allowed.contains(&key));
        if !known {
            return Outcome::Done(Counter::DroppedUnauthorized);
        }
    }

    let mut reply_handler = request.reply_handler;
    let incoming = Request {
        message: request.message,
        client_public_key: request.client_public_key,
        peer,
        request_id,
    };
    reply.clear();
    let answer = catch_unwind(AssertUnwindSafe(|| shared.handler.handle(&incoming, reply)));
    // A panicking handler costs one request, not the worker.
    if !matches!(answer, Ok(true)) {
        return Outcome::Done(Counter::NoReply);
    }

    let Ok(reply_len) = pssst_core::reply_len(reply.len()) else {
        return Outcome::Done(Counter::DroppedReplyTooLarge);
    };
    if reply_len > MAX_DATAGRAM {
        return Outcome::Done(Counter::DroppedReplyTooLarge);
    }
    if reply_len > request_len && !client_auth && !shared.allow_amplification {
        return Outcome::Done(Counter::DroppedAmplification);
    }
    match reply_handler.pack_reply_into(reply, out) {
        Ok(len) => Outcome::Send(len),
        Err(_) => Outcome::Done(Counter::DroppedReplyTooLarge),
    }
}
