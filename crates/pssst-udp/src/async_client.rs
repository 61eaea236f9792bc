//! The async client (feature `tokio`): the blocking client's transaction
//! with tokio's socket and timer. Only the I/O is here; packing, the retry
//! schedule and telling the reply from junk are shared with [`UdpClient`].
//!
//! [`UdpClient`]: crate::UdpClient

use std::io;
use std::net::SocketAddr;

use pssst_core::Client;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

use crate::client::{
    Exchange, RECV_BUFFER_LEN, any_local_addr, keep_waiting, max_message_len, sent,
};
use crate::{ClientConfig, ClientError, Transaction};

/// An async PSSST-over-UDP client for one server, on tokio: the same
/// configuration, retries, errors and results as the blocking
/// [`UdpClient`](crate::UdpClient). It reuses its buffers, so requests take
/// `&mut self`: for concurrent requests, give each task its own client.
///
/// Dropping a request's future abandons it; a late reply to it is then
/// ignored by the next request like any other stray datagram.
///
/// ```
/// use pssst_udp::{AsyncUdpClient, ClientConfig, Echo, ServerConfig, UdpServer};
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
///     AsyncUdpClient::connect(server.local_addr(), client, ClientConfig::default()).await?;
/// assert_eq!(udp.request(b"hello").await?, b"hello");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncUdpClient {
    socket: UdpSocket,
    client: Client,
    config: ClientConfig,
    packet: Vec<u8>,
    buffer: Vec<u8>,
}

impl AsyncUdpClient {
    /// A client bound to an ephemeral local port, connected to `server`.
    pub async fn connect(
        server: SocketAddr,
        client: Client,
        config: ClientConfig,
    ) -> io::Result<Self> {
        let socket = UdpSocket::bind(any_local_addr(server)).await?;
        socket.connect(server).await?;
        Ok(AsyncUdpClient {
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
    pub async fn request(&mut self, message: &[u8]) -> Result<Vec<u8>, ClientError> {
        self.transact(message).await.map(|t| t.reply)
    }

    /// Sends `message`, returns the reply with how it went.
    pub async fn transact(&mut self, message: &[u8]) -> Result<Transaction, ClientError> {
        let mut exchange = Exchange::start(&self.client, self.config, message, &mut self.packet)?;
        while let Some(wait) = exchange.next_attempt() {
            sent(self.socket.send(exchange.packet(&self.packet)).await)?;
            let deadline = Instant::now() + wait;
            while let Ok(received) = timeout_at(deadline, self.socket.recv(&mut self.buffer)).await
            {
                match received {
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
