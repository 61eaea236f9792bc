/* The C firmware: libpssst.a (pssst_device.h) on the device against every
   known-answer and must-reject vector of tests/vectors (vectors.h, made by
   tests/c/vectors_to_c.py), a client-authenticated round trip with fresh
   keys, and each result code the device API can return. main's return
   value is QEMU's exit status. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pssst_device.h"
#include "semihosting.h"
#include "vectors.h"

/* Room for the largest vector: 1400 bytes, a client-auth proof, overhead. */
#define BUF (1400 + PSSST_CLIENT_AUTH_OVERHEAD + PSSST_PACKET_OVERHEAD)

_Static_assert(sizeof(pssst_device_client) == PSSST_DEVICE_CLIENT_SIZE, "size");
_Static_assert(_Alignof(pssst_device_client_reply_handler) == 16, "alignment");

static uint8_t request[BUF], reply[BUF], message[BUF], expected[BUF];
static pssst_device_client client;
static pssst_device_client_reply_handler client_handler;
static pssst_device_server server;
static pssst_device_server_reply_handler server_handler;
static int failures;

static void fail(const char *id, const char *what) {
    say("FAIL ");
    say(id);
    say(": ");
    say(what);
    say("\n");
    failures++;
}

static void say_number(unsigned long n) {
    char text[12];
    char *p = text + sizeof text - 1;
    *p = 0;
    do {
        *--p = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    say(p);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decodes `hex` into `out` (at most BUF bytes); returns the length. */
static size_t unhex(const char *hex, uint8_t *out) {
    size_t n = 0;
    while (hex[0] && hex[1] && n < BUF) {
        out[n++] = (uint8_t)(hex_digit(hex[0]) << 4 | hex_digit(hex[1]));
        hex += 2;
    }
    return n;
}

static bool same(const uint8_t *a, const uint8_t *b, size_t len) {
    uint8_t diff = 0;
    for (size_t i = 0; i < len; i++) diff |= a[i] ^ b[i];
    return diff == 0;
}

/* An RNG that hands out one known 32-byte answer, once. */
struct once {
    uint8_t bytes[32];
    bool used;
};

static int once_random(void *context, uint8_t *buffer, size_t len) {
    struct once *once = context;
    if (once->used || len != 32) return 1;
    for (size_t i = 0; i < 32; i++) buffer[i] = once->bytes[i];
    once->used = true;
    return 0;
}

/* Test-only RNG (xorshift32): QEMU's machines have no TRNG. A real device
   must use its own (docs/embedded.md). */
static int test_random(void *context, uint8_t *buffer, size_t len) {
    uint32_t *state = context;
    for (size_t i = 0; i < len; i++) {
        *state ^= *state << 13;
        *state ^= *state >> 17;
        *state ^= *state << 5;
        buffer[i] = (uint8_t)*state;
    }
    return 0;
}

static int failing_random(void *context, uint8_t *buffer, size_t len) {
    (void)context, (void)buffer, (void)len;
    return -1;
}

static void known_answer(const struct kat_case *c) {
    uint8_t server_private[32], server_public[32], client_private[32],
        client_public[32], key[32];
    struct once once = {.used = false};
    size_t len, message_len;
    bool client_auth;

    unhex(c->server_private, server_private);
    unhex(c->server_public, server_public);
    unhex(c->ephemeral_rng_bytes, once.bytes);
    if (c->client_private) unhex(c->client_private, client_private);
    if (c->client_public) unhex(c->client_public, client_public);

    if (pssst_device_client_init(&client, server_public,
                                 c->client_private ? client_private : NULL,
                                 c->suite) != PSSST_OK)
        return fail(c->id, "client_init");
    if (pssst_device_client_pack_request(&client, message,
                                         unhex(c->request_plaintext, message),
                                         request, BUF, &len, once_random, &once,
                                         &client_handler) != PSSST_OK)
        return fail(c->id, "pack_request");
    if (len != unhex(c->request_packet, expected) || !same(request, expected, len))
        return fail(c->id, "request packet differs");

    if (pssst_device_server_init(&server, server_private) != PSSST_OK)
        return fail(c->id, "server_init");
    if (pssst_device_server_unpack_request(&server, request, len, message, BUF,
                                           &message_len, &client_auth, key,
                                           &server_handler) != PSSST_OK)
        return fail(c->id, "unpack_request");
    if (message_len != unhex(c->request_plaintext, expected) ||
        !same(message, expected, message_len))
        return fail(c->id, "request message differs");
    if (client_auth != c->client_auth ||
        (client_auth && !same(key, client_public, 32)))
        return fail(c->id, "client key differs");

    message_len = unhex(c->reply_plaintext, message);
    if (pssst_device_server_reply_handler_pack(&server_handler, message,
                                               message_len, reply, BUF,
                                               &len) != PSSST_OK)
        return fail(c->id, "pack_reply");
    if (len != unhex(c->reply_packet, expected) || !same(reply, expected, len))
        return fail(c->id, "reply packet differs");
    if (pssst_device_server_reply_handler_pack(&server_handler, message, 0,
                                               reply, BUF, &len) !=
        PSSST_ERR_HANDLER_REUSED)
        return fail(c->id, "a server reply handler replied twice");

    if (pssst_device_client_reply_handler_unpack(&client_handler, expected, len,
                                                 message, BUF,
                                                 &message_len) != PSSST_OK)
        return fail(c->id, "unpack_reply");
    if (message_len != unhex(c->reply_plaintext, request) ||
        !same(message, request, message_len))
        return fail(c->id, "reply message differs");
    if (pssst_device_client_reply_handler_unpack(&client_handler, expected, len,
                                                 message, BUF, &message_len) !=
        PSSST_ERR_HANDLER_REUSED)
        return fail(c->id, "a client reply handler was used twice");
}

static void must_reject(const struct reject_case *c) {
    uint8_t server_private[32], key[32];
    size_t message_len;
    bool client_auth;
    unhex(c->server_private, server_private);
    size_t len = unhex(c->request_packet, request);
    if (pssst_device_server_init(&server, server_private) != PSSST_OK)
        return fail(c->id, "server_init");
    pssst_result result = pssst_device_server_unpack_request(
        &server, request, len, message, BUF, &message_len, &client_auth, key,
        &server_handler);
    if (result != c->expected && result != c->also_accepted) {
        say("FAIL ");
        say(c->id);
        say(": result ");
        say_number(result);
        say("\n");
        failures++;
    }
}

#define EXPECT(what, call, code) \
    if ((call) != (code)) fail("round trip", what)

/* Fresh keys, both suites, client authentication; then every result code
   the device API can return, by its pssst.h name. */
static void client_auth_round_trip(void) {
    static const uint8_t hello[] = "device says hello", hi[] = "server says hi";
    uint8_t server_private[32], server_public[32], client_private[32],
        client_public[32], key[32];
    uint32_t state = 0x9e3779b9u;
    size_t len, message_len;
    bool client_auth;

    EXPECT("server keys",
           pssst_device_generate_key_pair(test_random, &state, server_private,
                                          server_public), PSSST_OK);
    EXPECT("client keys",
           pssst_device_generate_key_pair(test_random, &state, client_private,
                                          client_public), PSSST_OK);
    EXPECT("public key", pssst_device_public_key(client_private, key), PSSST_OK);
    if (!same(key, client_public, 32)) fail("round trip", "public key differs");
    EXPECT("server", pssst_device_server_init(&server, server_private), PSSST_OK);

    const uint16_t suites[] = {PSSST_SUITE_X25519_AESGCM128,
                               PSSST_SUITE_X25519_AESGCMSIV128};
    for (size_t s = 0; s < 2; s++) {
        EXPECT("client", pssst_device_client_init(&client, server_public,
                                                  client_private, suites[s]),
               PSSST_OK);
        EXPECT("pack", pssst_device_client_pack_request(
                           &client, hello, sizeof hello, request, BUF, &len,
                           test_random, &state, &client_handler), PSSST_OK);
        if (len != sizeof hello + PSSST_PACKET_OVERHEAD + PSSST_CLIENT_AUTH_OVERHEAD)
            fail("round trip", "request length");
        EXPECT("unpack", pssst_device_server_unpack_request(
                             &server, request, len, message, BUF, &message_len,
                             &client_auth, key, &server_handler), PSSST_OK);
        if (message_len != sizeof hello || !same(message, hello, message_len))
            fail("round trip", "request message differs");
        if (!client_auth || !same(key, client_public, 32))
            fail("round trip", "the server did not learn the client's key");
        EXPECT("reply", pssst_device_server_reply_handler_pack(
                            &server_handler, hi, sizeof hi, reply, BUF, &len),
               PSSST_OK);
        EXPECT("a request is not a reply",
               pssst_device_client_reply_handler_unpack(
                   &client_handler, request, len, message, BUF, &message_len),
               PSSST_ERR_NOT_REPLY);
        reply[len - 1] ^= 1;
        EXPECT("tampered reply", pssst_device_client_reply_handler_unpack(
                                     &client_handler, reply, len, message, BUF,
                                     &message_len), PSSST_ERR_DECRYPTION_FAILED);
        reply[len - 1] ^= 1;
        EXPECT("small buffer", pssst_device_client_reply_handler_unpack(
                                   &client_handler, reply, len, message, 3,
                                   &message_len), PSSST_ERR_BUFFER_TOO_SMALL);
        if (message_len != sizeof hi) fail("round trip", "size needed");
        EXPECT("unpack reply", pssst_device_client_reply_handler_unpack(
                                   &client_handler, reply, len, message, BUF,
                                   &message_len), PSSST_OK);
        if (message_len != sizeof hi || !same(message, hi, message_len))
            fail("round trip", "reply message differs");
    }

    /* A reply to another request. */
    EXPECT("pack", pssst_device_client_pack_request(
                       &client, hello, 5, request, BUF, &len, test_random,
                       &state, &client_handler), PSSST_OK);
    EXPECT("pack", pssst_device_client_pack_request(
                       &client, hello, 5, request, BUF, &len, test_random,
                       &state, &client_handler), PSSST_OK);
    EXPECT("mismatch", pssst_device_client_reply_handler_unpack(
                           &client_handler, reply, sizeof hi + PSSST_PACKET_OVERHEAD,
                           message, BUF, &message_len), PSSST_ERR_REPLY_MISMATCH);
    pssst_device_client_reply_handler_clear(&client_handler);
    EXPECT("cleared handler", pssst_device_client_reply_handler_unpack(
                                  &client_handler, reply, len, message, BUF,
                                  &message_len), PSSST_ERR_HANDLER_REUSED);

    EXPECT("rng failure", pssst_device_client_pack_request(
                              &client, hello, 5, request, BUF, &len,
                              failing_random, NULL, &client_handler),
           PSSST_ERR_RNG_FAILURE);
    EXPECT("null rng", pssst_device_client_pack_request(
                           &client, hello, 5, request, BUF, &len, NULL, NULL,
                           &client_handler), PSSST_ERR_NULL_ARGUMENT);
    EXPECT("small packet", pssst_device_client_pack_request(
                               &client, hello, 5, request, 10, &len,
                               test_random, &state, &client_handler),
           PSSST_ERR_BUFFER_TOO_SMALL);
    if (len != 5 + PSSST_PACKET_OVERHEAD + PSSST_CLIENT_AUTH_OVERHEAD)
        fail("round trip", "size needed");
    EXPECT("overlap", pssst_device_client_pack_request(
                          &client, request, 5, request, BUF, &len, test_random,
                          &state, &client_handler), PSSST_ERR_BUFFERS_OVERLAP);
    EXPECT("null message", pssst_device_client_pack_request(
                               &client, NULL, 5, request, BUF, &len,
                               test_random, &state, &client_handler),
           PSSST_ERR_NULL_ARGUMENT);
    EXPECT("unknown suite", pssst_device_client_init(&client, server_public,
                                                     NULL, 2),
           PSSST_ERR_UNSUPPORTED_CIPHER_SUITE);
    const uint8_t zero[32] = {0};
    EXPECT("low-order server key",
           pssst_device_client_init(&client, zero, NULL, 1),
           PSSST_ERR_LOW_ORDER_POINT);
    pssst_device_client_clear(&client);
    EXPECT("cleared client", pssst_device_client_pack_request(
                                 &client, hello, 5, request, BUF, &len,
                                 test_random, &state, &client_handler),
           PSSST_ERR_NULL_ARGUMENT);
    pssst_device_server_clear(&server);
    EXPECT("cleared server", pssst_device_server_unpack_request(
                                 &server, request, len, message, BUF,
                                 &message_len, &client_auth, key,
                                 &server_handler), PSSST_ERR_NULL_ARGUMENT);
    pssst_device_client_clear(NULL);
    pssst_device_client_reply_handler_clear(NULL);
    pssst_device_server_clear(NULL);
    pssst_device_server_reply_handler_clear(NULL);
}

int main(void) {
    for (size_t i = 0; i < KAT_CASE_COUNT; i++) known_answer(&KAT_CASES[i]);
    say_number(KAT_CASE_COUNT);
    say(" known-answer cases\n");
    for (size_t i = 0; i < REJECT_CASE_COUNT; i++) must_reject(&REJECT_CASES[i]);
    say_number(REJECT_CASE_COUNT);
    say(" must-reject cases\n");
    client_auth_round_trip();
    say_number((unsigned long)failures);
    say(" failures\n");
    return failures != 0;
}
