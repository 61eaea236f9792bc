//! `pssst_server` and `pssst_server_reply_handler`.

use std::ptr;

use pssst_core::{CipherSuites, Client, Server, ServerReplyHandler};
use pssst_ffi_core::args::{Buffers, Out};
use pssst_ffi_core::server::{self as ops, ClientIdentity};
use pssst_ffi_core::status;
use pssst_ffi_macros::ffi_export;

use crate::OUT_RULE;
use crate::handle::{self, castable};
use crate::result::pssst_result;
use crate::suite::suite_set;

/// A PSSST server: one private key and the cipher suites it accepts, no
/// other state.
///
/// Thread-safe: one `pssst_server` may unpack requests from many threads at
/// once (each request gets its own reply handler). Free it with
/// `pssst_server_free` once no thread uses it.
#[derive(Debug)]
pub struct pssst_server {
    inner: Server,
}

/// Packs the one reply to one request.
///
/// It packs exactly one reply, in its request's cipher suite: a second call
/// returns `PSSST_ERR_HANDLER_REUSED` (under suite 1 a second, different
/// reply would reuse the AES-GCM nonce). `PSSST_ERR_BUFFER_TOO_SMALL` does
/// not use it up. A retried request gets the same key and nonce again, so
/// under suite 1 the reply to a retry must be byte-identical to the first;
/// under suite 0xFF01 (AES-GCM-SIV) a different reply reveals only that it
/// differs. Not thread-safe: do not use one handler from two threads at
/// once without a lock (moving it to another thread is fine). Always free
/// it with `pssst_server_reply_handler_free`; its keys are wiped then.
#[derive(Debug)]
pub struct pssst_server_reply_handler {
    /// `None` once the reply is packed: the C contract reports reuse as
    /// `PSSST_ERR_HANDLER_REUSED`, where Rust makes it impossible.
    inner: Option<ServerReplyHandler>,
}

castable!(pssst_server => Server);
castable!(pssst_server_reply_handler => Option<ServerReplyHandler>);

/// Creates a server holding `server_private_key` that accepts requests of
/// every cipher suite this library implements (1 and 0xFF01) and answers
/// each in its request's suite. On success `*server_out` is the new server;
/// on failure it is NULL.
///
/// # Safety
/// `server_private_key` is NULL or 32 readable bytes; `server_out` is NULL
/// or writable.
/// cbindgen:ptrs-as-arrays=[[server_private_key;32]]
// The cbindgen annotation above is not an intra-doc link.
#[allow(rustdoc::broken_intra_doc_links)]
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_server_new(
    server_private_key: *const u8,
    server_out: *mut *mut pssst_server,
) -> pssst_result {
    status(|| {
        // SAFETY: the contract above is new_server's.
        unsafe { new_server(server_private_key, CipherSuites::ALL, server_out) }
    })
}

/// `pssst_server_new` for a server that accepts only the `suites_len`
/// cipher suites listed in `suites` (`PSSST_SUITE_*`); requests of any
/// other suite fail with `PSSST_ERR_UNSUPPORTED_CIPHER_SUITE` before any
/// public-key operation. An unknown suite in the list, or an empty list,
/// fails with `PSSST_ERR_UNSUPPORTED_CIPHER_SUITE`.
///
/// # Safety
/// As for `pssst_server_new`; `suites` is NULL or `suites_len` readable
/// `uint16_t`s.
/// cbindgen:ptrs-as-arrays=[[server_private_key;32]]
// The cbindgen annotation above is not an intra-doc link.
#[allow(rustdoc::broken_intra_doc_links)]
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_server_new_with_suites(
    server_private_key: *const u8,
    suites: *const u16,
    suites_len: usize,
    server_out: *mut *mut pssst_server,
) -> pssst_result {
    status(|| {
        // Reset first: a bad suite list leaves `*server_out` NULL too.
        // SAFETY: the contract above.
        unsafe { Out::reset(server_out, ptr::null_mut()) }?;
        // SAFETY: the contract above.
        let suites = unsafe { suite_set(suites, suites_len) }?;
        // SAFETY: the contract above is new_server's.
        unsafe { new_server(server_private_key, suites, server_out) }
    })
}

/// The two server constructors' handle glue.
///
/// # Safety
/// The pointers satisfy `pssst_server_new`'s contract.
#[allow(unsafe_code)] // Not exported: the two constructors share it.
unsafe fn new_server(
    server_private_key: *const u8,
    suites: CipherSuites,
    server_out: *mut *mut pssst_server,
) -> Result<(), pssst_result> {
    // SAFETY: the contract.
    let mut server_out = unsafe { Out::reset(server_out, ptr::null_mut()) }?;
    // SAFETY: the contract.
    let server = unsafe { ops::new_server(server_private_key) }?;
    handle::write_new(&mut server_out, server.with_suites(suites));
    Ok(())
}

/// Writes the server's public key, the key clients encrypt to.
///
/// # Safety
/// `server` is NULL or a live server; `public_key` is NULL or 32 writable
/// bytes.
/// cbindgen:ptrs-as-arrays=[[public_key;32]]
// The cbindgen annotation above is not an intra-doc link.
#[allow(rustdoc::broken_intra_doc_links)]
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_server_public_key(
    server: *const pssst_server,
    public_key: *mut u8,
) -> pssst_result {
    status(|| {
        // SAFETY: the contract above.
        let mut public_out = unsafe { Out::key(OUT_RULE, public_key) }?;
        // SAFETY: NULL or a live server (the contract), only read.
        let server = unsafe { handle::try_ref(server) }?;
        public_out.write(server.public_key().to_bytes());
        Ok(())
    })
}

/// Frees a server. NULL is a no-op.
///
/// # Safety
/// `server` is NULL or a server from `pssst_server_new` not yet freed and
/// not in use by another thread.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_server_free(server: *mut pssst_server) {
    // SAFETY: the contract above is handle::free's.
    unsafe { handle::free(server) }
}

/// Verifies and decrypts the request `packet`.
///
/// `message` must hold `packet_len - PSSST_PACKET_OVERHEAD` bytes (the
/// whole plaintext: a client-auth request's 64-byte proof is decrypted
/// there too, then removed). On success the message is
/// `message[0 .. *message_len]`, `*client_authenticated` says whether the
/// client proved its key, `client_public_key` holds that key (zeros for an
/// anonymous request), and `*handler_out` is the handler for the one reply
/// (free it with `pssst_server_reply_handler_free`). A too-small buffer
/// returns `PSSST_ERR_BUFFER_TOO_SMALL` with the size needed in
/// `*message_len`: retry with the same packet. On failure `*handler_out`
/// is NULL and nothing from the packet is left in `message`.
///
/// # Safety
/// `server` is NULL or a live server; `packet` is NULL or `packet_len`
/// readable bytes; `message` is NULL or `message_capacity` writable bytes
/// not overlapping `packet`; `message_len`, `client_authenticated` and
/// `handler_out` are NULL or writable; `client_public_key` is NULL or 32
/// writable bytes.
/// cbindgen:ptrs-as-arrays=[[client_public_key;32]]
// The cbindgen annotation above is not an intra-doc link.
#[allow(rustdoc::broken_intra_doc_links)]
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_server_unpack_request(
    server: *const pssst_server,
    packet: *const u8,
    packet_len: usize,
    message: *mut u8,
    message_capacity: usize,
    message_len: *mut usize,
    client_public_key: *mut u8,
    client_authenticated: *mut bool,
    handler_out: *mut *mut pssst_server_reply_handler,
) -> pssst_result {
    status(|| {
        // SAFETY: the contract above (out-parameters NULL or writable).
        let handler_out = unsafe { Out::reset(handler_out, ptr::null_mut()) };
        // SAFETY: the contract above (buffers readable/writable, not overlapping).
        let buffers = unsafe {
            Buffers::new(
                OUT_RULE,
                (packet, packet_len),
                (message, message_capacity),
                message_len,
            )
        };
        // SAFETY: the contract above.
        let client =
            unsafe { ClientIdentity::new(OUT_RULE, client_public_key, client_authenticated) };
        let (mut handler_out, buffers, client) = (handler_out?, buffers?, client?);
        // SAFETY: NULL or a live server (the contract), only read.
        let server = unsafe { handle::try_ref(server) }?;
        let handler = ops::unpack_request(server, buffers, client)?;
        handle::write_new(&mut handler_out, Some(handler));
        Ok(())
    })
}

/// The size of a reply packet carrying `message_len` bytes:
/// `message_len + PSSST_PACKET_OVERHEAD`, or 0 if the message is too large
/// for one packet.
///
/// # Safety
/// None.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_reply_size(message_len: usize) -> usize {
    Client::reply_len(message_len).unwrap_or(0)
}

/// Encrypts `message` into the reply packet for this handler's request.
/// `packet` must hold `pssst_reply_size(message_len)` bytes; on success
/// `*packet_len` is the packet length. A too-small buffer returns
/// `PSSST_ERR_BUFFER_TOO_SMALL` with the size needed in `*packet_len` and
/// does not use the handler up; after one success every call returns
/// `PSSST_ERR_HANDLER_REUSED`.
///
/// # Safety
/// `handler` is NULL or a live handler no other thread is using; `message`
/// is NULL or `message_len` readable bytes; `packet` is NULL or
/// `packet_capacity` writable bytes not overlapping `message`;
/// `packet_len` is NULL or writable.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_server_reply_handler_pack(
    handler: *mut pssst_server_reply_handler,
    message: *const u8,
    message_len: usize,
    packet: *mut u8,
    packet_capacity: usize,
    packet_len: *mut usize,
) -> pssst_result {
    status(|| {
        // SAFETY: the contract above.
        let buffers = unsafe {
            Buffers::new(
                OUT_RULE,
                (message, message_len),
                (packet, packet_capacity),
                packet_len,
            )
        }?;
        // SAFETY: NULL or a live handler used by this thread only (the contract).
        let slot = unsafe { handle::try_mut(handler) }?;
        ops::pack_reply(slot, buffers)
    })
}

/// Frees a server reply handler, used or not, wiping its keys. NULL is a
/// no-op.
///
/// # Safety
/// `handler` is NULL or a handler from `pssst_server_unpack_request` not
/// yet freed and not in use by another thread.
#[ffi_export]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pssst_server_reply_handler_free(handler: *mut pssst_server_reply_handler) {
    // SAFETY: the contract above is handle::free's.
    unsafe { handle::free(handler) }
}
