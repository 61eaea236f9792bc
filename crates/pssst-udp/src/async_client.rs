//! The async client (feature `tokio`): the blocking client's transaction
//! with tokio's sockets and timer. Only the I/O is here; packing, the retry
//! schedule, which socket each attempt leaves from and telling the reply
//! from junk are shared with [`UdpClient`].
//!
//! [`UdpClient`]: crate::UdpClient

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use pssst_core::Client;
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

use crate::client::exchange::{
    Exchange, RECV_BUFFER_LEN, SendFailure, any_local_addr, max_message_len, receive_failed,
    send_failed, socket_to_keep,
};
use crate::{ClientError, RetrySchedule, Transaction};

/// An async PSSST-over-UDP client for one server, on tokio: the same
/// configuration, retries, errors and results as the blocking
/// [`UdpClient`](crate::UdpClient). It reuses its buffers, so requests take
/// `&mut self`: for concurrent requests, give each task its own client.
/// Like [`UdpClient`](crate::UdpClient), it sends each retransmission from a
/// socket of its own (a new source port), listens on all of them, and keeps
/// the one the reply arrived on.
///
/// Dropping a request's future abandons it: the next request starts by
/// closing all but its newest socket (the last one a copy left from), and a
/// late reply on that one is ignored like any other stray datagram.
///
/// ```
/// use pssst_udp::{AsyncUdpClient, RetrySchedule, Echo, ServerConfig, UdpServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (server_key, server_public) = pssst_core::generate_key_pair()?;
/// let server = UdpServer::bind(
///     "127.0.0.1:0".parse()?,
///     server_key,
///     ServerConfig::default().workers(1),
///     Echo,
/// )?;
///
/// let client = pssst_core::Client::new(server_public)?;
/// let mut udp =
///     AsyncUdpClient::connect(server.local_addr(), client, RetrySchedule::default()).await?;
/// assert_eq!(udp.request(b"hello").await?, b"hello");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncUdpClient {
    server: SocketAddr,
    /// `sockets[0]` is the primary; `sockets[k]` was opened for attempt
    /// `k + 1` of the request in progress.
    sockets: Vec<UdpSocket>,
    /// Where the next receive starts, so that a flood on one socket cannot
    /// starve the others.
    turn: usize,
    client: Client,
    schedule: RetrySchedule,
    packet: Vec<u8>,
    buffer: Vec<u8>,
}

impl AsyncUdpClient {
    /// A client bound to an ephemeral local port, connected to `server`.
    pub async fn connect(
        server: SocketAddr,
        client: Client,
        schedule: RetrySchedule,
    ) -> io::Result<Self> {
        Ok(AsyncUdpClient {
            server,
            sockets: vec![open(server).await?],
            turn: 0,
            client,
            schedule,
            packet: Vec::new(),
            buffer: vec![0; RECV_BUFFER_LEN],
        })
    }

    /// The local address the next request is first sent from. It changes
    /// when a retransmission, sent from a new port, gets the reply.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sockets[0].local_addr()
    }

    /// The largest message one request can carry.
    pub fn max_message_len(&self) -> usize {
        max_message_len(&self.client)
    }

    /// Sends `message`, returns the reply.
    pub async fn request(&mut self, message: &[u8]) -> Result<Vec<u8>, ClientError> {
        self.transact(message).await.map(|t| t.reply)
    }

    /// Sends `message`, returns the reply with how it went.
    pub async fn transact(&mut self, message: &[u8]) -> Result<Transaction, ClientError> {
        // Left over by an abandoned request: keep its newest socket.
        self.keep(self.sockets.len() - 1);
        let result = self.exchange(message).await;
        self.keep(socket_to_keep(&result, self.sockets.len()));
        result
    }

    async fn exchange(&mut self, message: &[u8]) -> Result<Transaction, ClientError> {
        let mut exchange = Exchange::start(&self.client, self.schedule, message, &mut self.packet)?;
        while let Some(attempt) = exchange.next_attempt() {
            let packet = exchange.packet(&self.packet);
            if attempt.socket() == self.sockets.len() {
                // Kept only once a copy has left from it: a request dropped
                // in between (sending from a new socket waits for the
                // runtime) must not leave a socket the server never saw as
                // the newest, the one the next request keeps.
                let socket = open(self.server).await?;
                send(&socket, packet).await?;
                self.sockets.push(socket);
            } else {
                send(&self.sockets[attempt.socket()], packet).await?;
            }
            let deadline = Instant::now() + attempt.wait;
            loop {
                let (sockets, buffer, turn) = (&self.sockets, &mut self.buffer, &mut self.turn);
                let any = poll_fn(|cx| poll_receive(sockets, buffer, turn, cx));
                let Ok((socket, received)) = timeout_at(deadline, any).await else {
                    break;
                };
                match received {
                    Ok(n) => {
                        if let Some(done) = exchange.receive(&mut self.buffer[..n], socket) {
                            return Ok(done);
                        }
                    }
                    // An ICMP error or a signal instead of a datagram: wait on.
                    Err(e) => {
                        receive_failed(e)?;
                    }
                }
            }
        }
        Err(exchange.timed_out())
    }

    /// Keeps socket `index` as the primary and closes the others.
    fn keep(&mut self, index: usize) {
        if self.sockets.len() > 1 {
            let kept = self.sockets.swap_remove(index.min(self.sockets.len() - 1));
            self.sockets.clear();
            self.sockets.push(kept);
            self.turn = 0;
        }
    }
}

/// A socket on an ephemeral port, connected to `server`.
async fn open(server: SocketAddr) -> io::Result<UdpSocket> {
    let socket = UdpSocket::bind(any_local_addr(server)).await?;
    socket.connect(server).await?;
    Ok(socket)
}

/// Sends `packet` once, or once more if an ICMP error from an earlier send
/// was reported instead.
async fn send(socket: &UdpSocket, packet: &[u8]) -> Result<(), ClientError> {
    for _ in 0..2 {
        match socket.send(packet).await {
            Ok(_) => return Ok(()),
            Err(e) => match send_failed(e)? {
                SendFailure::Again => continue,
                SendFailure::Lost => return Ok(()),
            },
        }
    }
    Ok(())
}

/// The first datagram (or receive error) on any of `sockets`, as (socket
/// index, result), trying them in turn from `turn` on.
fn poll_receive(
    sockets: &[UdpSocket],
    buffer: &mut [u8],
    turn: &mut usize,
    cx: &mut Context<'_>,
) -> Poll<(usize, io::Result<usize>)> {
    for step in 0..sockets.len() {
        let index = (*turn + step) % sockets.len();
        let mut read = ReadBuf::new(buffer);
        if let Poll::Ready(result) = sockets[index].poll_recv(cx, &mut read) {
            *turn = index + 1;
            return Poll::Ready((index, result.map(|()| read.filled().len())));
        }
    }
    Poll::Pending
}
