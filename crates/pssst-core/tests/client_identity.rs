//! One private key, one identity: a client-auth request that embeds a
//! non-canonical encoding of the client's key (bit 255 set, or u >= p) is
//! refused, although X25519 treats it exactly like the canonical key.
//! Requests are built by hand from the primitives, not with `Client`.

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes128Gcm, KeyInit};
use pssst_core::{Error, PrivateKey, PublicKey, Server, backend};
use sha2::{Digest, Sha256};

/// A suite-1 client-auth request embedding `claimed` as the client key,
/// made with the private key `client` and the ephemeral `e`.
fn hand_built_request(server: &PublicKey, client: &PrivateKey, claimed: [u8; 32]) -> Vec<u8> {
    let e = [0x5au8; 32];
    let dh_param = *backend::x25519(&e, &claimed).unwrap();
    let static_shared = backend::x25519(client.as_bytes(), server.as_bytes()).unwrap();
    let shared = backend::x25519(&e, &static_shared).unwrap();
    let h = Sha256::new()
        .chain_update(dh_param)
        .chain_update(*shared)
        .finalize();
    let cipher = Aes128Gcm::new_from_slice(&h[..16]).unwrap();
    let mut nonce = [0u8; 12];
    nonce[..8].copy_from_slice(&h[16..24]);
    nonce[8..].copy_from_slice(b"RQST");
    let header = [0x40, 0x00, 0x00, 0x01];
    let mut body = [claimed.as_slice(), &e, b"who am i"].concat();
    let tag = cipher
        .encrypt_inout_detached(&nonce.into(), &header, body.as_mut_slice().into())
        .unwrap();
    [&header[..], &dh_param, &body, &tag].concat()
}

fn setup() -> (Server, PrivateKey, PublicKey) {
    let server = Server::new(PrivateKey::from_bytes([0x11; 32]));
    let client = PrivateKey::from_bytes([0x22; 32]);
    let public = client.public_key();
    (server, client, public)
}

#[test]
fn the_hand_built_request_with_the_canonical_key_is_accepted() {
    let (server, client, public) = setup();
    let request = hand_built_request(&server.public_key(), &client, public.to_bytes());
    let unpacked = server.unpack_request(&request).unwrap();
    assert_eq!(unpacked.client_public_key, Some(public));
    assert_eq!(unpacked.message, b"who am i");
}

#[test]
fn a_client_key_with_bit_255_set_is_refused() {
    let (server, client, public) = setup();
    let mut twin = public.to_bytes();
    twin[31] |= 0x80;
    let request = hand_built_request(&server.public_key(), &client, twin);
    assert_eq!(
        server.unpack_request(&request).err(),
        Some(Error::ClientAuthFailed)
    );
}

#[test]
fn canonical_means_bit_255_clear_and_below_p() {
    let p_minus_1 = {
        let mut b = [0xff; 32];
        b[0] = 0xec;
        b[31] = 0x7f;
        b
    };
    assert!(PublicKey::from_bytes(p_minus_1).is_canonical());
    for low in [0xed, 0xee, 0xff] {
        let mut b = p_minus_1;
        b[0] = low;
        assert!(!PublicKey::from_bytes(b).is_canonical(), "{low:#x}");
    }
    assert!(PublicKey::from_bytes([0; 32]).is_canonical());
    let mut high = [0; 32];
    high[31] = 0x80;
    assert!(!PublicKey::from_bytes(high).is_canonical());
    let (_, public) = pssst_core::generate_key_pair().unwrap();
    assert!(public.is_canonical());
}

#[test]
fn the_in_place_unpack_wipes_the_proof_once_checked() {
    let (server, client, public) = setup();
    let mut packet = hand_built_request(&server.public_key(), &client, public.to_bytes());
    let request = server.unpack_request_in_place(&mut packet).unwrap();
    assert_eq!(request.client_public_key, Some(public));
    assert_eq!(request.message, b"who am i");
    // C || e sat right after the header and DH parameter.
    assert_eq!(packet[36..100], [0u8; 64]);
}
