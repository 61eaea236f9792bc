//! Several keys per server (rotation), reloading keys and allowlist while
//! serving, replies counted per key, handler durations.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use pssst_core::{Client, PrivateKey, PublicKey, generate_key_pair};
use pssst_udp::{
    ClientError, Counter, Echo, RetrySchedule, ServerConfig, ServerKeys, Transaction, UdpClient,
    UdpServer,
};

mod common;
use common::{impatient, loopback, patient, settled_when};

fn key() -> PrivateKey {
    generate_key_pair().unwrap().0
}

fn ask(
    server: &UdpServer,
    to: &PrivateKey,
    from: Option<&PrivateKey>,
    schedule: RetrySchedule,
) -> Result<Transaction, ClientError> {
    let client = match from {
        None => Client::new(to.public_key()).unwrap(),
        Some(own) => Client::with_client_auth(to.public_key(), own).unwrap(),
    };
    UdpClient::connect(server.local_addr(), client, schedule)
        .unwrap()
        .transact(b"which key?")
}

/// Asks (waiting patiently), checks the echo and returns how many copies
/// were sent: without a reply cache the server answers, and counts, each
/// one (on a loaded machine there can be more than one).
fn answered(server: &UdpServer, to: &PrivateKey, from: Option<&PrivateKey>) -> u64 {
    let transaction = ask(server, to, from, patient()).unwrap();
    assert_eq!(transaction.reply, b"which key?");
    u64::from(transaction.attempts)
}

/// The replies counted per key, once each count has reached `expected`'s
/// (or after 30 s): a reply is counted just after it is sent, so a read
/// right after the client has it can come first.
fn replies_by_key(server: &UdpServer, expected: &[(PublicKey, u64)]) -> Vec<(PublicKey, u64)> {
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        let counts = server.replies_by_key();
        let reached = counts.len() == expected.len()
            && counts
                .iter()
                .zip(expected)
                .all(|((key, n), (want_key, want))| key == want_key && n >= want);
        if reached || Instant::now() > give_up {
            return counts;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn every_key_is_answered_and_replies_are_counted_per_key() {
    let (old, new) = (key(), key());
    let keys = ServerKeys::new(vec![old.clone(), new.clone()]).unwrap();
    let server =
        UdpServer::bind(loopback(), keys, ServerConfig::default().workers(1), Echo).unwrap();
    assert_eq!(
        server.public_key(),
        old.public_key(),
        "the first key is the primary"
    );
    let old_replies: u64 = (0..3).map(|_| answered(&server, &old, None)).sum();
    let new_replies: u64 = (0..2)
        .map(|_| answered(&server, &new, None) + answered(&server, &new, Some(&key())))
        .sum();
    assert!(
        ask(&server, &key(), None, impatient()).is_err(),
        "a third key is not served"
    );
    let expected = [
        (old.public_key(), old_replies),
        (new.public_key(), new_replies),
    ];
    assert_eq!(replies_by_key(&server, &expected), expected);
    // The third key's copies may still be queued.
    settled_when(&server, |s| s.get(Counter::DroppedDecryptFailed) >= 2);
    let stats = server.shutdown();
    assert_eq!(stats.answered(), old_replies + new_replies);
    assert_eq!(stats.get(Counter::DroppedDecryptFailed), 2, "{stats}");
}

#[test]
fn a_reload_swaps_keys_and_allowlist_while_serving() {
    let (kept, removed, added) = (key(), key(), key());
    let keys = ServerKeys::new(vec![kept.clone(), removed.clone()]).unwrap();
    let server =
        UdpServer::bind(loopback(), keys, ServerConfig::default().workers(2), Echo).unwrap();
    let kept_replies = answered(&server, &kept, None);
    let removed_replies = answered(&server, &removed, None);
    // Every copy answered before the reload (one left for after it would
    // be refused by the allowlist, and never counted).
    let before = [
        (kept.public_key(), kept_replies),
        (removed.public_key(), removed_replies),
    ];
    assert_eq!(replies_by_key(&server, &before), before);

    let alice = key();
    let allowed: HashSet<_> = [alice.public_key()].into();
    server.reload(
        ServerKeys::new(vec![added.clone(), kept.clone()]).unwrap(),
        Some(allowed),
    );
    assert_eq!(server.public_key(), added.public_key());
    let added_replies = answered(&server, &added, Some(&alice));
    let kept_replies = kept_replies + answered(&server, &kept, Some(&alice));
    assert!(
        ask(&server, &removed, Some(&alice), impatient()).is_err(),
        "removed key still served"
    );
    assert!(
        ask(&server, &kept, None, impatient()).is_err(),
        "the allowlist is not in force"
    );
    assert!(
        ask(&server, &kept, Some(&key()), impatient()).is_err(),
        "an unknown client got in"
    );
    // The kept key's count carried over; the removed key is gone.
    let expected = [
        (added.public_key(), added_replies),
        (kept.public_key(), kept_replies),
    ];
    assert_eq!(replies_by_key(&server, &expected), expected);

    server.reload(ServerKeys::from(kept.clone()), None);
    answered(&server, &kept, None);
}

#[test]
fn key_sets_are_never_empty_and_never_repeat_a_key() {
    assert!(ServerKeys::new(vec![]).is_err());
    let (k, other) = (key(), key());
    let repeated = ServerKeys::new(vec![k.clone(), other.clone(), k.clone()]).unwrap();
    assert_eq!(repeated.public_keys(), [k.public_key(), other.public_key()]);
    let keys = ServerKeys::new(vec![k.clone(), key()]).unwrap();
    assert_eq!(keys.public_keys()[0], k.public_key());
    // Debug shows public keys only.
    let secret: String = k.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert!(!format!("{keys:?}").contains(&secret));
}

#[test]
fn handler_durations_count_every_handled_request() {
    let server =
        UdpServer::bind(loopback(), key(), ServerConfig::default().workers(1), Echo).unwrap();
    let to = server.public_key();
    let mut udp =
        UdpClient::connect(server.local_addr(), Client::new(to).unwrap(), patient()).unwrap();
    for _ in 0..5 {
        udp.request(b"time me").unwrap();
    }
    std::thread::sleep(Duration::from_millis(50));
    let durations = server.handler_durations();
    assert!(durations.count >= 5, "{durations:?}");
    assert_eq!(
        *durations.buckets.last().unwrap(),
        durations.count,
        "an echo takes under 30 s"
    );
    assert!(
        durations.buckets.windows(2).all(|w| w[0] <= w[1]),
        "cumulative"
    );
    // Some time was recorded (how much depends on the machine's load).
    assert!(durations.sum_seconds > 0.0 && durations.sum_seconds.is_finite());
}
