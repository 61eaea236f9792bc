//! Several keys per server (rotation), reloading keys and allowlist while
//! serving, replies counted per key, handler durations.

use std::collections::HashSet;
use std::time::Duration;

use pssst_core::{Client, PrivateKey, generate_key_pair};
use pssst_udp::{
    ClientError, Counter, Echo, RetrySchedule, ServerConfig, ServerKeys, UdpClient, UdpServer,
};

mod common;
use common::{impatient, loopback, quick};

fn key() -> PrivateKey {
    generate_key_pair().unwrap().0
}

fn ask(
    server: &UdpServer,
    to: &PrivateKey,
    from: Option<&PrivateKey>,
    schedule: RetrySchedule,
) -> Result<Vec<u8>, ClientError> {
    let client = match from {
        None => Client::new(to.public_key()).unwrap(),
        Some(own) => Client::with_client_auth(to.public_key(), own).unwrap(),
    };
    UdpClient::connect(server.local_addr(), client, schedule)
        .unwrap()
        .request(b"which key?")
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
    for _ in 0..3 {
        assert_eq!(ask(&server, &old, None, quick()).unwrap(), b"which key?");
    }
    for _ in 0..2 {
        assert_eq!(ask(&server, &new, None, quick()).unwrap(), b"which key?");
        assert_eq!(
            ask(&server, &new, Some(&key()), quick()).unwrap(),
            b"which key?"
        );
    }
    assert!(
        ask(&server, &key(), None, impatient()).is_err(),
        "a third key is not served"
    );
    assert_eq!(
        server.replies_by_key(),
        [(old.public_key(), 3), (new.public_key(), 4)]
    );
    let stats = server.shutdown();
    assert_eq!(stats.answered(), 7);
    assert_eq!(stats.get(Counter::DroppedDecryptFailed), 2);
}

#[test]
fn a_reload_swaps_keys_and_allowlist_while_serving() {
    let (kept, removed, added) = (key(), key(), key());
    let keys = ServerKeys::new(vec![kept.clone(), removed.clone()]).unwrap();
    let server =
        UdpServer::bind(loopback(), keys, ServerConfig::default().workers(2), Echo).unwrap();
    ask(&server, &kept, None, quick()).unwrap();
    ask(&server, &removed, None, quick()).unwrap();

    let alice = key();
    let allowed: HashSet<_> = [alice.public_key()].into();
    server.reload(
        ServerKeys::new(vec![added.clone(), kept.clone()]).unwrap(),
        Some(allowed),
    );
    assert_eq!(server.public_key(), added.public_key());
    assert_eq!(
        ask(&server, &added, Some(&alice), quick()).unwrap(),
        b"which key?"
    );
    assert_eq!(
        ask(&server, &kept, Some(&alice), quick()).unwrap(),
        b"which key?"
    );
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
    assert_eq!(
        server.replies_by_key(),
        [(added.public_key(), 1), (kept.public_key(), 2)]
    );

    server.reload(ServerKeys::from(kept.clone()), None);
    assert_eq!(ask(&server, &kept, None, quick()).unwrap(), b"which key?");
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
        UdpClient::connect(server.local_addr(), Client::new(to).unwrap(), quick()).unwrap();
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
    assert!(durations.sum_seconds > 0.0 && durations.sum_seconds < 1.0);
}
