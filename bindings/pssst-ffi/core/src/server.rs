//! The bodies of the server operations both C libraries export: what is
//! left to each library is where it keeps the server and its reply
//! handlers (heap handles or caller-owned storage).

use pssst_core::{Error, KEY_LEN, PrivateKey, Server, ServerReplyHandler};
use zeroize::Zeroizing;

use crate::args::{self, Buffers, Out, OutRule};
use crate::pssst_result;

/// A server for the private key at `server_private_key`, accepting every
/// suite this library implements.
///
/// # Safety
/// `server_private_key` is NULL or 32 readable bytes.
#[allow(unsafe_code)] // Reads the key argument.
pub unsafe fn new_server(server_private_key: *const u8) -> Result<Server, pssst_result> {
    // SAFETY: the contract.
    let private = Zeroizing::new(unsafe { args::key(server_private_key) }?);
    Ok(Server::new(PrivateKey::from_bytes(*private)))
}

/// Who sent a request: the out-parameters `client_public_key[32]` (zeros
/// for an anonymous request) and `client_authenticated`.
#[derive(Debug)]
pub struct ClientIdentity {
    key: Out<[u8; KEY_LEN]>,
    authenticated: Out<bool>,
}

impl ClientIdentity {
    /// Checks both for NULL; under [`OutRule::ResetFirst`] the key is reset
    /// to zeros and the flag to false at once.
    ///
    /// # Safety
    /// `key` is NULL or 32 writable bytes, `authenticated` NULL or writable,
    /// while the `ClientIdentity` is used.
    #[allow(unsafe_code)] // Checks two out-parameters.
    pub unsafe fn new(
        rule: OutRule,
        key: *mut u8,
        authenticated: *mut bool,
    ) -> Result<Self, pssst_result> {
        // SAFETY: the contract.
        let key = unsafe { Out::key(rule, key) };
        // SAFETY: the contract.
        let authenticated = unsafe { Out::under(rule, authenticated, false) };
        Ok(ClientIdentity {
            key: key?,
            authenticated: authenticated?,
        })
    }
}

/// Unpacks the request packet (`buffers`' input) into the message (its
/// output, which must hold the whole plaintext), says who sent it through
/// `client`, and returns the handler for the one reply.
pub fn unpack_request(
    server: &Server,
    mut buffers: Buffers<'_>,
    mut client: ClientIdentity,
) -> Result<ServerReplyHandler, pssst_result> {
    let (packet, message) = buffers.borrow()?;
    let result = server.unpack_request_into(packet, message).map(|request| {
        let len = request.message.len();
        (len, (request.client_public_key, request.reply_handler))
    });
    let (client_key, handler) = buffers.finish(result)?;
    client.authenticated.write(client_key.is_some());
    client
        .key
        .write(client_key.map_or([0; KEY_LEN], |key| key.to_bytes()));
    Ok(handler)
}

/// Where a library keeps a server reply handler between the request and
/// its one reply.
pub trait ReplySlot {
    /// Moves the handler out; `None` once it has replied (or when there
    /// never was one).
    fn take(&mut self) -> Option<ServerReplyHandler>;
    /// Takes back a handler that did not reply: the reply did not fit.
    fn give_back(&mut self, handler: ServerReplyHandler);
}

impl ReplySlot for Option<ServerReplyHandler> {
    fn take(&mut self) -> Option<ServerReplyHandler> {
        Option::take(self)
    }

    fn give_back(&mut self, handler: ServerReplyHandler) {
        *self = Some(handler);
    }
}

/// Packs the reply message (`buffers`' input) into the reply packet (its
/// output) with the handler in `slot`. The reply is sized before the
/// handler is used, and a buffer too small (or a message too large) gives
/// the handler back to the slot; an empty slot is
/// `PSSST_ERR_HANDLER_REUSED`.
pub fn pack_reply(slot: &mut impl ReplySlot, mut buffers: Buffers<'_>) -> Result<(), pssst_result> {
    let (message, packet) = buffers.borrow()?;
    let Some(handler) = slot.take() else {
        return buffers.finish(Err(Error::HandlerReused));
    };
    let result = match handler.reply_len(message.len()) {
        Ok(needed) if needed <= packet.len() => handler.pack_reply_into(message, packet),
        sized => {
            slot.give_back(handler);
            Err(match sized {
                Ok(needed) => Error::BufferTooSmall { needed },
                Err(error) => error,
            })
        }
    };
    buffers.finish(result.map(|len| (len, ())))
}
