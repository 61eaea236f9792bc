//! The blocking client: one request, one reply, retransmitting the same
//! packet until the reply arrives or the attempts run out.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use pssst_core::{Client, ClientReplyHandler};

use crate::MAX_DATAGRAM;

/// Timeouts and retries of a [`UdpClient`].
#[derive(Debug, Clone, Copy)]
pub struct ClientConfig {
    /// How long the first attempt waits for the reply.
    pub timeout: Duration,
    /// Retransmissions after the first attempt (so `retries + 1` sends).
    pub retries: u32,
    /// Each retry waits twice as long as the one before, up to this.
    pub max_timeout: Duration,
}

impl ClientConfig {
    /// How long a client with this configuration keeps waiting for the reply
    /// to one request, from its first send to giving up: the sum of its
    /// waits. A server's reply cache must keep answers at least this long.
    pub fn give_up_after(&self) -> Duration {
        let max_wait = self.max_timeout.max(self.timeout);
        let mut wait = self.timeout;
        let mut total = wait;
        for made in 0..self.retries {
            if wait >= max_wait {
                // The rest all wait the maximum.
                return total.saturating_add(max_wait.saturating_mul(self.retries - made));
            }
            wait = wait.saturating_mul(2).min(max_wait);
            total = total.saturating_add(wait);
        }
        total
    }
}

impl Default for ClientConfig {
    /// 500 ms, doubling up to 4 s, 4 retries: gives up after 11.5 s.
    fn default() -> ClientConfig {
        ClientConfig {
            timeout: Duration::from_millis(500),
            retries: 4,
            max_timeout: Duration::from_secs(4),
        }
    }
}

/// A completed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The decrypted reply.
    pub reply: Vec<u8>,
    /// Sends it took (1 = no retransmission).
    pub attempts: u32,
    /// Datagrams received and ignored while waiting (not the reply: forged,
    /// corrupted, stale, or for another request).
    pub ignored: u32,
    /// From the first send to the reply.
    pub elapsed: Duration,
}

/// Why a transaction failed.
#[derive(Debug)]
pub enum ClientError {
    /// The request could not be packed (e.g. the message is too large).
    Pssst(pssst_core::Error),
    /// The request would not fit in one UDP datagram.
    MessageTooLarge {
        /// Largest message this client can send.
        max: usize,
    },
    /// A socket error.
    Io(io::Error),
    /// No reply after every attempt.
    TimedOut {
        /// Sends made.
        attempts: u32,
        /// Datagrams received and ignored.
        ignored: u32,
    },
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Pssst(e) => write!(f, "cannot pack the request: {e}"),
            ClientError::MessageTooLarge { max } => {
                write!(
                    f,
                    "message too large for one datagram (at most {max} bytes)"
                )
            }
            ClientError::Io(e) => write!(f, "socket error: {e}"),
            ClientError::TimedOut { attempts, ignored } => write!(
                f,
                "no reply after {attempts} attempt{} ({ignored} other packets ignored)",
                if *attempts == 1 { "" } else { "s" }
            ),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Pssst(e) => Some(e),
            ClientError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ClientError {
    fn from(e: io::Error) -> ClientError {
        ClientError::Io(e)
    }
}

/// A blocking PSSST-over-UDP client for one server. Not `Sync` (it reuses
/// its buffers): give each thread its own.
///
/// The socket is connected, so the kernel drops datagrams from other
/// addresses; anything else that is not the reply to the request in flight
/// is ignored without giving up on the genuine one.
#[derive(Debug)]
pub struct UdpClient {
    socket: UdpSocket,
    client: Client,
    config: ClientConfig,
    packet: Vec<u8>,
    buffer: Vec<u8>,
}

/// Receive buffer: room for any datagram, so none is silently truncated.
pub(crate) const RECV_BUFFER_LEN: usize = 1 << 16;

/// The wildcard address of `server`'s family, on an ephemeral port.
pub(crate) fn any_local_addr(server: SocketAddr) -> SocketAddr {
    match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    }
}

impl UdpClient {
    /// A client bound to an ephemeral local port, connected to `server`.
    pub fn connect(server: SocketAddr, client: Client, config: ClientConfig) -> io::Result<Self> {
        let socket = UdpSocket::bind(any_local_addr(server))?;
        socket.connect(server)?;
        Ok(UdpClient {
            socket,
            client,
            config,
            packet: Vec::new(),
            buffer: vec![0; RECV_BUFFER_LEN],
        })
    }

    /// The local address requests are sent from.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// The largest message one request can carry.
    pub fn max_message_len(&self) -> usize {
        max_message_len(&self.client)
    }

    /// Sends `message`, returns the reply.
    pub fn request(&mut self, message: &[u8]) -> Result<Vec<u8>, ClientError> {
        self.transact(message).map(|t| t.reply)
    }

    /// Sends `message`, returns the reply with how it went.
    pub fn transact(&mut self, message: &[u8]) -> Result<Transaction, ClientError> {
        let mut exchange = Exchange::start(&self.client, self.config, message, &mut self.packet)?;
        while let Some(wait) = exchange.next_attempt() {
            sent(self.socket.send(exchange.packet(&self.packet)))?;
            let deadline = Instant::now() + wait;
            loop {
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    break;
                }
                self.socket.set_read_timeout(Some(remaining))?;
                match self.socket.recv(&mut self.buffer) {
                    Ok(n) => {
                        if let Some(done) = exchange.receive(&mut self.buffer[..n]) {
                            return Ok(done);
                        }
                    }
                    Err(e) => {
                        if !keep_waiting(e)? {
                            break;
                        }
                    }
                }
            }
        }
        Err(exchange.timed_out())
    }
}

/// The largest message one request from `client` can carry.
pub(crate) fn max_message_len(client: &Client) -> usize {
    let overhead = client.request_len(0).unwrap_or(MAX_DATAGRAM);
    MAX_DATAGRAM.saturating_sub(overhead)
}

/// Whether a send went out, as far as retrying is concerned.
pub(crate) fn sent(result: io::Result<usize>) -> Result<(), ClientError> {
    match result {
        Ok(_) => Ok(()),
        // An ICMP error from an earlier send: this one may still go.
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
        Err(e) => Err(ClientError::Io(e)),
    }
}

/// After a failed receive: keep waiting out this attempt (`true`), end it
/// (`false`, the wait is over), or fail.
pub(crate) fn keep_waiting(e: io::Error) -> Result<bool, ClientError> {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Ok(false),
        // Interrupted, or the server port was closed (ICMP).
        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionRefused => Ok(true),
        _ => Err(ClientError::Io(e)),
    }
}

/// One transaction without its I/O, shared by the blocking and async
/// clients: the packed request, the retry schedule, and telling the reply
/// from datagrams to ignore.
pub(crate) struct Exchange {
    handler: ClientReplyHandler,
    len: usize,
    start: Instant,
    attempts: u32,
    made: u32,
    wait: Duration,
    max_wait: Duration,
    ignored: u32,
}

impl Exchange {
    /// Packs `message` into `packet` (grown as needed, reused across calls).
    pub(crate) fn start(
        client: &Client,
        config: ClientConfig,
        message: &[u8],
        packet: &mut Vec<u8>,
    ) -> Result<Exchange, ClientError> {
        let max = max_message_len(client);
        if message.len() > max {
            return Err(ClientError::MessageTooLarge { max });
        }
        let needed = client
            .request_len(message.len())
            .map_err(ClientError::Pssst)?;
        if packet.len() < needed {
            packet.resize(needed, 0);
        }
        let (len, handler) = client
            .pack_request_into(message, packet)
            .map_err(ClientError::Pssst)?;
        Ok(Exchange {
            handler,
            len,
            start: Instant::now(),
            attempts: config.retries.saturating_add(1),
            made: 0,
            wait: config.timeout,
            max_wait: config.max_timeout.max(config.timeout),
            ignored: 0,
        })
    }

    /// The request to (re)send: the same bytes every attempt.
    pub(crate) fn packet<'p>(&self, packet: &'p [u8]) -> &'p [u8] {
        &packet[..self.len]
    }

    /// Starts the next attempt and returns how long it waits for the reply
    /// (doubling each time, up to the maximum); `None` once all are made.
    pub(crate) fn next_attempt(&mut self) -> Option<Duration> {
        if self.made >= self.attempts {
            return None;
        }
        if self.made > 0 {
            self.wait = self.wait.saturating_mul(2).min(self.max_wait);
        }
        self.made += 1;
        Some(self.wait)
    }

    /// The transaction if `datagram` is the reply; otherwise it is counted
    /// as ignored and the wait goes on.
    pub(crate) fn receive(&mut self, datagram: &mut [u8]) -> Option<Transaction> {
        match self.handler.unpack_reply_in_place(datagram) {
            Ok(reply) => Some(Transaction {
                reply: reply.to_vec(),
                attempts: self.made,
                ignored: self.ignored,
                elapsed: self.start.elapsed(),
            }),
            Err(_) => {
                self.ignored = self.ignored.saturating_add(1);
                None
            }
        }
    }

    /// The error once every attempt went unanswered.
    pub(crate) fn timed_out(&self) -> ClientError {
        ClientError::TimedOut {
            attempts: self.attempts,
            ignored: self.ignored,
        }
    }
}
