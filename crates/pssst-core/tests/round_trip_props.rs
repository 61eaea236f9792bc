//! Property tests: any message of 0..=65,000 bytes survives a round trip in
//! both modes, in every suite and through every API variant.

use proptest::prelude::*;
use pssst_core::{CipherSuite, Client, PACKET_OVERHEAD, PrivateKey, Server};

fn run(
    suite: CipherSuite,
    client_auth: bool,
    server_key: [u8; 32],
    client_key: [u8; 32],
    request: &[u8],
    reply: &[u8],
) {
    let server_private = PrivateKey::from_bytes(server_key);
    let server_public = server_private.public_key();
    let server = Server::new(server_private);
    let client_private = PrivateKey::from_bytes(client_key);
    let client = if client_auth {
        Client::with_client_auth(server_public, &client_private).unwrap()
    } else {
        Client::new(server_public).unwrap()
    }
    .with_suite(suite);

    // Vec API.
    let (packet, mut handler) = client.pack_request(request).unwrap();
    assert_eq!(packet.len(), client.request_len(request.len()).unwrap());
    let incoming = server.unpack_request(&packet).unwrap();
    assert_eq!(incoming.message, request);
    assert_eq!(incoming.reply_handler.suite(), suite);
    let expected_key = client_auth.then(|| client_private.public_key());
    assert_eq!(incoming.client_public_key, expected_key);
    let reply_packet = incoming.reply_handler.pack_reply(reply).unwrap();
    assert_eq!(handler.unpack_reply(&reply_packet).unwrap(), reply);

    // Allocation-free API, same packets.
    let mut buffer = packet.clone();
    let in_place = server.unpack_request_in_place(&mut buffer).unwrap();
    assert_eq!(&in_place.message[..], request);
    let mut out = vec![0; reply.len() + PACKET_OVERHEAD];
    let n = in_place
        .reply_handler
        .pack_reply_into(reply, &mut out)
        .unwrap();
    assert_eq!(
        &out[..n],
        &reply_packet[..],
        "replies to the same request are identical"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn round_trip_any_length(
        suite in proptest::sample::select(&CipherSuite::ALL[..]),
        client_auth in any::<bool>(),
        server_key in any::<[u8; 32]>(),
        client_key in any::<[u8; 32]>(),
        request in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..=256),
            proptest::collection::vec(any::<u8>(), 0..=65_000),
        ],
        reply in proptest::collection::vec(any::<u8>(), 0..=65_000),
    ) {
        run(suite, client_auth, server_key, client_key, &request, &reply);
    }
}

#[test]
fn round_trip_boundary_lengths() {
    for len in [0, 1, 15, 16, 17, 63, 64, 65, 1400, 65_000] {
        let message = vec![len as u8; len];
        for suite in CipherSuite::ALL {
            run(suite, false, [1; 32], [2; 32], &message, &message);
            run(suite, true, [1; 32], [2; 32], &message, &message);
        }
    }
}
