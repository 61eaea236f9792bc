//! The blocking client: one request, one reply, retransmitting the same
//! packet until the reply arrives or the attempts run out.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use pssst_core::Client;

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

impl Default for ClientConfig {
    /// 500 ms, doubling up to 4 s, 4 retries: gives up after 12.5 s.
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

impl UdpClient {
    /// A client bound to an ephemeral local port, connected to `server`.
    pub fn connect(server: SocketAddr, client: Client, config: ClientConfig) -> io::Result<Self> {
        let local: SocketAddr = match server {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(local)?;
        socket.connect(server)?;
        Ok(UdpClient {
            socket,
            client,
            config,
            packet: Vec::new(),
            buffer: vec![0; 1 << 16],
        })
    }

    /// The local address requests are sent from.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// The largest message one request can carry.
    pub fn max_message_len(&self) -> usize {
        let overhead = self.client.request_len(0).unwrap_or(MAX_DATAGRAM);
        MAX_DATAGRAM.saturating_sub(overhead)
    }

    /// Sends `message`, returns the reply.
    pub fn request(&mut self, message: &[u8]) -> Result<Vec<u8>, ClientError> {
        self.transact(message).map(|t| t.reply)
    }

    /// Sends `message`, returns the reply with how it went.
    pub fn transact(&mut self, message: &[u8]) -> Result<Transaction, ClientError> {
        if message.len() > self.max_message_len() {
            return Err(ClientError::MessageTooLarge {
                max: self.max_message_len(),
            });
        }
        let needed = self
            .client
            .request_len(message.len())
            .map_err(ClientError::Pssst)?;
        if self.packet.len() < needed {
            self.packet.resize(needed, 0);
        }
        let (len, mut handler) = self
            .client
            .pack_request_into(message, &mut self.packet)
            .map_err(ClientError::Pssst)?;
        let start = Instant::now();
        let mut wait = self.config.timeout;
        let mut ignored = 0u32;
        for attempt in 1..=self.config.retries.saturating_add(1) {
            match self.socket.send(&self.packet[..len]) {
                Ok(_) => {}
                // An ICMP error from an earlier send: this one may still go.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ClientError::Io(e)),
            }
            let deadline = Instant::now() + wait;
            loop {
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    break;
                }
                self.socket.set_read_timeout(Some(remaining))?;
                let received = match self.socket.recv(&mut self.buffer) {
                    Ok(n) => n,
                    Err(e) => match e.kind() {
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => break,
                        // Interrupted, or the server port was closed (ICMP):
                        // keep waiting out this attempt.
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionRefused => continue,
                        _ => return Err(ClientError::Io(e)),
                    },
                };
                match handler.unpack_reply_in_place(&mut self.buffer[..received]) {
                    Ok(reply) => {
                        return Ok(Transaction {
                            reply: reply.to_vec(),
                            attempts: attempt,
                            ignored,
                            elapsed: start.elapsed(),
                        });
                    }
                    Err(_) => ignored = ignored.saturating_add(1),
                }
            }
            wait = (wait * 2).min(self.config.max_timeout.max(self.config.timeout));
        }
        Err(ClientError::TimedOut {
            attempts: self.config.retries.saturating_add(1),
            ignored,
        })
    }
}
