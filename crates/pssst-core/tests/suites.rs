//! Cipher suites: a reply uses its request's suite, servers accept what
//! they are told to, a packet relabeled with the other suite never opens,
//! and suite 0xFF01 really is AES-GCM-SIV (no keystream reuse on retries).

use pssst_core::{
    CipherSuite, CipherSuites, Client, ClientReplyHandler, Error, PACKET_OVERHEAD, PrivateKey,
    PublicKey, Server,
};

const GCM: CipherSuite = CipherSuite::X25519Aes128Gcm;
const SIV: CipherSuite = CipherSuite::X25519Aes128GcmSiv;
const EPHEMERAL: [u8; 32] = [0x3c; 32];

fn server() -> (Server, PublicKey) {
    let private = PrivateKey::from_bytes([0x21; 32]);
    let public = private.public_key();
    (Server::new(private), public)
}

/// Anonymous and client-authenticated clients of `suite`.
fn clients(server_public: PublicKey, suite: CipherSuite) -> [Client; 2] {
    [
        Client::new(server_public).unwrap(),
        Client::with_client_auth(server_public, &PrivateKey::from_bytes([0x43; 32])).unwrap(),
    ]
    .map(|client| client.with_suite(suite))
}

fn suite_of(packet: &[u8]) -> u16 {
    u16::from_be_bytes([packet[2], packet[3]])
}

/// `packet` with its suite field set to `suite`.
fn relabeled(packet: &[u8], suite: CipherSuite) -> Vec<u8> {
    let mut packet = packet.to_vec();
    packet[2..4].copy_from_slice(&suite.id().to_be_bytes());
    packet
}

fn other(suite: CipherSuite) -> CipherSuite {
    if suite == GCM { SIV } else { GCM }
}

#[test]
fn clients_default_to_suite_1_and_servers_accept_every_suite() {
    let (server, server_public) = server();
    assert_eq!(server.suites(), CipherSuites::ALL);
    let client = Client::new(server_public).unwrap();
    assert_eq!(client.suite(), GCM);
    let (request, handler) = client.pack_request(b"q").unwrap();
    assert_eq!(suite_of(&request), 1);
    assert_eq!(handler.suite(), GCM);
}

#[test]
fn a_reply_uses_the_suite_of_its_request() {
    let (server, server_public) = server();
    for suite in CipherSuite::ALL {
        for client in clients(server_public, suite) {
            let (request, mut handler) = client.pack_request(b"question").unwrap();
            assert_eq!(suite_of(&request), suite.id());
            let incoming = server.unpack_request(&request).unwrap();
            assert_eq!(incoming.message, b"question");
            assert_eq!(incoming.reply_handler.suite(), suite);
            let reply = incoming.reply_handler.pack_reply(b"answer").unwrap();
            assert_eq!(suite_of(&reply), suite.id());
            assert_eq!(handler.unpack_reply(&reply).unwrap(), b"answer");
        }
    }
}

#[test]
fn a_restricted_server_refuses_the_other_suite_in_every_api() {
    let (server, server_public) = server();
    for accepted in CipherSuite::ALL {
        let server = server.clone().with_suites(CipherSuites::only(accepted));
        assert_eq!(server.suites(), CipherSuites::only(accepted));
        for suite in CipherSuite::ALL {
            for client in clients(server_public, suite) {
                let (request, _) = client.pack_request(b"question").unwrap();
                if suite == accepted {
                    assert!(server.precheck(&request).is_ok());
                    assert!(server.unpack_request(&request).is_ok());
                    continue;
                }
                let refused = Some(Error::UnsupportedCipherSuite);
                assert_eq!(server.precheck(&request).err(), refused);
                assert_eq!(server.unpack_request(&request).err(), refused);
                let mut in_place = request.clone();
                assert_eq!(server.unpack_request_in_place(&mut in_place).err(), refused);
                assert_eq!(in_place, request, "refused before decryption");
                let mut out = vec![0; request.len()];
                assert_eq!(
                    server.unpack_request_into(&request, &mut out).err(),
                    refused
                );
            }
        }
    }
}

/// The header is the AEAD's associated data: a request relabeled with the
/// other suite is opened with the other AEAD and the original header, and
/// fails; nothing of its plaintext is left in the output buffer.
#[test]
fn a_request_relabeled_with_the_other_suite_fails_to_decrypt() {
    let (server, server_public) = server();
    for suite in CipherSuite::ALL {
        for client in clients(server_public, suite) {
            let (request, _) = client.pack_request(&[0x55; 40]).unwrap();
            let forged = relabeled(&request, other(suite));
            assert_eq!(server.precheck(&forged).map(|_| ()), Ok(()));
            assert_eq!(
                server.unpack_request(&forged).err(),
                Some(Error::DecryptionFailed)
            );
            let mut in_place = forged.clone();
            assert_eq!(
                server.unpack_request_in_place(&mut in_place).err(),
                Some(Error::DecryptionFailed)
            );
            assert_eq!(
                in_place, forged,
                "a failed in-place open restores the packet"
            );
            let mut out = vec![0xAA; forged.len() - PACKET_OVERHEAD];
            assert_eq!(
                server.unpack_request_into(&forged, &mut out).err(),
                Some(Error::DecryptionFailed)
            );
            assert!(out.iter().all(|&b| b == 0), "{suite}: output wiped");
        }
    }
}

/// A relabeled reply is refused by the request's own handler (wrong
/// suite) and fails to decrypt under a handler of the other suite for the
/// very same DH parameter and keys; neither handler is used up.
#[test]
fn a_reply_relabeled_with_the_other_suite_fails_to_decrypt() {
    let (server, server_public) = server();
    for suite in CipherSuite::ALL {
        for (client, twin) in clients(server_public, suite)
            .into_iter()
            .zip(clients(server_public, other(suite)))
        {
            let (request, mut handler) = client
                .pack_request_with_ephemeral(b"question", &EPHEMERAL)
                .unwrap();
            // Same ephemeral, other suite: same DH parameter, key and nonces.
            let (twin_request, mut twin_handler): (Vec<u8>, ClientReplyHandler) = twin
                .pack_request_with_ephemeral(b"question", &EPHEMERAL)
                .unwrap();
            assert_eq!(request[4..36], twin_request[4..36]);
            let reply = server
                .unpack_request(&request)
                .unwrap()
                .reply_handler
                .pack_reply(&[0x66; 40])
                .unwrap();
            let forged = relabeled(&reply, other(suite));
            assert_eq!(
                handler.unpack_reply(&forged).err(),
                Some(Error::ReplyMismatch)
            );
            assert_eq!(
                twin_handler.unpack_reply(&forged).err(),
                Some(Error::DecryptionFailed)
            );
            let mut out = [0xAA; 40];
            assert_eq!(
                twin_handler.unpack_reply_into(&forged, &mut out).err(),
                Some(Error::DecryptionFailed)
            );
            assert_eq!(out, [0; 40], "{suite}: output wiped");
            let mut in_place = forged.clone();
            assert_eq!(
                twin_handler.unpack_reply_in_place(&mut in_place).err(),
                Some(Error::DecryptionFailed)
            );
            assert_eq!(in_place, forged);
            assert!(!handler.is_used() && !twin_handler.is_used());
            assert_eq!(handler.unpack_reply(&reply).unwrap(), [0x66; 40]);
        }
    }
}

/// Two different replies to one request (a retry answered differently).
/// Under AES-GCM both are encrypted with one keystream, so XORing the two
/// ciphertexts gives the XOR of the plaintexts; under AES-GCM-SIV the
/// keystream depends on the message, so it does not. Equal replies stay
/// byte-identical in both suites.
#[test]
fn only_suite_1_reuses_its_keystream_when_a_retry_gets_another_reply() {
    let (server, server_public) = server();
    let first = [0x00; 64];
    let second = [0xFF; 64];
    for suite in CipherSuite::ALL {
        let client = Client::new(server_public).unwrap().with_suite(suite);
        let (request, _) = client
            .pack_request_with_ephemeral(b"retry me", &EPHEMERAL)
            .unwrap();
        let reply_to = |message: &[u8]| {
            let incoming = server.unpack_request(&request).unwrap();
            incoming.reply_handler.pack_reply(message).unwrap()
        };
        let (a, b) = (reply_to(&first), reply_to(&second));
        assert_eq!(
            reply_to(&first),
            a,
            "{suite}: the same reply, the same bytes"
        );
        let text = 36..36 + 64;
        let xor: Vec<u8> = a[text.clone()]
            .iter()
            .zip(&b[text])
            .map(|(x, y)| x ^ y)
            .collect();
        let keystream_reused = xor == [0xFF; 64];
        assert_eq!(keystream_reused, suite == GCM, "{suite}");
        // Both replies are genuine: the client takes whichever comes first.
        for reply in [&a, &b] {
            let (_, mut handler) = client
                .pack_request_with_ephemeral(b"retry me", &EPHEMERAL)
                .unwrap();
            assert!(handler.unpack_reply(reply).is_ok());
        }
    }
}
