//! What each client operation costs on this core, in instructions (QEMU
//! `-icount shift=0`) and peak stack, beside Monocypher's X25519 when built
//! with the `monocypher` feature. Run by devices/measure.sh, which reads the
//! "measure NAME INSTRUCTIONS STACK" lines.
#![no_std]
#![no_main]

use pssst_core::{Client, PrivateKey, backend};
use pssst_firmware::board::{self, print_str, print_u32};
use pssst_firmware::meter::{self, Cost};
use pssst_firmware::test_rng::{OnceRng, TestRng};
use pssst_firmware::vectors::KAT_SUITE1_UNAUTH_64 as CASE;

fn report(name: &str, cost: Cost) {
    print_str("measure ");
    print_str(name);
    print_str(" ");
    print_u32(cost.instructions);
    print_str(" ");
    print_u32(cost.stack_bytes);
    print_str("\n");
}

#[cfg(feature = "monocypher")]
unsafe extern "C" {
    fn crypto_x25519(shared: *mut u8, secret: *const u8, public: *const u8);
}

#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    meter::start();
    let mut ok = true;
    let ((), cost) = meter::measure(|| meter::spin(1_000_000));
    report("calibration_2000000", cost);
    let server_public = PrivateKey::from_bytes(CASE.server_private).public_key();
    let point = server_public.to_bytes();
    let scalar = [0x42u8; 32];

    let (ours, cost) = meter::measure(|| backend::x25519(&scalar, &point));
    report("x25519", cost);
    let (_, cost) = meter::measure(|| backend::x25519_base(&scalar));
    report("x25519_base", cost);

    #[cfg(feature = "monocypher")]
    {
        let mut theirs = [0u8; 32];
        let ((), cost) = meter::measure(|| {
            // SAFETY: three 32-byte buffers, as crypto_x25519 takes.
            unsafe { crypto_x25519(theirs.as_mut_ptr(), scalar.as_ptr(), point.as_ptr()) }
        });
        report("monocypher_x25519", cost);
        ok &= ours.as_ref().ok().map(|s| **s) == Some(theirs);
    }
    #[cfg(not(feature = "monocypher"))]
    let _ = ours;

    let (client, cost) = meter::measure(|| Client::new(server_public));
    report("client_new", cost);
    let Ok(client) = client else {
        board::exit(false)
    };

    let mut rng = TestRng::new(b"measure");
    let (client_private, _) =
        pssst_core::generate_key_pair_with_rng(&mut rng).unwrap_or_else(|_| board::exit(false));
    let (auth_client, cost) =
        meter::measure(|| Client::with_client_auth(server_public, &client_private));
    report("client_with_auth", cost);
    let Ok(auth_client) = auth_client else {
        board::exit(false)
    };

    let mut packet = [0u8; 256];
    let (_, cost) =
        meter::measure(|| auth_client.pack_request_into_with_rng(&[7; 64], &mut packet, &mut rng));
    report("pack_request_auth_64", cost);

    let mut known = OnceRng(Some(CASE.ephemeral_rng_bytes));
    let (packed, cost) = meter::measure(|| {
        client.pack_request_into_with_rng(CASE.request_plaintext, &mut packet, &mut known)
    });
    report("pack_request_64", cost);
    let Ok((len, mut reply_handler)) = packed else {
        board::exit(false)
    };
    ok &= &packet[..len] == CASE.request_packet;

    let mut message = [0u8; 128];
    let (unpacked, cost) =
        meter::measure(|| reply_handler.unpack_reply_into(CASE.reply_packet, &mut message));
    report("unpack_reply_64", cost);
    ok &= unpacked.map(|n| &message[..n] == CASE.reply_plaintext) == Ok(true);

    print_str(if ok { "0 failures\n" } else { "1 failures\n" });
    board::exit(ok)
}
