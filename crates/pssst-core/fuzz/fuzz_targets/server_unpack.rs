//! Arbitrary bytes into every server unpack variant: never a panic, and the
//! three variants always agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pssst_core::{PACKET_OVERHEAD, PrivateKey, Server};

fuzz_target!(|packet: &[u8]| {
    let server = Server::new(PrivateKey::from_bytes([0x42; 32]));
    let vec_result = server.unpack_request(packet).map(|r| (r.message, r.client_public_key));

    let mut out = vec![0u8; packet.len().saturating_sub(PACKET_OVERHEAD)];
    let into_result = server
        .unpack_request_into(packet, &mut out)
        .map(|request| (request.message.to_vec(), request.client_public_key));

    let mut buffer = packet.to_vec();
    let in_place_result = server
        .unpack_request_in_place(&mut buffer)
        .map(|r| (r.message.to_vec(), r.client_public_key));

    assert_eq!(vec_result, into_result);
    assert_eq!(vec_result, in_place_result);
});
