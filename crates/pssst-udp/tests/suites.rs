//! Cipher suites over UDP: a server answers both suites by default, each
//! in its own suite; ServerConfig::suites restricts them, the others are
//! dropped before any X25519 and counted as an unknown suite, across a
//! reload too.

use pssst_core::{CipherSuite, CipherSuites, Client, generate_key_pair};
use pssst_udp::{
    ClientError, Counter, Echo, RetrySchedule, ServerConfig, ServerKeys, UdpClient, UdpServer,
};

mod common;
use common::{impatient, loopback, quick, start};

fn ask(
    server: &UdpServer,
    suite: CipherSuite,
    schedule: RetrySchedule,
) -> Result<Vec<u8>, ClientError> {
    let client = Client::new(server.public_key()).unwrap().with_suite(suite);
    UdpClient::connect(server.local_addr(), client, schedule)
        .unwrap()
        .request(b"which suite?")
}

#[test]
fn a_default_server_answers_both_suites() {
    let (server, _) = start(ServerConfig::default().workers(1), Echo);
    for suite in CipherSuite::ALL {
        assert_eq!(
            ask(&server, suite, quick()).unwrap(),
            b"which suite?",
            "{suite}"
        );
    }
    let stats = server.shutdown();
    assert!(stats.answered() >= 2, "{stats}");
    assert_eq!(stats.dropped(), 0, "{stats}");
}

#[test]
fn a_restricted_server_drops_the_other_suite_as_unknown_across_reloads() {
    for accepted in CipherSuite::ALL {
        let (private, _) = generate_key_pair().unwrap();
        let config = ServerConfig::default()
            .workers(1)
            .suites(CipherSuites::only(accepted));
        let server = UdpServer::bind(loopback(), private.clone(), config, Echo).unwrap();
        for round in ["first", "after a reload"] {
            for suite in CipherSuite::ALL {
                if suite == accepted {
                    assert_eq!(ask(&server, suite, quick()).unwrap(), b"which suite?");
                } else {
                    let refused = ask(&server, suite, impatient());
                    assert!(
                        refused.is_err(),
                        "{round}: {accepted} server answered {suite}"
                    );
                }
            }
            server.reload(ServerKeys::from(private.clone()), None);
        }
        let stats = server.shutdown();
        // Every copy the refused client sent was dropped before X25519.
        assert!(stats.get(Counter::DroppedUnknownSuite) >= 2, "{stats}");
        assert_eq!(stats.get(Counter::DroppedDecryptFailed), 0, "{stats}");
        assert!(stats.answered() >= 2, "{stats}");
    }
}
