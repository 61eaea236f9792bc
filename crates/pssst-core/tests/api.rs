//! Handler rules, buffer sizing, keys, RNG failures and thread safety.

mod common;

use common::{FailingRng, ScriptedRng};
use pssst_core::{
    CLIENT_AUTH_OVERHEAD, Client, ClientReplyHandler, Error, PACKET_OVERHEAD, PrivateKey,
    PublicKey, Server, ServerReplyHandler,
};

fn keys() -> (Server, PublicKey) {
    let private = PrivateKey::from_bytes([0x11; 32]);
    let public = private.public_key();
    (Server::new(private), public)
}

#[test]
fn client_server_and_handlers_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Client>();
    send_sync::<Server>();
    send_sync::<ClientReplyHandler>();
    send_sync::<ServerReplyHandler>();
    send_sync::<PrivateKey>();
}

#[test]
fn overheads_are_52_and_64_more_for_client_auth() {
    assert_eq!(PACKET_OVERHEAD, 52);
    assert_eq!(CLIENT_AUTH_OVERHEAD, 64);
    let (_, server_public) = keys();
    let anonymous = Client::new(server_public).unwrap();
    let authed = Client::with_client_auth(server_public, &PrivateKey::from_bytes([2; 32])).unwrap();
    assert_eq!(anonymous.request_len(10).unwrap(), 62);
    assert_eq!(authed.request_len(10).unwrap(), 126);
    assert_eq!(Client::reply_len(10).unwrap(), 62);
    assert_eq!(anonymous.pack_request(&[0; 10]).unwrap().0.len(), 62);
    assert_eq!(authed.pack_request(&[0; 10]).unwrap().0.len(), 126);
}

#[test]
fn absurd_message_lengths_are_too_large_not_overflow() {
    let (_, server_public) = keys();
    let authed = Client::with_client_auth(server_public, &PrivateKey::from_bytes([2; 32])).unwrap();
    assert_eq!(
        authed.request_len(usize::MAX).unwrap_err(),
        Error::MessageTooLarge
    );
    assert_eq!(
        authed.request_len(usize::MAX - 60).unwrap_err(),
        Error::MessageTooLarge
    );
    assert_eq!(
        Client::reply_len(usize::MAX).unwrap_err(),
        Error::MessageTooLarge
    );
    assert_eq!(
        Client::reply_len(1 << 36).unwrap_err(),
        Error::MessageTooLarge
    );
}

/// Packing consumes the server's reply handler (a second pack does not
/// compile: see the `compile_fail` example on `ServerReplyHandler`).
#[test]
fn server_reply_handler_packs_exactly_one_reply() {
    let (server, server_public) = keys();
    let (request, _) = Client::new(server_public)
        .unwrap()
        .pack_request(b"q")
        .unwrap();
    let too_small = server.unpack_request(&request).unwrap().reply_handler;
    let mut small = [0u8; 52];
    assert_eq!(
        too_small.pack_reply_into(b"ab", &mut small).unwrap_err(),
        Error::BufferTooSmall { needed: 54 }
    );
    let handler = server.unpack_request(&request).unwrap().reply_handler;
    let mut out = [0u8; 54];
    assert_eq!(Client::reply_len(2).unwrap(), 54);
    assert_eq!(handler.pack_reply_into(b"ab", &mut out).unwrap(), 54);
}

#[test]
fn client_reply_handler_survives_junk_and_succeeds_once() {
    let (server, server_public) = keys();
    let client = Client::new(server_public).unwrap();
    let (request, mut handler) = client.pack_request(b"q").unwrap();
    let incoming = server.unpack_request(&request).unwrap();
    let reply = incoming.reply_handler.pack_reply(b"answer").unwrap();

    // Junk of every kind first: none of it uses the handler up.
    let (other_request, _) = client.pack_request(b"q").unwrap();
    let other = server.unpack_request(&other_request).unwrap();
    let other_reply = other.reply_handler.pack_reply(b"answer").unwrap();
    for junk in [
        &b""[..],
        &[0x80, 0, 0, 1][..],
        &request[..],
        &other_reply[..],
        &[0xff; 200][..],
    ] {
        assert!(handler.unpack_reply(junk).is_err());
    }
    let mut tiny = [0u8; 3];
    assert_eq!(
        handler.unpack_reply_into(&reply, &mut tiny).unwrap_err(),
        Error::BufferTooSmall { needed: 6 }
    );
    assert!(!handler.is_used());

    let mut out = [0u8; 6];
    assert_eq!(handler.unpack_reply_into(&reply, &mut out).unwrap(), 6);
    assert_eq!(&out, b"answer");
    assert!(handler.is_used());
    assert_eq!(
        handler.unpack_reply(&reply).unwrap_err(),
        Error::HandlerReused
    );
    let mut copy = reply.clone();
    assert_eq!(
        handler.unpack_reply_in_place(&mut copy).unwrap_err(),
        Error::HandlerReused
    );
}

#[test]
fn buffers_too_small_report_the_size_needed() {
    let (server, server_public) = keys();
    let client = Client::with_client_auth(server_public, &PrivateKey::from_bytes([5; 32])).unwrap();
    let mut packet = [0u8; 100];
    let err = client.pack_request_into(&[1; 10], &mut packet).unwrap_err();
    assert_eq!(err, Error::BufferTooSmall { needed: 126 });

    let (request, _) = client.pack_request(&[1; 10]).unwrap();
    let mut out = [0u8; 73];
    let err = server.unpack_request_into(&request, &mut out).unwrap_err();
    assert_eq!(
        err,
        Error::BufferTooSmall { needed: 74 },
        "the whole plaintext, proof included"
    );
    let mut out = [0u8; 74];
    let unpacked = server.unpack_request_into(&request, &mut out).unwrap();
    assert_eq!(unpacked.message, &[1; 10]);
    assert_eq!(unpacked.client_public_key, client.client_public_key());
}

#[test]
fn an_rng_failure_is_reported_not_hidden() {
    let (_, server_public) = keys();
    let client = Client::new(server_public).unwrap();
    assert_eq!(
        client
            .pack_request_with_rng(b"x", &mut FailingRng)
            .unwrap_err(),
        Error::RngFailure
    );
    assert_eq!(
        pssst_core::generate_key_pair_with_rng(&mut FailingRng).unwrap_err(),
        Error::RngFailure
    );
    // A scripted RNG with too few bytes is a failure too.
    assert_eq!(
        client
            .pack_request_with_rng(b"x", &mut ScriptedRng(vec![1; 31]))
            .unwrap_err(),
        Error::RngFailure
    );
}

#[test]
fn low_order_server_keys_are_refused_by_clients() {
    let order8 =
        PublicKey::from_hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
            .unwrap();
    for point in [
        PublicKey::from_bytes([0; 32]),
        PublicKey::from_bytes({
            let mut one = [0; 32];
            one[0] = 1;
            one
        }),
        order8,
    ] {
        assert_eq!(Client::new(point).unwrap_err(), Error::LowOrderPoint);
        let auth = Client::with_client_auth(point, &PrivateKey::from_bytes([5; 32]));
        assert_eq!(auth.unwrap_err(), Error::LowOrderPoint);
    }
}

#[test]
fn keys_parse_from_hex_and_slices_and_reject_everything_else() {
    let hex = "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff";
    let key = PublicKey::from_hex(&format!("  {hex}\n")).unwrap();
    assert_eq!(key.to_string(), hex.to_lowercase());
    assert_eq!(
        PrivateKey::from_hex(hex).unwrap().as_bytes(),
        key.as_bytes()
    );
    for bad in [
        "",
        "00",
        &hex[..62],
        &format!("{hex}00"),
        &hex.replace('A', "g"),
        &format!("0x{}", &hex[2..]),
    ] {
        assert_eq!(
            PublicKey::from_hex(bad).unwrap_err(),
            Error::InvalidKey,
            "{bad:?}"
        );
        assert_eq!(
            PrivateKey::from_hex(bad).unwrap_err(),
            Error::InvalidKey,
            "{bad:?}"
        );
    }
    assert_eq!(
        PublicKey::try_from_slice(&[0; 31]).unwrap_err(),
        Error::InvalidKey
    );
    assert_eq!(
        PrivateKey::try_from_slice(&[0; 33]).unwrap_err(),
        Error::InvalidKey
    );
    assert!(PrivateKey::try_from_slice(&[0; 32]).is_ok());
}

#[test]
fn secrets_never_print() {
    let private = PrivateKey::from_bytes([0xab; 32]);
    let (server, server_public) = keys();
    let client = Client::with_client_auth(server_public, &private).unwrap();
    let (request, handler) = client.pack_request(b"q").unwrap();
    let incoming = server.unpack_request(&request).unwrap();
    for text in [
        format!("{private:?}"),
        format!("{client:?}"),
        format!("{server:?}"),
        format!("{handler:?}"),
        format!("{:?}", incoming.reply_handler),
    ] {
        // Eight bytes of a key in a row: a leak prints all 32, while the
        // public DH parameter, random, matched "17, 17" by chance (1 in 50).
        for secret in [
            "171, 171, 171, 171, 171, 171, 171, 171",
            "abababababababab",
            "17, 17, 17, 17, 17, 17, 17, 17",
            "1111111111111111",
            "0x11, 0x11",
            "0xab, 0xab",
        ] {
            assert!(!text.contains(secret), "secret leaked ({secret}): {text}");
        }
        assert!(text.len() < 400, "no key material dumped: {text}");
    }
}

#[test]
fn errors_display_without_detail_for_crypto_failures() {
    assert_eq!(Error::DecryptionFailed.to_string(), "decryption failed");
    assert_eq!(
        Error::BufferTooSmall { needed: 9 }.to_string(),
        "output buffer too small (9 bytes needed)"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(Error::Truncated);
    assert_eq!(boxed.to_string(), "packet truncated");
}

#[test]
fn one_server_and_one_client_serve_many_threads() {
    let (server, server_public) = keys();
    let client = Client::with_client_auth(server_public, &PrivateKey::from_bytes([6; 32])).unwrap();
    std::thread::scope(|scope| {
        for t in 0..4u8 {
            let (server, client) = (&server, &client);
            scope.spawn(move || {
                for i in 0..50u8 {
                    let message = [t, i];
                    let (request, mut handler) = client.pack_request(&message).unwrap();
                    let incoming = server.unpack_request(&request).unwrap();
                    assert_eq!(incoming.message, message);
                    let reply = incoming.reply_handler.pack_reply(&[i, t]).unwrap();
                    assert_eq!(handler.unpack_reply(&reply).unwrap(), [i, t]);
                }
            });
        }
    });
}
