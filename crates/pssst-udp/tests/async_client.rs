//! The async client (feature `tokio`) over loopback, in the blocking
//! client's scenarios: round trips, retransmission, ignoring junk, giving
//! up, and many concurrent requests. Every wait is bounded.

use std::future::Future;
use std::time::Duration;

use pssst_core::{Client, generate_key_pair};
use pssst_udp::{AsyncUdpClient, ClientError, Echo, RetrySchedule, ServerConfig, UdpServer};
use tokio::task::JoinSet;

mod common;
use common::{FakeServer, impatient, patient, persistent, quick, start};

/// Not a timing test (shared machines are noisy): only "it did not hang".
async fn bounded<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), future)
        .await
        .expect("did not finish within 60 s")
}

async fn connect(
    addr: std::net::SocketAddr,
    client: Client,
    schedule: RetrySchedule,
) -> AsyncUdpClient {
    AsyncUdpClient::connect(addr, client, schedule)
        .await
        .unwrap()
}

async fn anonymous(server: &UdpServer, schedule: RetrySchedule) -> AsyncUdpClient {
    let client = Client::new(server.public_key()).unwrap();
    connect(server.local_addr(), client, schedule).await
}

async fn fake_client(fake: &FakeServer, schedule: RetrySchedule) -> AsyncUdpClient {
    let client = Client::new(fake.public_key()).unwrap();
    connect(fake.addr(), client, schedule).await
}

#[tokio::test]
async fn echo_answers_anonymous_and_authenticated_clients() {
    let (server, _) = start(ServerConfig::default().workers(2), Echo);
    let mut anon = anonymous(&server, quick()).await;
    let (client_key, _) = generate_key_pair().unwrap();
    let client = Client::with_client_auth(server.public_key(), &client_key).unwrap();
    let mut auth = connect(server.local_addr(), client, quick()).await;
    assert_eq!(
        anon.local_addr().unwrap().ip(),
        server.local_addr().ip().to_canonical()
    );
    bounded(async {
        for size in [0usize, 1, 100, 1200, 8000] {
            let message: Vec<u8> = (0..size).map(|i| i as u8).collect();
            assert_eq!(anon.request(&message).await.unwrap(), message);
            let transaction = auth.transact(&message).await.unwrap();
            assert_eq!(transaction.reply, message);
            assert!(transaction.attempts >= 1);
        }
    })
    .await;
    let stats = server.shutdown();
    assert!(stats.answered() >= 10, "{stats}");
    assert_eq!(stats.dropped(), 0);
}

#[tokio::test]
async fn client_retransmits_the_identical_packet_until_answered() {
    let fake = FakeServer::new();
    let mut client = fake_client(&fake, persistent()).await;
    let worker = fake.answer_the_third_copy();
    let transaction = bounded(client.transact(b"knock knock")).await.unwrap();
    let (fake, request) = worker.join().unwrap();
    assert_eq!(transaction.reply, b"third time lucky");
    assert_eq!(transaction.answered_attempt, 3);
    // A loaded machine may have sent more copies before the reply arrived.
    assert!(transaction.attempts >= 3, "{transaction:?}");
    fake.more_copies(&request, transaction.attempts - 3);
}

#[tokio::test]
async fn client_ignores_junk_and_stale_replies_and_takes_the_genuine_one() {
    let fake = FakeServer::new();
    let mut client = fake_client(&fake, patient()).await;
    let worker = fake.junk_before_the_genuine_reply();
    let (first, second) = bounded(async {
        let first = client.request(b"one").await.unwrap();
        (first, client.transact(b"two").await.unwrap())
    })
    .await;
    worker.join().unwrap();
    assert_eq!(first, b"first");
    assert_eq!(second.reply, b"second");
    assert_eq!(second.ignored, 4);
    assert_eq!(second.attempts, 1);
}

#[tokio::test]
async fn client_gives_up_after_its_attempts() {
    let fake = FakeServer::new();
    let mut client = fake_client(&fake, impatient()).await;
    let error = bounded(client.request(b"anyone?")).await.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::TimedOut {
                attempts: 2,
                ignored: 0
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn oversize_messages_are_refused_before_sending() {
    let (server, _) = start(ServerConfig::default().workers(1), Echo);
    let mut anon = anonymous(&server, quick()).await;
    let max = anon.max_message_len();
    assert_eq!(max, 65_507 - 52);
    assert!(matches!(
        anon.request(&vec![0; max + 1]).await,
        Err(ClientError::MessageTooLarge { .. })
    ));
}

#[tokio::test]
async fn many_concurrent_requests_all_complete() {
    let (server, _) = start(ServerConfig::default().workers(2), Echo);
    let mut tasks = JoinSet::new();
    for t in 0..16 {
        let mut udp = anonymous(&server, quick()).await;
        tasks.spawn(async move {
            for i in 0..25u32 {
                let message = format!("task {t} request {i}");
                assert_eq!(
                    udp.request(message.as_bytes()).await.unwrap(),
                    message.as_bytes()
                );
            }
        });
    }
    let finished = bounded(async {
        let mut finished = 0;
        while let Some(result) = tasks.join_next().await {
            result.unwrap();
            finished += 1;
        }
        finished
    })
    .await;
    assert_eq!(finished, 16);
    assert!(server.shutdown().answered() >= 400);
}
