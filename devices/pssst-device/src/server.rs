//! `pssst_device_server` and `pssst_device_server_reply_handler`.

use pssst_core::{PrivateKey, Server, ServerReplyHandler};

use crate::result::{
    PSSST_ERR_BUFFERS_OVERLAP, PSSST_ERR_NULL_ARGUMENT, core, pssst_result, status,
};
use crate::sizes;
use crate::slot::{Storage, bytes, bytes_mut, key, out, overlap};

/// Caller-owned storage for one server (`PSSST_DEVICE_SERVER_SIZE` bytes).
pub type pssst_device_server = Storage<{ sizes::SERVER }>;
/// Caller-owned storage for the reply handler of one request.
pub type pssst_device_server_reply_handler = Storage<{ sizes::SERVER_REPLY_HANDLER }>;

const _: () = assert!(pssst_device_server::fits::<Server>());
const _: () = assert!(pssst_device_server_reply_handler::fits::<ServerReplyHandler>());

/// Makes a server for `private_key[32]` (every suite accepted) in `server`.
/// # Safety
/// `server` points to its storage, `private_key` to 32 readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_device_server_init(
    server: *mut pssst_device_server,
    private_key: *const u8,
) -> pssst_result {
    status(|| {
        // SAFETY: the caller's promises, as documented.
        let (storage, private) = unsafe { (out(server)?, key(private_key)?) };
        // SAFETY: the block holds only Servers; `fits` is proven above.
        unsafe { storage.put(Server::new(PrivateKey::from_bytes(private))) };
        Ok(())
    })
}

/// Wipes a server's private key and leaves its storage empty. NULL is a no-op.
/// # Safety
/// `server` is NULL or points to its storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_device_server_clear(server: *mut pssst_device_server) {
    // SAFETY: the caller's promise; the block holds only Servers.
    if let Ok(storage) = unsafe { out(server) } {
        // SAFETY: as above.
        drop(unsafe { storage.take::<Server>() });
    }
}

/// Unpacks the request in `packet` into `message` (capacity
/// `message_capacity`, at least `packet_len - PSSST_PACKET_OVERHEAD`: a
/// client-auth proof is decrypted there too, then removed); the message
/// length goes to `*message_len`. For a client-authenticated request
/// `*client_auth` is true and its key goes to `client_public_key[32]`.
/// Makes the handler for the one reply in `reply_handler`.
/// # Safety
/// `server` and `reply_handler` point to their storage, `packet` to
/// `packet_len` readable bytes, `message` to `message_capacity` writable
/// bytes, `message_len` to a `size_t`, `client_auth` to a `bool`,
/// `client_public_key` to 32 writable bytes.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // the C shape: buffer, capacity, length out
pub unsafe extern "C" fn pssst_device_server_unpack_request(
    server: *mut pssst_device_server,
    packet: *const u8,
    packet_len: usize,
    message: *mut u8,
    message_capacity: usize,
    message_len: *mut usize,
    client_auth: *mut bool,
    client_public_key: *mut u8,
    reply_handler: *mut pssst_device_server_reply_handler,
) -> pssst_result {
    status(|| {
        // SAFETY: the caller's promises, as documented.
        let (storage, packet, message, message_len, client_auth, client_public, handler_storage) = unsafe {
            (
                out(server)?,
                bytes(packet, packet_len)?,
                bytes_mut(message, message_capacity)?,
                out(message_len)?,
                out(client_auth)?,
                bytes_mut(client_public_key, 32)?,
                out(reply_handler)?,
            )
        };
        if overlap(packet, message) {
            return Err(PSSST_ERR_BUFFERS_OVERLAP);
        }
        // SAFETY: the block holds only Servers.
        let server = unsafe { storage.get::<Server>() }.ok_or(PSSST_ERR_NULL_ARGUMENT)?;
        *message_len = packet.len().saturating_sub(pssst_core::PACKET_OVERHEAD);
        let request = core(server.unpack_request_into(packet, message))?;
        *message_len = request.message.len();
        *client_auth = request.client_public_key.is_some();
        client_public.fill(0);
        if let Some(key) = request.client_public_key {
            client_public.copy_from_slice(key.as_bytes());
        }
        // SAFETY: the block holds only ServerReplyHandlers; `fits` is proven.
        unsafe { handler_storage.put(request.reply_handler) };
        Ok(())
    })
}

/// Packs the one reply, `message`, into `packet` (capacity
/// `packet_capacity`, at least `message_len + PSSST_PACKET_OVERHEAD`); its
/// length goes to `*packet_len`. The handler is used up whatever the outcome
/// (under suite 1 a second, different reply would reuse the AES-GCM nonce):
/// size the buffer first. A used handler returns PSSST_ERR_HANDLER_REUSED.
/// # Safety
/// `reply_handler` points to its storage, `message` to `message_len`
/// readable bytes, `packet` to `packet_capacity` writable bytes,
/// `packet_len` to a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_device_server_reply_handler_pack(
    reply_handler: *mut pssst_device_server_reply_handler,
    message: *const u8,
    message_len: usize,
    packet: *mut u8,
    packet_capacity: usize,
    packet_len: *mut usize,
) -> pssst_result {
    status(|| {
        // SAFETY: the caller's promises, as documented.
        let (storage, message, packet, packet_len) = unsafe {
            (
                out(reply_handler)?,
                bytes(message, message_len)?,
                bytes_mut(packet, packet_capacity)?,
                out(packet_len)?,
            )
        };
        if overlap(message, packet) {
            return Err(PSSST_ERR_BUFFERS_OVERLAP);
        }
        // SAFETY: the block holds only ServerReplyHandlers.
        let handler = unsafe { storage.take::<ServerReplyHandler>() }
            .ok_or(pssst_result::from(pssst_core::Error::HandlerReused))?;
        *packet_len = message.len().saturating_add(pssst_core::PACKET_OVERHEAD);
        *packet_len = core(handler.pack_reply_into(message, packet))?;
        Ok(())
    })
}

/// Wipes a reply handler that will not reply and leaves its storage empty.
/// NULL is a no-op.
/// # Safety
/// `reply_handler` is NULL or points to its storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_device_server_reply_handler_clear(
    reply_handler: *mut pssst_device_server_reply_handler,
) {
    // SAFETY: the caller's promise; the block holds only ServerReplyHandlers.
    if let Ok(storage) = unsafe { out(reply_handler) } {
        // SAFETY: as above.
        drop(unsafe { storage.take::<ServerReplyHandler>() });
    }
}
