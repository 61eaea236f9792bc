//! One worker's loop: receive, drop junk, decrypt, answer (through the
//! reply cache if there is one), encrypt, send.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;

use pssst_core::{Error, PACKET_OVERHEAD};
use zeroize::Zeroize;

use super::{Handler, Request, Shared};
use crate::MAX_DATAGRAM;
use crate::cache::{Lookup, Verdict};
use crate::stats::Counter;

/// One worker: receive, filter, decrypt, handle, encrypt, send. Allocates
/// nothing per packet (the handler may).
pub(super) fn worker<H: Handler>(shared: &Shared<H>, socket: &UdpSocket, index: usize) {
    let stats = &shared.stats[index];
    let mut packet = vec![0u8; 1 << 16];
    let mut out = vec![0u8; 1 << 16];
    let mut reply = Vec::with_capacity(1 << 16);
    while !shared.shutdown.load(Ordering::Relaxed) {
        let (len, peer) = match socket.recv_from(&mut packet) {
            Ok(received) => received,
            Err(e) if is_transient(&e) => continue,
            // Anything else (e.g. an ICMP error surfacing) is about one
            // datagram, not the socket: keep serving.
            Err(_) => continue,
        };
        stats.bump(Counter::Received);
        let outcome = serve_one(shared, &mut packet[..len], peer, &mut reply, &mut out);
        // The buffers held the plaintexts (the client's proof C || e too).
        packet[..len].zeroize();
        reply.as_mut_slice().zeroize();
        let counter = match outcome {
            Outcome::Send(reply_len) => match socket.send_to(&out[..reply_len], peer) {
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
    /// Send `out[..len]` back.
    Send(usize),
    /// Nothing to send; count this.
    Done(Counter),
}

fn serve_one<H: Handler>(
    shared: &Shared<H>,
    packet: &mut [u8],
    peer: SocketAddr,
    reply: &mut Vec<u8>,
    out: &mut [u8],
) -> Outcome {
    // Junk is dropped before any X25519, by pssst-core's own checks.
    let header = match shared.server.precheck(packet) {
        Ok(header) => header,
        Err(Error::NotRequest) => return Outcome::Done(Counter::DroppedReplyFlag),
        Err(Error::UnsupportedCipherSuite) => return Outcome::Done(Counter::DroppedUnknownSuite),
        Err(Error::LowOrderPoint) => return Outcome::Done(Counter::DroppedLowOrder),
        Err(_) => return Outcome::Done(Counter::DroppedShort),
    };
    // A closed service answers only authenticated clients.
    if shared.authorized_clients.is_some() && !header.is_client_auth() {
        return Outcome::Done(Counter::DroppedUnauthorized);
    }
    let request_len = packet.len();

    let request = match shared.server.unpack_request_in_place(packet) {
        Ok(request) => request,
        Err(Error::LowOrderPoint) => return Outcome::Done(Counter::DroppedLowOrder),
        Err(Error::ClientAuthFailed) => return Outcome::Done(Counter::DroppedClientAuthFailed),
        Err(Error::Truncated) => return Outcome::Done(Counter::DroppedShort),
        Err(_) => return Outcome::Done(Counter::DroppedDecryptFailed),
    };
    if let Some(allowed) = &shared.authorized_clients {
        let known = request
            .client_public_key
            .is_some_and(|key| allowed.contains(&key));
        if !known {
            return Outcome::Done(Counter::DroppedUnauthorized);
        }
    }
    // No reply larger than its request, unless allowed: a spoofed source
    // must not make the server an amplifier. Packets are at least
    // PACKET_OVERHEAD long once unpacked, so this does not underflow.
    let max_packet = if shared.allow_amplification {
        MAX_DATAGRAM
    } else {
        request_len.min(MAX_DATAGRAM)
    };
    let request_id = request.reply_handler.request_id();
    let incoming = Request {
        message: request.message,
        client_public_key: request.client_public_key,
        peer,
        request_id,
        max_reply_len: max_packet - PACKET_OVERHEAD,
    };
    let reply_handler = request.reply_handler;
    let Some(cache) = &shared.reply_cache else {
        return answer(shared, &incoming, reply_handler, max_packet, reply, out);
    };
    let verdict = match cache.lookup(&request_id, max_packet) {
        Lookup::Full => return Outcome::Done(Counter::DroppedCacheFull),
        // A copy: what the first one got (waiting if it is still running).
        Lookup::Known(cell) => cell.wait().clone(),
        Lookup::New(cell) => {
            let verdict = match answer(shared, &incoming, reply_handler, max_packet, reply, out) {
                Outcome::Send(len) => Verdict::Reply(out[..len].into()),
                Outcome::Done(counter) => Verdict::Dropped(counter),
            };
            cache.settle(&request_id, &cell, verdict)
        }
    };
    match verdict {
        // Copies of one request have its length, but a client that reuses
        // an ephemeral can send a short request with the DH parameter of a
        // long one: the remembered reply must still fit this request.
        Verdict::Reply(packet) if packet.len() > max_packet => {
            Outcome::Done(Counter::DroppedAmplification)
        }
        Verdict::Reply(packet) => {
            out[..packet.len()].copy_from_slice(&packet);
            Outcome::Send(packet.len())
        }
        Verdict::Dropped(counter) => Outcome::Done(counter),
    }
}

/// Runs the handler and seals its reply into `out`, if the reply may be
/// sent: at most `max_packet` bytes.
fn answer<H: Handler>(
    shared: &Shared<H>,
    request: &Request<'_>,
    reply_handler: pssst_core::ServerReplyHandler,
    max_packet: usize,
    reply: &mut Vec<u8>,
    out: &mut [u8],
) -> Outcome {
    reply.clear();
    let answer = catch_unwind(AssertUnwindSafe(|| shared.handler.handle(request, reply)));
    // A panicking handler costs one request, not the worker.
    if !matches!(answer, Ok(true)) {
        return Outcome::Done(Counter::NoReply);
    }
    let Ok(reply_len) = pssst_core::Client::reply_len(reply.len()) else {
        return Outcome::Done(Counter::DroppedReplyTooLarge);
    };
    if reply_len > MAX_DATAGRAM {
        return Outcome::Done(Counter::DroppedReplyTooLarge);
    }
    if reply_len > max_packet {
        return Outcome::Done(Counter::DroppedAmplification);
    }
    match reply_handler.pack_reply_into(reply, out) {
        Ok(len) => Outcome::Send(len),
        Err(_) => Outcome::Done(Counter::DroppedReplyTooLarge),
    }
}
