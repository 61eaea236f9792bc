//! `pssst_device_client` and `pssst_device_client_reply_handler`: caller-owned
//! storage around pssst-ffi-core's client operations.

use core::ffi::c_void;

use pssst_core::{Client, ClientReplyHandler};
use pssst_ffi_core::args::Buffers;
use pssst_ffi_core::client as ops;
use pssst_ffi_core::{CallbackRng, pssst_random_fn, status};

use crate::OUT_RULE;
use crate::result::{PSSST_ERR_NULL_ARGUMENT, pssst_result};
use crate::sizes;
use crate::slot::{Storage, clear, storage};

/// Caller-owned storage for one client (`PSSST_DEVICE_CLIENT_SIZE` bytes).
pub type pssst_device_client = Storage<{ sizes::CLIENT }>;
/// Caller-owned storage for the reply handler of one request.
pub type pssst_device_client_reply_handler = Storage<{ sizes::CLIENT_REPLY_HANDLER }>;

const _: () = assert!(pssst_device_client::fits::<Client>());
const _: () = assert!(pssst_device_client_reply_handler::fits::<ClientReplyHandler>());

/// Makes a client of `suite` for `server_public_key[32]` in `client`:
/// anonymous when `client_private_key` is NULL, client-authenticated with
/// it otherwise (that costs one X25519 here, saved on every request).
/// PSSST_ERR_LOW_ORDER_POINT for an unusable server key,
/// PSSST_ERR_UNSUPPORTED_CIPHER_SUITE for an unknown suite.
/// # Safety
/// `client` points to a `pssst_device_client` (zeroed or initialised);
/// the keys to 32 readable bytes (or NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_device_client_init(
    client: *mut pssst_device_client,
    server_public_key: *const u8,
    client_private_key: *const u8,
    suite: u16,
) -> pssst_result {
    status(|| {
        // SAFETY: the caller's promises, as documented.
        let storage = unsafe { storage(client) }?;
        // SAFETY: as documented.
        let made = unsafe { ops::new_client(server_public_key, client_private_key, suite) }?;
        // SAFETY: the block holds only Clients; `fits` is proven above.
        unsafe { storage.put(made) };
        Ok(())
    })
}

/// Wipes a client's secrets and leaves its storage empty. NULL is a no-op.
/// # Safety
/// `client` is NULL or points to a `pssst_device_client`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_device_client_clear(client: *mut pssst_device_client) {
    // SAFETY: the caller's promise; the block holds only Clients.
    unsafe { clear::<Client, _>(client) }
}

/// Packs `message` into `packet` (capacity `packet_capacity`; the length
/// goes to `*packet_len`), with a fresh 32-byte ephemeral key from
/// `random`, and makes the reply handler for it in `reply_handler`. A
/// too-small buffer returns PSSST_ERR_BUFFER_TOO_SMALL with the size needed
/// in `*packet_len`: `message_len + PSSST_PACKET_OVERHEAD`, plus
/// `PSSST_CLIENT_AUTH_OVERHEAD` when the client authenticates.
/// # Safety
/// `client` and `reply_handler` point to their storage, `message` to
/// `message_len` readable bytes, `packet` to `packet_capacity` writable
/// bytes, `packet_len` to a `size_t`; `random` follows pssst_random_fn's
/// contract.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // the C shape: buffer, capacity, length out
pub unsafe extern "C" fn pssst_device_client_pack_request(
    client: *mut pssst_device_client,
    message: *const u8,
    message_len: usize,
    packet: *mut u8,
    packet_capacity: usize,
    packet_len: *mut usize,
    random: pssst_random_fn,
    random_context: *mut c_void,
    reply_handler: *mut pssst_device_client_reply_handler,
) -> pssst_result {
    status(|| {
        // SAFETY: the caller's promises, as documented.
        let (storage, handler_storage, buffers) = unsafe {
            let buffers = Buffers::new(
                OUT_RULE,
                (message, message_len),
                (packet, packet_capacity),
                packet_len,
            );
            (storage(client)?, storage(reply_handler)?, buffers?)
        };
        // SAFETY: the block holds only Clients.
        let client = unsafe { storage.get::<Client>() }.ok_or(PSSST_ERR_NULL_ARGUMENT)?;
        // SAFETY: as documented.
        let mut rng = unsafe { CallbackRng::new(random, random_context) }?;
        let handler = ops::pack_request(client, &mut rng, buffers)?;
        // SAFETY: the block holds only ClientReplyHandlers; `fits` is proven.
        unsafe { handler_storage.put(handler) };
        Ok(())
    })
}

/// Verifies and decrypts `packet`, the reply to the request that made
/// `reply_handler`, into `message` (capacity `message_capacity`, at least
/// `packet_len - PSSST_PACKET_OVERHEAD`); its length goes to
/// `*message_len`. A packet that fails leaves the handler usable (junk
/// cannot block the genuine reply); after one success the handler is empty
/// and every further call returns PSSST_ERR_HANDLER_REUSED.
/// # Safety
/// `reply_handler` points to its storage, `packet` to `packet_len`
/// readable bytes, `message` to `message_capacity` writable bytes,
/// `message_len` to a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_device_client_reply_handler_unpack(
    reply_handler: *mut pssst_device_client_reply_handler,
    packet: *const u8,
    packet_len: usize,
    message: *mut u8,
    message_capacity: usize,
    message_len: *mut usize,
) -> pssst_result {
    status(|| {
        // SAFETY: the caller's promises, as documented.
        let (storage, buffers) = unsafe {
            let buffers = Buffers::new(
                OUT_RULE,
                (packet, packet_len),
                (message, message_capacity),
                message_len,
            );
            (storage(reply_handler)?, buffers?)
        };
        // SAFETY: the block holds only ClientReplyHandlers.
        let handler = unsafe { storage.get::<ClientReplyHandler>() };
        ops::unpack_reply(handler, buffers)?;
        // Done: wipe the keys now rather than when the storage is reused.
        // SAFETY: as above.
        drop(unsafe { storage.take::<ClientReplyHandler>() });
        Ok(())
    })
}

/// Wipes a reply handler (one whose reply never came) and leaves its
/// storage empty. NULL is a no-op.
/// # Safety
/// `reply_handler` is NULL or points to its storage.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_device_client_reply_handler_clear(
    reply_handler: *mut pssst_device_client_reply_handler,
) {
    // SAFETY: the caller's promise; the block holds only ClientReplyHandlers.
    unsafe { clear::<ClientReplyHandler, _>(reply_handler) }
}
