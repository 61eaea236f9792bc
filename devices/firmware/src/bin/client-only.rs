//! The smallest useful device: a client-authenticated client that packs one
//! request and unpacks its reply (a known-answer vector, so no server is
//! needed), then prints its peak stack. devices/measure.sh reports its flash
//! and RAM; built without the `server` feature.
#![no_std]
#![no_main]

use pssst_core::{Client, PrivateKey};
use pssst_firmware::board::{self, print_str, print_u32};
use pssst_firmware::meter;
use pssst_firmware::test_rng::OnceRng;
use pssst_firmware::vectors::KAT_SUITE1_AUTH_64 as CASE;

#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    let (ok, cost) = meter::measure(run);
    print_str("peak stack ");
    print_u32(cost.stack_bytes);
    print_str("\n");
    board::exit(ok)
}

fn run() -> bool {
    let Some(client_private) = CASE.client_private else {
        return false;
    };
    let server_public = PrivateKey::from_bytes(CASE.server_private).public_key();
    let Ok(client) =
        Client::with_client_auth(server_public, &PrivateKey::from_bytes(client_private))
    else {
        return false;
    };
    let mut packet = [0u8; 256];
    let mut rng = OnceRng(Some(CASE.ephemeral_rng_bytes));
    let Ok((len, mut reply_handler)) =
        client.pack_request_into_with_rng(CASE.request_plaintext, &mut packet, &mut rng)
    else {
        return false;
    };
    let mut message = [0u8; 128];
    let sent_ok = &packet[..len] == CASE.request_packet;
    sent_ok
        && reply_handler
            .unpack_reply_into(CASE.reply_packet, &mut message)
            .is_ok_and(|n| &message[..n] == CASE.reply_plaintext)
}
