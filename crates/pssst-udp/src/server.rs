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

use pssst_core::{DH_PARAM_LEN, Error, PACKET_OVERHEAD, PrivateKey, PublicKey, Server};
use socket2::{Domain, Protocol, Socket, Type};
use zeroize::Zeroize;

use crate::MAX_DATAGRAM;
use crate::cache::{Lookup, ReplyCache, Verdict};
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
    /// request, different for every new request.
    pub request_id: [u8; DH_PARAM_LEN],
    /// The longest reply message the server will send to this request
    /// (longer ones are dropped): without [`ServerConfig::allow_amplification`]
    /// the reply packet may not be larger than the request. A handler can
    /// stop producing output once past it.
    pub max_reply_len: usize,
}

/// The application: turns a request into a reply.
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

/// How a [`UdpServer`] runs. Build it with the methods, starting from
/// [`ServerConfig::default()`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    workers: usize,
    allow_amplification: bool,
    authorized_clients: Option<HashSet<PublicKey>>,
    reply_cache: Option<(usize, Duration)>,
    reuse_port: bool,
    recv_buffer_bytes: usize,
    shutdown_poll: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            workers: 0,
            allow_amplification: false,
            authorized_clients: None,
            reply_cache: None,
            reuse_port: false,
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

    /// Anti-amplification. By default no reply may be larger than the
    /// request that caused it, client-authenticated or not: a source
    /// address is not authenticated, and a recorded request (anyone's) can
    /// be replayed from a spoofed one, so the server must not turn into an
    /// amplifier. `true` lifts the limit.
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

    /// Remember every reply (the sealed packet) for `ttl`, in at most
    /// `budget_bytes`, so that copies of a request get the same bytes even
    /// from a handler whose output varies. Needed for such handlers: a
    /// retry is answered under the same AES-GCM key and nonce. Entries are
    /// never evicted early; when the budget is spent, new requests are
    /// dropped ([`Counter::DroppedCacheFull`](crate::Counter)). `ttl` must
    /// cover the default client's retries
    /// ([`ClientConfig::give_up_after`](crate::ClientConfig::give_up_after));
    /// [`UdpServer::bind`] refuses a shorter one.
    pub fn reply_cache(mut self, budget_bytes: usize, ttl: Duration) -> ServerConfig {
        self.reply_cache = Some((budget_bytes, ttl));
        self
    }

    /// Join a pool of processes serving the same address on this host (all
    /// of them with this set): the kernel spreads datagrams over them by
    /// flow. Off by default: [`UdpServer::bind`] then fails with
    /// `AddrInUse` when another process already serves the address, instead
    /// of silently taking a share of its traffic.
    pub fn reuse_port(mut self, join_pool: bool) -> ServerConfig {
        self.reuse_port = join_pool;
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
    reply_cache: Option<ReplyCache>,
    shutdown: Arc<AtomicBool>,
    stats: Arc<[WorkerStats]>,
}

impl UdpServer {
    /// Binds `addr` (port 0 picks a free port) and starts the workers.
    ///
    /// Fails with `AddrInUse` when another process serves `addr` (unless
    /// [`ServerConfig::reuse_port`]), and with `InvalidInput` for a reply
    /// cache TTL shorter than the default client's retries.
    pub fn bind<H: Handler>(
        addr: SocketAddr,
        key: PrivateKey,
        config: ServerConfig,
        handler: H,
    ) -> io::Result<UdpServer> {
        let reply_cache = match config.reply_cache {
            Some((_, ttl)) if ttl < ReplyCache::min_ttl() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "reply cache TTL {ttl:?} is shorter than a default client's retries ({:?})",
                        ReplyCache::min_ttl()
                    ),
                ));
            }
            Some((budget, ttl)) => Some(ReplyCache::new(budget, ttl)),
            None => None,
        };
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
            reply_cache,
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
///
/// The kernel puts every `SO_REUSEPORT` socket of the same user on one
/// address into one group, another process's too. Unless asked to join a
/// pool, a socket without the option is bound first, alone: it fails if
/// anyone else holds the address.
fn bind_sockets(
    addr: SocketAddr,
    workers: usize,
    config: &ServerConfig,
) -> io::Result<Vec<UdpSocket>> {
    let linux = cfg!(any(target_os = "linux", target_os = "android"));
    let reuse_port = linux && (workers > 1 || config.reuse_port);
    if reuse_port && !config.reuse_port && addr.port() != 0 {
        drop(new_socket(addr, false, config)?);
    }
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
        // The buffers held the plaintexts (the client's proof C || e too).
        packet[..len].zeroize();
        reply.as_mut_slice().zeroize();
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
    // Junk is dropped before any X25519, by pssst-core's own checks.
    let header = match Server::precheck(packet) {
        Ok(header) => header,
        Err(Error::NotRequest) => return Outcome::Done(Counter::DroppedReplyFlag),
        Err(Error::UnsupportedCipherSuite) => return Outcome::Done(Counter::DroppedUnknownSuite),
        Err(Error::LowOrderPoint) => return Outcome::Done(Counter::DroppedLowOrder),
        Err(_) => return Outcome::Done(Counter::DroppedShort),
    };
    // A closed service answers only authenticated clients.
    if shared.authorized_clients.is_some() && !header.is_client_auth() {
        return Outcome::Done(Counter::DroppedUnauthorized);
    }
    let request_len = packet.len();

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
    // No reply larger than its request, unless allowed: a spoofed source
    // must not make the server an amplifier. Packets are at least
    // PACKET_OVERHEAD long once unpacked, so this does not underflow.
    let max_packet = if shared.allow_amplification {
        MAX_DATAGRAM
    } else {
        request_len.min(MAX_DATAGRAM)
    };
    let request_id = request.reply_handler.request_id();
    let incoming = Request {
        message: request.message,
        client_public_key: request.client_public_key,
        peer,
        request_id,
        max_reply_len: max_packet - PACKET_OVERHEAD,
    };
    let reply_handler = request.reply_handler;
    let Some(cache) = &shared.reply_cache else {
        return answer(shared, &incoming, reply_handler, max_packet, reply, out);
    };
    let verdict = match cache.lookup(&request_id, max_packet) {
        Lookup::Full => return Outcome::Done(Counter::DroppedCacheFull),
        // A copy: what the first one got (waiting if it is still running).
        Lookup::Known(cell) => cell.wait().clone(),
        Lookup::New(cell) => {
            let verdict = match answer(shared, &incoming, reply_handler, max_packet, reply, out) {
                Outcome::Send(len) => Verdict::Reply(out[..len].into()),
                Outcome::Done(counter) => Verdict::Dropped(counter),
            };
            cache.settle(&request_id, &cell, verdict)
        }
    };
    match verdict {
        Verdict::Reply(packet) => {
            out[..packet.len()].copy_from_slice(&packet);
            Outcome::Send(packet.len())
        }
        Verdict::Dropped(counter) => Outcome::Done(counter),
    }
}

/// Runs the handler and seals its reply into `out`, if the reply may be
/// sent: at most `max_packet` bytes.
fn answer<H: Handler>(
    shared: &Shared<H>,
    request: &Request<'_>,
    reply_handler: pssst_core::ServerReplyHandler,
    max_packet: usize,
    reply: &mut Vec<u8>,
    out: &mut [u8],
) -> Outcome {
    reply.clear();
    let answer = catch_unwind(AssertUnwindSafe(|| shared.handler.handle(request, reply)));
    // A panicking handler costs one request, not the worker.
    if !matches!(answer, Ok(true)) {
        return Outcome::Done(Counter::NoReply);
    }
    let Ok(reply_len) = pssst_core::Client::reply_len(reply.len()) else {
        return Outcome::Done(Counter::DroppedReplyTooLarge);
    };
    if reply_len > MAX_DATAGRAM {
        return Outcome::Done(Counter::DroppedReplyTooLarge);
    }
    if reply_len > max_packet {
        return Outcome::Done(Counter::DroppedAmplification);
    }
    match reply_handler.pack_reply_into(reply, out) {
        Ok(len) => Outcome::Send(len),
        Err(_) => Outcome::Done(Counter::DroppedReplyTooLarge),
    }
}
