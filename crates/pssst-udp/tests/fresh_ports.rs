//! The retry schedule behind a flow-hashing load balancer: each
//! retransmission leaves from a new source port, the reply to any attempt
//! is taken (the first to arrive), later replies to earlier attempts are
//! never mistaken for a reply, and only the socket that worked stays open.
//! A hand-driven server plays each scenario; the blocking and the async
//! (feature `tokio`) client must behave the same. Every wait is bounded.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;

use pssst_core::Client;
use pssst_udp::{ClientError, RetrySchedule, UdpClient};

mod common;
use common::kernel_sockets::udp_sockets;
use common::{FakeServer, impatient, persistent};

/// `copies` datagrams from the client, checked to be the same request
/// from as many different source ports; their sources, in order.
fn copies_from_fresh_ports(fake: &FakeServer, copies: usize) -> (Vec<u8>, Vec<SocketAddr>) {
    let (first, peer) = fake.receive();
    let mut peers = vec![peer];
    for _ in 1..copies {
        let (copy, peer) = fake.receive();
        assert_eq!(copy, first, "a retransmission must be the same bytes");
        assert!(
            !peers.iter().any(|p| p.port() == peer.port()),
            "attempt {} left from port {} again: {peers:?}",
            peers.len() + 1,
            peer.port()
        );
        peers.push(peer);
    }
    (first, peers)
}

/// The sealed reply to `request`.
fn reply_to(fake: &FakeServer, request: &[u8], message: &[u8]) -> Vec<u8> {
    let request = fake.server.unpack_request(request).unwrap();
    request.reply_handler.pack_reply(message).unwrap()
}

/// Whether the client's socket on `peer`'s port, connected to `server`, is
/// closed: the kernel lists no such socket. (Binding the port again would
/// race with any process taking the freed port first.)
fn closed(peer: SocketAddr, server: SocketAddr) -> bool {
    !udp_sockets()
        .iter()
        .any(|s| s.local.port() == peer.port() && s.remote == server)
}

/// Scenario 1, on a thread: takes three copies of a request, then answers
/// the second (on the port it came from) with "second copy". Returns their
/// sources.
fn answer_the_second_of_three(fake: FakeServer) -> JoinHandle<Vec<SocketAddr>> {
    std::thread::spawn(move || {
        let (request, peers) = copies_from_fresh_ports(&fake, 3);
        let reply = reply_to(&fake, &request, b"second copy");
        fake.socket.send_to(&reply, peers[1]).unwrap();
        peers
    })
}

/// Scenario 2, on a thread: takes two copies of a first request and
/// answers the first copy only ("first copy, late"). Once `done` says the
/// client has it, sends that reply again to both ports (a duplicate and a
/// late reply to the second copy), then answers the next request after a
/// datagram of junk and the stale first reply. Returns the two sources.
fn answer_the_first_copy_late(
    fake: FakeServer,
    done: mpsc::Receiver<()>,
) -> JoinHandle<Vec<SocketAddr>> {
    std::thread::spawn(move || {
        let (request, peers) = copies_from_fresh_ports(&fake, 2);
        let stale = reply_to(&fake, &request, b"first copy, late");
        fake.socket.send_to(&stale, peers[0]).unwrap();
        done.recv().unwrap();
        fake.socket.send_to(&stale, peers[0]).unwrap();
        fake.socket.send_to(&stale, peers[1]).unwrap();
        // Copies of the first request still queued (the client went on
        // retransmitting until the reply reached it) are not the next one.
        let (next, peer) = loop {
            let (datagram, peer) = fake.receive();
            if datagram != request {
                break (datagram, peer);
            }
        };
        assert_eq!(
            peer, peers[0],
            "the next request must leave from the kept socket"
        );
        fake.socket.send_to(b"junk", peer).unwrap();
        fake.socket.send_to(&stale, peer).unwrap();
        let genuine = reply_to(&fake, &next, b"next");
        fake.socket.send_to(&genuine, peer).unwrap();
        peers
    })
}

/// Scenario 3, on a thread: takes two copies of a request, answers none.
fn answer_nothing(fake: FakeServer) -> JoinHandle<Vec<SocketAddr>> {
    std::thread::spawn(move || copies_from_fresh_ports(&fake, 2).1)
}

/// Scenario 4, on a thread: takes two copies; sends the first port junk, a
/// forged reply (one bit flipped) and the reply to another request, and
/// the second port the genuine reply ("genuine").
fn junk_on_the_first_port(fake: FakeServer, other: Vec<u8>) -> JoinHandle<Vec<SocketAddr>> {
    std::thread::spawn(move || {
        let (request, peers) = copies_from_fresh_ports(&fake, 2);
        let genuine = reply_to(&fake, &request, b"genuine");
        let mut forged = genuine.clone();
        forged[40] ^= 1;
        let foreign = reply_to(&fake, &other, b"genuine");
        for junk in [&b"junk"[..], &forged, &foreign] {
            fake.socket.send_to(junk, peers[0]).unwrap();
        }
        fake.socket.send_to(&genuine, peers[1]).unwrap();
        peers
    })
}

/// Two datagrams from the same client: a request the fake can answer but
/// no client is waiting for.
fn other_request(fake: &FakeServer) -> Vec<u8> {
    let client = Client::new(fake.public_key()).unwrap();
    client.pack_request(b"someone else").unwrap().0
}

fn blocking_client(fake: &FakeServer, schedule: RetrySchedule) -> UdpClient {
    let client = Client::new(fake.public_key()).unwrap();
    UdpClient::connect(fake.addr(), client, schedule).unwrap()
}

#[test]
fn each_retransmission_leaves_from_a_new_port_and_the_reply_to_any_is_taken() {
    let fake = FakeServer::new();
    let server = fake.addr();
    let mut client = blocking_client(&fake, persistent());
    let primary = client.local_addr().unwrap().port();
    let worker = answer_the_second_of_three(fake);
    let transaction = client.transact(b"knock knock").unwrap();
    let peers = worker.join().unwrap();
    assert_eq!(
        peers[0].port(),
        primary,
        "the first attempt leaves from the primary"
    );
    assert_eq!(transaction.reply, b"second copy");
    assert_eq!(transaction.answered_attempt, 2);
    assert!(transaction.attempts >= 3, "{transaction:?}");
    assert_eq!(client.local_addr().unwrap().port(), peers[1].port());
    assert!(
        closed(peers[0], server) && closed(peers[2], server),
        "the other sockets stay open"
    );
    assert!(!closed(peers[1], server), "the kept socket is closed");
}

#[test]
fn a_late_reply_to_the_first_attempt_is_taken_and_never_mistaken_later() {
    let fake = FakeServer::new();
    let server = fake.addr();
    let mut client = blocking_client(&fake, persistent());
    let (done, wait) = mpsc::channel();
    let worker = answer_the_first_copy_late(fake, wait);
    let first = client.transact(b"one").unwrap();
    done.send(()).unwrap();
    let next = client.transact(b"two").unwrap();
    let peers = worker.join().unwrap();
    assert_eq!(first.reply, b"first copy, late");
    assert_eq!(first.answered_attempt, 1);
    assert!(first.attempts >= 2, "{first:?}");
    assert_eq!(next.reply, b"next");
    // The duplicate of the first reply, the junk and the stale reply again.
    assert_eq!(next.ignored, 3, "{next:?}");
    assert_eq!(client.local_addr().unwrap().port(), peers[0].port());
    assert!(closed(peers[1], server));
}

#[test]
fn after_giving_up_only_the_newest_socket_stays_open() {
    let fake = FakeServer::new();
    let server = fake.addr();
    let mut client = blocking_client(&fake, impatient());
    let worker = answer_nothing(fake);
    let error = client.request(b"anyone?").unwrap_err();
    let peers = worker.join().unwrap();
    assert!(
        matches!(error, ClientError::TimedOut { attempts: 2, .. }),
        "{error}"
    );
    assert_eq!(client.local_addr().unwrap().port(), peers[1].port());
    assert!(closed(peers[0], server));
}

#[test]
fn junk_on_an_earlier_attempt_s_port_is_ignored() {
    let fake = FakeServer::new();
    let other = other_request(&fake);
    let mut client = blocking_client(&fake, persistent());
    let worker = junk_on_the_first_port(fake, other);
    let transaction = client.transact(b"knock knock").unwrap();
    worker.join().unwrap();
    assert_eq!(transaction.reply, b"genuine");
    assert_eq!(transaction.answered_attempt, 2);
    assert!(transaction.ignored <= 3, "{transaction:?}");
}

#[cfg(feature = "tokio")]
mod async_client {
    use std::future::Future;
    use std::time::Duration;

    use pssst_udp::AsyncUdpClient;

    use super::*;

    /// Not a timing test (shared machines are noisy): only "it did not hang".
    async fn bounded<T>(future: impl Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(60), future)
            .await
            .expect("did not finish within 60 s")
    }

    async fn async_client(fake: &FakeServer, schedule: RetrySchedule) -> AsyncUdpClient {
        let client = Client::new(fake.public_key()).unwrap();
        AsyncUdpClient::connect(fake.addr(), client, schedule)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn each_retransmission_leaves_from_a_new_port_and_the_reply_to_any_is_taken() {
        let fake = FakeServer::new();
        let server = fake.addr();
        let mut client = async_client(&fake, persistent()).await;
        let primary = client.local_addr().unwrap().port();
        let worker = answer_the_second_of_three(fake);
        let transaction = bounded(client.transact(b"knock knock")).await.unwrap();
        let peers = worker.join().unwrap();
        assert_eq!(peers[0].port(), primary);
        assert_eq!(transaction.reply, b"second copy");
        assert_eq!(transaction.answered_attempt, 2);
        assert!(transaction.attempts >= 3, "{transaction:?}");
        assert_eq!(client.local_addr().unwrap().port(), peers[1].port());
        assert!(closed(peers[0], server) && closed(peers[2], server));
    }

    #[tokio::test]
    async fn a_late_reply_to_the_first_attempt_is_taken_and_never_mistaken_later() {
        let fake = FakeServer::new();
        let server = fake.addr();
        let mut client = async_client(&fake, persistent()).await;
        let (done, wait) = mpsc::channel();
        let worker = answer_the_first_copy_late(fake, wait);
        let first = bounded(client.transact(b"one")).await.unwrap();
        done.send(()).unwrap();
        let next = bounded(client.transact(b"two")).await.unwrap();
        let peers = worker.join().unwrap();
        assert_eq!(first.reply, b"first copy, late");
        assert_eq!(first.answered_attempt, 1);
        assert_eq!(next.reply, b"next");
        assert_eq!(next.ignored, 3, "{next:?}");
        assert_eq!(client.local_addr().unwrap().port(), peers[0].port());
        assert!(closed(peers[1], server));
    }

    #[tokio::test]
    async fn after_giving_up_only_the_newest_socket_stays_open() {
        let fake = FakeServer::new();
        let server = fake.addr();
        let mut client = async_client(&fake, impatient()).await;
        let worker = answer_nothing(fake);
        let error = bounded(client.request(b"anyone?")).await.unwrap_err();
        let peers = worker.join().unwrap();
        assert!(
            matches!(error, ClientError::TimedOut { attempts: 2, .. }),
            "{error}"
        );
        assert_eq!(client.local_addr().unwrap().port(), peers[1].port());
        assert!(closed(peers[0], server));
    }

    #[tokio::test]
    async fn junk_on_an_earlier_attempt_s_port_is_ignored() {
        let fake = FakeServer::new();
        let other = other_request(&fake);
        let mut client = async_client(&fake, persistent()).await;
        let worker = junk_on_the_first_port(fake, other);
        let transaction = bounded(client.transact(b"knock knock")).await.unwrap();
        worker.join().unwrap();
        assert_eq!(transaction.reply, b"genuine");
        assert_eq!(transaction.answered_attempt, 2);
        assert!(transaction.ignored <= 3, "{transaction:?}");
    }

    /// On a thread: takes the copies of an abandoned request (their
    /// sources), then answers the next request ("next"), from its source.
    fn abandoned_then_next(fake: FakeServer) -> JoinHandle<(Vec<SocketAddr>, SocketAddr)> {
        std::thread::spawn(move || {
            let (abandoned, peer) = fake.receive();
            let mut peers = vec![peer];
            loop {
                let (request, peer) = fake.receive();
                if request == abandoned {
                    peers.push(peer);
                    continue;
                }
                let reply = reply_to(&fake, &request, b"next");
                fake.socket.send_to(&reply, peer).unwrap();
                return (peers, peer);
            }
        })
    }

    #[tokio::test]
    async fn an_abandoned_request_leaves_its_newest_socket_for_the_next() {
        let fake = FakeServer::new();
        let server = fake.addr();
        let mut client = async_client(&fake, persistent()).await;
        let worker = abandoned_then_next(fake);
        // Dropped after a few attempts (50 ms apart).
        let abandoned =
            tokio::time::timeout(Duration::from_millis(175), client.transact(b"never mind"));
        assert!(abandoned.await.is_err(), "nobody answers it");
        let next = bounded(client.transact(b"next")).await.unwrap();
        let (abandoned_from, next_from) = worker.join().unwrap();
        assert_eq!(next.reply, b"next");
        assert_eq!(Some(&next_from), abandoned_from.last());
        assert_eq!(client.local_addr().unwrap().port(), next_from.port());
        assert!(!closed(next_from, server), "the kept socket is closed");
        for peer in &abandoned_from[..abandoned_from.len() - 1] {
            assert!(
                closed(*peer, server),
                "{peer} still open: {abandoned_from:?}"
            );
        }
    }
}
