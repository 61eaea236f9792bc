//! One worker's loop: receive, let the [`Intake`](super::Intake) drop junk,
//! decrypt and check, hand over, send.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use zeroize::Zeroize;

use super::intake::Admission;
use super::responder::{Responder, WorkerTally};
use super::{DeferredHandler, Request, Shared};
use crate::stats::Counter;

/// What a worker hands on with each request.
struct Origin<'a> {
    socket: &'a Arc<UdpSocket>,
    tally: &'a WorkerTally,
}

/// One worker: receive, filter, decrypt, hand over. Allocates nothing per
/// packet for a blocking handler (the handler may).
pub(super) fn worker<H: DeferredHandler>(shared: &Shared<H>, socket: Arc<UdpSocket>, index: usize) {
    let stats = &shared.stats[index];
    let tally = WorkerTally {
        stats: Arc::clone(&shared.stats),
        worker: index,
        handler_timer: Arc::clone(&shared.handler_timer),
    };
    let origin = Origin {
        socket: &socket,
        tally: &tally,
    };
    let mut packet = vec![0u8; 1 << 16];
    // The ciphertext, kept while a request is tried against several keys.
    let mut spare = Vec::with_capacity(1 << 16);
    while !shared.shutdown.load(Ordering::Relaxed) {
        let (len, peer) = match socket.recv_from(&mut packet) {
            Ok(received) => received,
            Err(e) if is_transient(&e) => continue,
            // Anything else (e.g. an ICMP error surfacing) is about one
            // datagram, not the socket: keep serving.
            Err(_) => continue,
        };
        stats.bump(Counter::Received);
        let outcome = serve_one(shared, &origin, &mut packet[..len], &mut spare, peer);
        // The buffer held the plaintext (the client's proof C || e too).
        packet[..len].zeroize();
        let counter = match outcome {
            Outcome::Handed => continue,
            Outcome::Resend(reply) => match socket.send_to(&reply, peer) {
                Ok(_) => Counter::Answered,
                Err(_) => Counter::SendFailed,
            },
            Outcome::Done(counter) => counter,
        };
        stats.bump(counter);
    }
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

enum Outcome {
    /// The handler has the request; its responder counts how it ends.
    Handed,
    /// A copy of a request answered before: send the remembered reply.
    Resend(Box<[u8]>),
    /// Nothing to send; count this.
    Done(Counter),
}

fn serve_one<H: DeferredHandler>(
    shared: &Shared<H>,
    origin: &Origin<'_>,
    packet: &mut [u8],
    spare: &mut Vec<u8>,
    peer: SocketAddr,
) -> Outcome {
    let (admitted, ticket) = match shared.intake.admit(packet, spare, origin.tally) {
        Admission::Dropped(counter) => return Outcome::Done(counter),
        Admission::Resend(reply) => return Outcome::Resend(reply),
        Admission::New { request, ticket } => (request, ticket),
    };
    let incoming = Request {
        message: admitted.message,
        client_public_key: admitted.client_public_key,
        peer,
        request_id: admitted.request_id,
        max_reply_len: admitted.max_reply_len,
    };
    let responder = Responder::new(ticket, Arc::clone(origin.socket), peer);
    // A panicking handler costs one request (its responder, dropped on the
    // way out, counts it), not the worker.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        shared.handler.handle(&incoming, responder);
    }));
    Outcome::Handed
}
