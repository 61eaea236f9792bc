//! `pssst demo`: the whole thing on loopback in a few seconds, verified.
//!
//! Starts an open server and a closed-service server on 127.0.0.1 with
//! fresh keys, runs anonymous and client-authenticated load against them,
//! floods the open one with junk while valid clients keep going, checks
//! that refused requests are refused, and prints a summary table. Any
//! reply that does not verify, or any count that does not add up, makes it
//! fail.

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use pssst_core::{Client, PrivateKey, PublicKey};
use pssst_udp::{ClientConfig, Counter, Request, ServerConfig, Stats, UdpClient, UdpServer};

use crate::load::{self, Load, Report, format_count, format_us};

/// `println!` that ignores a closed stdout instead of panicking: the exit
/// status, not the printout, says whether the demo passed.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Echo for anonymous requests; the client's key then the message for
/// authenticated ones (so the client sees the server learnt its key).
/// A message starting with `x4:` asks for four copies: an amplification
/// the server must refuse, to anonymous and authenticated requests alike.
fn demo_handler(request: &Request<'_>, reply: &mut Vec<u8>) -> bool {
    let copies = if request.message.starts_with(b"x4:") {
        4
    } else {
        1
    };
    if let Some(key) = request.client_public_key {
        reply.extend_from_slice(key.as_bytes());
    }
    for _ in 0..copies {
        reply.extend_from_slice(request.message);
    }
    true
}

fn expected_reply(client_key: Option<PublicKey>, message: &[u8]) -> Vec<u8> {
    let mut reply = Vec::new();
    let copies = if message.starts_with(b"x4:") { 4 } else { 1 };
    if let Some(key) = client_key {
        reply.extend_from_slice(key.as_bytes());
    }
    for _ in 0..copies {
        reply.extend_from_slice(message);
    }
    reply
}

/// One line of the table.
struct Row {
    name: &'static str,
    attempted: u64,
    /// `None`: refusal expected, so "verified" means "refused".
    report: Option<Report>,
    refused: u64,
}

/// Everything checked, to print and to decide the exit status.
#[derive(Default)]
struct Checks {
    failures: Vec<String>,
}

impl Checks {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(what());
        }
    }
}

fn patient() -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_millis(200),
        retries: 8,
        max_timeout: Duration::from_millis(800),
    }
}

fn impatient() -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_millis(80),
        retries: 1,
        max_timeout: Duration::from_millis(80),
    }
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn generate() -> Result<PrivateKey, String> {
    pssst_core::generate_key_pair()
        .map(|(key, _)| key)
        .map_err(|e| format!("cannot generate a key: {e}"))
}

fn client(server: PublicKey, key: Option<&PrivateKey>) -> Result<Client, String> {
    match key {
        None => Client::new(server),
        Some(key) => Client::with_client_auth(server, key),
    }
    .map_err(|e| e.to_string())
}

fn run_load(
    checks: &mut Checks,
    name: &'static str,
    server: &UdpServer,
    key: Option<&PrivateKey>,
    requests: u64,
) -> Result<Row, String> {
    let load = Load {
        server: server.local_addr(),
        client: client(server.public_key(), key)?,
        config: patient(),
        requests,
        duration: Some(Duration::from_secs(20)),
        concurrency: 4,
        size: 64,
        progress: false,
    };
    let public = key.map(PrivateKey::public_key);
    let report = load::run(&load, Arc::new(move |m: &[u8]| expected_reply(public, m)))?;
    checks.check(report.ok == requests && report.failed() == 0, || {
        format!(
            "{name}: {} of {requests} verified ({} timed out, {} wrong, {} errors)",
            report.ok, report.timed_out, report.wrong, report.errors
        )
    });
    Ok(Row {
        name,
        attempted: requests,
        report: Some(report),
        refused: 0,
    })
}

/// `tries` transactions that must all go unanswered.
fn expect_refusals(
    checks: &mut Checks,
    name: &'static str,
    server: &UdpServer,
    key: Option<&PrivateKey>,
    message: &[u8],
    tries: u64,
) -> Result<Row, String> {
    let mut udp = UdpClient::connect(
        server.local_addr(),
        client(server.public_key(), key)?,
        impatient(),
    )
    .map_err(|e| format!("cannot open a client socket: {e}"))?;
    let mut refused = 0;
    for _ in 0..tries {
        match udp.request(message) {
            Err(pssst_udp::ClientError::TimedOut { .. }) => refused += 1,
            Ok(_) => checks
                .failures
                .push(format!("{name}: answered, should have been refused")),
            Err(e) => checks.failures.push(format!("{name}: {e}")),
        }
    }
    Ok(Row {
        name,
        attempted: tries,
        report: None,
        refused,
    })
}

/// The kinds of junk sent, and where the server must count each.
const JUNK_KINDS: [(&str, Option<Counter>); 8] = [
    ("truncated request", Some(Counter::DroppedShort)),
    ("tiny datagram", Some(Counter::DroppedShort)),
    ("REPLY flag set", Some(Counter::DroppedReplyFlag)),
    ("unknown cipher suite", Some(Counter::DroppedUnknownSuite)),
    ("all-zero DH parameter", Some(Counter::DroppedLowOrder)),
    ("random body", Some(Counter::DroppedDecryptFailed)),
    ("one bit flipped", Some(Counter::DroppedDecryptFailed)),
    // A stateless server cannot tell a replay from a retry: it answers it
    // again, with the identical reply (sent back to the replayer).
    ("replayed request", None),
];
const JUNK_PER_KIND: usize = 250;

fn junk_packet(kind: usize, valid: &[u8], random: &mut impl FnMut() -> u64) -> Vec<u8> {
    let mut packet = valid.to_vec();
    match kind {
        0 => packet.truncate((random() % 52) as usize),
        1 => packet.truncate(1 + (random() % 3) as usize),
        2 => packet[0] |= 0x80,
        3 => packet[2..4].copy_from_slice(&(2 + (random() % 0xfff0) as u16).to_be_bytes()),
        4 => packet[4..36].fill(0),
        5 => packet[36..].iter_mut().for_each(|b| *b = random() as u8),
        6 => {
            let bit = (random() as usize) % ((packet.len() - 4) * 8);
            packet[4 + bit / 8] ^= 1 << (bit % 8);
        }
        _ => {}
    }
    packet
}

/// Sends the junk in small batches, waiting (bounded) for the server to
/// take each batch in, so the kernel's receive queue never overflows and
/// every packet can be accounted for.
fn send_junk(server: &UdpServer, valid: &[u8]) -> Result<u64, String> {
    let socket = UdpSocket::bind(loopback()).map_err(|e| format!("junk socket: {e}"))?;
    let mut seed = [0u8; 8];
    getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
    let mut state = u64::from_le_bytes(seed) | 1;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let total = JUNK_KINDS.len() * JUNK_PER_KIND;
    let mut sent = 0u64;
    let base = server.stats().received();
    for i in 0..total {
        let packet = junk_packet(i % JUNK_KINDS.len(), valid, &mut random);
        socket
            .send_to(&packet, server.local_addr())
            .map_err(|e| format!("sending junk: {e}"))?;
        sent += 1;
        if sent.is_multiple_of(32) {
            wait_for(
                || server.stats().received() >= base + sent,
                Duration::from_secs(2),
            );
        }
    }
    Ok(sent)
}

fn wait_for(mut done: impl FnMut() -> bool, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
    true
}

/// Waits until the server has dealt with everything it received.
fn settle(server: &UdpServer) -> Stats {
    wait_for(
        || {
            let s = server.stats();
            s.settled() == s.received()
        },
        Duration::from_secs(2),
    );
    server.stats()
}

pub fn run() -> Result<(), String> {
    let started = Instant::now();
    let bind = |config: ServerConfig| -> Result<UdpServer, String> {
        UdpServer::bind(loopback(), generate()?, config, demo_handler)
            .map_err(|e| format!("cannot start a server on 127.0.0.1: {e}"))
    };
    let alice = generate()?;
    let mallory = generate()?;
    let open = bind(ServerConfig::default())?;
    let closed = bind(ServerConfig::default().authorized_clients([alice.public_key()]))?;
    say!(
        "pssst demo: open server on {}, closed-service server on {} ({} workers each, X25519 by {})",
        open.local_addr(),
        closed.local_addr(),
        open.workers(),
        pssst_core::BACKEND,
    );
    say!(
        "  server key {}, allowed client {}",
        short(open.public_key()),
        short(alice.public_key())
    );

    let mut checks = Checks::default();
    let mut rows = Vec::new();
    rows.push(run_load(&mut checks, "anonymous", &open, None, 2000)?);
    rows.push(run_load(
        &mut checks,
        "client-authenticated",
        &open,
        Some(&alice),
        2000,
    )?);

    // Junk flood while valid clients run.
    let valid = client(open.public_key(), None)?
        .pack_request(b"a genuine request, replayed by an attacker")
        .map_err(|e| e.to_string())?
        .0;
    let before_junk = settle(&open);
    let junk_sent = thread::scope(|scope| -> Result<(u64, Row), String> {
        let flood = scope.spawn(|| send_junk(&open, &valid));
        let row = run_load(
            &mut checks,
            "anonymous during junk flood",
            &open,
            None,
            1000,
        )?;
        let sent = flood
            .join()
            .map_err(|_| "junk thread panicked".to_string())??;
        Ok((sent, row))
    })?;
    let (junk_sent, flood_row) = junk_sent;
    rows.push(flood_row);
    let junk = settle(&open).since(&before_junk);
    for counter in Counter::DROPS {
        let expected = JUNK_PER_KIND as u64
            * JUNK_KINDS
                .iter()
                .filter(|(_, c)| *c == Some(counter))
                .count() as u64;
        checks.check(junk.get(counter) == expected, || {
            format!(
                "junk: {} {} dropped, expected {expected}",
                junk.get(counter),
                counter.name()
            )
        });
    }
    // Answered: the valid requests (a retransmission may be answered too)
    // and the replays; never any other junk.
    let (least, most) = (
        1000 + JUNK_PER_KIND as u64,
        1000 + JUNK_PER_KIND as u64 + retransmissions(&rows[2]),
    );
    checks.check((least..=most).contains(&junk.answered()), || {
        format!(
            "junk: {} answered, expected {least}..={most} (valid requests and replays only)",
            junk.answered()
        )
    });

    rows.push(run_load(
        &mut checks,
        "closed service, allowed key",
        &closed,
        Some(&alice),
        500,
    )?);
    rows.push(expect_refusals(
        &mut checks,
        "closed service, anonymous",
        &closed,
        None,
        b"let me in",
        3,
    )?);
    rows.push(expect_refusals(
        &mut checks,
        "closed service, unknown key",
        &closed,
        Some(&mallory),
        b"let me in",
        3,
    )?);
    rows.push(expect_refusals(
        &mut checks,
        "anonymous, reply 4x the request",
        &open,
        None,
        b"x4:amplify me",
        2,
    )?);
    rows.push(expect_refusals(
        &mut checks,
        "client-auth, reply 4x the request",
        &open,
        Some(&alice),
        b"x4:amplify me",
        2,
    )?);

    let open_stats = settle(&open);
    let closed_stats = settle(&closed);
    checks.check(closed_stats.get(Counter::DroppedUnauthorized) == 12, || {
        format!(
            "closed service: {} unauthorized drops, expected 12 (6 refused requests, 2 sends each)",
            closed_stats.get(Counter::DroppedUnauthorized)
        )
    });
    checks.check(open_stats.get(Counter::DroppedAmplification) == 8, || {
        format!(
            "amplification: {} drops, expected 8 (4 refused requests, 2 sends each)",
            open_stats.get(Counter::DroppedAmplification)
        )
    });

    print_table(&rows);
    say!();
    say!(
        "junk flood: {junk_sent} packets of {} kinds ({}), all accounted for by reason",
        JUNK_KINDS.len(),
        JUNK_KINDS.map(|(name, _)| name).join(", ")
    );
    let total = open_stats.plus(&closed_stats);
    say!(
        "server counters (both servers): received {}, answered {}, dropped {}",
        total.received(),
        total.answered(),
        total.dropped()
    );
    for counter in Counter::DROPS {
        if total.get(counter) > 0 {
            say!("  dropped {:<20} {:>6}", counter.name(), total.get(counter));
        }
    }
    open.shutdown();
    closed.shutdown();
    say!();
    if checks.failures.is_empty() {
        say!(
            "result: OK, every reply verified and every drop accounted for ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    } else {
        for failure in &checks.failures {
            say!("FAILED: {failure}");
        }
        Err(format!("demo: {} checks failed", checks.failures.len()))
    }
}

fn retransmissions(row: &Row) -> u64 {
    row.report.as_ref().map_or(0, |r| r.retransmissions)
}

fn short(key: PublicKey) -> String {
    let hex = key.to_string();
    format!("{}…", &hex[..16])
}

fn print_table(rows: &[Row]) {
    say!();
    say!(
        "{:<38} {:>6} {:>9} {:>11} {:>9} {:>9}",
        "transactions",
        "sent",
        "verified",
        "per second",
        "p50",
        "p99"
    );
    for row in rows {
        match &row.report {
            Some(r) => say!(
                "{:<38} {:>6} {:>9} {:>11} {:>9} {:>9}",
                row.name,
                row.attempted,
                r.ok,
                format_count(r.throughput()),
                format_us(r.percentile_us(50.0)),
                format_us(r.percentile_us(99.0)),
            ),
            None => say!(
                "{:<38} {:>6} {:>9}   {} of {} refused, as they must be",
                row.name,
                row.attempted,
                "-",
                row.refused,
                row.attempted
            ),
        }
    }
}
