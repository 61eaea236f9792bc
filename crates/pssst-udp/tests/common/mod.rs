//! Helpers shared by the blocking and async client tests: configurations, a
//! server on loopback, and a hand-driven fake server that plays scripted
//! scenarios (retransmissions, junk before the genuine reply). Each test
//! file uses a part of it.
#![allow(dead_code)]

pub mod kernel_sockets;

use std::net::{SocketAddr, UdpSocket};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pssst_core::{PublicKey, Server, generate_key_pair};
use pssst_udp::{Handler, RetrySchedule, ServerConfig, Stats, UdpServer};

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

pub fn quick() -> RetrySchedule {
    RetrySchedule::new(Duration::from_millis(300), 3).expect("within the retransmission window")
}

/// Waits long: for a request that must be answered, queued behind work
/// that can take seconds on a loaded machine (a panicking handler's
/// backtrace, say). Long waits rather than many copies: every copy must
/// leave within the retransmission window (2.5 + 5 s), and the client then
/// waits 10 s more (17.5 s in all).
pub fn patient() -> RetrySchedule {
    RetrySchedule::new(Duration::from_millis(2_500), 2).expect("within the retransmission window")
}

/// Fails fast: for requests that are expected to get no answer.
pub fn impatient() -> RetrySchedule {
    RetrySchedule::new(Duration::from_millis(60), 1).expect("within the retransmission window")
}

/// Short waits and many retries: for the retransmission scenario.
pub fn persistent() -> RetrySchedule {
    RetrySchedule::new(Duration::from_millis(50), 5).expect("within the retransmission window")
}

/// The server's counters once it has settled every datagram it received
/// and `enough` holds for them: a client that gave up may have left copies
/// queued, which shutdown would drop uncounted. Bounded (30 s: a loaded
/// machine can leave them there for seconds); the counters as they are then.
pub fn settled_when(server: &UdpServer, enough: impl Fn(&Stats) -> bool) -> Stats {
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        let stats = server.stats();
        let settled = stats.settled() == stats.received();
        if (settled && enough(&stats)) || Instant::now() > give_up {
            return stats;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn start<H: Handler>(config: ServerConfig, handler: H) -> (UdpServer, PublicKey) {
    let (key, public) = generate_key_pair().unwrap();
    let server = UdpServer::bind(loopback(), key, config, handler).unwrap();
    (server, public)
}

/// A hand-driven server socket, to control exactly what the client receives.
pub struct FakeServer {
    pub socket: UdpSocket,
    pub server: Server,
}

impl FakeServer {
    pub fn new() -> FakeServer {
        let (key, _) = generate_key_pair().unwrap();
        let socket = UdpSocket::bind(loopback()).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        FakeServer {
            socket,
            server: Server::new(key),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    pub fn public_key(&self) -> PublicKey {
        self.server.public_key()
    }

    pub fn receive(&self) -> (Vec<u8>, SocketAddr) {
        let mut buf = vec![0; 65536];
        let (n, peer) = self.socket.recv_from(&mut buf).unwrap();
        buf.truncate(n);
        (buf, peer)
    }

    /// On a thread: receives three copies of one request (the client needs
    /// [`persistent`] retries), checks they are identical, and answers the
    /// third with "third time lucky". Returns itself and the request, for
    /// [`FakeServer::more_copies`].
    pub fn answer_the_third_copy(self) -> JoinHandle<(FakeServer, Vec<u8>)> {
        std::thread::spawn(move || {
            let (first, _) = self.receive();
            let (second, _) = self.receive();
            let (third, peer) = self.receive();
            assert_eq!(first, second);
            assert_eq!(first, third);
            let request = self.server.unpack_request(&third).unwrap();
            let reply = request
                .reply_handler
                .pack_reply(b"third time lucky")
                .unwrap();
            self.socket.send_to(&reply, peer).unwrap();
            (self, first)
        })
    }

    /// Receives `count` more datagrams, each a copy of `request`: on a
    /// loaded machine the client may send more copies before the reply
    /// reaches it, and each one it counts must have left.
    pub fn more_copies(&self, request: &[u8], count: u32) {
        for _ in 0..count {
            assert_eq!(self.receive().0, request, "not a copy of the request");
        }
    }

    /// On a thread: answers a first request with "first", then sends four
    /// datagrams that are not the reply to the second request (junk, the
    /// request reflected, the stale first reply, a forged reply) before the
    /// genuine "second". The client needs [`patient`] waits: a second copy
    /// of the request would make `attempts` 2.
    pub fn junk_before_the_genuine_reply(self) -> JoinHandle<()> {
        std::thread::spawn(move || {
            let (request, peer) = self.receive();
            let first = self.server.unpack_request(&request).unwrap();
            let first_reply = first.reply_handler.pack_reply(b"first").unwrap();
            self.socket.send_to(&first_reply, peer).unwrap();

            // Copies of the first request (sent before its reply arrived)
            // are not the second one.
            let (request, peer) = loop {
                let (datagram, peer) = self.receive();
                if datagram != request {
                    break (datagram, peer);
                }
            };
            let second = self.server.unpack_request(&request).unwrap();
            self.socket.send_to(b"junk", peer).unwrap();
            self.socket.send_to(&request, peer).unwrap();
            self.socket.send_to(&first_reply, peer).unwrap();
            let genuine = second.reply_handler.pack_reply(b"second").unwrap();
            let mut forged = genuine.clone();
            forged[40] ^= 1;
            self.socket.send_to(&forged, peer).unwrap();
            self.socket.send_to(&genuine, peer).unwrap();
        })
    }
}
