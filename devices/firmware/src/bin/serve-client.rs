//! A device client talking to a real `pssst serve` on the host, through
//! the serial port and tests/device/relay.py. The relay first sends the
//! server's public key and a 32-byte seed (QEMU has no TRNG: the seed is
//! provisioned, as docs/embedded.md describes for chips without one). Then
//! one anonymous and one client-authenticated request; the server's
//! `--exec` answers "<client key hex or 'anonymous'>:<first 20 bytes>".
#![no_std]
#![no_main]

use core::fmt::Write;

use pssst_core::{Client, PrivateKey, PublicKey, generate_key_pair_with_rng};
use pssst_firmware::test_rng::TestRng;
use pssst_firmware::uart::Uart;
use pssst_firmware::{board, say};

/// The request message; longer than the reply, which `serve` requires.
const MESSAGE: &[u8; 100] = b"pssst from a Cortex-M4 in QEMU, over a serial line and UDP.......................................end";

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut uart = Uart::take();
    let mut setup = [0u8; 64];
    if uart.receive(&mut setup) != Some(64) {
        say!("FAIL: no server key and seed from the relay\n");
        board::exit(false);
    }
    let mut server_public = [0u8; 32];
    server_public.copy_from_slice(&setup[..32]);
    let server_public = PublicKey::from_bytes(server_public);
    let mut rng = TestRng::new(&setup[32..]);
    let Ok((client_private, client_public)) = generate_key_pair_with_rng(&mut rng) else {
        board::exit(false);
    };

    let anonymous = exchange(&mut uart, &mut rng, server_public, None, "anonymous");
    let mut hex = Hex::default();
    let _ = write!(hex, "{client_public}");
    let authenticated = exchange(
        &mut uart,
        &mut rng,
        server_public,
        Some(&client_private),
        hex.as_str(),
    );
    board::exit(anonymous && authenticated)
}

/// One request and its reply; true when the reply is "<who>:<first 20 bytes>".
fn exchange(
    uart: &mut Uart,
    rng: &mut TestRng,
    server_public: PublicKey,
    client_private: Option<&PrivateKey>,
    who: &str,
) -> bool {
    let client = match client_private {
        None => Client::new(server_public),
        Some(key) => Client::with_client_auth(server_public, key),
    };
    let Ok(client) = client else {
        say!("FAIL {who}: unusable server key\n");
        return false;
    };
    let mut packet = [0u8; 256];
    let Ok((len, mut reply_handler)) = client.pack_request_into_with_rng(MESSAGE, &mut packet, rng)
    else {
        say!("FAIL {who}: pack_request\n");
        return false;
    };
    uart.send(&packet[..len]);
    let Some(len) = uart.receive(&mut packet) else {
        say!("FAIL {who}: reply too long\n");
        return false;
    };
    if len == 0 {
        say!("FAIL {who}: no reply from the server\n");
        return false;
    }
    let reply = match reply_handler.unpack_reply_in_place(&mut packet[..len]) {
        Ok(reply) => reply,
        Err(e) => {
            say!("FAIL {who}: {e}\n");
            return false;
        }
    };
    let (head, tail) = reply.split_at(reply.len().min(who.len()));
    let ok = head == who.as_bytes() && tail.first() == Some(&b':') && tail[1..] == MESSAGE[..20];
    say!(
        "{} {}: reply {:?}\n",
        if ok { "ok" } else { "FAIL" },
        if client_private.is_some() {
            "client-authenticated"
        } else {
            "anonymous"
        },
        core::str::from_utf8(reply).unwrap_or("(not UTF-8)")
    );
    ok
}

/// Room for a key in hex.
struct Hex {
    text: [u8; 64],
    len: usize,
}

impl Default for Hex {
    fn default() -> Hex {
        Hex {
            text: [0; 64],
            len: 0,
        }
    }
}

impl Hex {
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.text[..self.len]).unwrap_or("")
    }
}

impl Write for Hex {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        self.text
            .get_mut(self.len..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
