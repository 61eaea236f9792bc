//! The blocking client's sockets: the primary, plus one per retransmission
//! of the transaction in progress, all waited on at once (mio). Which
//! attempt leaves from which socket, and why: [`super::exchange`].

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token};

use super::ClientError;
use super::exchange::{SendFailure, any_local_addr, receive_failed, send_failed};

/// Readiness events taken per wait; more are left for the next wait.
const EVENTS: usize = 16;

/// Connected, non-blocking sockets to one server; `sockets[0]` is the
/// primary.
#[derive(Debug)]
pub(super) struct Sockets {
    server: SocketAddr,
    poll: Poll,
    events: Events,
    sockets: Vec<Flow>,
    /// Where the next round of receives starts, so that a flood on one
    /// socket cannot starve the others.
    turn: usize,
    /// The token of the next socket opened (tokens are never reused while
    /// their socket is open: there are at most `retries + 1`).
    next_token: usize,
}

/// One socket, and whether it may have datagrams waiting. mio reports
/// readiness once per arrival (edge-triggered), so a socket is read until
/// it would block, however many waits that takes.
#[derive(Debug)]
struct Flow {
    socket: UdpSocket,
    token: Token,
    readable: bool,
}

impl Sockets {
    /// A primary socket on an ephemeral port, connected to `server`.
    pub(super) fn connect(server: SocketAddr) -> io::Result<Sockets> {
        let mut sockets = Sockets {
            server,
            poll: Poll::new()?,
            events: Events::with_capacity(EVENTS),
            sockets: Vec::new(),
            turn: 0,
            next_token: 0,
        };
        sockets.open()?;
        Ok(sockets)
    }

    /// The primary socket's local address.
    pub(super) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sockets[0].socket.local_addr()
    }

    /// How many sockets are open.
    pub(super) fn len(&self) -> usize {
        self.sockets.len()
    }

    /// Opens one more socket (a new source port), listened on from now.
    fn open(&mut self) -> io::Result<()> {
        let mut socket = UdpSocket::bind(any_local_addr(self.server))?;
        socket.connect(self.server)?;
        let token = Token(self.next_token);
        self.next_token = self.next_token.wrapping_add(1);
        self.poll
            .registry()
            .register(&mut socket, token, Interest::READABLE)?;
        self.sockets.push(Flow {
            socket,
            token,
            readable: false,
        });
        Ok(())
    }

    /// Sends `packet` from socket `index`, opening it first if it is the
    /// next new one.
    pub(super) fn send(&mut self, index: usize, packet: &[u8]) -> Result<(), ClientError> {
        if index == self.sockets.len() {
            self.open()?;
        }
        let socket = &self.sockets[index].socket;
        for _ in 0..2 {
            match socket.send(packet) {
                Ok(_) => return Ok(()),
                Err(e) => match send_failed(e)? {
                    SendFailure::Again => continue,
                    SendFailure::Lost => return Ok(()),
                },
            }
        }
        Ok(())
    }

    /// The next datagram on any socket, as (socket index, length), or
    /// `None` once `deadline` has passed.
    pub(super) fn receive(
        &mut self,
        buffer: &mut [u8],
        deadline: Instant,
    ) -> Result<Option<(usize, usize)>, ClientError> {
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Ok(None);
            }
            if let Some(received) = self.receive_ready(buffer)? {
                return Ok(Some(received));
            }
            if self.sockets.iter().any(|f| f.readable) {
                continue;
            }
            match self.poll.poll(&mut self.events, Some(remaining)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ClientError::Io(e)),
            }
            for event in &self.events {
                let token = event.token();
                if let Some(flow) = self.sockets.iter_mut().find(|f| f.token == token) {
                    flow.readable = true;
                }
            }
        }
    }

    /// One datagram from the first readable socket from `turn` on, if one
    /// has any; marks the sockets found empty.
    fn receive_ready(&mut self, buffer: &mut [u8]) -> Result<Option<(usize, usize)>, ClientError> {
        let count = self.sockets.len();
        for step in 0..count {
            let index = (self.turn + step) % count;
            let flow = &mut self.sockets[index];
            if !flow.readable {
                continue;
            }
            match flow.socket.recv(buffer) {
                Ok(n) => {
                    self.turn = index + 1;
                    return Ok(Some((index, n)));
                }
                Err(e) => flow.readable = receive_failed(e)?,
            }
        }
        Ok(None)
    }

    /// Keeps socket `index` as the primary and closes the others.
    pub(super) fn keep(&mut self, index: usize) {
        if self.sockets.len() <= 1 {
            return;
        }
        let kept = self.sockets.swap_remove(index.min(self.sockets.len() - 1));
        for mut flow in self.sockets.drain(..) {
            // Closing the socket takes it out of the poll set anyway.
            let _ = self.poll.registry().deregister(&mut flow.socket);
        }
        self.sockets.push(kept);
        self.turn = 0;
    }
}
