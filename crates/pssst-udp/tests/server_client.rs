//! The UDP server and client over loopback: answers, drops by reason,
//! anti-amplification, closed service, retries, ignoring junk, shutdown.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use pssst_core::{Client, PACKET_OVERHEAD, PrivateKey, generate_key_pair};
use pssst_udp::junk::{Junk, SmallOrder, XorShift};
use pssst_udp::{
    ClientError, Counter, Echo, Request, RetrySchedule, ServerConfig, Stats, UdpClient, UdpServer,
};

mod common;
use common::kernel_sockets::{own_sockets, udp_sockets};
use common::{FakeServer, impatient, loopback, patient, persistent, quick, settled_when, start};

fn anonymous(server: &UdpServer, schedule: RetrySchedule) -> UdpClient {
    let client = Client::new(server.public_key()).unwrap();
    UdpClient::connect(server.local_addr(), client, schedule).unwrap()
}

fn authenticated(server: &UdpServer, key: &PrivateKey, schedule: RetrySchedule) -> UdpClient {
    let client = Client::with_client_auth(server.public_key(), key).unwrap();
    UdpClient::connect(server.local_addr(), client, schedule).unwrap()
}

/// Waits (bounded) until the server has settled every datagram it received
/// and at least `received` of them.
fn settled(server: &UdpServer, received: u64) -> Stats {
    settled_when(server, |stats| stats.received() >= received)
}

#[test]
fn echo_answers_anonymous_and_authenticated_clients() {
    let (server, public) = start(ServerConfig::default().workers(2), Echo);
    assert_eq!(server.public_key(), public);
    assert_eq!(server.workers(), 2);
    let mut anon = anonymous(&server, quick());
    let (client_key, _) = generate_key_pair().unwrap();
    let mut auth = authenticated(&server, &client_key, quick());
    for size in [0usize, 1, 100, 1200, 8000] {
        let message: Vec<u8> = (0..size).map(|i| i as u8).collect();
        assert_eq!(anon.request(&message).unwrap(), message);
        assert_eq!(auth.request(&message).unwrap(), message);
    }
    let stats = server.shutdown();
    // At least: under load a client may retransmit, and each copy is answered.
    assert!(stats.answered() >= 10, "{stats}");
    assert_eq!(stats.dropped(), 0);
}

#[test]
fn handler_sees_the_authenticated_client_key() {
    let handler = |request: &Request<'_>, reply: &mut Vec<u8>| {
        match request.client_public_key {
            Some(key) => reply.extend_from_slice(key.as_bytes()),
            None => reply.extend_from_slice(b"anonymous"),
        }
        true
    };
    let (server, _) = start(ServerConfig::default().workers(1), handler);
    let (client_key, client_public) = generate_key_pair().unwrap();
    let mut auth = authenticated(&server, &client_key, quick());
    assert_eq!(auth.request(b"who am i").unwrap(), client_public.as_bytes());
    let mut anon = anonymous(&server, quick());
    assert_eq!(anon.request(b"who am i, again").unwrap(), b"anonymous");
}

#[test]
fn junk_is_dropped_and_counted_by_reason() {
    let (server, public) = start(ServerConfig::default().workers(2), Echo);
    let junk = UdpSocket::bind(loopback()).unwrap();
    let send = |packet: &[u8]| {
        junk.send_to(packet, server.local_addr()).unwrap();
    };
    let client = Client::new(public).unwrap();
    let (valid, _) = client.pack_request(b"a valid request").unwrap();
    let mut rng = XorShift::new(13);
    let mut send_junk = |kind: Junk| send(&kind.make(&valid, &mut || rng.next_u64()));

    // Too short: nothing at all, no header, one byte short of a request,
    // one byte short of a client-authenticated one.
    send(&[]);
    send_junk(Junk::Tiny);
    send(&valid[..PACKET_OVERHEAD - 1]);
    send_junk(Junk::ClientAuthTooShort);
    send_junk(Junk::ReplyFlag);
    send_junk(Junk::UnknownSuite);
    for point in [SmallOrder::Zero, SmallOrder::One, SmallOrder::MinusOne] {
        send_junk(Junk::SmallOrderDh(point));
    }
    send_junk(Junk::BitFlipped);

    let stats = settled(&server, 10);
    assert_eq!(stats.get(Counter::DroppedShort), 4);
    assert_eq!(stats.get(Counter::DroppedReplyFlag), 1);
    assert_eq!(stats.get(Counter::DroppedUnknownSuite), 1);
    assert_eq!(stats.get(Counter::DroppedLowOrder), 3);
    assert_eq!(stats.get(Counter::DroppedDecryptFailed), 1);
    assert_eq!(stats.answered(), 0);
    assert_eq!(stats.received(), 10);

    // The server is still there for the genuine request.
    let mut udp = anonymous(&server, quick());
    assert_eq!(udp.request(b"still up").unwrap(), b"still up");
}

/// A handler that answers four times the request: an amplifier if allowed.
fn amplifier(request: &Request<'_>, reply: &mut Vec<u8>) -> bool {
    for _ in 0..4 {
        reply.extend_from_slice(request.message);
    }
    true
}

#[test]
fn no_reply_is_larger_than_its_request() {
    let (server, _) = start(ServerConfig::default().workers(1), amplifier);
    let mut anon = anonymous(&server, impatient());
    assert!(matches!(
        anon.request(b"amplify me"),
        Err(ClientError::TimedOut { attempts: 2, .. })
    ));
    // An empty reply is not larger than the request: allowed. (A patient
    // client: it must be answered, however loaded the machine.)
    let mut answered = anonymous(&server, patient());
    assert_eq!(answered.request(b"").unwrap(), b"");
    // Client-authenticated requests are limited too: a recorded one can be
    // replayed from a spoofed source.
    let (client_key, _) = generate_key_pair().unwrap();
    let mut auth = authenticated(&server, &client_key, impatient());
    assert!(matches!(
        auth.request(&[7; 40]),
        Err(ClientError::TimedOut { attempts: 2, .. })
    ));
    settled_when(&server, |s| s.get(Counter::DroppedAmplification) >= 4);
    let stats = server.shutdown();
    assert_eq!(stats.get(Counter::DroppedAmplification), 4, "{stats}");
    // Every other datagram is a copy of the empty request (more than one if
    // a reply was slower than the client's first wait), and answered.
    assert_eq!(stats.answered(), stats.received() - 4, "{stats}");
}

#[test]
fn amplification_can_be_allowed() {
    let config = ServerConfig::default().workers(1).allow_amplification(true);
    let (server, _) = start(config, amplifier);
    let mut anon = anonymous(&server, quick());
    assert_eq!(anon.request(b"xy").unwrap(), b"xyxyxyxy");
}

#[test]
fn closed_service_answers_only_authorized_keys() {
    let (allowed_key, allowed_public) = generate_key_pair().unwrap();
    let (stranger_key, _) = generate_key_pair().unwrap();
    let config = ServerConfig::default()
        .workers(2)
        .authorized_clients([allowed_public]);
    let (server, _) = start(config, Echo);

    let mut allowed = authenticated(&server, &allowed_key, quick());
    assert_eq!(allowed.request(b"let me in").unwrap(), b"let me in");
    let mut anon = anonymous(&server, impatient());
    assert!(matches!(
        anon.request(b"me too"),
        Err(ClientError::TimedOut { .. })
    ));
    let mut stranger = authenticated(&server, &stranger_key, impatient());
    assert!(matches!(
        stranger.request(b"me too"),
        Err(ClientError::TimedOut { .. })
    ));

    // Two attempts each for the anonymous client and the stranger.
    settled_when(&server, |s| s.get(Counter::DroppedUnauthorized) >= 4);
    let stats = server.shutdown();
    assert!(stats.answered() >= 1, "{stats}");
    assert_eq!(stats.get(Counter::DroppedUnauthorized), 4, "{stats}");
}

#[test]
fn a_handler_may_decline_to_answer() {
    let (server, _) = start(
        ServerConfig::default().workers(1),
        |_: &Request<'_>, _: &mut Vec<u8>| false,
    );
    let mut anon = anonymous(&server, impatient());
    assert!(matches!(
        anon.request(b"hello?"),
        Err(ClientError::TimedOut { .. })
    ));
    settled_when(&server, |s| s.get(Counter::NoReply) >= 2);
    let stats = server.shutdown();
    assert_eq!(stats.get(Counter::NoReply), 2, "{stats}");
}

#[test]
fn a_panicking_handler_does_not_take_the_worker_down() {
    let handler = |request: &Request<'_>, reply: &mut Vec<u8>| {
        assert!(request.message != b"panic", "handler panics on purpose");
        reply.extend_from_slice(request.message);
        true
    };
    let (server, _) = start(ServerConfig::default().workers(1), handler);
    let mut anon = anonymous(&server, impatient());
    assert!(anon.request(b"panic").is_err());
    // Behind both copies of "panic" on the one worker, each a panic whose
    // hook prints (and may symbolize) a backtrace: seconds when loaded.
    let mut anon = anonymous(&server, patient());
    assert_eq!(anon.request(b"fine").unwrap(), b"fine");
}

fn fake_client(fake: &FakeServer, schedule: RetrySchedule) -> UdpClient {
    let client = Client::new(fake.public_key()).unwrap();
    UdpClient::connect(fake.addr(), client, schedule).unwrap()
}

#[test]
fn client_retransmits_the_identical_packet_until_answered() {
    let fake = FakeServer::new();
    let mut client = fake_client(&fake, persistent());
    let worker = fake.answer_the_third_copy();
    let transaction = client.transact(b"knock knock").unwrap();
    let (fake, request) = worker.join().unwrap();
    assert_eq!(transaction.reply, b"third time lucky");
    assert_eq!(transaction.answered_attempt, 3);
    // A loaded machine may have sent more copies before the reply arrived.
    assert!(transaction.attempts >= 3, "{transaction:?}");
    fake.more_copies(&request, transaction.attempts - 3);
}

#[test]
fn client_ignores_junk_and_stale_replies_and_takes_the_genuine_one() {
    let fake = FakeServer::new();
    let mut client = fake_client(&fake, patient());
    let worker = fake.junk_before_the_genuine_reply();
    assert_eq!(client.request(b"one").unwrap(), b"first");
    let transaction = client.transact(b"two").unwrap();
    worker.join().unwrap();
    assert_eq!(transaction.reply, b"second");
    assert_eq!(transaction.ignored, 4);
    assert_eq!(transaction.attempts, 1);
}

#[test]
fn client_gives_up_after_its_attempts() {
    let fake = FakeServer::new();
    let mut client = fake_client(&fake, impatient());
    let start = Instant::now();
    let error = client.request(b"anyone?").unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::TimedOut {
                attempts: 2,
                ignored: 0
            }
        ),
        "{error}"
    );
    // Not a timing test (shared machines are noisy): only "it gave up".
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn oversize_messages_are_refused_before_sending() {
    let (server, _) = start(ServerConfig::default().workers(1), Echo);
    let mut anon = anonymous(&server, quick());
    let max = anon.max_message_len();
    assert_eq!(max, 65_507 - 52);
    assert!(matches!(
        anon.request(&vec![0; max + 1]),
        Err(ClientError::MessageTooLarge { .. })
    ));
    assert_eq!(anon.request(&vec![7; max]).unwrap(), vec![7; max]);
}

#[test]
fn shutdown_is_prompt_and_frees_the_port() {
    let (server, _) = start(ServerConfig::default().workers(2), Echo);
    let addr = server.local_addr();
    // The server's sockets, as the kernel lists them. (Binding the port
    // again after shutdown would race with any process taking it first.)
    let own = own_sockets();
    let listening: Vec<u64> = udp_sockets()
        .into_iter()
        .filter(|s| s.local == addr && own.contains(&s.inode))
        .map(|s| s.inode)
        .collect();
    assert_eq!(listening.len(), server.workers(), "one socket per worker");
    let start = Instant::now();
    server.shutdown();
    // Not a timing test (shared machines are noisy): only "it did not hang".
    assert!(start.elapsed() < Duration::from_secs(30));
    // Nothing listens any more: the kernel has closed every one of them.
    let open: Vec<_> = udp_sockets()
        .into_iter()
        .filter(|s| listening.contains(&s.inode))
        .collect();
    assert!(open.is_empty(), "open after shutdown: {open:?}");
}

#[test]
fn many_clients_on_many_workers_all_complete() {
    let (server, _) = start(ServerConfig::default().workers(2), Echo);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let mut udp = anonymous(&server, quick());
            std::thread::spawn(move || {
                for i in 0..100u32 {
                    let message = format!("client {t} request {i}");
                    assert_eq!(udp.request(message.as_bytes()).unwrap(), message.as_bytes());
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert!(server.shutdown().answered() >= 800);
}
