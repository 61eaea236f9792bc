//! Every case of tests/vectors/suite1-reject.json and suiteff01-reject.json
//! is rejected with the error it names, through every server API variant.

mod common;

use common::{hex, load_vectors};
use pssst_core::{Error, PACKET_OVERHEAD, PrivateKey, Server};

fn expected_errors(kind: &str, packet_len: usize) -> Vec<Error> {
    match kind {
        // 36..51 bytes: a packet with no room for a tag may be reported
        // either way; both references disagree there too.
        "truncated" if (36..52).contains(&packet_len) => {
            vec![Error::Truncated, Error::DecryptionFailed]
        }
        "truncated" => vec![Error::Truncated],
        "not a request" => vec![Error::NotRequest],
        "unsupported cipher suite" => vec![Error::UnsupportedCipherSuite],
        "decryption failed" => vec![Error::DecryptionFailed],
        "client auth failed" => vec![Error::ClientAuthFailed],
        "low-order point" => vec![Error::LowOrderPoint],
        other => panic!("unknown expected_failure kind {other:?}"),
    }
}

#[test]
fn every_suite1_reject_vector_is_rejected_with_its_error() {
    check_file("suite1-reject.json", 22);
}

#[test]
fn every_suiteff01_reject_vector_is_rejected_with_its_error() {
    check_file("suiteff01-reject.json", 27);
}

fn check_file(file: &str, count: usize) {
    let vectors = load_vectors(file);
    let cases = vectors["cases"].as_array().unwrap();
    assert_eq!(cases.len(), count, "{file} has {count} cases");
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let server =
            Server::new(PrivateKey::from_hex(case["server_private"].as_str().unwrap()).unwrap());
        let packet = hex(&case["request_packet"]);
        assert_eq!(
            packet.len() as u64,
            case["packet_len"].as_u64().unwrap(),
            "{id}"
        );
        let expected = expected_errors(case["expected_failure"].as_str().unwrap(), packet.len());

        let err = server.unpack_request(&packet).expect_err(id);
        assert!(
            expected.contains(&err),
            "{id}: got {err:?}, expected one of {expected:?}"
        );

        let mut in_place = packet.clone();
        let err = server.unpack_request_in_place(&mut in_place).expect_err(id);
        assert!(expected.contains(&err), "{id} (in place): got {err:?}");

        let mut out = vec![0u8; packet.len().saturating_sub(PACKET_OVERHEAD)];
        let err = server.unpack_request_into(&packet, &mut out).expect_err(id);
        assert!(expected.contains(&err), "{id} (into): got {err:?}");
        assert!(
            out.iter().all(|&b| b == 0),
            "{id}: no plaintext of a rejected request is left behind"
        );
    }
}
