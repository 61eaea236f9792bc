//! Every case of tests/vectors/suite1-kat.json, byte for byte, through
//! every API variant.

mod common;

use common::{ScriptedRng, Sha256CounterRng, hex, hex32, load_vectors};
use pssst_core::{Client, PrivateKey, PublicKey, Server, generate_key_pair_with_rng};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let kat = load_vectors("suite1-kat.json");
    let cases = kat["cases"].as_array().expect("cases").clone();
    assert_eq!(cases.len(), 18, "the KAT file has 18 cases");
    cases
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

/// The whole vector file follows from its RNG seed: keys, messages and
/// ephemerals drawn in case order reproduce every packet.
#[test]
fn vector_file_regenerates_from_its_rng_seed() {
    let mut rng = Sha256CounterRng::new("pssst-kat-v1");
    for case in cases() {
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
        };
        let mut message = vec![0u8; case["message_len"].as_u64().unwrap() as usize];
        rand_core::TryRng::try_fill_bytes(&mut rng, &mut message).unwrap();
        assert_eq!(message, hex(&case["request_plaintext"]), "{id}");
        let (request, _) = client.pack_request_with_rng(&message, &mut rng).unwrap();
        assert_eq!(request, hex(&case["request_packet"]), "{id}");
    }
}

/// Requests with unknown flag bits are accepted (the header is
/// authenticated, and every reference accepts them), while the reply still
/// carries exactly 0x8000 or 0xC000. The request is re-sealed here with the
/// vector's own AES key and nonce, independently of pssst-core.
#[test]
fn requests_with_unknown_flag_bits_are_accepted_and_replies_keep_exact_flags() {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    for case in cases() {
        let id = case["id"].as_str().unwrap();
        let original = hex(&case["request_packet"]);
        let aes = aes_gcm::Aes128Gcm::new_from_slice(&hex(&case["aes_key"])).unwrap();
        let nonce: [u8; 12] = hex(&case["client_nonce"]).try_into().unwrap();
        let plaintext = aes
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: &original[36..],
                    aad: &original[..4],
                },
            )
            .unwrap();
        for extra_bits in [0x0001u16, 0x0100, 0x2000, 0x3fff] {
            let mut packet = original[..36].to_vec();
            let flags = u16::from_be_bytes([packet[0], packet[1]]) | extra_bits;
            packet[..2].copy_from_slice(&flags.to_be_bytes());
            let sealed = aes
                .encrypt(
                    &nonce.into(),
                    Payload {
                        msg: &plaintext,
                        aad: &packet[..4],
                    },
                )
                .unwrap();
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
