//! `pssst_device_server` and `pssst_device_server_reply_handler`:
//! caller-owned storage around pssst-ffi-core's server operations.

use pssst_core::{Server, ServerReplyHandler};
use pssst_ffi_core::args::Buffers;
use pssst_ffi_core::server::{self as ops, ClientIdentity, ReplySlot};
use pssst_ffi_core::status;

use crate::OUT_RULE;
use crate::result::{PSSST_ERR_NULL_ARGUMENT, pssst_result};
use crate::sizes;
use crate::slot::{Storage, clear, storage};

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
        let (storage, made) = unsafe { (storage(server)?, ops::new_server(private_key)?) };
        // SAFETY: the block holds only Servers; `fits` is proven above.
        unsafe { storage.put(made) };
        Ok(())
    })
}

/// Wipes a server's private key and leaves its storage empty. NULL is a no-op.
/// # Safety
/// `server` is NULL or points to its storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_device_server_clear(server: *mut pssst_device_server) {
    // SAFETY: the caller's promise; the block holds only Servers.
    unsafe { clear::<Server, _>(server) }
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
        let (storage, handler_storage, buffers, client) = unsafe {
            let buffers = Buffers::new(
                OUT_RULE,
                (packet, packet_len),
                (message, message_capacity),
                message_len,
            );
            let client = ClientIdentity::new(OUT_RULE, client_public_key, client_auth);
            (storage(server)?, storage(reply_handler)?, buffers?, client?)
        };
        // SAFETY: the block holds only Servers.
        let server = unsafe { storage.get::<Server>() }.ok_or(PSSST_ERR_NULL_ARGUMENT)?;
        let handler = ops::unpack_request(server, buffers, client)?;
        // SAFETY: the block holds only ServerReplyHandlers; `fits` is proven.
        unsafe { handler_storage.put(handler) };
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
        let (storage, buffers) = unsafe {
            let buffers = Buffers::new(
                OUT_RULE,
                (message, message_len),
                (packet, packet_capacity),
                packet_len,
            );
            (storage(reply_handler)?, buffers?)
        };
        ops::pack_reply(&mut UsedUp(storage), buffers)
    })
}

/// A reply handler's storage as pssst_device_server_reply_handler_pack
/// uses it: the handler is taken out for the reply and never given back,
/// not even when the reply did not fit (the header's promise).
struct UsedUp<'s>(&'s mut pssst_device_server_reply_handler);

impl ReplySlot for UsedUp<'_> {
    fn take(&mut self) -> Option<ServerReplyHandler> {
        // SAFETY: the block holds only ServerReplyHandlers.
        unsafe { self.0.take::<ServerReplyHandler>() }
    }

    fn give_back(&mut self, handler: ServerReplyHandler) {
        drop(handler);
    }
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
    unsafe { clear::<ServerReplyHandler, _>(reply_handler) }
}
