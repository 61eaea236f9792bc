//! `pssst demo`: the whole thing on loopback in a few seconds, verified.
//!
//! Starts an open server and a closed-service server on 127.0.0.1 with
//! fresh keys, runs anonymous and client-authenticated load against them,
//! floods the open one with junk while valid clients keep going, checks
//! that refused requests are refused, and prints a summary table. Any
//! reply that does not verify, or any count that does not add up, makes it
//! fail.
//!
//! This file is the scenario; `traffic` runs the valid and the refused
//! transactions, `flood` sends the junk and accounts for it, `table`
//! prints the summary.

use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use pssst_core::{PrivateKey, PublicKey};
use pssst_udp::{Counter, ServerConfig, Stats, UdpServer};

/// `println!` that ignores a closed stdout instead of panicking: the exit
/// status, not the printout, says whether the demo passed.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod flood;
mod table;
mod traffic;

use traffic::{client, expect_refusals, run_load};

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

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn generate() -> Result<PrivateKey, String> {
    pssst_core::generate_key_pair()
        .map(|(key, _)| key)
        .map_err(|e| format!("cannot generate a key: {e}"))
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

/// How long the demo waits for a server to catch up before it checks the
/// counters: it returns as soon as the server has, so the bound costs
/// nothing when it does. Generous: under qemu-user on a loaded 2-core
/// machine the junk flood's backlog took longer than 2 s to drain.
const CATCH_UP: Duration = Duration::from_secs(60);

/// Waits until the server has dealt with everything it received.
fn settle(server: &UdpServer) -> Stats {
    wait_for(
        || {
            let s = server.stats();
            s.settled() == s.received()
        },
        CATCH_UP,
    );
    server.stats()
}

fn short(key: PublicKey) -> String {
    let hex = key.to_string();
    format!("{}…", &hex[..16])
}

pub fn run() -> Result<(), String> {
    let started = Instant::now();
    let bind = |config: ServerConfig| -> Result<UdpServer, String> {
        UdpServer::bind(loopback(), generate()?, config, traffic::handler)
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
    const DURING_FLOOD: u64 = 1000;
    let before_junk = settle(&open);
    let (junk_sent, flood_row) = thread::scope(|scope| -> Result<(u64, table::Row), String> {
        let sender = scope.spawn(|| flood::send(&open, &valid));
        let row = run_load(
            &mut checks,
            "anonymous during junk flood",
            &open,
            None,
            DURING_FLOOD,
        )?;
        let sent = sender
            .join()
            .map_err(|_| "junk thread panicked".to_string())??;
        Ok((sent, row))
    })?;
    // Every datagram of the flood (junk, valid requests, retransmissions)
    // must have been taken in before the counters are read: `settle` alone
    // can find the workers idle for a moment while junk is still queued
    // (seen under qemu-user on a loaded machine).
    let flood_datagrams = junk_sent + DURING_FLOOD + flood_row.retransmissions();
    wait_for(
        || open.stats().received() >= before_junk.received() + flood_datagrams,
        CATCH_UP,
    );
    let during_flood = settle(&open).since(&before_junk);
    flood::check(
        &mut checks,
        &during_flood,
        DURING_FLOOD,
        flood_row.retransmissions(),
    );
    rows.push(flood_row);

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

    table::print(&rows);
    say!();
    say!(
        "junk flood: {junk_sent} packets of {}, all accounted for by reason",
        flood::describe()
    );
    table::print_counters(&open_stats.plus(&closed_stats));
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
