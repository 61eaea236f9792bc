//! The `pssst` binary end to end, where a shell script would be clumsy:
//! two `compat` processes talking to each other (and a tampering relay),
//! `serve --exec` answering retransmissions byte-identically, a clean
//! shutdown on SIGTERM, `serve --stats-file` read while it runs, and the
//! errors for an address that is malformed or does not resolve.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Child, Stdio};
use std::thread;
use std::time::Duration;

use common::{Served, keygen, pssst, scratch};
use pssst_core::Client;

fn spawn_compat() -> Child {
    pssst()
        .arg("compat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Copies `from`'s stdout lines to `to`'s stdin through `relay`.
fn pipe(from: &mut Child, to: &mut Child, relay: fn(String) -> String) -> thread::JoinHandle<()> {
    let stdout = from.stdout.take().unwrap();
    let mut stdin = to.stdin.take().unwrap();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if writeln!(stdin, "{}", relay(line)).is_err() {
                break;
            }
        }
    })
}

/// Runs two `pssst compat` against each other; returns (success, stderr) of each.
fn compat_pair(relay_a_to_b: fn(String) -> String) -> [(bool, String); 2] {
    let mut a = spawn_compat();
    let mut b = spawn_compat();
    let ab = pipe(&mut a, &mut b, relay_a_to_b);
    let ba = pipe(&mut b, &mut a, |l| l);
    let results = [a, b].map(|child| {
        let out = wait_bounded(child);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    });
    let _ = ab.join();
    let _ = ba.join();
    results
}

fn wait_bounded(mut child: Child) -> std::process::Output {
    for _ in 0..1000 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    panic!("the command did not finish within 10 s");
}

#[test]
fn two_compat_processes_complete_the_exchange() {
    for (ok, stderr) in compat_pair(|l| l) {
        assert!(ok, "compat failed: {stderr}");
        assert!(stderr.is_empty(), "{stderr}");
    }
}

#[test]
fn compat_fails_on_a_tampered_request() {
    let [_, (ok, stderr)] = compat_pair(|line| {
        if let Some(hex) = line.strip_prefix("REQUEST_AUTH:") {
            let flipped = if hex.ends_with('0') { "1" } else { "0" };
            format!("REQUEST_AUTH:{}{flipped}", &hex[..hex.len() - 1])
        } else {
            line
        }
    });
    assert!(!ok);
    assert!(
        stderr.starts_with("error: REQUEST_AUTH: cannot unpack"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
}

#[test]
fn compat_fails_on_end_of_input() {
    let out = pssst().arg("compat").stdin(Stdio::null()).output().unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let tags: Vec<&str> = stdout
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(tags, ["SERVER_KEY", "CLIENT_KEY", "PLAINTEXT"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("end of input"));
}

#[test]
fn compat_fails_on_a_bad_line() {
    let mut child = spawn_compat();
    writeln!(child.stdin.as_mut().unwrap(), "SERVER_KEY:not-hex").unwrap();
    let out = wait_bounded(child);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not hex"));
}

/// Sends `packet` and returns the reply datagram.
fn exchange(socket: &UdpSocket, packet: &[u8]) -> Vec<u8> {
    socket.send(packet).unwrap();
    let mut buf = vec![0; 65536];
    let n = socket.recv(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn exec_answers_a_retransmission_with_identical_bytes() {
    let dir = scratch("exec-cache");
    let (key, _) = keygen(&dir, "server.key");
    // Output differs on every run: 8 random bytes in hex. (Shorter than
    // the request, so anti-amplification lets it through.)
    let command = "head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \\n'";
    let server = Served::start(&key, &["--exec", command]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(server.addr).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let client = Client::new(server.public_key).unwrap();

    let message = [b'm'; 32];
    let (request, mut handler) = client.pack_request(&message).unwrap();
    let first = exchange(&socket, &request);
    let retry = exchange(&socket, &request);
    assert_eq!(
        first, retry,
        "a retransmission must get the identical reply"
    );
    let output = handler.unpack_reply(&first).unwrap();
    assert_eq!(output.len(), 16, "{output:?}");

    let (request, mut handler) = client.pack_request(&message).unwrap();
    let other = handler.unpack_reply(&exchange(&socket, &request)).unwrap();
    assert_ne!(other, output, "a new request runs the command again");

    let (ok, rest) = server.terminate();
    assert!(ok);
    assert!(rest.contains("answered=3"), "{rest}");
}

#[test]
fn exec_command_failure_means_no_reply() {
    let dir = scratch("exec-fail");
    let (key, _) = keygen(&dir, "server.key");
    let server = Served::start(&key, &["--exec", "exit 3"]);
    let out = pssst()
        .args(["send", "--timeout-ms", "100", "--retries", "1", "--server"])
        .arg(server.addr.to_string())
        .args(["--server-key", &server.public_key.to_string(), "hi"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no reply after 2 attempts"), "{stderr}");
    let (ok, rest) = server.terminate();
    assert!(ok);
    // The retransmission got the remembered "no reply" without a second
    // run (or, on a slow machine, came while the command still ran).
    let failed = rest.contains("handler_failed=2")
        || (rest.contains("handler_failed=1") && rest.contains("in_progress=1"));
    assert!(failed, "{rest}");
}

#[test]
fn serve_stops_cleanly_on_sigterm_and_prints_its_counters() {
    let dir = scratch("sigterm");
    let (key, _) = keygen(&dir, "server.key");
    let server = Served::start(&key, &["--workers", "2"]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.send_to(b"abc", server.addr).unwrap();
    thread::sleep(Duration::from_millis(100));
    let (ok, rest) = server.terminate();
    assert!(ok);
    assert!(
        rest.contains("stopped; received=1 answered=0 too_short=1"),
        "{rest}"
    );
}

/// The value of `name=N` in a counters line (absent: 0).
fn counter(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        .map_or(0, |v| v.parse().unwrap())
}

#[test]
fn serve_keeps_its_counters_in_the_stats_file() {
    let dir = scratch("stats-file");
    let (key, _) = keygen(&dir, "server.key");
    let path = dir.join("serve.stats");
    let server = Served::start(
        &key,
        &[
            "--workers",
            "2",
            "--stats-file",
            path.to_str().unwrap(),
            "--stats-interval-ms",
            "50",
        ],
    );
    // Written before the server announces itself.
    let first = std::fs::read_to_string(&path).unwrap();
    assert_eq!(first, "received=0 answered=0\n");

    const SENT: u64 = 3;
    for i in 0..SENT {
        let out = pssst()
            .args(["send", "--server", &server.addr.to_string()])
            .args(["--server-key", &server.public_key.to_string()])
            .arg(format!("message {i}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Read while it runs, until it shows every answer (bounded: 5 s).
    let mut line = String::new();
    for _ in 0..500 {
        // Replaced by rename: never missing, never half-written.
        line = std::fs::read_to_string(&path).unwrap();
        assert!(
            line.ends_with('\n') && line.lines().count() == 1,
            "{line:?}"
        );
        if counter(&line, "answered") >= SENT {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    // (More only if a reply was late and `send` retransmitted.)
    assert!(counter(&line, "answered") >= SENT, "{line:?}");
    assert!(
        counter(&line, "received") >= counter(&line, "answered"),
        "{line:?}"
    );

    let (ok, rest) = server.terminate();
    assert!(ok);
    // The last snapshot, written at shutdown, is the line printed then.
    let last = std::fs::read_to_string(&path).unwrap();
    assert!(
        rest.contains(&format!("pssst serve: stopped; {last}")),
        "{rest:?} vs {last:?}"
    );
    // No temporary file left behind.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn serve_refuses_a_stats_file_in_a_missing_directory() {
    let dir = scratch("stats-file-bad");
    let (key, _) = keygen(&dir, "server.key");
    let path = dir.join("no-such-dir").join("serve.stats");
    let child = pssst()
        .args(["serve", "--listen", "127.0.0.1:0", "--key"])
        .arg(&key)
        .arg("--stats-file")
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(child);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "it must not announce itself");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: --stats-file ") && stderr.contains("No such file"),
        "{stderr}"
    );
    assert!(!dir.join("no-such-dir").exists());
}

/// `pssst ARGS...`: its exit code and its stderr.
fn failure_of(args: &[&str]) -> (Option<i32>, String) {
    let child = pssst()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(child);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_host_that_does_not_resolve_is_not_called_malformed() {
    let dir = scratch("unresolvable");
    let (key, _) = keygen(&dir, "server.key");
    let key = key.to_str().unwrap();
    let server_key = "ab".repeat(32);
    let send = |server| {
        [
            "send",
            "--server",
            server,
            "--server-key",
            &server_key,
            "hi",
        ]
    };
    // `.invalid` never resolves (RFC 2606), with or without a network.
    for (args, expected) in [
        (
            send("no-such-host.invalid:9").to_vec(),
            "error: cannot resolve server host \"no-such-host.invalid\": ",
        ),
        (
            vec!["serve", "--key", key, "--listen", "no-such-host.invalid:0"],
            "error: cannot resolve listen host \"no-such-host.invalid\": ",
        ),
        (
            send("no-such-host.invalid").to_vec(),
            "error: bad server address \"no-such-host.invalid\": expected HOST:PORT",
        ),
        (
            send("localhost:http").to_vec(),
            "error: bad server address \"localhost:http\": expected HOST:PORT",
        ),
    ] {
        let (code, stderr) = failure_of(&args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with(expected), "{args:?}: {stderr}");
    }
}
