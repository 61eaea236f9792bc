//! `pssst_client` and `pssst_client_reply_handler`.

use std::ffi::c_void;
use std::ptr;

use getrandom::SysRng;
use pssst_core::{Client, ClientReplyHandler};
use pssst_ffi_core::args::{Buffers, Out};
use pssst_ffi_core::client as ops;
use pssst_ffi_core::{CallbackRng, pssst_random_fn, status};
use pssst_ffi_macros::ffi_export;

use crate::OUT_RULE;
use crate::handle::{self, castable};
use crate::result::pssst_result;
use crate::suite::PSSST_SUITE_X25519_AESGCM128;

/// A PSSST client for one server public key and one cipher suite,
/// anonymous or client-authenticated.
///
/// Thread-safe: a client keeps no per-request state, so one `pssst_client`
/// may pack requests from many threads at once (each request gets its own
/// reply handler). Free it with `pssst_client_free` once no thread uses it.
#[derive(Debug)]
pub struct pssst_client {
    inner: Client,
}

/// Unpacks the one reply to one request.
///
/// A packet that fails to unpack leaves the handler usable, so junk cannot
/// stop the genuine reply from being accepted; after one successful unpack
/// every further call returns `PSSST_ERR_HANDLER_REUSED`. Not thread-safe:
/// do not use one handler from two threads at once without a lock (moving
/// it to another thread is fine). Always free it with
/// `pssst_client_reply_handler_free`; its keys are wiped then.
#[derive(Debug)]
pub struct pssst_client_reply_handler {
    inner: ClientReplyHandler,
}

castable!(pssst_client => Client);
castable!(pssst_client_reply_handler => ClientReplyHandler);

/// Creates a client for `server_public_key` that packs its requests with
/// cipher suite 1 (`PSSST_SUITE_X25519_AESGCM128`). With
/// `client_private_key` NULL the client is anonymous; otherwise every
/// request proves to the server that the client holds that key. On success
/// `*client_out` is the new client; on failure it is NULL. Fails with
/// `PSSST_ERR_LOW_ORDER_POINT` for a low-order (unusable) server key.
///
/// # Safety
/// `server_public_key` is NULL or 32 readable bytes; `client_private_key`
/// is NULL or 32 readable bytes; `client_out` is NULL or writable.
/// cbindgen:ptrs-as-arrays=[[server_public_key;32]]
// The cbindgen annotation above is not an intra-doc link.
#[allow(rustdoc::broken_intra_doc_links)]
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_client_new(
    server_public_key: *const u8,
    client_private_key: *const u8,
    client_out: *mut *mut pssst_client,
) -> pssst_result {
    status(|| {
        // SAFETY: the contract above is new_client's.
        unsafe {
            new_client(
                server_public_key,
                client_private_key,
                PSSST_SUITE_X25519_AESGCM128,
                client_out,
            )
        }
    })
}

/// `pssst_client_new` for a client that packs its requests with cipher
/// suite `suite` (`PSSST_SUITE_X25519_AESGCM128` or
/// `PSSST_SUITE_X25519_AESGCMSIV128`); replies must come in the same suite.
/// An unknown `suite` fails with `PSSST_ERR_UNSUPPORTED_CIPHER_SUITE`.
///
/// # Safety
/// As for `pssst_client_new`.
/// cbindgen:ptrs-as-arrays=[[server_public_key;32]]
// The cbindgen annotation above is not an intra-doc link.
#[allow(rustdoc::broken_intra_doc_links)]
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_client_new_with_suite(
    server_public_key: *const u8,
    client_private_key: *const u8,
    suite: u16,
    client_out: *mut *mut pssst_client,
) -> pssst_result {
    status(|| {
        // SAFETY: the contract above is new_client's.
        unsafe { new_client(server_public_key, client_private_key, suite, client_out) }
    })
}

/// The two client constructors' handle glue.
///
/// # Safety
/// The pointers satisfy `pssst_client_new`'s contract.
#[allow(unsafe_code)] // Not exported: the two constructors share it.
unsafe fn new_client(
    server_public_key: *const u8,
    client_private_key: *const u8,
    suite: u16,
    client_out: *mut *mut pssst_client,
) -> Result<(), pssst_result> {
    // SAFETY: the contract.
    let mut client_out = unsafe { Out::reset(client_out, ptr::null_mut()) }?;
    // SAFETY: the contract.
    let inner = unsafe { ops::new_client(server_public_key, client_private_key, suite) }?;
    handle::write_new(&mut client_out, inner);
    Ok(())
}

/// Frees a client. NULL is a no-op.
///
/// # Safety
/// `client` is NULL or a client from `pssst_client_new` not yet freed and
/// not in use by another thread.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_client_free(client: *mut pssst_client) {
    // SAFETY: the contract above is handle::free's.
    unsafe { handle::free(client) }
}

/// The size of the request packet `client` makes for a message of
/// `message_len` bytes: `message_len + PSSST_PACKET_OVERHEAD`, plus
/// `PSSST_CLIENT_AUTH_OVERHEAD` for a client-authenticated client. Returns 0
/// when `client` is NULL or the message is too large for one packet.
///
/// # Safety
/// `client` is NULL or a live client.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_request_size(
    client: *const pssst_client,
    message_len: usize,
) -> usize {
    // SAFETY: the contract above (a client is only ever read).
    match unsafe { handle::try_ref(client) } {
        Ok(client) => client.request_len(message_len).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Encrypts `message` into a request packet for the client's server, with
/// a fresh ephemeral key from the operating system's RNG.
///
/// `packet` must hold `pssst_request_size(client, message_len)` bytes. On
/// success `*packet_len` is the packet length and `*handler_out` the
/// handler for the reply (free it with `pssst_client_reply_handler_free`).
/// If `packet_capacity` is too small this returns
/// `PSSST_ERR_BUFFER_TOO_SMALL` with the size needed in `*packet_len`. On
/// any failure `*handler_out` is NULL. `message` may be NULL when
/// `message_len` is 0, and `packet` when `packet_capacity` is 0.
///
/// # Safety
/// `client` is NULL or a live client; `message` is NULL or `message_len`
/// readable bytes; `packet` is NULL or `packet_capacity` writable bytes not
/// overlapping `message`; `packet_len` and `handler_out` are NULL or
/// writable.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_client_pack_request(
    client: *const pssst_client,
    message: *const u8,
    message_len: usize,
    packet: *mut u8,
    packet_capacity: usize,
    packet_len: *mut usize,
    handler_out: *mut *mut pssst_client_reply_handler,
) -> pssst_result {
    status(|| {
        let request = PackRequest {
            client,
            random: Randomness::OperatingSystem,
            message: (message, message_len),
            packet: (packet, packet_capacity),
            packet_len,
            handler_out,
        };
        // SAFETY: the contract above is PackRequest::run's.
        unsafe { request.run() }
    })
}

/// `pssst_client_pack_request`, with the ephemeral key drawn from `random`
/// (called with `random_context`) instead of the operating system: for
/// platforms with their own RNG, and for deterministic tests. `random`
/// must return cryptographically secure bytes: two requests with the same
/// ephemeral key are not secret from each other.
///
/// # Safety
/// As for `pssst_client_pack_request`; `random` is NULL or a function
/// that writes exactly the `len` bytes it is given (and nothing else but
/// its context) and returns.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_client_pack_request_with_rng(
    client: *const pssst_client,
    random: pssst_random_fn,
    random_context: *mut c_void,
    message: *const u8,
    message_len: usize,
    packet: *mut u8,
    packet_capacity: usize,
    packet_len: *mut usize,
    handler_out: *mut *mut pssst_client_reply_handler,
) -> pssst_result {
    status(|| {
        let request = PackRequest {
            client,
            random: Randomness::Callback(random, random_context),
            message: (message, message_len),
            packet: (packet, packet_capacity),
            packet_len,
            handler_out,
        };
        // SAFETY: the contract above is PackRequest::run's.
        unsafe { request.run() }
    })
}

/// Where a request's ephemeral key comes from.
enum Randomness {
    OperatingSystem,
    Callback(pssst_random_fn, *mut c_void),
}

/// The arguments the two pack functions share.
struct PackRequest {
    client: *const pssst_client,
    random: Randomness,
    message: (*const u8, usize),
    packet: (*mut u8, usize),
    packet_len: *mut usize,
    handler_out: *mut *mut pssst_client_reply_handler,
}

impl PackRequest {
    /// Resets the out-parameters, finds the client and its RNG, then packs.
    ///
    /// # Safety
    /// The pointers satisfy `pssst_client_pack_request_with_rng`'s contract.
    #[allow(unsafe_code)] // Not exported: the two pack exports share it.
    unsafe fn run(self) -> Result<(), pssst_result> {
        // SAFETY: the contract (out-parameters NULL or writable).
        let handler_out = unsafe { Out::reset(self.handler_out, ptr::null_mut()) };
        // SAFETY: the contract (buffers readable/writable, not overlapping).
        let buffers = unsafe { Buffers::new(OUT_RULE, self.message, self.packet, self.packet_len) };
        let (mut handler_out, buffers) = (handler_out?, buffers?);
        // SAFETY: NULL or a live client (the contract), only read.
        let client = unsafe { handle::try_ref(self.client) }?;
        let handler = match self.random {
            Randomness::OperatingSystem => ops::pack_request(client, &mut SysRng, buffers),
            Randomness::Callback(random, context) => {
                // SAFETY: the contract (a well-behaved callback).
                let mut rng = unsafe { CallbackRng::new(random, context) }?;
                ops::pack_request(client, &mut rng, buffers)
            }
        }?;
        handle::write_new(&mut handler_out, handler);
        Ok(())
    }
}

/// Verifies and decrypts the reply `packet` into `message`, which must hold
/// `packet_len - PSSST_PACKET_OVERHEAD` bytes; `*message_len` is the
/// message length. A too-small buffer returns `PSSST_ERR_BUFFER_TOO_SMALL`
/// with the size needed in `*message_len` and leaves the handler unused:
/// retry with the same packet, the same handler and a larger buffer. Any
/// other failure also leaves the handler unused; after one success the
/// handler returns `PSSST_ERR_HANDLER_REUSED`.
///
/// # Safety
/// `handler` is NULL or a live handler no other thread is using; `packet`
/// is NULL or `packet_len` readable bytes; `message` is NULL or
/// `message_capacity` writable bytes not overlapping `packet`;
/// `message_len` is NULL or writable.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_client_reply_handler_unpack(
    handler: *mut pssst_client_reply_handler,
    packet: *const u8,
    packet_len: usize,
    message: *mut u8,
    message_capacity: usize,
    message_len: *mut usize,
) -> pssst_result {
    status(|| {
        // SAFETY: the contract above.
        let buffers = unsafe {
            Buffers::new(
                OUT_RULE,
                (packet, packet_len),
                (message, message_capacity),
                message_len,
            )
        }?;
        // SAFETY: NULL or a live handler used by this thread only (the contract).
        let handler = unsafe { handle::try_mut(handler) }?;
        ops::unpack_reply(Some(handler), buffers)
    })
}

/// Frees a client reply handler, used or not, wiping its keys. NULL is a
/// no-op.
///
/// # Safety
/// `handler` is NULL or a handler from `pssst_client_pack_request*` not yet
/// freed and not in use by another thread.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_client_reply_handler_free(handler: *mut pssst_client_reply_handler) {
    // SAFETY: the contract above is handle::free's.
    unsafe { handle::free(handler) }
}
