//! Every case of tests/vectors/suite1-kat.json (made by gopssst) and
//! suiteff01-kat.json (made by tests/hostile/wire.py on Python's
//! `cryptography`), byte for byte, through every API variant.

mod common;

use common::{ScriptedRng, Sha256CounterRng, hex, hex32, load_vectors};
use pssst_core::{CipherSuite, Client, PrivateKey, PublicKey, Server, generate_key_pair_with_rng};
use serde_json::Value;

/// Each suite's KAT file and the seed of the RNG that made it.
const FILES: [(CipherSuite, &str, &str); 2] = [
    (
        CipherSuite::X25519Aes128Gcm,
        "suite1-kat.json",
        "pssst-kat-v1",
    ),
    (
        CipherSuite::X25519Aes128GcmSiv,
        "suiteff01-kat.json",
        "pssst-kat-ff01-v1",
    ),
];

/// The cases of every file, each checked to be of its file's suite.
fn cases() -> Vec<Value> {
    FILES
        .iter()
        .flat_map(|(suite, _, _)| cases_of(*suite))
        .collect()
}

fn cases_of(suite: CipherSuite) -> Vec<Value> {
    let (_, file, _) = FILES.iter().find(|(s, _, _)| *s == suite).unwrap();
    let kat = load_vectors(file);
    let cases = kat["cases"].as_array().expect("cases").clone();
    assert_eq!(cases.len(), 18, "{file} has 18 cases");
    for case in &cases {
        assert_eq!(suite_of(case), suite, "{file}");
    }
    cases
}

fn suite_of(case: &Value) -> CipherSuite {
    let id = u16::try_from(case["suite"].as_u64().unwrap()).unwrap();
    CipherSuite::try_from(id).unwrap()
}

fn client_for(case: &Value) -> Client {
    let server_public = PublicKey::from_bytes(hex32(&case["server_public"]));
    if case["client_auth"].as_bool().unwrap() {
        let client_private =
            PrivateKey::from_hex(case["client_private"].as_str().unwrap()).unwrap();
        Client::with_client_auth(server_public, &client_private).unwrap()
    } else {
        Client::new(server_public).unwrap()
    }
    .with_suite(suite_of(case))
}

#[test]
fn keys_match_their_public_halves() {
    for case in cases() {
        let server_private =
            PrivateKey::from_hex(case["server_private"].as_str().unwrap()).unwrap();
        assert_eq!(
            server_private.public_key().to_bytes(),
            hex32(&case["server_public"])
        );
        if case["client_auth"].as_bool().unwrap() {
            let client = client_for(&case);
            assert_eq!(
                client.client_public_key().unwrap().to_bytes(),
                hex32(&case["client_public"])
            );
        }
    }
}

#[test]
fn server_unpacks_request_and_packs_reply_byte_for_byte() {
    for case in cases() {
        let id = case["id"].as_str().unwrap();
        let server =
            Server::new(PrivateKey::from_hex(case["server_private"].as_str().unwrap()).unwrap());
        let request = server
            .unpack_request(&hex(&case["request_packet"]))
            .unwrap();
        assert_eq!(request.message, hex(&case["request_plaintext"]), "{id}");
        let expected_client = case["client_public"]
            .as_str()
            .map(|_| PublicKey::from_bytes(hex32(&case["client_public"])));
        assert_eq!(request.client_public_key, expected_client, "{id}");
        let reply = request
            .reply_handler
            .pack_reply(&hex(&case["reply_plaintext"]))
            .unwrap();
        assert_eq!(reply, hex(&case["reply_packet"]), "{id}");
    }
}

#[test]
fn server_in_place_and_into_variants_agree() {
    for case in cases() {
        let id = case["id"].as_str().unwrap();
        let server =
            Server::new(PrivateKey::from_hex(case["server_private"].as_str().unwrap()).unwrap());
        let packet = hex(&case["request_packet"]);
        let plaintext = hex(&case["request_plaintext"]);
        let reply_plaintext = hex(&case["reply_plaintext"]);
        let reply_packet = hex(&case["reply_packet"]);

        let mut in_place = packet.clone();
        let request = server.unpack_request_in_place(&mut in_place).unwrap();
        assert_eq!(request.message, &plaintext[..], "{id}");
        let mut out = vec![0u8; reply_packet.len()];
        let n = request
            .reply_handler
            .pack_reply_into(&reply_plaintext, &mut out)
            .unwrap();
        assert_eq!(&out[..n], &reply_packet[..], "{id}");

        let mut message = vec![0xAAu8; packet.len() - pssst_core::PACKET_OVERHEAD];
        let unpacked = server.unpack_request_into(&packet, &mut message).unwrap();
        let (len, key) = (unpacked.message.len(), unpacked.client_public_key);
        assert_eq!(&message[..len], &plaintext[..], "{id}");
        assert!(
            message[len..].iter().all(|&b| b == 0),
            "{id}: proof bytes wiped"
        );
        assert_eq!(key, request.client_public_key, "{id}");
    }
}

#[test]
fn client_packs_request_from_recorded_ephemeral_and_unpacks_reply() {
    for case in cases() {
        let id = case["id"].as_str().unwrap();
        let client = client_for(&case);
        let plaintext = hex(&case["request_plaintext"]);
        let expected_request = hex(&case["request_packet"]);
        let mut rng = ScriptedRng(hex(&case["ephemeral_rng_bytes"]));
        let (request, mut handler) = client.pack_request_with_rng(&plaintext, &mut rng).unwrap();
        assert!(rng.0.is_empty(), "{id}: exactly 32 random bytes drawn");
        assert_eq!(request, expected_request, "{id}");
        assert_eq!(
            client.request_len(plaintext.len()).unwrap(),
            request.len(),
            "{id}"
        );
        assert_eq!(
            handler.unpack_reply(&hex(&case["reply_packet"])).unwrap(),
            hex(&case["reply_plaintext"]),
            "{id}"
        );

        // Allocation-free variants give the same bytes.
        let mut rng = ScriptedRng(hex(&case["ephemeral_rng_bytes"]));
        let mut packet = vec![0u8; expected_request.len() + 7];
        let (n, mut handler) = client
            .pack_request_into_with_rng(&plaintext, &mut packet, &mut rng)
            .unwrap();
        assert_eq!(&packet[..n], &expected_request[..], "{id}");
        let mut reply = hex(&case["reply_packet"]);
        assert_eq!(
            handler.unpack_reply_in_place(&mut reply).unwrap(),
            &hex(&case["reply_plaintext"])[..],
            "{id}"
        );
    }
}

/// Each vector file follows from its RNG seed: keys, messages and
/// ephemerals drawn in case order reproduce every packet.
#[test]
fn vector_files_regenerate_from_their_rng_seeds() {
    for (suite, _, seed) in FILES {
        regenerate(suite, seed);
    }
}

fn regenerate(suite: CipherSuite, seed: &str) {
    let mut rng = Sha256CounterRng::new(seed);
    for case in cases_of(suite) {
        let id = case["id"].as_str().unwrap();
        let (server_private, server_public) = generate_key_pair_with_rng(&mut rng).unwrap();
        assert_eq!(
            server_private.as_bytes(),
            &hex32(&case["server_private"]),
            "{id}"
        );
        let client = if case["client_auth"].as_bool().unwrap() {
            let (client_private, client_public) = generate_key_pair_with_rng(&mut rng).unwrap();
            assert_eq!(
                client_public.to_bytes(),
                hex32(&case["client_public"]),
                "{id}"
            );
            Client::with_client_auth(server_public, &client_private).unwrap()
        } else {
            Client::new(server_public).unwrap()
        }
        .with_suite(suite);
        let mut message = vec![0u8; case["message_len"].as_u64().unwrap() as usize];
        rand_core::TryRng::try_fill_bytes(&mut rng, &mut message).unwrap();
        assert_eq!(message, hex(&case["request_plaintext"]), "{id}");
        let (request, _) = client.pack_request_with_rng(&message, &mut rng).unwrap();
        assert_eq!(request, hex(&case["request_packet"]), "{id}");
    }
}

/// The AEAD of `suite`, keyed, called directly rather than through
/// pssst-core: seals `msg` under `nonce` with `aad`, or opens it.
fn aead(
    suite: CipherSuite,
    key: &[u8],
    nonce: &[u8],
    msg: &[u8],
    aad: &[u8],
    seal: bool,
) -> Vec<u8> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let nonce: [u8; 12] = nonce.try_into().unwrap();
    let payload = Payload { msg, aad };
    let result = match suite {
        CipherSuite::X25519Aes128Gcm => {
            let cipher = aes_gcm::Aes128Gcm::new_from_slice(key).unwrap();
            if seal {
                cipher.encrypt(&nonce.into(), payload)
            } else {
                cipher.decrypt(&nonce.into(), payload)
            }
        }
        CipherSuite::X25519Aes128GcmSiv => {
            let cipher = aes_gcm_siv::Aes128GcmSiv::new_from_slice(key).unwrap();
            if seal {
                cipher.encrypt(&nonce.into(), payload)
            } else {
                cipher.decrypt(&nonce.into(), payload)
            }
        }
        _ => unreachable!("a suite without a test AEAD"),
    };
    result.unwrap()
}

/// Both packets of every case open with the recorded key and nonces under
/// the suite's AEAD, called directly: the intermediate values are right.
#[test]
fn recorded_keys_and_nonces_open_both_packets() {
    for case in cases() {
        let id = case["id"].as_str().unwrap();
        let suite = suite_of(&case);
        let key = hex(&case["aes_key"]);
        for (packet, nonce, plaintext) in [
            ("request_packet", "client_nonce", "request_plaintext"),
            ("reply_packet", "server_nonce", "reply_plaintext"),
        ] {
            let packet = hex(&case[packet]);
            let opened = aead(
                suite,
                &key,
                &hex(&case[nonce]),
                &packet[36..],
                &packet[..4],
                false,
            );
            let expected = hex(&case[plaintext]);
            // A client-auth request carries C || e before the message.
            assert_eq!(opened[opened.len() - expected.len()..], expected, "{id}");
        }
    }
}

/// Requests with unknown flag bits are accepted (the header is
/// authenticated, and every reference accepts them), while the reply still
/// carries exactly 0x8000 or 0xC000. The request is re-sealed here with the
/// vector's own AES key and nonce, independently of pssst-core.
#[test]
fn requests_with_unknown_flag_bits_are_accepted_and_replies_keep_exact_flags() {
    for case in cases() {
        let id = case["id"].as_str().unwrap();
        let suite = suite_of(&case);
        let original = hex(&case["request_packet"]);
        let key = hex(&case["aes_key"]);
        let nonce = hex(&case["client_nonce"]);
        let plaintext = aead(suite, &key, &nonce, &original[36..], &original[..4], false);
        for extra_bits in [0x0001u16, 0x0100, 0x2000, 0x3fff] {
            let mut packet = original[..36].to_vec();
            let flags = u16::from_be_bytes([packet[0], packet[1]]) | extra_bits;
            packet[..2].copy_from_slice(&flags.to_be_bytes());
            let sealed = aead(suite, &key, &nonce, &plaintext, &packet[..4], true);
            packet.extend_from_slice(&sealed);

            let server = Server::new(
                PrivateKey::from_hex(case["server_private"].as_str().unwrap()).unwrap(),
            );
            let request = server
                .unpack_request(&packet)
                .unwrap_or_else(|e| panic!("{id} {extra_bits:#x}: {e}"));
            assert_eq!(request.message, hex(&case["request_plaintext"]), "{id}");
            let reply = request
                .reply_handler
                .pack_reply(&hex(&case["reply_plaintext"]))
                .unwrap();
            assert_eq!(
                reply,
                hex(&case["reply_packet"]),
                "{id} {extra_bits:#x}: reply flags exact"
            );
        }
    }
}
