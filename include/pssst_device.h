/*
 * pssst_device.h: PSSST for microcontrollers, libpssst.a built from
 * devices/pssst-device for thumbv6m-none-eabi, thumbv7em-none-eabihf or
 * riscv32imc-unknown-none-elf. No allocator, no OS:
 *
 * - Storage is yours. Each object is a struct of a fixed size stated here
 *   (PSSST_DEVICE_*_SIZE), aligned to 16 bytes: declare it static, on the
 *   stack or inside your own structs. Zero it or `_init` it before use; a
 *   zeroed or cleared object is "empty" and calls on it fail cleanly
 *   (PSSST_ERR_NULL_ARGUMENT for an empty client or server,
 *   PSSST_ERR_HANDLER_REUSED for an empty reply handler). `_clear` wipes
 *   the secrets inside. Objects hold no pointers: copying one is a bug
 *   (two reply handlers for one request), moving it by memcpy is fine.
 * - Randomness is yours: a pssst_random_fn (pssst.h) called for 32 bytes
 *   each time an ephemeral key or a key pair is made. The library asks at
 *   the moment it needs them, so no code path can reuse an ephemeral (a
 *   reused ephemeral repeats the AES-GCM key and nonce: the packet's
 *   secrecy and integrity are gone). See docs/embedded.md for chips
 *   without a TRNG.
 * - Results are pssst.h's pssst_result codes; every pointer is checked for
 *   NULL (a zero-length buffer may be NULL); buffers of one call must not
 *   overlap (PSSST_ERR_BUFFERS_OVERLAP). Too-small outputs return
 *   PSSST_ERR_BUFFER_TOO_SMALL with the size needed in the length
 *   out-parameter. Packet sizes: message + PSSST_PACKET_OVERHEAD (52), plus
 *   PSSST_CLIENT_AUTH_OVERHEAD (64) for a client-authenticated request.
 * - Not thread-safe per object; no global state. Built with
 *   panic = "abort": no panic is reachable from any input.
 *
 * A client-only device links the library built with
 * `--no-default-features --features client`: the server functions are then
 * absent.
 */
#ifndef PSSST_DEVICE_H
#define PSSST_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pssst.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Storage sizes in bytes (devices/pssst-device/src/sizes.rs proves at
   compile time that the state fits; headroom keeps the ABI across
   dependency updates). */
#if UINTPTR_MAX == 0xFFFFFFFFu
#define PSSST_DEVICE_CLIENT_SIZE 128
#define PSSST_DEVICE_CLIENT_REPLY_HANDLER_SIZE 336
#define PSSST_DEVICE_SERVER_SIZE 96
#define PSSST_DEVICE_SERVER_REPLY_HANDLER_SIZE 336
#else
#define PSSST_DEVICE_CLIENT_SIZE 128
#define PSSST_DEVICE_CLIENT_REPLY_HANDLER_SIZE 624
#define PSSST_DEVICE_SERVER_SIZE 96
#define PSSST_DEVICE_SERVER_REPLY_HANDLER_SIZE 624
#endif

/* One client: a server key, a suite, and for client authentication the
   client's key and its static shared secret. */
typedef struct pssst_device_client {
    _Alignas(16) uint8_t opaque[PSSST_DEVICE_CLIENT_SIZE];
} pssst_device_client;

/* The keys of one request, waiting for its one reply. */
typedef struct pssst_device_client_reply_handler {
    _Alignas(16) uint8_t opaque[PSSST_DEVICE_CLIENT_REPLY_HANDLER_SIZE];
} pssst_device_client_reply_handler;

/* One server: its private key. */
typedef struct pssst_device_server {
    _Alignas(16) uint8_t opaque[PSSST_DEVICE_SERVER_SIZE];
} pssst_device_server;

/* The keys of one request, for its one reply. */
typedef struct pssst_device_server_reply_handler {
    _Alignas(16) uint8_t opaque[PSSST_DEVICE_SERVER_REPLY_HANDLER_SIZE];
} pssst_device_server_reply_handler;

/* Keys ------------------------------------------------------------------ */

/* A key pair from 32 bytes of `random`: the private key (clamped) into
   private_key[32], its public key into public_key[32]. */
pssst_result pssst_device_generate_key_pair(pssst_random_fn random,
                                            void *random_context,
                                            uint8_t *private_key,
                                            uint8_t *public_key);

/* The public key of private_key[32] into public_key[32]. */
pssst_result pssst_device_public_key(const uint8_t *private_key,
                                     uint8_t *public_key);

/* Client ---------------------------------------------------------------- */

/* A client of `suite` (PSSST_SUITE_*) for server_public_key[32]: anonymous
   when client_private_key is NULL, client-authenticated otherwise (one
   X25519 here, saved on every request). PSSST_ERR_LOW_ORDER_POINT for an
   unusable server key, PSSST_ERR_UNSUPPORTED_CIPHER_SUITE for another
   suite. Replaces (and wipes) whatever `client` held. */
pssst_result pssst_device_client_init(pssst_device_client *client,
                                      const uint8_t *server_public_key,
                                      const uint8_t *client_private_key,
                                      uint16_t suite);

/* Wipes the client; NULL is a no-op. */
void pssst_device_client_clear(pssst_device_client *client);

/* Packs `message` into `packet` (length to *packet_len) with a fresh
   ephemeral key from `random`, and makes the request's reply handler in
   `reply_handler` (replacing whatever it held). Costs two X25519. */
pssst_result pssst_device_client_pack_request(
    pssst_device_client *client, const uint8_t *message, size_t message_len,
    uint8_t *packet, size_t packet_capacity, size_t *packet_len,
    pssst_random_fn random, void *random_context,
    pssst_device_client_reply_handler *reply_handler);

/* Verifies and decrypts the reply `packet` into `message` (at least
   packet_len - PSSST_PACKET_OVERHEAD bytes; length to *message_len). A
   packet that fails leaves the handler usable, so junk cannot block the
   genuine reply; after one success the handler is empty (keys wiped) and
   further calls return PSSST_ERR_HANDLER_REUSED. No X25519: AES only. */
pssst_result pssst_device_client_reply_handler_unpack(
    pssst_device_client_reply_handler *reply_handler, const uint8_t *packet,
    size_t packet_len, uint8_t *message, size_t message_capacity,
    size_t *message_len);

/* Wipes a handler whose reply never came; NULL is a no-op. */
void pssst_device_client_reply_handler_clear(
    pssst_device_client_reply_handler *reply_handler);

/* Server ---------------------------------------------------------------- */

/* A server for private_key[32], accepting every suite. */
pssst_result pssst_device_server_init(pssst_device_server *server,
                                      const uint8_t *private_key);

/* Wipes the server; NULL is a no-op. */
void pssst_device_server_clear(pssst_device_server *server);

/* Unpacks the request `packet` into `message` (at least
   packet_len - PSSST_PACKET_OVERHEAD bytes: a client-auth proof is
   decrypted there too, then removed; length to *message_len). For a
   client-authenticated request *client_auth is true and the proven key is
   in client_public_key[32] (zeros otherwise). Makes the handler for the one
   reply. One X25519, two for client authentication. */
pssst_result pssst_device_server_unpack_request(
    pssst_device_server *server, const uint8_t *packet, size_t packet_len,
    uint8_t *message, size_t message_capacity, size_t *message_len,
    bool *client_auth, uint8_t *client_public_key,
    pssst_device_server_reply_handler *reply_handler);

/* Packs the one reply `message` into `packet` (at least
   message_len + PSSST_PACKET_OVERHEAD bytes; length to *packet_len). The
   handler is used up whatever the outcome: under suite 1 a second,
   different reply would reuse the AES-GCM nonce. */
pssst_result pssst_device_server_reply_handler_pack(
    pssst_device_server_reply_handler *reply_handler, const uint8_t *message,
    size_t message_len, uint8_t *packet, size_t packet_capacity,
    size_t *packet_len);

/* Wipes a handler that will not reply; NULL is a no-op. */
void pssst_device_server_reply_handler_clear(
    pssst_device_server_reply_handler *reply_handler);

#ifdef __cplusplus
}
#endif

#endif /* PSSST_DEVICE_H */
