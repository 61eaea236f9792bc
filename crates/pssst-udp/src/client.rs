//! The blocking client: one request, one reply, retransmitting the same
//! packet (each time from a fresh source port) until the reply arrives or
//! the attempts run out.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use pssst_core::{Client, RetrySchedule};

pub(crate) mod exchange;
mod sockets;

use exchange::{Exchange, RECV_BUFFER_LEN, max_message_len, socket_to_keep};
use sockets::Sockets;

/// A completed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The decrypted reply.
    pub reply: Vec<u8>,
    /// Sends it took (1 = no retransmission).
    pub attempts: u32,
    /// The attempt whose socket the reply arrived on (1 = the first send).
    /// Every attempt is the same packet, so whichever reply arrives first is
    /// taken: a late reply to the first send, after a retransmission went
    /// out, gives 1 here and more in `attempts`.
    pub answered_attempt: u32,
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
/// Its sockets are connected, so the kernel drops datagrams from other
/// addresses; anything else that is not the reply to the request in flight
/// is ignored without giving up on the genuine one.
///
/// Each retransmission leaves from a socket of its own (a new source port),
/// so that behind a load balancer that pins flows to backends (nftables or
/// IPVS with conntrack, ECMP, cloud balancers) it can reach another backend
/// than the one that did not answer. All the request's sockets are listened
/// on until it ends; then the one the reply arrived on is kept for the next
/// requests and the others are closed. The scheme and why:
/// [docs/scaling-out.md](https://github.com/pssst-rs/pssst-rs/blob/main/docs/scaling-out.md).
#[derive(Debug)]
pub struct UdpClient {
    sockets: Sockets,
    client: Client,
    schedule: RetrySchedule,
    packet: Vec<u8>,
    buffer: Vec<u8>,
}

impl UdpClient {
    /// A client bound to an ephemeral local port, connected to `server`.
    pub fn connect(
        server: SocketAddr,
        client: Client,
        schedule: RetrySchedule,
    ) -> io::Result<Self> {
        Ok(UdpClient {
            sockets: Sockets::connect(server)?,
            client,
            schedule,
            packet: Vec::new(),
            buffer: vec![0; RECV_BUFFER_LEN],
        })
    }

    /// The local address the next request is first sent from. It changes
    /// when a retransmission, sent from a new port, gets the reply.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sockets.local_addr()
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
        let result = self.exchange(message);
        self.sockets
            .keep(socket_to_keep(&result, self.sockets.len()));
        result
    }

    fn exchange(&mut self, message: &[u8]) -> Result<Transaction, ClientError> {
        let mut exchange = Exchange::start(&self.client, self.schedule, message, &mut self.packet)?;
        while let Some(attempt) = exchange.next_attempt() {
            self.sockets
                .send(attempt.socket(), exchange.packet(&self.packet))?;
            let deadline = Instant::now() + attempt.wait;
            while let Some((socket, n)) = self.sockets.receive(&mut self.buffer, deadline)? {
                if let Some(done) = exchange.receive(&mut self.buffer[..n], socket) {
                    return Ok(done);
                }
            }
        }
        Err(exchange.timed_out())
    }
}
