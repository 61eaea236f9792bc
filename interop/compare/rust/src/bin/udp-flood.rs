//! Open-loop load for `interop/compare/nic.py`: distinct, valid requests
//! sent at a fixed rate, replies never read.
//!
//! `udp-flood --server ADDR --server-key HEX --bind IP --rate R --seconds S
//! [--sockets K]` packs `R * S` anonymous 64-byte requests for the server's
//! key first (every one distinct, so the server's reply cache answers none of
//! them from memory and each costs the server its X25519), then sends them
//! at `R` per second from `K` sockets bound to `IP` (distinct source ports, so
//! `SO_REUSEPORT` spreads them over the server's workers), and prints one
//! line: `sent N in T s`. With `--cache FILE` the packed requests are kept
//! in FILE (for this key and count) and read back by the next run: each
//! server run is a fresh process with an empty reply cache, so the same
//! requests cost it the same, and packing them is the slow part of a run. Where the replies go is up to the network: nic.py
//! routes them into a dummy interface, as a NIC would take them off the
//! server's hands.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::exit;
use std::time::{Duration, Instant};

use pssst_core::{Client, PublicKey};

const MESSAGE: [u8; 64] = [0x42; 64];
/// Packets sent between two looks at the clock.
const BURST: usize = 32;

struct Args {
    server: SocketAddr,
    server_key: PublicKey,
    bind: IpAddr,
    rate: u64,
    seconds: f64,
    sockets: usize,
    cache: Option<std::path::PathBuf>,
}

fn usage(why: &str) -> ! {
    eprintln!(
        "udp-flood: {why}\nusage: udp-flood --server ADDR --server-key HEX --bind IP --rate R --seconds S [--sockets K] [--cache FILE]"
    );
    exit(2)
}

fn parse<T: std::str::FromStr>(flag: &str, value: &str) -> T {
    value
        .parse()
        .unwrap_or_else(|_| usage(&format!("bad value for {flag}: {value}")))
}

fn parse_args() -> Args {
    let (mut server, mut server_key, mut bind) = (None, None, None);
    let (mut rate, mut seconds, mut sockets, mut cache) = (None, None, 64usize, None);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--server" => server = Some(parse(&flag, &value)),
            "--server-key" => {
                // A key no client can be made for (a low-order point) is
                // refused here, not in the packing threads.
                let key = PublicKey::from_hex(&value)
                    .ok()
                    .filter(|&key| Client::new(key).is_ok());
                server_key = Some(key.unwrap_or_else(|| usage("bad --server-key")));
            }
            "--bind" => bind = Some(parse(&flag, &value)),
            "--rate" => rate = Some(parse::<u64>(&flag, &value)),
            "--seconds" => seconds = Some(parse::<f64>(&flag, &value)),
            "--sockets" => sockets = parse(&flag, &value),
            "--cache" => cache = Some(value.into()),
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    let missing = |name: &str| -> ! { usage(&format!("{name} is required")) };
    Args {
        server: server.unwrap_or_else(|| missing("--server")),
        server_key: server_key.unwrap_or_else(|| missing("--server-key")),
        bind: bind.unwrap_or_else(|| missing("--bind")),
        rate: rate
            .filter(|&r| r > 0)
            .unwrap_or_else(|| missing("--rate (> 0)")),
        seconds: seconds
            .filter(|&s| s > 0.0)
            .unwrap_or_else(|| missing("--seconds (> 0)")),
        sockets: sockets.max(1),
        cache,
    }
}

/// `count` distinct requests, packed on every core.
fn pack(server_key: PublicKey, count: usize) -> Vec<Vec<u8>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = count.div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let n = per_thread.min(count.saturating_sub(t * per_thread));
                scope.spawn(move || {
                    let client = Client::new(server_key).expect("server key");
                    (0..n)
                        .map(|_| client.pack_request(&MESSAGE).expect("pack").0)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("packing thread"))
            .collect()
    })
}

/// The requests kept in `path` by an earlier run, if they were packed for
/// this key and are `count`: the key's 32 bytes, then each request as a
/// big-endian u16 length and its bytes.
fn read_cache(path: &std::path::Path, server_key: PublicKey, count: usize) -> Option<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).ok()?;
    let rest = bytes.strip_prefix(server_key.as_ref())?;
    let mut requests = Vec::with_capacity(count);
    let mut rest = rest;
    while let [high, low, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*high, *low]));
        let (request, tail) = tail.split_at_checked(len)?;
        requests.push(request.to_vec());
        rest = tail;
    }
    (requests.len() == count).then_some(requests)
}

fn write_cache(path: &std::path::Path, server_key: PublicKey, requests: &[Vec<u8>]) {
    let mut bytes = server_key.as_ref().to_vec();
    for request in requests {
        let len = u16::try_from(request.len()).expect("a request fits a datagram");
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(request);
    }
    if let Err(e) = std::fs::write(path, bytes) {
        usage(&format!("cannot write {}: {e}", path.display()));
    }
}

fn main() {
    let args = parse_args();
    let total = (args.rate as f64 * args.seconds) as usize;
    let cached = args
        .cache
        .as_deref()
        .and_then(|path| read_cache(path, args.server_key, total));
    let requests = cached.unwrap_or_else(|| {
        let requests = pack(args.server_key, total);
        if let Some(path) = &args.cache {
            write_cache(path, args.server_key, &requests);
        }
        requests
    });
    let sockets: Vec<UdpSocket> = (0..args.sockets)
        .map(|_| UdpSocket::bind((args.bind, 0)).unwrap_or_else(|e| usage(&format!("bind: {e}"))))
        .collect();
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let start = Instant::now();
    let mut sent = 0usize;
    for (i, chunk) in requests.chunks(BURST).enumerate() {
        // Paced: this burst may leave when the schedule says so.
        let due = start + interval * (i * BURST) as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        for (j, request) in chunk.iter().enumerate() {
            // A full queue or a routing hiccup loses one datagram, as on a
            // real network: the server's count says what arrived.
            if sockets[(i * BURST + j) % sockets.len()]
                .send_to(request, args.server)
                .is_ok()
            {
                sent += 1;
            }
        }
    }
    // The run lasts its schedule, even when the last burst left early.
    let end = start + interval * u32::try_from(requests.len()).unwrap_or(u32::MAX);
    if let Some(wait) = end.checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }
    println!("sent {sent} in {:.3} s", start.elapsed().as_secs_f64());
}
