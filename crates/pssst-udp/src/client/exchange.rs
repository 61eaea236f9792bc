//! One transaction without its I/O, shared by the blocking and async
//! clients: the packed request, the retry schedule, which socket each
//! attempt leaves from, and telling the reply from datagrams to ignore.
//!
//! # Retransmissions leave from fresh source ports
//! The first attempt goes out of the client's primary socket; every
//! retransmission goes out of a socket of its own, opened for it (a new
//! ephemeral source port), carrying the same packet bytes. Every socket of
//! the transaction is listened on until it ends, and a datagram arriving on
//! any of them is offered to the one reply handler: all attempts are the
//! same packet, so the reply to any of them is the reply. Anything else
//! (forged, stale, for another request) is ignored, as on one socket.
//!
//! When the transaction ends, the client keeps one socket as its primary
//! and closes the others: after a reply, the socket it arrived on (a flow
//! that just worked); after giving up or an error, the newest (the flow
//! tried last).
//!
//! Why: a flow-hashing balancer (nftables/iptables DNAT with conntrack, as
//! kube-proxy programs a UDP Service; IPVS; ECMP; cloud network load
//! balancers) pins a flow, source address and port to destination, to one
//! backend. Retransmitting from the same port sends every attempt to the
//! backend that did not answer; if it is dead, the request fails, and so
//! does every later one until the balancer forgets the flow (conntrack:
//! 30-120 s). PSSST needs no stickiness (any backend can answer any
//! request), so a retry should be a new flow. From the *first*
//! retransmission on, so that a request in flight to a dead backend costs
//! one timeout at most; a fresh port when the datagram was merely lost
//! costs nothing. Keeping the socket that worked means a client whose
//! primary flow is pinned to a dead backend pays that timeout once, not on
//! every later request. With N backends of which one is dead and still in
//! the balancer's rotation, a request fails only if its first attempt and
//! every retransmission hash to the dead one: (1/N)^retries for a request
//! caught in flight (1/729 with three backends and the default 6 retries).
//!
//! An ICMP "port unreachable" on a socket is not taken as a reason to
//! retransmit early: it is unauthenticated, and a forged one would then use
//! up the attempts.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use pssst_core::{Client, ClientReplyHandler, RetrySchedule};

use super::{ClientError, Transaction};
use crate::MAX_DATAGRAM;

/// Receive buffer: room for any datagram, so none is silently truncated.
pub(crate) const RECV_BUFFER_LEN: usize = 1 << 16;

/// The wildcard address of `server`'s family, on an ephemeral port.
pub(crate) fn any_local_addr(server: SocketAddr) -> SocketAddr {
    match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    }
}

/// The largest message one request from `client` can carry.
pub(crate) fn max_message_len(client: &Client) -> usize {
    let overhead = client.request_len(0).unwrap_or(MAX_DATAGRAM);
    MAX_DATAGRAM.saturating_sub(overhead)
}

/// What to do after a failed send.
pub(crate) enum SendFailure {
    /// An ICMP error from an earlier send was reported instead, and this
    /// datagram did not go: send it again, once.
    Again,
    /// Count the attempt as made (lost): the wait and the next retry cover
    /// it.
    Lost,
}

/// Sorts a send error: retry once, treat as lost, or fail.
pub(crate) fn send_failed(e: io::Error) -> Result<SendFailure, ClientError> {
    match e.kind() {
        io::ErrorKind::ConnectionRefused | io::ErrorKind::Interrupted => Ok(SendFailure::Again),
        // A full send buffer drops the datagram, like the network would.
        io::ErrorKind::WouldBlock => Ok(SendFailure::Lost),
        _ => Err(ClientError::Io(e)),
    }
}

/// After a failed receive: the socket may still have datagrams (`true`:
/// an ICMP error or a signal was reported instead), has none (`false`),
/// or failed.
pub(crate) fn receive_failed(e: io::Error) -> Result<bool, ClientError> {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Ok(false),
        // Interrupted, or this flow's server port was closed (ICMP).
        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionRefused => Ok(true),
        _ => Err(ClientError::Io(e)),
    }
}

/// Which socket a client keeps as its primary once a transaction with
/// `open` sockets (index 0 the primary, index `k` opened for attempt
/// `k + 1`) ended with `result`: the one the reply arrived on, else the
/// newest.
pub(crate) fn socket_to_keep(result: &Result<Transaction, ClientError>, open: usize) -> usize {
    match result {
        Ok(t) => (t.answered_attempt as usize).saturating_sub(1),
        Err(_) => open.saturating_sub(1),
    }
}

/// One attempt: its number (1 = the first send) and how long it waits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt {
    /// 1 for the first send, 2 for the first retransmission, ...
    pub(crate) number: u32,
    /// How long to wait for the reply before the next attempt.
    pub(crate) wait: Duration,
}

impl Attempt {
    /// The index of the socket it leaves from: the primary (0) for the
    /// first, a socket of its own for each retransmission.
    pub(crate) fn socket(&self) -> usize {
        self.number as usize - 1
    }
}

/// A transaction in progress.
pub(crate) struct Exchange {
    handler: ClientReplyHandler,
    len: usize,
    start: Instant,
    schedule: RetrySchedule,
    made: u32,
    ignored: u32,
}

impl Exchange {
    /// Packs `message` into `packet` (grown as needed, reused across calls).
    pub(crate) fn start(
        client: &Client,
        schedule: RetrySchedule,
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
            schedule,
            made: 0,
            ignored: 0,
        })
    }

    /// The request to (re)send: the same bytes every attempt.
    pub(crate) fn packet<'p>(&self, packet: &'p [u8]) -> &'p [u8] {
        &packet[..self.len]
    }

    /// Starts the next attempt, as pssst-core's [`RetrySchedule`] says
    /// (every copy within the retransmission window); `None` once all are
    /// made.
    pub(crate) fn next_attempt(&mut self) -> Option<Attempt> {
        let wait = self.schedule.waits().nth(self.made as usize)?;
        self.made += 1;
        Some(Attempt {
            number: self.made,
            wait,
        })
    }

    /// The transaction if `datagram`, received on socket `socket` (see
    /// [`Attempt::socket`]), is the reply; otherwise it is counted as
    /// ignored and the wait goes on.
    pub(crate) fn receive(&mut self, datagram: &mut [u8], socket: usize) -> Option<Transaction> {
        match self.handler.unpack_reply_in_place(datagram) {
            Ok(reply) => Some(Transaction {
                reply: reply.to_vec(),
                attempts: self.made,
                answered_attempt: u32::try_from(socket + 1).unwrap_or(u32::MAX),
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
            attempts: self.made,
            ignored: self.ignored,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pssst_core::generate_key_pair;

    fn exchange(retries: u32) -> Exchange {
        let (_, public) = generate_key_pair().unwrap();
        let client = Client::new(public).unwrap();
        let schedule = RetrySchedule::new(Duration::from_millis(100), retries).unwrap();
        Exchange::start(&client, schedule, b"hi", &mut Vec::new()).unwrap()
    }

    #[test]
    fn the_first_attempt_uses_the_primary_and_each_retry_a_socket_of_its_own() {
        let mut exchange = exchange(4);
        let schedule: Vec<(usize, u64)> = std::iter::from_fn(|| exchange.next_attempt())
            .map(|a| (a.socket(), a.wait.as_millis() as u64))
            .collect();
        assert_eq!(
            schedule,
            [(0, 100), (1, 200), (2, 400), (3, 400), (4, 400)],
            "(socket, wait in ms) of each attempt"
        );
    }

    #[test]
    fn the_socket_kept_is_the_one_answered_else_the_newest() {
        let answered = |attempt| {
            Ok(Transaction {
                reply: Vec::new(),
                attempts: 3,
                answered_attempt: attempt,
                ignored: 0,
                elapsed: Duration::ZERO,
            })
        };
        assert_eq!(socket_to_keep(&answered(1), 3), 0);
        assert_eq!(socket_to_keep(&answered(2), 3), 1);
        let gave_up = Err(ClientError::TimedOut {
            attempts: 3,
            ignored: 0,
        });
        assert_eq!(socket_to_keep(&gave_up, 3), 2);
        assert_eq!(socket_to_keep(&gave_up, 1), 0);
    }
}
