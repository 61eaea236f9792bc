//! One worker's loop: receive a datagram, let the [`Intake`] take it
//! through every check and count it, hand a new request to the handler.
//!
//! Between the socket and the handler, each layer has one job:
//! - [`Intake`]: the server's rules for a datagram, in one place shared
//!   with `pssst.aio` (the checks, the reply cache, the counting);
//! - [`Ticket`](super::Ticket): one admitted request until it is answered,
//!   from any thread (the reply sealed under the anti-amplification and
//!   cache rules, its in-flight slot held);
//! - [`Responder`]: a ticket with this socket and the peer, so a handler
//!   answers without knowing the transport;
//! - [`Blocking`](super::responder::Blocking): a plain
//!   [`Handler`](super::Handler) run as a deferred one, on the worker.
//!
//! [`Intake`]: super::Intake

use std::net::UdpSocket;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use zeroize::Zeroize;

use super::responder::{Responder, WorkerTally};
use super::{DeferredHandler, Request, Shared};

/// One worker: receive, admit, hand over. Allocates nothing per packet for
/// a blocking handler (the handler may).
pub(super) fn worker<H: DeferredHandler>(shared: &Shared<H>, socket: Arc<UdpSocket>, index: usize) {
    let tally = WorkerTally {
        stats: Arc::clone(&shared.stats),
        worker: index,
        handler_timer: Arc::clone(&shared.handler_timer),
    };
    let mut packet = vec![0u8; 1 << 16];
    while !shared.shutdown.load(Ordering::Relaxed) {
        // An error (the read timeout that lets the loop see shutdown, an
        // ICMP error surfacing) is about one datagram or none, not the
        // socket: keep serving.
        let Ok((len, peer)) = socket.recv_from(&mut packet) else {
            continue;
        };
        let datagram = &mut packet[..len];
        // A failed resend is counted by the intake; nothing more to do.
        let resend = |reply: &[u8]| socket.send_to(reply, peer).map(drop);
        if let Ok(Some((admitted, ticket))) = shared.intake.receive(datagram, &tally, resend) {
            let request = Request::new(admitted, peer);
            let responder = Responder::new(ticket, Arc::clone(&socket), peer);
            // A panicking handler costs one request (its responder, dropped
            // on the way out, counts it), not the worker.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                shared.handler.handle(&request, responder);
            }));
        }
        // The buffer held the plaintext (the client's proof C || e too).
        datagram.zeroize();
    }
}
