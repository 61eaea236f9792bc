//! The bodies of the client operations both C libraries export: what is
//! left to each library is where it keeps the client and its reply
//! handlers (heap handles or caller-owned storage) and its RNG.

use pssst_core::rand_core::TryCryptoRng;
use pssst_core::{CipherSuite, Client, ClientReplyHandler, Error, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::args::{self, Buffers};
use crate::pssst_result;

/// A client of `suite` for the server key at `server_public_key`:
/// anonymous when `client_private_key` is NULL, client-authenticated with
/// that key otherwise.
///
/// # Safety
/// `server_public_key` is NULL or 32 readable bytes; so is
/// `client_private_key`.
#[allow(unsafe_code)] // Reads the two key arguments.
pub unsafe fn new_client(
    server_public_key: *const u8,
    client_private_key: *const u8,
    suite: u16,
) -> Result<Client, pssst_result> {
    // SAFETY: the contract.
    let server_public = PublicKey::from_bytes(unsafe { args::key(server_public_key) }?);
    let suite = CipherSuite::from_id(suite)?;
    let client = if client_private_key.is_null() {
        Client::new(server_public)
    } else {
        // SAFETY: the contract.
        let private = Zeroizing::new(unsafe { args::key(client_private_key) }?);
        Client::with_client_auth(server_public, &PrivateKey::from_bytes(*private))
    };
    Ok(client?.with_suite(suite))
}

/// Packs the message (`buffers`' input) into a request packet (its
/// output) with an ephemeral key from `rng`; returns the reply handler.
pub fn pack_request<R: TryCryptoRng + ?Sized>(
    client: &Client,
    rng: &mut R,
    mut buffers: Buffers<'_>,
) -> Result<ClientReplyHandler, pssst_result> {
    let (message, packet) = buffers.borrow()?;
    buffers.finish(client.pack_request_into_with_rng(message, packet, rng))
}

/// Unpacks the reply packet (`buffers`' input) into the message (its
/// output). A failure leaves the handler usable; no handler (a library
/// that empties its storage once the reply is in) is
/// `PSSST_ERR_HANDLER_REUSED`, as a used one is.
pub fn unpack_reply(
    handler: Option<&mut ClientReplyHandler>,
    mut buffers: Buffers<'_>,
) -> Result<(), pssst_result> {
    let (packet, message) = buffers.borrow()?;
    let result = match handler {
        Some(handler) => handler.unpack_reply_into(packet, message),
        None => Err(Error::HandlerReused),
    };
    buffers.finish(result.map(|len| (len, ())))
}
