//! Checks pssst-core on the device against every known-answer and
//! must-reject vector of tests/vectors, then a client-authenticated round
//! trip with fresh keys. QEMU's exit status is the verdict.
#![no_std]
#![no_main]

use pssst_core::{
    CipherSuite, Client, Error, PACKET_OVERHEAD, PrivateKey, PublicKey, Server,
    generate_key_pair_with_rng,
};
use pssst_firmware::test_rng::{OnceRng, TestRng};
use pssst_firmware::vectors::{KAT, Kat, REJECT};
use pssst_firmware::{board, say};

/// Room for the largest vector: 1400 bytes, a client-auth proof, overhead.
const BUF: usize = 1400 + 64 + PACKET_OVERHEAD;

#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    let mut failures = 0;
    for case in KAT {
        if let Err(what) = known_answer(case) {
            say!("FAIL {}: {what}\n", case.id);
            failures += 1;
        }
    }
    say!("{} known-answer cases\n", KAT.len());
    for case in REJECT {
        let server = Server::new(PrivateKey::from_bytes(case.server_private));
        let mut out = [0u8; BUF];
        match server.unpack_request_into(case.request_packet, &mut out) {
            Err(e) if e == case.expected || e == case.also_accepted => {}
            other => {
                say!(
                    "FAIL {}: {:?}, expected {:?}\n",
                    case.id,
                    other.err(),
                    case.expected
                );
                failures += 1;
            }
        }
    }
    say!("{} must-reject cases\n", REJECT.len());
    if let Err(what) = client_auth_round_trip() {
        say!("FAIL client-auth round trip: {what}\n");
        failures += 1;
    }
    say!("{failures} failures\n");
    board::exit(failures == 0)
}

/// Client packs byte for byte, server unpacks and replies byte for byte,
/// client unpacks the reply.
fn known_answer(case: &Kat) -> Result<(), &'static str> {
    let server_private = PrivateKey::from_bytes(case.server_private);
    let server = Server::new(server_private.clone());
    let suite = CipherSuite::from_id(case.suite).map_err(|_| "suite")?;
    let client = match case.client_private {
        None => Client::new(server.public_key()),
        Some(key) => Client::with_client_auth(server.public_key(), &PrivateKey::from_bytes(key)),
    }
    .map_err(|_| "client")?
    .with_suite(suite);

    let mut request = [0u8; BUF];
    let mut rng = OnceRng(Some(case.ephemeral_rng_bytes));
    let (len, mut reply_handler) = client
        .pack_request_into_with_rng(case.request_plaintext, &mut request, &mut rng)
        .map_err(|_| "pack_request")?;
    if &request[..len] != case.request_packet {
        return Err("request packet differs");
    }

    let mut plaintext = [0u8; BUF];
    let incoming = server
        .unpack_request_into(case.request_packet, &mut plaintext)
        .map_err(|_| "unpack_request")?;
    if incoming.message != case.request_plaintext {
        return Err("request message differs");
    }
    if incoming.client_public_key.map(PublicKey::to_bytes) != case.client_public {
        return Err("client key differs");
    }
    let mut reply = [0u8; BUF];
    let len = incoming
        .reply_handler
        .pack_reply_into(case.reply_plaintext, &mut reply)
        .map_err(|_| "pack_reply")?;
    if &reply[..len] != case.reply_packet {
        return Err("reply packet differs");
    }

    let mut message = [0u8; BUF];
    let len = reply_handler
        .unpack_reply_into(case.reply_packet, &mut message)
        .map_err(|_| "unpack_reply")?;
    if &message[..len] != case.reply_plaintext {
        return Err("reply message differs");
    }
    Ok(())
}

/// Fresh keys from the test RNG, both suites: the server learns the client's
/// key, the reply comes back, a tampered reply is refused.
fn client_auth_round_trip() -> Result<(), &'static str> {
    let mut rng = TestRng::new(b"pssst-device-round-trip");
    let (server_private, server_public) =
        generate_key_pair_with_rng(&mut rng).map_err(|_| "keys")?;
    let (client_private, client_public) =
        generate_key_pair_with_rng(&mut rng).map_err(|_| "keys")?;
    let server = Server::new(server_private);
    for suite in CipherSuite::ALL {
        let client = Client::with_client_auth(server_public, &client_private)
            .map_err(|_| "client")?
            .with_suite(suite);
        let mut packet = [0u8; 256];
        let (len, mut reply_handler) = client
            .pack_request_into_with_rng(b"device says hello", &mut packet, &mut rng)
            .map_err(|_| "pack_request")?;
        let incoming = server
            .unpack_request_in_place(&mut packet[..len])
            .map_err(|_| "unpack_request")?;
        if incoming.message != b"device says hello" {
            return Err("request message differs");
        }
        if incoming.client_public_key != Some(client_public) {
            return Err("the server did not learn the client's key");
        }
        let mut reply = [0u8; 128];
        let len = incoming
            .reply_handler
            .pack_reply_into(b"server says hi", &mut reply)
            .map_err(|_| "pack_reply")?;
        let mut tampered = reply;
        tampered[len - 1] ^= 1;
        if reply_handler.unpack_reply_in_place(&mut tampered[..len]) != Err(Error::DecryptionFailed)
        {
            return Err("a tampered reply was accepted");
        }
        let message = reply_handler
            .unpack_reply_in_place(&mut reply[..len])
            .map_err(|_| "unpack_reply")?;
        if message != b"server says hi" {
            return Err("reply message differs");
        }
    }
    Ok(())
}
