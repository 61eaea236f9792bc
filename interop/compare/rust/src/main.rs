//! pssst-core's leg of the side-by-side benchmark (see interop/compare/README.md).
//!
//! `pssst-compare [--ms N]` times every operation with 64-byte messages and
//! prints one JSON object per line: `{"impl", "backend", "op", "ops_per_s",
//! "wall_ops_per_s", "n", "secs"}`: `ops_per_s` is per second of process CPU
//! time (robust to preemption on a loaded machine), `wall_ops_per_s` per
//! second of wall time, each the median of five timed sub-batches.
//! `pssst-compare --callgrind OP --iters N` runs OP N times (plus setup) and
//! nothing else, for instruction counting under valgrind's callgrind with
//! `--toggle-collect='pssst_compare::measured*'` (only the operations count).
//!
//! The operations, named identically in every leg:
//! `x25519_base`, `x25519_var` (raw multiplications of the backend),
//! `pack_anon`, `unpack_anon`, `pack_auth`, `unpack_auth` (client request
//! pack with the OS RNG; server unpack into a buffer),
//! `reply_pack`, `reply_unpack` (anonymous request's reply, fresh handler each).

#![allow(unsafe_code)] // only for clock_gettime, below

use std::hint::black_box;
use std::time::Duration;

use pssst_core::{Client, ClientReplyHandler, PrivateKey, Server, ServerReplyHandler, backend};

const MESSAGE: [u8; 64] = [0x42; 64];
const OPS: [&str; 8] = [
    "x25519_var",
    "unpack_anon",
    "x25519_base",
    "pack_anon",
    "unpack_auth",
    "pack_auth",
    "reply_pack",
    "reply_unpack",
];

/// A point in time on two clocks: wall (monotonic) and process CPU time.
#[derive(Clone, Copy)]
struct Instant {
    wall: std::time::Instant,
    cpu: f64,
}

/// Elapsed seconds on both clocks.
#[derive(Clone, Copy, Default)]
struct Elapsed {
    wall: f64,
    cpu: f64,
}

impl Instant {
    fn now() -> Instant {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a live, exclusively borrowed timespec that
        // clock_gettime fills in; the clock id is a valid constant.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
        Instant {
            wall: std::time::Instant::now(),
            cpu: ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9,
        }
    }

    fn elapsed(&self) -> Elapsed {
        let now = Instant::now();
        Elapsed {
            wall: now.wall.duration_since(self.wall).as_secs_f64(),
            cpu: now.cpu - self.cpu,
        }
    }
}

struct Fixture {
    server: Server,
    anon: Client,
    auth: Client,
    request_anon: Vec<u8>,
    request_auth: Vec<u8>,
    point: [u8; 32],
}

impl Fixture {
    fn new() -> Fixture {
        let server_private = PrivateKey::from_bytes([1; 32]);
        let server_public = server_private.public_key();
        let server = Server::new(server_private);
        let anon = Client::new(server_public).unwrap();
        let auth =
            Client::with_client_auth(server_public, &PrivateKey::from_bytes([2; 32])).unwrap();
        let request_anon = anon.pack_request(&MESSAGE).unwrap().0;
        let request_auth = auth.pack_request(&MESSAGE).unwrap().0;
        Fixture {
            server,
            anon,
            auth,
            request_anon,
            request_auth,
            point: server_public.to_bytes(),
        }
    }

    /// Runs `op` `n` times; returns the time spent in the timed part only.
    fn run(&self, op: &str, n: u64) -> Elapsed {
        let mut packet = [0u8; 256];
        let mut out = [0u8; 256];
        let scalar = [3u8; 32];
        let timed = |f: &mut dyn FnMut()| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed()
        };
        match op {
            "x25519_base" => timed(&mut || {
                black_box(measured(|| backend::x25519_base(black_box(&scalar))));
            }),
            "x25519_var" => timed(&mut || {
                black_box(measured(|| {
                    backend::x25519(black_box(&scalar), black_box(&self.point)).unwrap()
                }));
            }),
            "pack_anon" | "pack_auth" => {
                let client = if op == "pack_anon" {
                    &self.anon
                } else {
                    &self.auth
                };
                timed(&mut || {
                    black_box(measured(|| {
                        client
                            .pack_request_into(black_box(&MESSAGE), &mut packet)
                            .unwrap()
                    }));
                })
            }
            "unpack_anon" | "unpack_auth" => {
                let request = if op == "unpack_anon" {
                    &self.request_anon
                } else {
                    &self.request_auth
                };
                timed(&mut || {
                    black_box(measured(|| {
                        self.server
                            .unpack_request_into(black_box(request), &mut out)
                            .unwrap()
                    }));
                })
            }
            "reply_pack" => {
                // Fresh handlers made outside the timed part.
                let handlers: Vec<ServerReplyHandler> = (0..n)
                    .map(|_| {
                        self.server
                            .unpack_request_into(&self.request_anon, &mut out)
                            .unwrap()
                            .reply_handler
                    })
                    .collect();
                let start = Instant::now();
                for handler in handlers {
                    black_box(measured(|| {
                        handler
                            .pack_reply_into(black_box(&MESSAGE), &mut packet)
                            .unwrap()
                    }));
                }
                start.elapsed()
            }
            "reply_unpack" => {
                // Handlers for one request (fixed ephemeral), made untimed.
                let (request, _) = self
                    .anon
                    .pack_request_with_ephemeral(&MESSAGE, &[7; 32])
                    .unwrap();
                let reply = self
                    .server
                    .unpack_request(&request)
                    .unwrap()
                    .reply_handler
                    .pack_reply(&MESSAGE)
                    .unwrap();
                let mut handlers: Vec<ClientReplyHandler> = (0..n)
                    .map(|_| {
                        self.anon
                            .pack_request_with_ephemeral(&MESSAGE, &[7; 32])
                            .unwrap()
                            .1
                    })
                    .collect();
                let start = Instant::now();
                for handler in handlers.iter_mut() {
                    black_box(measured(|| {
                        handler
                            .unpack_reply_into(black_box(&reply), &mut out)
                            .unwrap()
                    }));
                }
                start.elapsed()
            }
            _ => panic!("unknown op {op}"),
        }
    }

    /// Ops per second over about `budget` of timed work (setup excluded):
    /// the median of five sub-batches, so a preempted batch does not count.
    /// Returns (ops in all, CPU seconds in all, median CPU rate, median wall rate).
    fn measure(&self, op: &str, budget: Duration) -> (u64, f64, f64, f64) {
        const BATCHES: u64 = 5;
        let reply_op = op.starts_with("reply_");
        let mut n = if reply_op { 200 } else { 4 };
        // Calibrate: grow until a batch takes a tenth of its share.
        let share = budget.as_secs_f64() / BATCHES as f64;
        let t = loop {
            let t = self.run(op, n).cpu;
            if t >= share / 10.0 || (reply_op && n >= 800) {
                break t;
            }
            n *= 2;
        };
        let mut n = ((share / t.max(1e-9)) * n as f64).max(1.0) as u64;
        if reply_op {
            // Setup costs ~100x the timed part: cap it to keep rounds short.
            n = n.min(800);
        }
        let (mut cpu_rates, mut wall_rates) = (Vec::new(), Vec::new());
        let (mut total_n, mut total_cpu) = (0, 0.0);
        for _ in 0..BATCHES {
            let t = self.run(op, n);
            total_n += n;
            total_cpu += t.cpu;
            cpu_rates.push(n as f64 / t.cpu);
            wall_rates.push(n as f64 / t.wall);
        }
        cpu_rates.sort_by(f64::total_cmp);
        wall_rates.sort_by(f64::total_cmp);
        let mid = cpu_rates.len() / 2;
        (total_n, total_cpu, cpu_rates[mid], wall_rates[mid])
    }
}

/// One operation, never inlined: `valgrind --tool=callgrind
/// --toggle-collect='pssst_compare::measured*'` counts exactly the measured
/// operations and none of the setup.
#[inline(never)]
fn measured<R>(op: impl FnOnce() -> R) -> R {
    op()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut ms = 300u64;
    let mut callgrind: Option<String> = None;
    let mut iters = 200u64;
    let mut ops: Vec<String> = OPS.iter().map(|s| s.to_string()).collect();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage(arg)).clone();
        match arg.as_str() {
            "--ms" => ms = value().parse().unwrap_or_else(|_| usage("--ms")),
            "--callgrind" => callgrind = Some(value()),
            "--iters" => iters = value().parse().unwrap_or_else(|_| usage("--iters")),
            "--ops" => ops = value().split(',').map(str::to_string).collect(),
            "--backend" => {
                println!("{}", backend::NAME);
                return;
            }
            _ => usage(arg),
        }
    }
    let fixture = Fixture::new();
    if let Some(op) = callgrind {
        black_box(fixture.run(&op, 1)); // warm-up: one-time work is not counted
        black_box(fixture.run(&op, iters));
        return;
    }
    for op in &ops {
        let (n, secs, rate, wall_rate) = fixture.measure(op, Duration::from_millis(ms));
        println!(
            "{{\"impl\":\"pssst-core/{}\",\"backend\":\"{}\",\"op\":\"{}\",\"ops_per_s\":{:.1},\"wall_ops_per_s\":{:.1},\"n\":{},\"secs\":{:.6}}}",
            backend::NAME,
            backend::NAME,
            op,
            rate,
            wall_rate,
            n,
            secs
        );
    }
}

fn usage(arg: &str) -> ! {
    eprintln!(
        "pssst-compare: bad argument {arg}\nusage: pssst-compare [--ms N] [--ops a,b] | --callgrind OP [--iters N] | --backend"
    );
    std::process::exit(2)
}
