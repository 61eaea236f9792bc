//! The transport-agnostic intake on its own, no socket: the order of its
//! checks, what its tickets count, and how they leave the reply cache.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pssst_core::{Client, ClientReplyHandler, PublicKey, generate_key_pair};
use pssst_udp::{Admission, Counter, HandlerFailure, Intake, ServerConfig, Tally, Ticket};

/// Records every count, in order.
#[derive(Clone, Default)]
struct Record(Arc<Mutex<Vec<Counter>>>);

impl Tally for Record {
    fn count(&self, counter: Counter) {
        self.0.lock().unwrap().push(counter);
    }
}

impl Record {
    fn counts(&self) -> Vec<Counter> {
        self.0.lock().unwrap().clone()
    }
}

fn cached() -> ServerConfig {
    ServerConfig::default().reply_cache(1 << 20, Duration::from_secs(30))
}

fn server(config: &ServerConfig) -> (Intake, PublicKey) {
    let (key, public) = generate_key_pair().unwrap();
    (Intake::new(key, config).unwrap(), public)
}

fn request(server: PublicKey, message: &[u8]) -> (Vec<u8>, ClientReplyHandler) {
    Client::new(server).unwrap().pack_request(message).unwrap()
}

/// Admits a copy of `packet`: the ticket of a new request, or why not.
fn admit(intake: &Intake, packet: &[u8], tally: &Record) -> Result<Ticket<Record>, Admitted> {
    let mut packet = packet.to_vec();
    match intake.admit(&mut packet, tally) {
        Admission::New { ticket, .. } => Ok(ticket),
        Admission::Resend { packet, .. } => Err(Admitted::Resend(packet)),
        Admission::Dropped(counter) => Err(Admitted::Dropped(counter)),
    }
}

#[derive(Debug, PartialEq)]
enum Admitted {
    Resend(Box<[u8]>),
    Dropped(Counter),
}

fn keep(sent: &mut Vec<u8>) -> impl FnOnce(&[u8]) -> Result<(), ()> + '_ {
    |packet| {
        sent.extend_from_slice(packet);
        Ok(())
    }
}

#[test]
fn junk_is_refused_before_the_busy_gate() {
    let (intake, public) = server(&ServerConfig::default().max_in_flight(1));
    let tally = Record::default();
    let held = admit(&intake, &request(public, b"first").0, &tally).unwrap();
    assert_eq!(intake.in_flight(), 1);
    assert_eq!(
        admit(&intake, &[0u8; 3], &tally).unwrap_err(),
        Admitted::Dropped(Counter::DroppedShort),
        "junk is junk, not busy"
    );
    let mut reply = request(public, b"reply").0;
    reply[0] |= 0x80; // the REPLY flag
    assert_eq!(
        admit(&intake, &reply, &tally).unwrap_err(),
        Admitted::Dropped(Counter::DroppedReplyFlag)
    );
    assert_eq!(
        admit(&intake, &request(public, b"second").0, &tally).unwrap_err(),
        Admitted::Dropped(Counter::DroppedBusy)
    );
    drop(held);
    assert_eq!(intake.in_flight(), 0);
    assert_eq!(tally.counts(), [Counter::NoReply], "only the ticket counts");
}

#[test]
fn an_anonymous_request_to_a_busy_closed_service_is_unauthorized() {
    let (client_key, client_public) = generate_key_pair().unwrap();
    let config = ServerConfig::default()
        .max_in_flight(1)
        .authorized_clients([client_public]);
    let (intake, public) = server(&config);
    let member = Client::with_client_auth(public, &client_key).unwrap();
    let tally = Record::default();
    let _held = admit(&intake, &member.pack_request(b"in").unwrap().0, &tally).unwrap();
    assert_eq!(
        admit(&intake, &request(public, b"anonymous").0, &tally).unwrap_err(),
        Admitted::Dropped(Counter::DroppedUnauthorized)
    );
    assert_eq!(
        admit(&intake, &member.pack_request(b"again").unwrap().0, &tally).unwrap_err(),
        Admitted::Dropped(Counter::DroppedBusy)
    );
}

#[test]
fn a_reply_is_sealed_counted_and_resent_to_copies_byte_for_byte() {
    let (intake, public) = server(&cached());
    let tally = Record::default();
    let (packet, mut handler) = request(public, b"hello there");
    let mut plain = packet.clone();
    let Admission::New { request, ticket } = intake.admit(&mut plain, &tally) else {
        panic!("a new request is admitted");
    };
    assert_eq!(request.message, b"hello there");
    assert_eq!(request.client_public_key, None);
    assert_eq!(request.max_reply_len, ticket.max_reply_len());
    assert_eq!(
        admit(&intake, &packet, &tally).unwrap_err(),
        Admitted::Dropped(Counter::DroppedInProgress)
    );
    let mut sent = Vec::new();
    assert_eq!(ticket.reply(b"hi", keep(&mut sent)), Ok(Counter::Answered));
    assert_eq!(handler.unpack_reply(&sent).unwrap(), b"hi");
    assert_eq!(
        admit(&intake, &packet, &tally).unwrap_err(),
        Admitted::Resend(sent.clone().into()),
        "a copy gets the very bytes"
    );
    // `admit` leaves counting and sending a copy's reply to its caller.
    assert_eq!(tally.counts(), [Counter::Answered]);
    assert_eq!(intake.replies_by_key(), [(public, 1)]);
    // `receive` does both, counting it under the key that sealed it.
    let mut resent = Vec::new();
    let mut copy = packet.clone();
    assert!(matches!(
        intake.receive(&mut copy, &tally, keep(&mut resent)),
        Ok(None)
    ));
    assert_eq!(resent, sent);
    assert_eq!(
        tally.counts(),
        [Counter::Answered, Counter::Received, Counter::Answered]
    );
    assert_eq!(intake.replies_by_key(), [(public, 2)]);
    assert_eq!(intake.in_flight(), 0);
}

#[test]
fn receive_counts_every_ending_once() {
    let (intake, public) = server(&cached());
    let tally = Record::default();
    let refused_resend = |_: &[u8]| Err::<(), _>("unreachable socket");
    // Junk: received, then dropped.
    assert!(matches!(
        intake.receive(&mut [0u8; 3], &tally, |_| Ok::<(), ()>(())),
        Ok(None)
    ));
    // A new request: received; its ticket counts the ending.
    let (packet, _) = request(public, b"new");
    let mut first = packet.clone();
    let (admitted, ticket) = intake
        .receive(&mut first, &tally, refused_resend)
        .unwrap()
        .expect("a new request");
    assert_eq!(admitted.message, b"new");
    assert_eq!(
        ticket.reply(b"ok", |_| Ok::<(), ()>(())),
        Ok(Counter::Answered)
    );
    // A copy whose resend fails: counted as such, the error handed back.
    assert!(matches!(
        intake.receive(&mut packet.clone(), &tally, refused_resend),
        Err("unreachable socket")
    ));
    assert_eq!(
        tally.counts(),
        [
            Counter::Received,
            Counter::DroppedShort,
            Counter::Received,
            Counter::Answered,
            Counter::Received,
            Counter::SendFailed
        ]
    );
    assert_eq!(
        intake.replies_by_key(),
        [(public, 1)],
        "a failed resend is no reply"
    );
}

#[test]
fn a_copy_is_answered_from_the_cache_before_any_x25519() {
    // A forged copy (its body garbage) of a known id gets the remembered
    // reply without being decrypted: it could not be, and a decryption
    // would have dropped it. Bounded by its own length all the same.
    let (intake, public) = server(&cached());
    let tally = Record::default();
    let (packet, _) = request(public, b"a request of some length");
    let ticket = admit(&intake, &packet, &tally).unwrap();
    let mut sent = Vec::new();
    assert_eq!(
        ticket.reply(b"short", keep(&mut sent)),
        Ok(Counter::Answered)
    );
    let mut forged = packet.clone();
    let body = pssst_core::layout::body_mut(&mut forged).unwrap();
    body.fill(0x5a);
    assert_eq!(
        admit(&intake, &forged, &tally).unwrap_err(),
        Admitted::Resend(sent.clone().into())
    );
    // Shorter than the remembered reply: nothing (no amplification).
    let short = &forged[..sent.len() - 1];
    assert_eq!(
        admit(&intake, short, &tally).unwrap_err(),
        Admitted::Dropped(Counter::DroppedAmplification)
    );
}

#[test]
fn a_reply_larger_than_its_request_is_not_sent() {
    let (intake, public) = server(&ServerConfig::default());
    let tally = Record::default();
    let ticket = admit(&intake, &request(public, b"ab").0, &tally).unwrap();
    let too_long = vec![0u8; ticket.max_reply_len() + 1];
    let mut sent = Vec::new();
    assert_eq!(
        ticket.reply(&too_long, keep(&mut sent)),
        Ok(Counter::DroppedAmplification)
    );
    assert!(sent.is_empty());
    assert_eq!(tally.counts(), [Counter::DroppedAmplification]);
}

#[test]
fn a_send_error_comes_back_counted_as_send_failed() {
    let (intake, public) = server(&ServerConfig::default());
    let tally = Record::default();
    let ticket = admit(&intake, &request(public, b"ab").0, &tally).unwrap();
    assert_eq!(ticket.reply(b"ok", |_| Err("no route")), Err("no route"));
    assert_eq!(tally.counts(), [Counter::SendFailed]);
    assert_eq!(intake.replies_by_key()[0].1, 0);
}

#[test]
fn a_failure_is_remembered_for_copies_but_a_cancel_or_unreachable_is_forgotten() {
    let (intake, public) = server(&cached());
    let tally = Record::default();
    let (failed, _) = request(public, b"failed");
    admit(&intake, &failed, &tally)
        .unwrap()
        .fail(HandlerFailure::Failed);
    assert_eq!(
        admit(&intake, &failed, &tally).unwrap_err(),
        Admitted::Dropped(Counter::HandlerFailed)
    );
    let (cancelled, _) = request(public, b"cancelled");
    admit(&intake, &cancelled, &tally).unwrap().cancel();
    let (unreachable, _) = request(public, b"unreachable");
    admit(&intake, &unreachable, &tally)
        .unwrap()
        .fail(HandlerFailure::Unreachable);
    // Retries get a second chance.
    let again = admit(&intake, &cancelled, &tally).unwrap();
    let again_too = admit(&intake, &unreachable, &tally).unwrap();
    assert_eq!(intake.in_flight(), 2);
    drop((again, again_too));
    assert_eq!(
        tally.counts(),
        [
            Counter::HandlerFailed,
            Counter::HandlerUnreachable,
            Counter::NoReply,
            Counter::NoReply
        ],
        "a cancel counts nothing"
    );
    assert_eq!(intake.in_flight(), 0);
}

#[test]
fn a_reply_sealed_from_inside_another_replys_send_is_sealed_too() {
    let (intake, public) = server(&ServerConfig::default());
    let tally = Record::default();
    let (outer_packet, mut outer_handler) = request(public, b"outer");
    let (inner_packet, mut inner_handler) = request(public, b"inner");
    let outer = admit(&intake, &outer_packet, &tally).unwrap();
    let inner = admit(&intake, &inner_packet, &tally).unwrap();
    let (mut outer_sent, mut inner_sent) = (Vec::new(), Vec::new());
    let ended = outer.reply(b"1", |packet| {
        // A send callback that runs other code (an event loop's sendto).
        assert_eq!(
            inner.reply(b"2", keep(&mut inner_sent)),
            Ok(Counter::Answered)
        );
        outer_sent.extend_from_slice(packet);
        Ok::<(), ()>(())
    });
    assert_eq!(ended, Ok(Counter::Answered));
    assert_eq!(outer_handler.unpack_reply(&outer_sent).unwrap(), b"1");
    assert_eq!(inner_handler.unpack_reply(&inner_sent).unwrap(), b"2");
}

#[test]
fn a_reload_swaps_the_keys_for_the_next_request() {
    let (intake, old) = server(&ServerConfig::default());
    let (new_key, new) = generate_key_pair().unwrap();
    let tally = Record::default();
    intake.reload(pssst_udp::ServerKeys::from(new_key), None);
    assert_eq!(intake.public_key(), new);
    assert_eq!(
        admit(&intake, &request(old, b"old").0, &tally).unwrap_err(),
        Admitted::Dropped(Counter::DroppedDecryptFailed)
    );
    assert!(admit(&intake, &request(new, b"new").0, &tally).is_ok());
}
