//! The demo's valid traffic: the server's handler, the replies a client
//! must get from it, and runs of transactions that must all verify or all
//! be refused, each giving a row of the table.

use std::sync::Arc;
use std::time::Duration;

use pssst_core::{Client, PrivateKey, PublicKey};
use pssst_udp::{Request, RetrySchedule, UdpClient, UdpServer};

use super::Checks;
use super::table::{Outcome, Row};
use crate::load::{self, Load};

/// Echo for anonymous requests; the client's key then the message for
/// authenticated ones (so the client sees the server learnt its key).
/// A message starting with `x4:` asks for four copies: an amplification
/// the server must refuse, to anonymous and authenticated requests alike.
pub fn handler(request: &Request<'_>, reply: &mut Vec<u8>) -> bool {
    write_reply(request.client_public_key, request.message, reply);
    true
}

/// The handler's reply, which the client checks it got.
fn write_reply(client_key: Option<PublicKey>, message: &[u8], reply: &mut Vec<u8>) {
    let copies = if message.starts_with(b"x4:") { 4 } else { 1 };
    if let Some(key) = client_key {
        reply.extend_from_slice(key.as_bytes());
    }
    for _ in 0..copies {
        reply.extend_from_slice(message);
    }
}

fn patient() -> RetrySchedule {
    RetrySchedule::new(Duration::from_millis(200), 8).expect("within the retransmission window")
}

fn impatient() -> RetrySchedule {
    RetrySchedule::new(Duration::from_millis(80), 1).expect("within the retransmission window")
}

/// An anonymous client, or one authenticated with `key`.
pub fn client(server: PublicKey, key: Option<&PrivateKey>) -> Result<Client, String> {
    match key {
        None => Client::new(server),
        Some(key) => Client::with_client_auth(server, key),
    }
    .map_err(|e| e.to_string())
}

/// `requests` transactions, four at a time, that must all verify.
pub fn run_load(
    checks: &mut Checks,
    name: &'static str,
    server: &UdpServer,
    key: Option<&PrivateKey>,
    requests: u64,
) -> Result<Row, String> {
    let load = Load {
        server: server.local_addr(),
        client: client(server.public_key(), key)?,
        schedule: patient(),
        requests,
        // A bound for a stuck run, not a speed goal: natively this takes
        // about a second, under qemu-user (tests/cross) half a minute.
        duration: Some(Duration::from_secs(300)),
        concurrency: 4,
        size: 64,
        progress: false,
    };
    let public = key.map(PrivateKey::public_key);
    let expected = move |message: &[u8]| {
        let mut reply = Vec::new();
        write_reply(public, message, &mut reply);
        reply
    };
    let report = load::run(&load, Arc::new(expected))?;
    checks.check(report.ok == requests && report.failed() == 0, || {
        format!(
            "{name}: {} of {requests} verified ({} timed out, {} wrong, {} errors)",
            report.ok, report.timed_out, report.wrong, report.errors
        )
    });
    Ok(Row {
        name,
        attempted: requests,
        outcome: Outcome::Verified(report),
    })
}

/// `tries` transactions that must all go unanswered.
pub fn expect_refusals(
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
        outcome: Outcome::Refused(refused),
    })
}
