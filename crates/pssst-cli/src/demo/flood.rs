//! The demo's junk flood: malformed packets of every kind that must be
//! dropped (made by pssst-udp's `junk` module) sent at a server, and the
//! check that each one ended where it must.

use std::net::UdpSocket;

use pssst_udp::junk::{Junk, Outcome, SmallOrder, XorShift};
use pssst_udp::{Counter, Stats, UdpServer};

use super::{CATCH_UP, Checks, loopback, wait_for};

/// The kinds of junk sent, in turn.
const KINDS: [Junk; 8] = [
    Junk::TooShort,
    Junk::Tiny,
    Junk::ReplyFlag,
    Junk::UnknownSuite,
    Junk::SmallOrderDh(SmallOrder::Zero),
    Junk::RandomBody,
    Junk::BitFlipped,
    // A stateless server cannot tell a replay from a retry: it answers it
    // again, with the identical reply (sent back to the replayer).
    Junk::Replay,
];
const PER_KIND: u64 = 250;

/// Sends `PER_KIND` packets of each kind, made from `valid`, in small
/// batches, waiting (bounded) for the server to take each batch in, so the
/// kernel's receive queue never overflows and every packet can be
/// accounted for. Returns how many it sent.
pub fn send(server: &UdpServer, valid: &[u8]) -> Result<u64, String> {
    let socket = UdpSocket::bind(loopback()).map_err(|e| format!("junk socket: {e}"))?;
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
    let mut rng = XorShift::new(u64::from_le_bytes(seed));
    let total = KINDS.len() as u64 * PER_KIND;
    let mut sent = 0u64;
    let base = server.stats().received();
    for kind in KINDS.iter().cycle().take(total as usize) {
        let packet = kind.make(valid, &mut || rng.next_u64());
        socket
            .send_to(&packet, server.local_addr())
            .map_err(|e| format!("sending junk: {e}"))?;
        sent += 1;
        if sent.is_multiple_of(32) || sent == total {
            wait_for(|| server.stats().received() >= base + sent, CATCH_UP);
        }
    }
    Ok(sent)
}

/// How many packets the flood sends whose outcome is `outcome`.
fn expected(outcome: Outcome) -> u64 {
    PER_KIND * KINDS.iter().filter(|k| k.outcome() == outcome).count() as u64
}

/// Checks the server's counters over the flood (`during`): every drop
/// reason counts exactly the junk that must end there, and the answered
/// are the `valid` requests sent alongside (a retransmission of one, of
/// which there were `retransmissions`, may be answered too) and the
/// replays; never any other junk.
pub fn check(checks: &mut Checks, during: &Stats, valid: u64, retransmissions: u64) {
    for counter in Counter::DROPS {
        let expected = expected(Outcome::Dropped(counter));
        checks.check(during.get(counter) == expected, || {
            format!(
                "junk: {} {} dropped, expected {expected}",
                during.get(counter),
                counter.name()
            )
        });
    }
    let least = valid + expected(Outcome::Answered);
    let most = least + retransmissions;
    checks.check((least..=most).contains(&during.answered()), || {
        format!(
            "junk: {} answered, expected {least}..={most} (valid requests and replays only)",
            during.answered()
        )
    });
}

/// "N kinds (name, name, ...)", for the summary.
pub fn describe() -> String {
    let names: Vec<&str> = KINDS.iter().map(|k| k.name()).collect();
    format!("{} kinds ({})", KINDS.len(), names.join(", "))
}
