//! The two-stage server API: `precheck` then `open_in_place`. A packet that
//! does not open leaves the buffer byte for byte as it was, so a server with
//! several keys tries each on the same buffer without a copy.

use pssst_core::{
    CipherSuite, CipherSuites, Client, Error, PrivateKey, PublicKey, RequestId, Server, layout,
};

fn server(seed: u8) -> (Server, PublicKey) {
    let private = PrivateKey::from_bytes([seed; 32]);
    let public = private.public_key();
    (Server::new(private), public)
}

/// One request of each suite, anonymous and client-authenticated, to `to`.
fn requests(to: PublicKey, message: &[u8]) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    for suite in CipherSuite::ALL {
        for client in [
            Client::new(to).unwrap(),
            Client::with_client_auth(to, &PrivateKey::from_bytes([0x43; 32])).unwrap(),
        ] {
            packets.push(client.with_suite(suite).pack_request(message).unwrap().0);
        }
    }
    packets
}

#[test]
fn a_request_for_another_key_leaves_the_buffer_untouched() {
    let (first, _) = server(0x11);
    let (second, second_public) = server(0x22);
    for sent in requests(second_public, b"for the second key") {
        let mut packet = sent.clone();
        let request = first.precheck(&packet).unwrap();
        assert_eq!(
            first.open_in_place(&request, &mut packet).err(),
            Some(Error::DecryptionFailed)
        );
        assert_eq!(packet, sent, "a failed open changed the buffer");
        // The same buffer and precheck, the next key: it opens.
        let opened = second.open_in_place(&request, &mut packet).unwrap();
        assert_eq!(&packet[opened.message], b"for the second key");
        assert_eq!(opened.reply_handler.request_id(), request.request_id());
    }
}

#[test]
fn a_forged_tag_or_body_leaves_the_buffer_untouched() {
    let (server, public) = server(0x11);
    for good in requests(public, b"sixteen bytes!!!") {
        for flip in [layout::BODY.start, good.len() - 1] {
            let mut forged = good.clone();
            forged[flip] ^= 0x80;
            let sent = forged.clone();
            let request = server.precheck(&forged).unwrap();
            assert_eq!(
                server.open_in_place(&request, &mut forged).err(),
                Some(Error::DecryptionFailed)
            );
            assert_eq!(forged, sent, "byte {flip} flipped");
        }
    }
}

#[test]
fn a_packet_other_than_the_one_prechecked_is_refused_untouched() {
    let (server, public) = server(0x11);
    let packets = requests(public, b"one");
    let request = server.precheck(&packets[0]).unwrap();
    let mut other = packets[2].clone(); // same length, another id and suite
    let sent = other.clone();
    assert_eq!(
        server.open_in_place(&request, &mut other).err(),
        Some(Error::DecryptionFailed)
    );
    assert_eq!(other, sent);
    let mut longer = [packets[0].as_slice(), b"x"].concat();
    let sent = longer.clone();
    assert_eq!(
        server.open_in_place(&request, &mut longer).err(),
        Some(Error::DecryptionFailed)
    );
    assert_eq!(longer, sent);
}

#[test]
fn the_precheck_says_what_the_header_and_dh_parameter_say() {
    let (server, public) = server(0x11);
    for packet in requests(public, b"hi") {
        let request = server.precheck(&packet).unwrap();
        assert_eq!(Some(request.request_id()), RequestId::of(&packet));
        assert_eq!(request.packet_len(), packet.len());
        assert_eq!(request.header().to_bytes()[..], packet[layout::HEADER]);
        assert_eq!(request.suite(), request.header().suite().unwrap());
        assert_eq!(request.is_client_auth(), request.header().is_client_auth());
    }
}

#[test]
fn a_precheck_of_a_server_accepting_more_suites_does_not_open_a_refused_one() {
    let (wide, public) = server(0x11);
    let narrow = wide
        .clone()
        .with_suites(CipherSuites::only(CipherSuite::X25519Aes128GcmSiv));
    let mut packet = Client::new(public).unwrap().pack_request(b"gcm").unwrap().0;
    let request = wide.precheck(&packet).unwrap();
    assert_eq!(
        narrow.open_in_place(&request, &mut packet).err(),
        Some(Error::UnsupportedCipherSuite)
    );
}

#[test]
fn the_message_range_and_the_reply_length_agree_with_the_client() {
    let (server, public) = server(0x11);
    for mut packet in requests(public, b"twelve bytes") {
        let request = server.precheck(&packet).unwrap();
        let opened = server.open_in_place(&request, &mut packet).unwrap();
        assert_eq!(opened.message.end, packet.len() - pssst_core::TAG_LEN);
        assert_eq!(&packet[opened.message.clone()], b"twelve bytes");
        for len in [0, 1, 100, 1400] {
            assert_eq!(opened.reply_handler.reply_len(len), Client::reply_len(len));
        }
        // The client-auth proof before the message was wiped.
        assert!(
            packet[layout::BODY.start..opened.message.start]
                .iter()
                .all(|&b| b == 0)
        );
    }
}
