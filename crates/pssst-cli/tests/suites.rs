//! `--suite` for send and bench, `--suites` for serve, `--suite` for compat.

mod common;
use common::{Served, keygen, pssst, scratch};

fn client(served: &Served, command: &str, suite: &str) -> std::process::Command {
    let mut cmd = pssst();
    cmd.args([command, "--timeout-ms", "200", "--retries", "2", "--server"])
        .arg(served.addr.to_string())
        .args([
            "--server-key",
            &served.public_key.to_string(),
            "--suite",
            suite,
        ]);
    cmd
}

/// Runs `cmd`, requires success, returns its stdout.
fn succeeds(cmd: &mut std::process::Command) -> Vec<u8> {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    out.stdout
}

#[test]
fn send_and_bench_speak_either_suite_to_a_default_server() {
    let dir = scratch("suites-default");
    let (key, _) = keygen(&dir, "server.key");
    let server = Served::start(&key, &["--workers", "1"]);
    for suite in ["1", "gcm-siv", "0xff01"] {
        assert_eq!(
            succeeds(client(&server, "send", suite).arg("hello")),
            b"hello"
        );
    }
    succeeds(client(&server, "bench", "gcm-siv").args(["--requests", "200", "--concurrency", "2"]));
    let (ok, rest) = server.terminate();
    assert!(ok);
    assert!(!rest.contains("unknown_suite"), "{rest}");
}

#[test]
fn serve_suites_refuses_the_other_suite() {
    let dir = scratch("suites-restricted");
    let (key, _) = keygen(&dir, "server.key");
    let server = Served::start(&key, &["--workers", "1", "--suites", "gcm-siv"]);
    let out = client(&server, "send", "gcm-siv")
        .arg("yes")
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"yes");
    let out = client(&server, "send", "1").arg("no").output().unwrap();
    assert!(!out.status.success());
    let (ok, rest) = server.terminate();
    assert!(ok);
    assert!(rest.contains("unknown_suite=3"), "{rest}");
}

#[test]
fn an_unknown_suite_is_one_error_line() {
    for args in [
        &[
            "send",
            "--server",
            "127.0.0.1:1",
            "--server-key",
            "00",
            "--suite",
            "2",
            "x",
        ][..],
        &["serve", "--key", "k", "--suites", "1,nope"][..],
        &["compat", "--suite", "aes"][..],
    ] {
        let out = pssst().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with("error: ") && stderr.contains("cipher suite"),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}
