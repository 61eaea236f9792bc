//! Arbitrary bytes into a client reply handler: never a panic, and junk never
//! uses the handler up (the genuine reply is still accepted afterwards).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pssst_core::{Client, PrivateKey, Server};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, packet)) = data.split_first() else { return };
    let server_private = PrivateKey::from_bytes([0x42; 32]);
    let server_public = server_private.public_key();
    let client = if mode & 1 == 0 {
        Client::new(server_public).unwrap()
    } else {
        Client::with_client_auth(server_public, &PrivateKey::from_bytes([0x24; 32])).unwrap()
    };
    let (request, mut handler) = client.pack_request_with_ephemeral(b"fuzz", &[7; 32]).unwrap();

    let mut copy = packet.to_vec();
    let in_place = handler.unpack_reply_in_place(&mut copy).map(|m| m.to_vec());
    if in_place.is_ok() {
        // Only the genuine reply can succeed; it must not succeed twice.
        assert!(handler.unpack_reply(packet).is_err());
        return;
    }
    let _ = handler.unpack_reply(packet);
    assert!(!handler.is_used());

    let reply = Server::new(server_private)
        .unpack_request(&request)
        .unwrap()
        .reply_handler
        .pack_reply(b"genuine")
        .unwrap();
    assert_eq!(handler.unpack_reply(&reply).unwrap(), b"genuine");
});
