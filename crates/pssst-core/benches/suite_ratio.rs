//! Suite 0xFF01 (AES-GCM-SIV) against suite 1 (AES-GCM), interleaved: each
//! round times a batch of one suite, then the same batch of the other, so
//! a busy machine slows both alike; the median of the per-round ratios is
//! printed. 64- and 1400-byte messages, anonymous requests. (The criterion
//! bench `operations` has every operation of both suites, one after the
//! other.)
//!
//!   cargo bench -p pssst-core --bench suite_ratio [--features aws-lc]

use std::hint::black_box;
use std::time::{Duration, Instant};

use pssst_core::{CipherSuite, Client, PrivateKey, Server, backend};

const ROUNDS: usize = 41;

/// One operation, set up for one suite: `op(n)` does it `n` times and
/// returns how long that took (set-up it needs first is not counted).
type Operation = Box<dyn FnMut(u32) -> Duration>;

fn operation(name: &str, suite: CipherSuite, size: usize) -> Operation {
    let message = vec![0x42; size];
    let server_private = PrivateKey::from_bytes([1; 32]);
    let client = Client::new(server_private.public_key())
        .unwrap()
        .with_suite(suite);
    let server = Server::new(server_private);
    let (request, _) = client
        .pack_request_with_ephemeral(&message, &[5; 32])
        .unwrap();
    let reply = server
        .unpack_request(&request)
        .unwrap()
        .reply_handler
        .pack_reply(&message)
        .unwrap();
    let mut out = vec![0u8; size + 256];
    match name {
        "server unpack" => Box::new(move |n| {
            let start = Instant::now();
            for _ in 0..n {
                black_box(
                    server
                        .unpack_request_into(black_box(&request), &mut out)
                        .unwrap(),
                );
            }
            start.elapsed()
        }),
        // The reply steps need a handler each, made beforehand and not
        // timed: making one costs an X25519, a hundred times the step.
        "server reply pack" => Box::new(move |n| {
            let handlers: Vec<_> = (0..n)
                .map(|_| server.unpack_request(&request).unwrap().reply_handler)
                .collect();
            let start = Instant::now();
            for handler in handlers {
                black_box(
                    handler
                        .pack_reply_into(black_box(&message), &mut out)
                        .unwrap(),
                );
            }
            start.elapsed()
        }),
        "client reply unpack" => Box::new(move |n| {
            let handlers: Vec<_> = (0..n)
                .map(|_| {
                    client
                        .pack_request_with_ephemeral(&message, &[5; 32])
                        .unwrap()
                        .1
                })
                .collect();
            let start = Instant::now();
            for mut handler in handlers {
                black_box(
                    handler
                        .unpack_reply_into(black_box(&reply), &mut out)
                        .unwrap(),
                );
            }
            start.elapsed()
        }),
        _ => unreachable!("unknown operation {name}"),
    }
}

/// Seconds per operation for one batch of `n`.
fn time(op: &mut Operation, n: u32) -> f64 {
    op(n).as_secs_f64() / f64::from(n)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Median seconds per operation of each, and the median per-round ratio.
fn compare(gcm: &mut Operation, siv: &mut Operation, batch: u32) -> (f64, f64, f64) {
    time(gcm, batch / 10); // warm-up
    time(siv, batch / 10);
    let (mut gcm_times, mut siv_times, mut ratios) = (vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        // Alternate which suite goes first, so neither always follows the other.
        let (g, s) = if round % 2 == 0 {
            let g = time(gcm, batch);
            (g, time(siv, batch))
        } else {
            let s = time(siv, batch);
            (time(gcm, batch), s)
        };
        gcm_times.push(g);
        siv_times.push(s);
        ratios.push(s / g);
    }
    (
        median(&mut gcm_times),
        median(&mut siv_times),
        median(&mut ratios),
    )
}

fn main() {
    println!(
        "{} backend, median of {ROUNDS} interleaved rounds",
        backend::NAME
    );
    println!(
        "{:<30}{:>14}{:>18}{:>10}",
        "operation", "suite 1", "suite 0xFF01", "ratio"
    );
    for size in [64, 1400] {
        for (name, batch) in [
            ("server unpack", 200),
            ("server reply pack", 2_000),
            ("client reply unpack", 2_000),
        ] {
            let mut gcm = operation(name, CipherSuite::X25519Aes128Gcm, size);
            let mut siv = operation(name, CipherSuite::X25519Aes128GcmSiv, size);
            let (gcm_time, siv_time, ratio) = compare(&mut gcm, &mut siv, batch);
            println!(
                "{:<30}{:>11.3} µs{:>15.3} µs{:>9.3}x",
                format!("{name}, {size} B"),
                gcm_time * 1e6,
                siv_time * 1e6,
                ratio
            );
        }
    }
}
