//! Every prefix and every single-bit flip of valid packets is rejected
//! cleanly, in both modes, in every suite, on both sides.

mod common;

use pssst_core::{CipherSuite, Client, ClientReplyHandler, Error, PrivateKey, Server};

struct Exchange {
    server: Server,
    request: Vec<u8>,
    reply: Vec<u8>,
    client_handler: ClientReplyHandler,
}

/// Every (suite, client_auth) pair.
fn modes() -> impl Iterator<Item = (CipherSuite, bool)> {
    CipherSuite::ALL
        .into_iter()
        .flat_map(|suite| [(suite, false), (suite, true)])
}

fn exchange(suite: CipherSuite, client_auth: bool) -> Exchange {
    let server_private = PrivateKey::from_bytes([7; 32]);
    let server_public = server_private.public_key();
    let server = Server::new(server_private);
    let client = if client_auth {
        Client::with_client_auth(server_public, &PrivateKey::from_bytes([9; 32])).unwrap()
    } else {
        Client::new(server_public).unwrap()
    }
    .with_suite(suite);
    let (request, client_handler) = client.pack_request(b"a message of some length").unwrap();
    let incoming = server.unpack_request(&request).unwrap();
    let reply = incoming.reply_handler.pack_reply(b"and its reply").unwrap();
    Exchange {
        server,
        request,
        reply,
        client_handler,
    }
}

#[test]
fn every_prefix_of_a_request_is_rejected() {
    for (suite, client_auth) in modes() {
        let ex = exchange(suite, client_auth);
        for len in 0..ex.request.len() {
            let err = ex
                .server
                .unpack_request(&ex.request[..len])
                .expect_err("prefix accepted");
            let ok = match len {
                0..=35 => err == Error::Truncated,
                36..=51 => matches!(err, Error::Truncated | Error::DecryptionFailed),
                _ => err == Error::DecryptionFailed,
            };
            assert!(ok, "{suite} auth={client_auth} len={len}: {err:?}");
        }
    }
}

#[test]
fn every_prefix_of_a_reply_is_rejected_and_the_handler_survives() {
    for (suite, client_auth) in modes() {
        let mut ex = exchange(suite, client_auth);
        for len in 0..ex.reply.len() {
            let err = ex
                .client_handler
                .unpack_reply(&ex.reply[..len])
                .expect_err("prefix accepted");
            let ok = match len {
                0..=51 => err == Error::Truncated,
                _ => err == Error::DecryptionFailed,
            };
            assert!(ok, "{suite} auth={client_auth} len={len}: {err:?}");
        }
        assert_eq!(
            ex.client_handler.unpack_reply(&ex.reply).unwrap(),
            b"and its reply"
        );
    }
}

#[test]
fn every_bit_flip_of_a_request_is_rejected() {
    for (suite, client_auth) in modes() {
        let ex = exchange(suite, client_auth);
        for bit in 0..ex.request.len() * 8 {
            let mut packet = ex.request.clone();
            packet[bit / 8] ^= 1 << (bit % 8);
            let result = ex.server.unpack_request(&packet);
            assert!(
                result.is_err(),
                "{suite} auth={client_auth} bit={bit} accepted"
            );
        }
    }
}

#[test]
fn every_bit_flip_of_a_reply_is_rejected_and_the_handler_survives() {
    for (suite, client_auth) in modes() {
        let mut ex = exchange(suite, client_auth);
        for bit in 0..ex.reply.len() * 8 {
            let mut packet = ex.reply.clone();
            packet[bit / 8] ^= 1 << (bit % 8);
            let err = ex
                .client_handler
                .unpack_reply(&packet)
                .expect_err("flipped reply accepted");
            let expected: &[Error] = match bit / 8 {
                0 if bit % 8 == 7 => &[Error::NotReply],
                0 if bit % 8 == 6 => &[Error::ReplyMismatch],
                0 | 1 => &[Error::DecryptionFailed],
                2 | 3 => &[Error::UnsupportedCipherSuite],
                4..=35 => &[Error::ReplyMismatch],
                _ => &[Error::DecryptionFailed],
            };
            assert!(
                expected.contains(&err),
                "{suite} auth={client_auth} bit={bit}: {err:?}"
            );
        }
        assert!(!ex.client_handler.is_used());
        assert_eq!(
            ex.client_handler.unpack_reply(&ex.reply).unwrap(),
            b"and its reply"
        );
    }
}

#[test]
fn a_request_is_not_a_reply_and_a_reply_is_not_a_request() {
    for suite in CipherSuite::ALL {
        let mut ex = exchange(suite, false);
        assert_eq!(
            ex.server.unpack_request(&ex.reply).unwrap_err(),
            Error::NotRequest
        );
        assert_eq!(
            ex.client_handler.unpack_reply(&ex.request).unwrap_err(),
            Error::NotReply
        );
    }
}

#[test]
fn a_reply_to_another_request_is_a_mismatch() {
    for suite in CipherSuite::ALL {
        let mut first = exchange(suite, false);
        let second = exchange(suite, false);
        assert_eq!(
            first
                .client_handler
                .unpack_reply(&second.reply)
                .unwrap_err(),
            Error::ReplyMismatch
        );
        // A reply in the other authentication mode, same DH parameter otherwise.
        let mut auth_flag_flipped = first.reply.clone();
        auth_flag_flipped[0] ^= 0x40;
        assert_eq!(
            first
                .client_handler
                .unpack_reply(&auth_flag_flipped)
                .unwrap_err(),
            Error::ReplyMismatch
        );
        assert_eq!(
            first.client_handler.unpack_reply(&first.reply).unwrap(),
            b"and its reply"
        );
    }
}
