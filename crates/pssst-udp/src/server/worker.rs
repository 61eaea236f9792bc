//! One worker's loop: receive, drop junk, decrypt, answer (through the
//! reply cache if there is one), encrypt, send.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use pssst_core::{DH_PARAM_LEN, Error, HEADER_LEN, PACKET_OVERHEAD, Server};
use zeroize::Zeroize;

use super::keys::KeyEntry;
use super::responder::{InFlightSlot, Origin, Responder};
use super::{DeferredHandler, Request, Shared};
use crate::MAX_DATAGRAM;
use crate::cache::{Lookup, Verdict};
use crate::stats::Counter;

/// One worker: receive, filter, decrypt, hand over. Allocates nothing per
/// packet for a blocking handler (the handler may).
pub(super) fn worker<H: DeferredHandler>(shared: &Shared<H>, socket: Arc<UdpSocket>, index: usize) {
    let stats = &shared.stats[index];
    let origin = Origin {
        socket: &socket,
        stats: &shared.stats,
        worker: index,
        handler_timer: &shared.handler_timer,
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
    // One key set for the whole request, even if a reload happens meanwhile.
    let keys = shared.keys.current();
    // Junk is dropped before any X25519, by pssst-core's own checks.
    let header = match Server::precheck(packet) {
        Ok(header) => header,
        Err(Error::NotRequest) => return Outcome::Done(Counter::DroppedReplyFlag),
        Err(Error::UnsupportedCipherSuite) => return Outcome::Done(Counter::DroppedUnknownSuite),
        Err(Error::LowOrderPoint) => return Outcome::Done(Counter::DroppedLowOrder),
        Err(_) => return Outcome::Done(Counter::DroppedShort),
    };
    // A closed service answers only authenticated clients.
    if keys.authorized_clients.is_some() && !header.is_client_auth() {
        return Outcome::Done(Counter::DroppedUnauthorized);
    }
    // Overloaded: no X25519 for a request that could only be dropped (a
    // copy of one already answered costs no handler work, so it may pass).
    if shared.in_flight.load(Ordering::Acquire) >= shared.max_in_flight
        && !is_answered_copy(shared, packet)
    {
        return Outcome::Done(Counter::DroppedBusy);
    }
    let request_len = packet.len();

    let request = match keys.decrypt(packet, spare) {
        Ok(request) => request,
        Err(Error::LowOrderPoint) => return Outcome::Done(Counter::DroppedLowOrder),
        Err(Error::ClientAuthFailed) => return Outcome::Done(Counter::DroppedClientAuthFailed),
        Err(Error::Truncated) => return Outcome::Done(Counter::DroppedShort),
        Err(_) => return Outcome::Done(Counter::DroppedDecryptFailed),
    };
    if let Some(allowed) = &keys.authorized_clients {
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
    // A copy of a known request gets what the first one got.
    if let Some(cache) = &shared.reply_cache
        && let Some(known) = cache.peek(&request_id)
    {
        return remembered(known, max_packet, request.key);
    }
    let Some(slot) = InFlightSlot::try_take(&shared.in_flight, shared.max_in_flight) else {
        return Outcome::Done(Counter::DroppedBusy);
    };
    let reservation = match &shared.reply_cache {
        None => None,
        Some(cache) => match cache.lookup(&request_id, max_packet) {
            Lookup::New(reservation) => Some(reservation),
            // Another worker took it between the peek and now.
            known => return remembered(known, max_packet, request.key),
        },
    };
    let incoming = Request {
        message: &packet[request.message],
        client_public_key: request.client_public_key,
        peer,
        request_id,
        max_reply_len: max_packet - PACKET_OVERHEAD,
    };
    let responder = Responder::new(
        origin,
        request.reply_handler,
        peer,
        max_packet,
        reservation,
        slot,
        Arc::clone(&request.key.answered),
    );
    // A panicking handler costs one request (its responder, dropped on the
    // way out, counts it), not the worker.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        shared.handler.handle(&incoming, responder);
    }));
    Outcome::Handed
}

/// What a copy of a request gets from the reply cache (a reply is counted
/// under the key that opened the copy).
fn remembered(lookup: Lookup, max_packet: usize, key: &KeyEntry) -> Outcome {
    match lookup {
        // Copies of one request have its length, but a client that reuses
        // an ephemeral can send a short request with the DH parameter of a
        // long one: the remembered reply must still fit this request.
        Lookup::Known(Verdict::Reply(packet)) if packet.len() > max_packet => {
            Outcome::Done(Counter::DroppedAmplification)
        }
        Lookup::Known(Verdict::Reply(packet)) => {
            key.answered.fetch_add(1, Ordering::Relaxed);
            Outcome::Resend(packet)
        }
        Lookup::Known(Verdict::Dropped(counter)) => Outcome::Done(counter),
        Lookup::InProgress => Outcome::Done(Counter::DroppedInProgress),
        Lookup::Full => Outcome::Done(Counter::DroppedCacheFull),
        // Not produced by `peek`, and `lookup`'s `New` is taken above.
        Lookup::New(_) => Outcome::Done(Counter::DroppedBusy),
    }
}

/// True when the packet's DH parameter names a request the reply cache
/// has answered (checked again, after decryption, before it is used).
fn is_answered_copy<H>(shared: &Shared<H>, packet: &[u8]) -> bool {
    let Some(cache) = &shared.reply_cache else {
        return false;
    };
    let Some(id) = packet
        .get(HEADER_LEN..HEADER_LEN + DH_PARAM_LEN)
        .and_then(|id| <[u8; DH_PARAM_LEN]>::try_from(id).ok())
    else {
        return false;
    };
    matches!(cache.peek(&id), Some(Lookup::Known(_)))
}
