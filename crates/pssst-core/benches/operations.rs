//! Criterion benches of every operation with 64-byte messages, in both
//! cipher suites (names ending in "gcm-siv" are suite 0xFF01), plus the raw
//! X25519 multiplications they are built from. Run once per backend:
//!
//!   cargo bench -p pssst-core --bench operations
//!   cargo bench -p pssst-core --bench operations --features aws-lc
//!
//! `-- "gcm-siv|reply|unpack"` picks what the suite comparison needs.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pssst_core::{CipherSuite, Client, PrivateKey, Server, backend};

const MESSAGE: [u8; 64] = [0x42; 64];

fn operations(c: &mut Criterion) {
    let server_private = PrivateKey::from_bytes([1; 32]);
    let server_public = server_private.public_key();
    let server = Server::new(server_private);
    let client_private = PrivateKey::from_bytes([2; 32]);
    let mut group = c.benchmark_group(backend::NAME);

    group.bench_function("x25519 fixed-base", |b| {
        b.iter(|| backend::x25519_base(black_box(&[3; 32])))
    });
    group.bench_function("x25519 variable-base", |b| {
        b.iter(|| backend::x25519(black_box(&[3; 32]), server_public.as_bytes()))
    });

    let modes = [
        ("anonymous", Client::new(server_public).unwrap()),
        (
            "client-auth",
            Client::with_client_auth(server_public, &client_private).unwrap(),
        ),
    ];
    let suites = [
        (CipherSuite::X25519Aes128Gcm, ""),
        (CipherSuite::X25519Aes128GcmSiv, " gcm-siv"),
    ];
    for (suite, suffix) in suites {
        for (mode, client) in &modes {
            let mode = format!("{mode}{suffix}");
            let client = client.clone().with_suite(suite);
            bench_mode(&mut group, &server, &client, &mode);
        }
    }
    group.finish();
}

/// Pack, unpack, reply and reply unpack for one client (mode and suite).
fn bench_mode(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    server: &Server,
    client: &Client,
    mode: &str,
) {
    let mut packet = [0u8; 256];
    group.bench_function(format!("client pack {mode}"), |b| {
        b.iter(|| {
            client
                .pack_request_into(black_box(&MESSAGE), &mut packet)
                .unwrap()
                .0
        })
    });

    let (request, _) = client.pack_request(&MESSAGE).unwrap();
    let mut plaintext = [0u8; 256];
    group.bench_function(format!("server unpack {mode}"), |b| {
        b.iter(|| {
            server
                .unpack_request_into(black_box(&request), &mut plaintext)
                .unwrap()
                .message
                .len()
        })
    });

    group.bench_function(format!("server reply pack {mode}"), |b| {
        b.iter_batched(
            || server.unpack_request(&request).unwrap().reply_handler,
            |handler| {
                handler
                    .pack_reply_into(black_box(&MESSAGE), &mut packet)
                    .unwrap()
            },
            criterion::BatchSize::SmallInput,
        )
    });

    // Unpacking uses a handler up, so each iteration gets a fresh one for
    // the same request, made outside the timed part from a fixed ephemeral.
    let fresh_handler = || {
        client
            .pack_request_with_ephemeral(&MESSAGE, &[5; 32])
            .unwrap()
    };
    let (request, _) = fresh_handler();
    let reply = server
        .unpack_request(&request)
        .unwrap()
        .reply_handler
        .pack_reply(&MESSAGE)
        .unwrap();
    group.bench_function(format!("client reply unpack {mode}"), |b| {
        b.iter_batched(
            || fresh_handler().1,
            |mut handler| {
                handler
                    .unpack_reply_into(black_box(&reply), &mut plaintext)
                    .unwrap()
            },
            criterion::BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, operations);
criterion_main!(benches);
