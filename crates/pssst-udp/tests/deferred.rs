//! Handlers that answer later: many requests in flight, none waiting for
//! another; the in-flight limit; how each ending is counted; copies of a
//! request still in flight; shutdown with requests in flight.

use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pssst_core::{Client, ClientReplyHandler, PublicKey, generate_key_pair};
use pssst_udp::{
    Counter, DeferredHandler, HandlerFailure, Request, Responder, ServerConfig, Stats, UdpServer,
};

mod common;
use common::loopback;

fn start<H: DeferredHandler>(config: ServerConfig, handler: H) -> UdpServer {
    let (key, _) = generate_key_pair().unwrap();
    UdpServer::bind_deferred(loopback(), key, config, handler).unwrap()
}

/// A client socket of its own and one sealed request.
struct RawRequest {
    socket: UdpSocket,
    packet: Vec<u8>,
    handler: ClientReplyHandler,
}

impl RawRequest {
    fn new(server: &UdpServer, message: &[u8]) -> RawRequest {
        let client = Client::new(server.public_key()).unwrap();
        let (packet, handler) = client.pack_request(message).unwrap();
        let socket = UdpSocket::bind(loopback()).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        socket.connect(server.local_addr()).unwrap();
        RawRequest {
            socket,
            packet,
            handler,
        }
    }

    fn send(&self) {
        self.socket.send(&self.packet).unwrap();
    }

    /// The next reply packet, raw (None after a short wait).
    fn raw_reply(&self, wait: Duration) -> Option<Vec<u8>> {
        self.socket.set_read_timeout(Some(wait)).unwrap();
        let mut buf = vec![0; 65536];
        let n = self.socket.recv(&mut buf).ok()?;
        buf.truncate(n);
        Some(buf)
    }

    fn reply(&mut self) -> Vec<u8> {
        let packet = self.raw_reply(Duration::from_secs(5)).expect("a reply");
        self.handler.unpack_reply(&packet).unwrap()
    }
}

/// Waits (bounded) until `done` holds for the server's counters.
fn wait_for(server: &UdpServer, what: &str, done: impl Fn(&Stats, usize) -> bool) -> Stats {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = server.stats();
        if done(&stats, server.in_flight()) {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "waiting for {what}: {stats}, in flight {}",
            server.in_flight()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A reply and the responder that will send it.
type HeldReply = (Vec<u8>, Responder);

/// Holds the responders of requests whose message starts with "hold", until
/// the test releases them; answers the others at once, from a thread. The
/// reply is the message, its padding replaced by " #" and the call number.
#[derive(Clone, Default)]
struct Holding {
    held: Arc<Mutex<Vec<HeldReply>>>,
    calls: Arc<Mutex<u32>>,
}

impl DeferredHandler for Holding {
    fn handle(&self, request: &Request<'_>, responder: Responder) {
        let mut calls = self.calls.lock().unwrap();
        *calls += 1;
        // Output that differs from run to run (no longer than the request:
        // messages end in padding).
        let mut message = request.message.trim_ascii_end().to_vec();
        message.extend_from_slice(format!(" #{calls}").as_bytes());
        if request.message.starts_with(b"hold") {
            self.held.lock().unwrap().push((message, responder));
        } else {
            std::thread::spawn(move || responder.reply(&message));
        }
    }
}

impl Holding {
    fn release_all(&self) {
        for (message, responder) in self.held.lock().unwrap().drain(..) {
            responder.reply(&message);
        }
    }

    fn held(&self) -> usize {
        self.held.lock().unwrap().len()
    }
}

#[test]
fn a_slow_request_does_not_delay_a_fast_one_on_one_worker() {
    let handler = Holding::default();
    let server = start(ServerConfig::default().workers(1), handler.clone());
    let mut slow = RawRequest::new(&server, b"hold me   ");
    slow.send();
    wait_for(&server, "the slow request", |_, in_flight| in_flight == 1);
    // The slow one is still held (not answered) while the fast one is.
    let mut fast = RawRequest::new(&server, b"fast   ");
    fast.send();
    assert_eq!(fast.reply(), b"fast #2");
    assert_eq!(handler.held(), 1, "the slow request is still in flight");
    handler.release_all();
    assert_eq!(slow.reply(), b"hold me #1");
    let stats = wait_for(&server, "idle", |s, n| n == 0 && s.settled() == 2);
    assert_eq!(stats.answered(), 2);
}

#[test]
fn past_the_in_flight_limit_new_requests_are_dropped_and_counted() {
    let handler = Holding::default();
    let server = start(
        ServerConfig::default().workers(1).max_in_flight(2),
        handler.clone(),
    );
    let mut held: Vec<RawRequest> = (0..2)
        .map(|i| RawRequest::new(&server, format!("hold {i}   ").as_bytes()))
        .collect();
    for request in &held {
        request.send();
    }
    wait_for(&server, "two in flight", |_, n| n == 2);
    let refused = RawRequest::new(&server, b"hold 2   ");
    refused.send();
    let stats = wait_for(&server, "a busy drop", |s, _| {
        s.get(Counter::DroppedBusy) == 1
    });
    assert_eq!(server.in_flight(), 2, "{stats}");
    assert_eq!(handler.held(), 2, "the third never reached the handler");
    handler.release_all();
    let mut replies: Vec<Vec<u8>> = held.iter_mut().map(RawRequest::reply).collect();
    replies.sort();
    assert_eq!(replies, [b"hold 0 #1".to_vec(), b"hold 1 #2".to_vec()]);
    // Slots are given back: a retry of the refused request now runs.
    wait_for(&server, "slots free", |_, n| n == 0);
    refused.send();
    wait_for(&server, "held again", |_, _| handler.held() == 1);
    handler.release_all();
    assert!(refused.raw_reply(Duration::from_secs(5)).is_some());
}

#[test]
fn each_way_a_handler_ends_is_counted() {
    let handler = |request: &Request<'_>, responder: Responder| {
        let too_long = vec![0; responder.max_reply_len() + 1];
        match request.message {
            b"drop" => drop(responder),
            b"no reply" => _ = responder.no_reply(),
            b"fail" => _ = responder.fail(HandlerFailure::Failed),
            b"slow" => _ = responder.fail(HandlerFailure::TimedOut),
            b"down" => _ = responder.fail(HandlerFailure::Unreachable),
            b"long" => _ = responder.reply(&too_long),
            b"panic" => panic!("a handler panics on purpose"),
            _ => _ = responder.reply(request.message),
        }
    };
    let server = start(ServerConfig::default().workers(1), handler);
    let messages: [&[u8]; 8] = [
        b"drop",
        b"no reply",
        b"fail",
        b"slow",
        b"down",
        b"long",
        b"panic",
        b"ok",
    ];
    let requests: Vec<RawRequest> = messages
        .iter()
        .map(|m| RawRequest::new(&server, m))
        .collect();
    for request in &requests {
        request.send();
    }
    let stats = wait_for(&server, "all settled", |s, n| {
        n == 0 && s.received() == 8 && s.settled() == 8
    });
    for (counter, expected) in [
        (Counter::NoReply, 3),
        (Counter::HandlerFailed, 1),
        (Counter::HandlerTimedOut, 1),
        (Counter::HandlerUnreachable, 1),
        (Counter::DroppedAmplification, 1),
        (Counter::Answered, 1),
    ] {
        assert_eq!(stats.get(counter), expected, "{counter:?} in {stats}");
    }
}

#[test]
fn a_copy_in_flight_is_not_run_again_and_later_copies_get_the_same_bytes() {
    let handler = Holding::default();
    let config = ServerConfig::default()
        .workers(2)
        .reply_cache(1 << 20, Duration::from_secs(30));
    let server = start(config, handler.clone());
    let mut request = RawRequest::new(&server, b"hold: the answer varies   ");
    request.send();
    wait_for(&server, "in flight", |_, n| n == 1);
    request.send();
    wait_for(&server, "the copy dropped", |s, _| {
        s.get(Counter::DroppedInProgress) == 1
    });
    handler.release_all();
    let first = request.raw_reply(Duration::from_secs(5)).expect("reply");
    for _ in 0..3 {
        request.send();
        assert_eq!(request.raw_reply(Duration::from_secs(5)).unwrap(), first);
    }
    assert_eq!(*handler.calls.lock().unwrap(), 1, "the handler ran once");
    assert_eq!(
        request.handler.unpack_reply(&first).unwrap(),
        b"hold: the answer varies #1"
    );
}

#[test]
fn shutdown_waits_for_the_requests_in_flight() {
    let (release, gate): (Sender<()>, Receiver<()>) = mpsc::channel();
    let gate = Arc::new(Mutex::new(gate));
    let handler = move |request: &Request<'_>, responder: Responder| {
        let message = request.message.to_vec();
        let gate = Arc::clone(&gate);
        std::thread::spawn(move || {
            let _ = gate.lock().unwrap().recv_timeout(Duration::from_secs(5));
            responder.reply(&message);
        });
    };
    let server = start(ServerConfig::default().workers(1), handler);
    let mut request = RawRequest::new(&server, b"late");
    request.send();
    wait_for(&server, "in flight", |_, n| n == 1);
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        release.send(()).unwrap();
    });
    let stats = server.shutdown();
    releaser.join().unwrap();
    assert_eq!(stats.answered(), 1, "{stats}");
    assert_eq!(request.reply(), b"late");
}

#[test]
fn the_handler_sees_what_a_blocking_one_sees() {
    let (client_key, client_public) = generate_key_pair().unwrap();
    type Seen = (Option<PublicKey>, SocketAddr, usize);
    let seen: Arc<Mutex<Option<Seen>>> = Arc::default();
    let record = Arc::clone(&seen);
    let handler = move |request: &Request<'_>, responder: Responder| {
        *record.lock().unwrap() = Some((
            request.client_public_key,
            request.peer,
            request.max_reply_len,
        ));
        responder.reply(b"ok");
    };
    let server = start(ServerConfig::default().workers(1), handler);
    let client = Client::with_client_auth(server.public_key(), &client_key).unwrap();
    let (packet, mut reply_handler) = client.pack_request(b"who am I").unwrap();
    let socket = UdpSocket::bind(loopback()).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket.send_to(&packet, server.local_addr()).unwrap();
    let mut buf = vec![0; 65536];
    let n = socket.recv(&mut buf).unwrap();
    assert_eq!(reply_handler.unpack_reply(&buf[..n]).unwrap(), b"ok");
    let (key, peer, max_reply_len) = seen.lock().unwrap().unwrap();
    assert_eq!(key, Some(client_public));
    assert_eq!(peer, socket.local_addr().unwrap());
    assert_eq!(max_reply_len, packet.len() - pssst_core::PACKET_OVERHEAD);
}

#[test]
fn with_a_cache_an_unreachable_backend_is_retried_and_a_failure_is_remembered() {
    let calls = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
    let record = Arc::clone(&calls);
    let handler = move |request: &Request<'_>, responder: Responder| {
        let mut calls = record.lock().unwrap();
        calls.push(request.message.to_vec());
        let tries = calls.iter().filter(|m| *m == request.message).count();
        match (request.message, tries) {
            (b"down at first", 1) => _ = responder.fail(HandlerFailure::Unreachable),
            (b"failing", _) => _ = responder.fail(HandlerFailure::Failed),
            _ => _ = responder.reply(request.message),
        }
    };
    let config = ServerConfig::default()
        .workers(1)
        .reply_cache(1 << 20, Duration::from_secs(30));
    let server = start(config, handler);
    let mut down = RawRequest::new(&server, b"down at first");
    down.send();
    assert!(down.raw_reply(Duration::from_millis(300)).is_none());
    down.send();
    assert_eq!(down.reply(), b"down at first");
    let failing = RawRequest::new(&server, b"failing");
    failing.send();
    failing.send();
    assert!(failing.raw_reply(Duration::from_millis(300)).is_none());
    let stats = wait_for(&server, "settled", |s, n| n == 0 && s.settled() == 4);
    let runs = |m: &[u8]| calls.lock().unwrap().iter().filter(|c| *c == m).count();
    assert_eq!(
        runs(b"down at first"),
        2,
        "an unreachable backend gets a retry"
    );
    assert_eq!(runs(b"failing"), 1, "a failure is remembered: {stats}");
    assert_eq!(stats.get(Counter::HandlerFailed), 2, "{stats}");
}
