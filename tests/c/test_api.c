/* The C API's contract: NULL for every pointer of every function, too-small
 * buffers and retry, handler reuse, _free(NULL), result messages, sizes,
 * overlapping buffers, a failing RNG, a low-order server key, and the
 * cipher suites (client choice, server restriction, relabeling). */
#include "test_support.h"

#ifndef EXPECTED_VERSION
#error "compile with -DEXPECTED_VERSION=\"x.y.z\""
#endif

static const uint8_t MESSAGE[] = "ping";
#define MESSAGE_LEN (sizeof MESSAGE - 1)

/* The objects one round trip needs, made from fresh keys. */
struct fixture {
    uint8_t server_private[PSSST_KEY_LEN], server_public[PSSST_KEY_LEN];
    uint8_t client_private[PSSST_KEY_LEN];
    pssst_server *server;
    pssst_client *client; /* client-authenticated */
};

static void fixture_init(struct fixture *f)
{
    uint8_t client_public[PSSST_KEY_LEN];
    memset(f, 0, sizeof *f);
    CHECK_RESULT(pssst_generate_key_pair(f->server_private, f->server_public), PSSST_OK);
    CHECK_RESULT(pssst_generate_key_pair(f->client_private, client_public), PSSST_OK);
    CHECK_RESULT(pssst_server_new(f->server_private, &f->server), PSSST_OK);
    CHECK_RESULT(pssst_client_new(f->server_public, f->client_private, &f->client), PSSST_OK);
    if (f->server == NULL || f->client == NULL) {
        fprintf(stderr, "cannot set up the fixture\n");
        exit(EXIT_FAILURE);
    }
}

static void fixture_free(struct fixture *f)
{
    pssst_client_free(f->client);
    pssst_server_free(f->server);
}

/* Packs MESSAGE; returns the client handler, the packet in `packet`. */
static pssst_client_reply_handler *pack(const struct fixture *f, uint8_t *packet,
                                        size_t capacity, size_t *packet_len)
{
    pssst_client_reply_handler *handler = NULL;
    CHECK_RESULT(pssst_client_pack_request(f->client, MESSAGE, MESSAGE_LEN, packet, capacity,
                                           packet_len, &handler),
                 PSSST_OK);
    return handler;
}

/* Unpacks a request; returns the server handler. */
static pssst_server_reply_handler *unpack(const struct fixture *f, const uint8_t *packet,
                                          size_t packet_len)
{
    uint8_t message[256], client_key[PSSST_KEY_LEN];
    size_t message_len;
    bool authenticated;
    pssst_server_reply_handler *handler = NULL;
    CHECK_RESULT(pssst_server_unpack_request(f->server, packet, packet_len, message,
                                             sizeof message, &message_len, client_key,
                                             &authenticated, &handler),
                 PSSST_OK);
    return handler;
}

static int always_fail(void *context, uint8_t *buffer, size_t len)
{
    (void)context, (void)buffer, (void)len;
    return 1;
}

static int counter_random(void *context, uint8_t *buffer, size_t len)
{
    unsigned *calls = context;
    ++*calls;
    for (size_t i = 0; i < len; i++) buffer[i] = (uint8_t)(i * 7 + *calls);
    return 0;
}

static void test_results_and_version(void)
{
    static const pssst_result codes[] = {
        PSSST_OK, PSSST_ERR_TRUNCATED, PSSST_ERR_NOT_REQUEST, PSSST_ERR_NOT_REPLY,
        PSSST_ERR_UNSUPPORTED_CIPHER_SUITE, PSSST_ERR_DECRYPTION_FAILED,
        PSSST_ERR_CLIENT_AUTH_FAILED, PSSST_ERR_REPLY_MISMATCH, PSSST_ERR_LOW_ORDER_POINT,
        PSSST_ERR_HANDLER_REUSED, PSSST_ERR_BUFFER_TOO_SMALL, PSSST_ERR_RNG_FAILURE,
        PSSST_ERR_INVALID_KEY, PSSST_ERR_MESSAGE_TOO_LARGE, PSSST_ERR_NULL_ARGUMENT,
        PSSST_ERR_BUFFERS_OVERLAP, PSSST_ERR_PANIC, PSSST_ERR_UNKNOWN,
    };
    const char *unrecognised = pssst_result_message(12345);
    CHECK(PSSST_OK == 0);
    CHECK(unrecognised != NULL && strlen(unrecognised) > 0);
    CHECK(pssst_result_message(UINT32_MAX) == unrecognised);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *message = pssst_result_message(codes[i]);
        CHECK(message != NULL && strlen(message) > 0 && message != unrecognised);
        for (size_t j = 0; j < i; j++) {
            CHECK(codes[i] != codes[j]);
            CHECK(strcmp(message, pssst_result_message(codes[j])) != 0);
        }
    }
    CHECK(strcmp(pssst_version(), EXPECTED_VERSION) == 0);
}

static void test_keys_and_sizes(const struct fixture *f)
{
    uint8_t a_private[PSSST_KEY_LEN], a_public[PSSST_KEY_LEN], b_private[PSSST_KEY_LEN],
        derived[PSSST_KEY_LEN];
    pssst_client *anonymous = NULL;

    CHECK_RESULT(pssst_generate_key_pair(a_private, a_public), PSSST_OK);
    CHECK_RESULT(pssst_generate_key_pair(b_private, derived), PSSST_OK);
    CHECK(memcmp(a_private, b_private, PSSST_KEY_LEN) != 0);
    CHECK((a_private[0] & 7) == 0 && (a_private[31] & 0xc0) == 0x40); /* clamped */
    CHECK_RESULT(pssst_public_key_from_private(a_private, derived), PSSST_OK);
    CHECK(memcmp(a_public, derived, PSSST_KEY_LEN) == 0);
    CHECK_RESULT(pssst_server_public_key(f->server, derived), PSSST_OK);
    CHECK(memcmp(f->server_public, derived, PSSST_KEY_LEN) == 0);

    CHECK_RESULT(pssst_client_new(f->server_public, NULL, &anonymous), PSSST_OK);
    CHECK(pssst_request_size(anonymous, 0) == PSSST_PACKET_OVERHEAD);
    CHECK(pssst_request_size(anonymous, 100) == 100 + PSSST_PACKET_OVERHEAD);
    CHECK(pssst_request_size(f->client, 100) ==
          100 + PSSST_PACKET_OVERHEAD + PSSST_CLIENT_AUTH_OVERHEAD);
    CHECK(pssst_request_size(anonymous, SIZE_MAX) == 0);
    CHECK(pssst_request_size(f->client, SIZE_MAX - 60) == 0);
    CHECK(pssst_reply_size(0) == PSSST_PACKET_OVERHEAD);
    CHECK(pssst_reply_size(1400) == 1400 + PSSST_PACKET_OVERHEAD);
    CHECK(pssst_reply_size(SIZE_MAX) == 0);
    pssst_client_free(anonymous);
}

static void test_free_null(void)
{
    pssst_client_free(NULL);
    pssst_client_reply_handler_free(NULL);
    pssst_server_free(NULL);
    pssst_server_reply_handler_free(NULL);
    CHECK(1);
}

static void test_null_key_functions(const struct fixture *f)
{
    uint8_t key[PSSST_KEY_LEN];
    pssst_client *client = (pssst_client *)key;
    pssst_server *server = (pssst_server *)key;

    CHECK_RESULT(pssst_generate_key_pair(NULL, key), PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_generate_key_pair(key, NULL), PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_public_key_from_private(NULL, key), PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_public_key_from_private(f->server_private, NULL),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_client_new(NULL, NULL, &client), PSSST_ERR_NULL_ARGUMENT);
    CHECK(client == NULL);
    CHECK_RESULT(pssst_client_new(f->server_public, NULL, NULL), PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_client_new(f->server_public, f->client_private, NULL),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_server_new(NULL, &server), PSSST_ERR_NULL_ARGUMENT);
    CHECK(server == NULL);
    CHECK_RESULT(pssst_server_new(f->server_private, NULL), PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_server_public_key(NULL, key), PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_server_public_key(f->server, NULL), PSSST_ERR_NULL_ARGUMENT);
    CHECK(pssst_request_size(NULL, 10) == 0);
}

static void test_null_pack_request(const struct fixture *f)
{
    uint8_t packet[256];
    size_t len = 7;
    unsigned calls = 0;
    pssst_client_reply_handler *handler = (pssst_client_reply_handler *)packet;
    const size_t cap = sizeof packet;
#define PACK(client, message, packet_buffer, len_out, handler_out)                            \
    pssst_client_pack_request(client, message, MESSAGE_LEN, packet_buffer, cap, len_out,      \
                              handler_out)
    CHECK_RESULT(PACK(NULL, MESSAGE, packet, &len, &handler), PSSST_ERR_NULL_ARGUMENT);
    CHECK(handler == NULL && len == 0);
    CHECK_RESULT(PACK(f->client, NULL, packet, &len, &handler), PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(PACK(f->client, MESSAGE, NULL, &len, &handler), PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(PACK(f->client, MESSAGE, packet, NULL, &handler), PSSST_ERR_NULL_ARGUMENT);
    CHECK(handler == NULL);
    CHECK_RESULT(PACK(f->client, MESSAGE, packet, &len, NULL), PSSST_ERR_NULL_ARGUMENT);
#undef PACK
#define PACK_RNG(client, random, message, packet_buffer, len_out, handler_out)                \
    pssst_client_pack_request_with_rng(client, random, &calls, message, MESSAGE_LEN,           \
                                       packet_buffer, cap, len_out, handler_out)
    CHECK_RESULT(PACK_RNG(NULL, counter_random, MESSAGE, packet, &len, &handler),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(PACK_RNG(f->client, NULL, MESSAGE, packet, &len, &handler),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK(handler == NULL && len == 0);
    CHECK_RESULT(PACK_RNG(f->client, counter_random, NULL, packet, &len, &handler),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(PACK_RNG(f->client, counter_random, MESSAGE, NULL, &len, &handler),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(PACK_RNG(f->client, counter_random, MESSAGE, packet, NULL, &handler),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(PACK_RNG(f->client, counter_random, MESSAGE, packet, &len, NULL),
                 PSSST_ERR_NULL_ARGUMENT);
#undef PACK_RNG
    CHECK(calls == 0);
    /* The context may be NULL: it is only passed through. */
    CHECK_RESULT(pssst_client_pack_request_with_rng(f->client, always_fail, NULL, MESSAGE,
                                                    MESSAGE_LEN, packet, cap, &len, &handler),
                 PSSST_ERR_RNG_FAILURE);
    CHECK(handler == NULL && len == 0);
}

static void test_null_client_unpack(const struct fixture *f)
{
    uint8_t packet[256], message[256];
    size_t packet_len, len = 5;
    pssst_client_reply_handler *handler = pack(f, packet, sizeof packet, &packet_len);
    const size_t cap = sizeof message;

    CHECK_RESULT(pssst_client_reply_handler_unpack(NULL, packet, packet_len, message, cap, &len),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK(len == 0);
    CHECK_RESULT(pssst_client_reply_handler_unpack(handler, NULL, packet_len, message, cap, &len),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_client_reply_handler_unpack(handler, packet, packet_len, NULL, cap, &len),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_client_reply_handler_unpack(handler, packet, packet_len, message, cap,
                                                   NULL),
                 PSSST_ERR_NULL_ARGUMENT);
    pssst_client_reply_handler_free(handler);
}

static void test_null_server_unpack(const struct fixture *f)
{
    uint8_t packet[256], message[256], key[PSSST_KEY_LEN];
    size_t packet_len, len = 3;
    bool authenticated = true;
    pssst_server_reply_handler *handler = (pssst_server_reply_handler *)key;
    pssst_client_reply_handler *client_handler = pack(f, packet, sizeof packet, &packet_len);
    const size_t cap = sizeof message;
#define UNPACK(server, packet_buffer, message_buffer, len_out, key_out, auth_out, handler_out) \
    pssst_server_unpack_request(server, packet_buffer, packet_len, message_buffer, cap,         \
                                len_out, key_out, auth_out, handler_out)
    CHECK_RESULT(UNPACK(NULL, packet, message, &len, key, &authenticated, &handler),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK(handler == NULL && len == 0 && !authenticated);
    CHECK_RESULT(UNPACK(f->server, NULL, message, &len, key, &authenticated, &handler),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(UNPACK(f->server, packet, NULL, &len, key, &authenticated, &handler),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(UNPACK(f->server, packet, message, NULL, key, &authenticated, &handler),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(UNPACK(f->server, packet, message, &len, NULL, &authenticated, &handler),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(UNPACK(f->server, packet, message, &len, key, NULL, &handler),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(UNPACK(f->server, packet, message, &len, key, &authenticated, NULL),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK(handler == NULL);
#undef UNPACK
    pssst_client_reply_handler_free(client_handler);
}

static void test_null_reply_pack(const struct fixture *f)
{
    uint8_t request[256], reply[256];
    size_t request_len, len = 9;
    pssst_client_reply_handler *client_handler = pack(f, request, sizeof request, &request_len);
    pssst_server_reply_handler *handler = unpack(f, request, request_len);

    CHECK_RESULT(pssst_server_reply_handler_pack(NULL, MESSAGE, MESSAGE_LEN, reply,
                                                 sizeof reply, &len),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK(len == 0);
    CHECK_RESULT(pssst_server_reply_handler_pack(handler, NULL, MESSAGE_LEN, reply,
                                                 sizeof reply, &len),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_server_reply_handler_pack(handler, MESSAGE, MESSAGE_LEN, NULL,
                                                 sizeof reply, &len),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_server_reply_handler_pack(handler, MESSAGE, MESSAGE_LEN, reply,
                                                 sizeof reply, NULL),
                 PSSST_ERR_NULL_ARGUMENT);
    /* None of that used the handler up. */
    CHECK_RESULT(pssst_server_reply_handler_pack(handler, MESSAGE, MESSAGE_LEN, reply,
                                                 sizeof reply, &len),
                 PSSST_OK);
    pssst_server_reply_handler_free(handler);
    pssst_client_reply_handler_free(client_handler);
}

/* NULL with length 0 is an empty buffer; a NULL output with capacity 0 is
   a size query. */
static void test_empty_buffers(const struct fixture *f)
{
    uint8_t packet[256], reply[256], message[8], key[PSSST_KEY_LEN];
    size_t packet_len = 0, reply_len = 0, len = 0;
    bool authenticated = false;
    pssst_client *anonymous = NULL;
    pssst_client_reply_handler *client_handler = NULL;
    pssst_server_reply_handler *server_handler = NULL;

    CHECK_RESULT(pssst_client_new(f->server_public, NULL, &anonymous), PSSST_OK);
    CHECK_RESULT(pssst_client_pack_request(anonymous, MESSAGE, MESSAGE_LEN, NULL, 0,
                                           &packet_len, &client_handler),
                 PSSST_ERR_BUFFER_TOO_SMALL);
    CHECK(packet_len == MESSAGE_LEN + PSSST_PACKET_OVERHEAD && client_handler == NULL);
    CHECK_RESULT(pssst_client_pack_request(anonymous, NULL, 0, packet, sizeof packet,
                                           &packet_len, &client_handler),
                 PSSST_OK);
    CHECK(packet_len == PSSST_PACKET_OVERHEAD);
    CHECK_RESULT(pssst_server_unpack_request(f->server, packet, packet_len, NULL, 0, &len, key,
                                             &authenticated, &server_handler),
                 PSSST_OK);
    CHECK(len == 0 && !authenticated);
    CHECK_RESULT(pssst_server_reply_handler_pack(server_handler, NULL, 0, reply, sizeof reply,
                                                 &reply_len),
                 PSSST_OK);
    CHECK_RESULT(pssst_client_reply_handler_unpack(client_handler, reply, reply_len, message, 0,
                                                   &len),
                 PSSST_OK);
    CHECK(len == 0);
    pssst_server_reply_handler_free(server_handler);
    pssst_client_reply_handler_free(client_handler);
    pssst_client_free(anonymous);
}

/* Every output buffer one byte short: the size needed comes back, nothing is
   used up, and the retry succeeds; then each handler refuses a second use. */
static void test_too_small_and_reuse(const struct fixture *f)
{
    uint8_t request[256], reply[256], message[256], key[PSSST_KEY_LEN], client_public[32];
    size_t request_len = 0, reply_len = 0, len = 0;
    size_t request_size = pssst_request_size(f->client, MESSAGE_LEN);
    bool authenticated = false;
    pssst_client_reply_handler *client_handler = NULL;
    pssst_server_reply_handler *server_handler = NULL;

    CHECK_RESULT(pssst_client_pack_request(f->client, MESSAGE, MESSAGE_LEN, request,
                                           request_size - 1, &request_len, &client_handler),
                 PSSST_ERR_BUFFER_TOO_SMALL);
    CHECK(request_len == request_size && client_handler == NULL);
    client_handler = pack(f, request, request_len, &request_len);

    /* The server needs the whole plaintext, client-auth proof included. */
    size_t plaintext_len = request_len - PSSST_PACKET_OVERHEAD;
    CHECK_RESULT(pssst_server_unpack_request(f->server, request, request_len, message,
                                             MESSAGE_LEN, &len, key, &authenticated,
                                             &server_handler),
                 PSSST_ERR_BUFFER_TOO_SMALL);
    CHECK(len == plaintext_len && server_handler == NULL);
    CHECK_RESULT(pssst_server_unpack_request(f->server, request, request_len, message, len,
                                             &len, key, &authenticated, &server_handler),
                 PSSST_OK);
    CHECK(len == MESSAGE_LEN && memcmp(message, MESSAGE, MESSAGE_LEN) == 0 && authenticated);
    CHECK_RESULT(pssst_public_key_from_private(f->client_private, client_public), PSSST_OK);
    CHECK(memcmp(key, client_public, PSSST_KEY_LEN) == 0);

    CHECK_RESULT(pssst_server_reply_handler_pack(server_handler, MESSAGE, MESSAGE_LEN, reply,
                                                 pssst_reply_size(MESSAGE_LEN) - 1, &reply_len),
                 PSSST_ERR_BUFFER_TOO_SMALL);
    CHECK(reply_len == pssst_reply_size(MESSAGE_LEN));
    CHECK_RESULT(pssst_server_reply_handler_pack(server_handler, MESSAGE, MESSAGE_LEN, reply,
                                                 reply_len, &reply_len),
                 PSSST_OK);
    CHECK_RESULT(pssst_server_reply_handler_pack(server_handler, MESSAGE, MESSAGE_LEN, reply,
                                                 sizeof reply, &len),
                 PSSST_ERR_HANDLER_REUSED);
    CHECK(len == 0);

    /* Junk and a request packet leave the client handler usable. */
    uint8_t forged[256];
    memcpy(forged, reply, reply_len);
    forged[reply_len - 1] ^= 1;
    CHECK_RESULT(pssst_client_reply_handler_unpack(client_handler, forged, reply_len, message,
                                                   sizeof message, &len),
                 PSSST_ERR_DECRYPTION_FAILED);
    CHECK_RESULT(pssst_client_reply_handler_unpack(client_handler, request, request_len,
                                                   message, sizeof message, &len),
                 PSSST_ERR_NOT_REPLY);
    CHECK_RESULT(pssst_client_reply_handler_unpack(client_handler, reply, 10, message,
                                                   sizeof message, &len),
                 PSSST_ERR_TRUNCATED);
    CHECK_RESULT(pssst_client_reply_handler_unpack(client_handler, reply, reply_len, message,
                                                   MESSAGE_LEN - 1, &len),
                 PSSST_ERR_BUFFER_TOO_SMALL);
    CHECK(len == MESSAGE_LEN);
    memset(message, 0, sizeof message);
    CHECK_RESULT(pssst_client_reply_handler_unpack(client_handler, reply, reply_len, message,
                                                   len, &len),
                 PSSST_OK);
    CHECK(len == MESSAGE_LEN && memcmp(message, MESSAGE, MESSAGE_LEN) == 0);
    CHECK_RESULT(pssst_client_reply_handler_unpack(client_handler, reply, reply_len, message,
                                                   sizeof message, &len),
                 PSSST_ERR_HANDLER_REUSED);
    pssst_server_reply_handler_free(server_handler);
    pssst_client_reply_handler_free(client_handler);
}

/* A reply for another request is a mismatch; the right one still works. */
static void test_reply_mismatch(const struct fixture *f)
{
    uint8_t request_a[256], request_b[256], reply_b[256], message[256];
    size_t len_a, len_b, reply_len, len;
    pssst_client_reply_handler *handler_a = pack(f, request_a, sizeof request_a, &len_a);
    pssst_client_reply_handler *handler_b = pack(f, request_b, sizeof request_b, &len_b);
    pssst_server_reply_handler *server_b = unpack(f, request_b, len_b);

    CHECK_RESULT(pssst_server_reply_handler_pack(server_b, MESSAGE, MESSAGE_LEN, reply_b,
                                                 sizeof reply_b, &reply_len),
                 PSSST_OK);
    CHECK_RESULT(pssst_client_reply_handler_unpack(handler_a, reply_b, reply_len, message,
                                                   sizeof message, &len),
                 PSSST_ERR_REPLY_MISMATCH);
    CHECK_RESULT(pssst_client_reply_handler_unpack(handler_b, reply_b, reply_len, message,
                                                   sizeof message, &len),
                 PSSST_OK);
    pssst_server_reply_handler_free(server_b);
    pssst_client_reply_handler_free(handler_a);
    pssst_client_reply_handler_free(handler_b);
}

static void test_bad_inputs(const struct fixture *f)
{
    uint8_t buffer[256], low_order[PSSST_KEY_LEN] = {0};
    size_t len = 0;
    pssst_client *client = (pssst_client *)buffer;
    pssst_client_reply_handler *handler = NULL;

    /* A low-order server key could never keep a request secret. */
    CHECK_RESULT(pssst_client_new(low_order, NULL, &client), PSSST_ERR_LOW_ORDER_POINT);
    CHECK(client == NULL);
    CHECK_RESULT(pssst_client_new(low_order, f->client_private, &client),
                 PSSST_ERR_LOW_ORDER_POINT);
    CHECK(client == NULL);

    /* In-place use is refused, not undefined. */
    memcpy(buffer, MESSAGE, MESSAGE_LEN);
    CHECK_RESULT(pssst_client_pack_request(f->client, buffer, MESSAGE_LEN, buffer,
                                           sizeof buffer, &len, &handler),
                 PSSST_ERR_BUFFERS_OVERLAP);
    CHECK_RESULT(pssst_client_pack_request(f->client, buffer + 100, MESSAGE_LEN, buffer, 101,
                                           &len, &handler),
                 PSSST_ERR_BUFFERS_OVERLAP);
    CHECK(handler == NULL);

    /* A length no object can have is refused before anything is read. */
    CHECK_RESULT(pssst_client_pack_request(f->client, MESSAGE, SIZE_MAX, buffer, sizeof buffer,
                                           &len, &handler),
                 PSSST_ERR_MESSAGE_TOO_LARGE);
    CHECK(handler == NULL);
}

static void test_callback_rng(const struct fixture *f)
{
    uint8_t first[256], second[256];
    size_t first_len, second_len;
    unsigned calls = 0;
    pssst_client_reply_handler *a = NULL, *b = NULL;

    CHECK_RESULT(pssst_client_pack_request_with_rng(f->client, counter_random, &calls, MESSAGE,
                                                    MESSAGE_LEN, first, sizeof first,
                                                    &first_len, &a),
                 PSSST_OK);
    CHECK(calls == 1);
    CHECK_RESULT(pssst_client_pack_request_with_rng(f->client, counter_random, &calls, MESSAGE,
                                                    MESSAGE_LEN, second, sizeof second,
                                                    &second_len, &b),
                 PSSST_OK);
    CHECK(calls == 2 && first_len == second_len);
    CHECK(memcmp(first, second, first_len) != 0);
    pssst_server_reply_handler_free(unpack(f, first, first_len));
    pssst_client_reply_handler_free(a);
    pssst_client_reply_handler_free(b);
}

/* Packs MESSAGE with `client` for `server`, unpacks it there and answers;
 * returns the result of unpacking the (possibly relabeled) request, and
 * writes the request's and reply's suite fields. */
static pssst_result round_trip(const pssst_client *client, const pssst_server *server,
                               uint16_t relabel, uint16_t *request_suite, uint16_t *reply_suite)
{
    uint8_t packet[256], message[256], client_key[PSSST_KEY_LEN], reply[256];
    size_t packet_len = 0, message_len = 0, reply_len = 0;
    bool authenticated;
    pssst_client_reply_handler *client_handler = NULL;
    pssst_server_reply_handler *server_handler = NULL;
    pssst_result result;

    CHECK_RESULT(pssst_client_pack_request(client, MESSAGE, MESSAGE_LEN, packet, sizeof packet,
                                           &packet_len, &client_handler),
                 PSSST_OK);
    *request_suite = (uint16_t)(packet[2] << 8 | packet[3]);
    *reply_suite = 0;
    if (relabel != 0) {
        packet[2] = (uint8_t)(relabel >> 8);
        packet[3] = (uint8_t)relabel;
    }
    result = pssst_server_unpack_request(server, packet, packet_len, message, sizeof message,
                                         &message_len, client_key, &authenticated,
                                         &server_handler);
    if (result == PSSST_OK) {
        CHECK(message_len == MESSAGE_LEN && memcmp(message, MESSAGE, MESSAGE_LEN) == 0);
        CHECK_RESULT(pssst_server_reply_handler_pack(server_handler, MESSAGE, MESSAGE_LEN, reply,
                                                     sizeof reply, &reply_len),
                     PSSST_OK);
        *reply_suite = (uint16_t)(reply[2] << 8 | reply[3]);
        CHECK_RESULT(pssst_client_reply_handler_unpack(client_handler, reply, reply_len, message,
                                                       sizeof message, &message_len),
                     PSSST_OK);
    } else {
        CHECK(server_handler == NULL && message_len == 0);
    }
    pssst_server_reply_handler_free(server_handler);
    pssst_client_reply_handler_free(client_handler);
    return result;
}

static void test_suites(const struct fixture *f)
{
    static const uint16_t SUITES[] = {PSSST_SUITE_X25519_AESGCM128,
                                      PSSST_SUITE_X25519_AESGCMSIV128};
    const uint16_t unknown[] = {PSSST_SUITE_X25519_AESGCMSIV128, 2};
    uint8_t junk[PSSST_KEY_LEN];
    pssst_client *client = (pssst_client *)junk;
    pssst_server *server = (pssst_server *)junk;
    uint16_t request_suite, reply_suite;

    CHECK(PSSST_SUITE_X25519_AESGCM128 == 1 && PSSST_SUITE_X25519_AESGCMSIV128 == 0xFF01);
    /* Unknown suites, empty lists and NULLs are refused; out-parameters NULL. */
    CHECK_RESULT(pssst_client_new_with_suite(f->server_public, NULL, 2, &client),
                 PSSST_ERR_UNSUPPORTED_CIPHER_SUITE);
    CHECK(client == NULL);
    CHECK_RESULT(pssst_client_new_with_suite(NULL, NULL, 1, &client), PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_client_new_with_suite(f->server_public, NULL, 1, NULL),
                 PSSST_ERR_NULL_ARGUMENT);
    server = (pssst_server *)junk;
    CHECK_RESULT(pssst_server_new_with_suites(f->server_private, unknown, 2, &server),
                 PSSST_ERR_UNSUPPORTED_CIPHER_SUITE);
    CHECK(server == NULL);
    server = (pssst_server *)junk;
    CHECK_RESULT(pssst_server_new_with_suites(f->server_private, SUITES, 0, &server),
                 PSSST_ERR_UNSUPPORTED_CIPHER_SUITE);
    CHECK(server == NULL);
    CHECK_RESULT(pssst_server_new_with_suites(f->server_private, NULL, 1, &server),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_server_new_with_suites(NULL, SUITES, 1, &server),
                 PSSST_ERR_NULL_ARGUMENT);
    CHECK_RESULT(pssst_server_new_with_suites(f->server_private, SUITES, 1, NULL),
                 PSSST_ERR_NULL_ARGUMENT);

    /* Every client suite against servers accepting each suite, and both. */
    for (size_t c = 0; c < 2; c++) {
        for (int authed = 0; authed < 2; authed++) {
            client = NULL;
            CHECK_RESULT(pssst_client_new_with_suite(f->server_public,
                                                     authed ? f->client_private : NULL,
                                                     SUITES[c], &client),
                         PSSST_OK);
            /* The default server accepts both and replies in the request's suite. */
            CHECK_RESULT(round_trip(client, f->server, 0, &request_suite, &reply_suite),
                         PSSST_OK);
            CHECK(request_suite == SUITES[c] && reply_suite == SUITES[c]);
            /* The header is the AAD: relabeled with the other suite, it fails. */
            CHECK_RESULT(round_trip(client, f->server, SUITES[1 - c], &request_suite,
                                    &reply_suite),
                         PSSST_ERR_DECRYPTION_FAILED);
            for (size_t s = 0; s < 3; s++) {
                /* s = 0, 1: that suite alone; s = 2: both listed. */
                server = NULL;
                CHECK_RESULT(pssst_server_new_with_suites(f->server_private, SUITES + s % 2,
                                                          s == 2 ? 2 : 1, &server),
                             PSSST_OK);
                pssst_result expected = s == 2 || s == c ? PSSST_OK
                                                         : PSSST_ERR_UNSUPPORTED_CIPHER_SUITE;
                CHECK_RESULT(round_trip(client, server, 0, &request_suite, &reply_suite),
                             expected);
                pssst_server_free(server);
            }
            pssst_client_free(client);
        }
    }
}

int main(void)
{
    struct fixture f;
    fixture_init(&f);
    test_results_and_version();
    test_keys_and_sizes(&f);
    test_free_null();
    test_null_key_functions(&f);
    test_null_pack_request(&f);
    test_null_client_unpack(&f);
    test_null_server_unpack(&f);
    test_null_reply_pack(&f);
    test_empty_buffers(&f);
    test_too_small_and_reuse(&f);
    test_reply_mismatch(&f);
    test_bad_inputs(&f);
    test_callback_rng(&f);
    test_suites(&f);
    fixture_free(&f);
    return finish("test_api");
}
