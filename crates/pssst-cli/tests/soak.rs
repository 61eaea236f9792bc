//! Soak: valid clients keep transacting with a `pssst serve` while another
//! sender floods it with junk: random bytes, truncations, replays of valid
//! requests, low-order DH parameters, flipped bits, REPLY flags, unknown
//! suites. Every valid transaction must complete (with retries), the server
//! must stay up, and its resident memory must stay flat.
//!
//! Ignored by default (it runs for PSSST_SOAK_SECS, default 10 s); the test
//! leg runs it with `--ignored`. Loopback only; every loop is bounded.

mod common;

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::{Served, keygen, scratch};
use pssst_core::Client;
use pssst_udp::junk::{Junk, SmallOrder, XorShift};
use pssst_udp::{RetrySchedule, UdpClient};

/// RSS may grow by at most this much after warm-up.
const RSS_GROWTH_LIMIT_KIB: u64 = 4 * 1024;
/// Junk packets per second, at most (the server has two cores to share
/// with the clients and the flooder).
const JUNK_RATE: u64 = 20_000;

/// The kinds of junk sent, in turn (pssst-udp's generator).
const KINDS: [Junk; 8] = [
    Junk::RandomBytes,
    Junk::TooShort,
    Junk::Replay,
    Junk::SmallOrderDh(SmallOrder::Zero),
    Junk::SmallOrderDh(SmallOrder::One),
    Junk::BitFlipped,
    Junk::ReplyFlag,
    Junk::UnknownSuite,
];

/// Junk datagram number `i`, made from one of the `valid` requests.
fn junk(i: u64, valid: &[Vec<u8>], rng: &mut XorShift) -> Vec<u8> {
    let base = &valid[(rng.next_u64() as usize) % valid.len()];
    KINDS[(i % KINDS.len() as u64) as usize].make(base, &mut || rng.next_u64())
}

#[test]
#[ignore = "long-running; run by tests/legs/50-udp-cli.sh"]
fn valid_clients_complete_during_a_junk_flood_and_memory_stays_flat() {
    let secs: u64 = std::env::var("PSSST_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
        .clamp(2, 600);
    let dir = scratch("soak");
    let (key, _) = keygen(&dir, "server.key");
    let server = Served::start(&key, &["--workers", "2"]);
    let addr = server.addr;
    let public = server.public_key;

    // Valid requests for the flooder to replay and mutate: anonymous and
    // client-authenticated.
    let anonymous = Client::new(public).unwrap();
    let authenticated =
        Client::with_client_auth(public, &pssst_core::generate_key_pair().unwrap().0).unwrap();
    let valid: Vec<Vec<u8>> = (0..64)
        .map(|i| {
            let client = if i % 2 == 0 {
                &anonymous
            } else {
                &authenticated
            };
            client.pack_request(&vec![i as u8; 16 + i * 8]).unwrap().0
        })
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let junk_sent = Arc::new(AtomicU64::new(0));
    let flooder = {
        let (stop, junk_sent) = (Arc::clone(&stop), Arc::clone(&junk_sent));
        thread::spawn(move || {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            let mut rng = XorShift::new(0x9e37_79b9_7f4a_7c15);
            let start = Instant::now();
            let mut i = 0u64;
            let limit = Duration::from_secs(secs + 30);
            while !stop.load(Ordering::Relaxed) && start.elapsed() < limit {
                // Pace to JUNK_RATE per second, in bursts of 100.
                let due = Duration::from_micros(i * 1_000_000 / JUNK_RATE);
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    thread::sleep(wait);
                }
                for _ in 0..100 {
                    let _ = socket.send_to(&junk(i, &valid, &mut rng), addr);
                    i += 1;
                }
                junk_sent.store(i, Ordering::Relaxed);
            }
        })
    };

    // Valid clients: 2 anonymous, 2 authenticated, patient retries.
    let config = RetrySchedule::new(Duration::from_millis(200), 10)
        .expect("within the retransmission window");
    let deadline = Instant::now() + Duration::from_secs(secs);
    let clients: Vec<_> = (0..4)
        .map(|t| {
            let client = if t % 2 == 0 {
                Client::new(public).unwrap()
            } else {
                Client::with_client_auth(public, &pssst_core::generate_key_pair().unwrap().0)
                    .unwrap()
            };
            thread::spawn(move || {
                let mut udp = UdpClient::connect(addr, client, config).unwrap();
                let (mut ok, mut failed, mut retransmissions) = (0u64, 0u64, 0u64);
                for n in 0..1_000_000u64 {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let message = format!("client {t} transaction {n}");
                    match udp.transact(message.as_bytes()) {
                        Ok(tx) if tx.reply == message.as_bytes() => {
                            ok += 1;
                            retransmissions += u64::from(tx.attempts - 1);
                        }
                        _ => failed += 1,
                    }
                }
                (ok, failed, retransmissions)
            })
        })
        .collect();

    // Memory: baseline after warm-up, then samples until the clients stop.
    thread::sleep(Duration::from_secs(2).min(Duration::from_secs(secs) / 4));
    let baseline = server.rss_kib();
    let mut peak = baseline;
    let mut samples = vec![baseline];
    while Instant::now() < deadline {
        thread::sleep(Duration::from_millis(250));
        let rss = server.rss_kib();
        peak = peak.max(rss);
        samples.push(rss);
    }
    let (mut ok, mut failed, mut retransmissions) = (0, 0, 0);
    for client in clients {
        let (o, f, r) = client.join().unwrap();
        ok += o;
        failed += f;
        retransmissions += r;
    }
    stop.store(true, Ordering::Relaxed);
    flooder.join().unwrap();
    let junk_sent = junk_sent.load(Ordering::Relaxed);

    println!(
        "soak {secs} s: {ok} valid transactions ok, {failed} failed, {retransmissions} retransmissions; \
         {junk_sent} junk packets sent; server RSS baseline {baseline} KiB, peak {peak} KiB \
         (+{} KiB, limit +{RSS_GROWTH_LIMIT_KIB} KiB)",
        peak - baseline
    );
    println!("RSS samples (KiB): {samples:?}");

    assert_eq!(failed, 0, "every valid transaction must complete");
    assert!(ok >= 100 * secs, "too few transactions completed: {ok}");
    assert!(
        junk_sent >= JUNK_RATE * secs / 2,
        "flooder too slow: {junk_sent}"
    );
    assert!(
        peak - baseline <= RSS_GROWTH_LIMIT_KIB,
        "server memory grew by {} KiB",
        peak - baseline
    );

    // Still up and answering, then a clean stop whose counters show the junk.
    let mut udp = UdpClient::connect(addr, Client::new(public).unwrap(), config).unwrap();
    assert_eq!(udp.request(b"after the flood").unwrap(), b"after the flood");
    let (clean, counters) = server.terminate();
    assert!(clean, "server did not exit cleanly");
    println!("server: {}", counters.trim());
    for reason in [
        "too_short",
        "reply_flag",
        "unknown_suite",
        "low_order_point",
        "decrypt_failed",
    ] {
        assert!(
            counters.contains(&format!("{reason}=")),
            "no {reason} drops: {counters}"
        );
    }
}
