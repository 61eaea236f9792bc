/* Known-answer and reject vectors (tests/vectors), both cipher suites,
 * through the C API.
 *
 * Every KAT case: the server unpacks request_packet to request_plaintext
 * (and the client key), re-creates reply_packet byte for byte, and a
 * too-small message buffer is retried; the client, fed ephemeral_rng_bytes
 * through pssst_client_pack_request_with_rng, re-creates request_packet
 * byte for byte and unpacks reply_packet. Every reject case fails with its
 * expected code, and every prefix of two KAT requests fails cleanly. */
#include "test_support.h"
#include "vectors.h"

/* A pssst_random_fn that hands out recorded bytes, then fails. */
struct recorded_random {
    const uint8_t *bytes;
    size_t len, used;
};

static int recorded_random_fill(void *context, uint8_t *buffer, size_t len)
{
    struct recorded_random *random = context;
    if (len > random->len - random->used) return -1;
    memcpy(buffer, random->bytes + random->used, len);
    random->used += len;
    return 0;
}

static int bytes_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    return a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0);
}

static void check_server_side(const struct kat_case *kat, const pssst_server *server)
{
    size_t request_len, plaintext_len, reply_len, expected_reply_len;
    uint8_t *request = hex_decode(kat->request_packet, &request_len);
    uint8_t *plaintext = hex_decode(kat->request_plaintext, &plaintext_len);
    uint8_t *reply_plaintext = hex_decode(kat->reply_plaintext, &reply_len);
    uint8_t *expected_reply = hex_decode(kat->reply_packet, &expected_reply_len);
    size_t capacity = request_len - PSSST_PACKET_OVERHEAD;
    uint8_t *message = allocate(capacity);
    uint8_t client_key[PSSST_KEY_LEN], expected_client_key[PSSST_KEY_LEN] = {0};
    bool authenticated = !kat->client_auth;
    size_t message_len = 12345;
    pssst_server_reply_handler *handler = NULL;

    if (kat->client_auth) hex_key(kat->client_public, expected_client_key);
    if (capacity > 0) {
        /* One byte short: told the size, no handler; then retry. */
        CHECK_RESULT(pssst_server_unpack_request(server, request, request_len, message,
                                                 capacity - 1, &message_len, client_key,
                                                 &authenticated, &handler),
                     PSSST_ERR_BUFFER_TOO_SMALL);
        CHECK(message_len == capacity);
        CHECK(handler == NULL);
    }
    if (CHECK_RESULT(pssst_server_unpack_request(server, request, request_len, message, capacity,
                                                 &message_len, client_key, &authenticated,
                                                 &handler),
                     PSSST_OK)) {
        CHECK(bytes_equal(message, message_len, plaintext, plaintext_len));
        CHECK(authenticated == kat->client_auth);
        CHECK(memcmp(client_key, expected_client_key, PSSST_KEY_LEN) == 0);

        uint8_t *reply = allocate(pssst_reply_size(reply_len));
        size_t packet_len = 0;
        CHECK(pssst_reply_size(reply_len) == expected_reply_len);
        CHECK_RESULT(pssst_server_reply_handler_pack(handler, reply_plaintext, reply_len, reply,
                                                     pssst_reply_size(reply_len), &packet_len),
                     PSSST_OK);
        CHECK(bytes_equal(reply, packet_len, expected_reply, expected_reply_len));
        free(reply);
    }
    pssst_server_reply_handler_free(handler);
    free(message);
    free(request);
    free(plaintext);
    free(reply_plaintext);
    free(expected_reply);
}

static void check_client_side(const struct kat_case *kat)
{
    size_t rng_len, plaintext_len, expected_request_len, reply_packet_len, reply_len;
    uint8_t server_public[PSSST_KEY_LEN], client_private[PSSST_KEY_LEN];
    uint8_t *rng_bytes = hex_decode(kat->ephemeral_rng_bytes, &rng_len);
    uint8_t *plaintext = hex_decode(kat->request_plaintext, &plaintext_len);
    uint8_t *expected_request = hex_decode(kat->request_packet, &expected_request_len);
    uint8_t *reply_packet = hex_decode(kat->reply_packet, &reply_packet_len);
    uint8_t *expected_reply = hex_decode(kat->reply_plaintext, &reply_len);
    pssst_client *client = NULL;
    pssst_client_reply_handler *handler = NULL;

    hex_key(kat->server_public, server_public);
    if (kat->client_auth) hex_key(kat->client_private, client_private);
    if (!CHECK_RESULT(pssst_client_new_with_suite(server_public,
                                                  kat->client_auth ? client_private : NULL,
                                                  kat->suite, &client),
                      PSSST_OK)) {
        goto done;
    }
    CHECK(pssst_request_size(client, plaintext_len) == expected_request_len);

    struct recorded_random random = {rng_bytes, rng_len, 0};
    uint8_t *request = allocate(expected_request_len);
    size_t request_len = 0;
    CHECK_RESULT(pssst_client_pack_request_with_rng(client, recorded_random_fill, &random,
                                                    plaintext, plaintext_len, request,
                                                    expected_request_len, &request_len,
                                                    &handler),
                 PSSST_OK);
    CHECK(random.used == rng_len);
    CHECK(bytes_equal(request, request_len, expected_request, expected_request_len));
    free(request);

    uint8_t *message = allocate(reply_packet_len - PSSST_PACKET_OVERHEAD);
    size_t message_len = 0;
    CHECK_RESULT(pssst_client_reply_handler_unpack(handler, reply_packet, reply_packet_len,
                                                   message,
                                                   reply_packet_len - PSSST_PACKET_OVERHEAD,
                                                   &message_len),
                 PSSST_OK);
    CHECK(bytes_equal(message, message_len, expected_reply, reply_len));
    CHECK_RESULT(pssst_client_reply_handler_unpack(handler, reply_packet, reply_packet_len,
                                                   message,
                                                   reply_packet_len - PSSST_PACKET_OVERHEAD,
                                                   &message_len),
                 PSSST_ERR_HANDLER_REUSED);
    free(message);

done:
    pssst_client_reply_handler_free(handler);
    pssst_client_free(client);
    free(rng_bytes);
    free(plaintext);
    free(expected_request);
    free(reply_packet);
    free(expected_reply);
}

static void check_kat(const struct kat_case *kat)
{
    uint8_t server_private[PSSST_KEY_LEN], server_public[PSSST_KEY_LEN];
    uint8_t public_key[PSSST_KEY_LEN];
    pssst_server *server = NULL;

    hex_key(kat->server_private, server_private);
    hex_key(kat->server_public, server_public);
    CHECK_RESULT(pssst_public_key_from_private(server_private, public_key), PSSST_OK);
    CHECK(memcmp(public_key, server_public, PSSST_KEY_LEN) == 0);
    if (kat->client_auth) {
        uint8_t client_private[PSSST_KEY_LEN], client_public[PSSST_KEY_LEN];
        hex_key(kat->client_private, client_private);
        hex_key(kat->client_public, client_public);
        CHECK_RESULT(pssst_public_key_from_private(client_private, public_key), PSSST_OK);
        CHECK(memcmp(public_key, client_public, PSSST_KEY_LEN) == 0);
    }
    if (CHECK_RESULT(pssst_server_new(server_private, &server), PSSST_OK)) {
        CHECK_RESULT(pssst_server_public_key(server, public_key), PSSST_OK);
        CHECK(memcmp(public_key, server_public, PSSST_KEY_LEN) == 0);
        check_server_side(kat, server);
    }
    pssst_server_free(server);
    check_client_side(kat);
}

/* Unpacks a packet that must be rejected with `expected` (or `also`). */
static void check_rejected(const char *id, const pssst_server *server, const uint8_t *packet,
                           size_t packet_len, pssst_result expected, pssst_result also)
{
    uint8_t *message = allocate(packet_len);
    uint8_t client_key[PSSST_KEY_LEN];
    bool authenticated = true;
    size_t message_len = 99;
    pssst_server_reply_handler *handler = (pssst_server_reply_handler *)message;

    pssst_result got = pssst_server_unpack_request(server, packet, packet_len, message,
                                                   packet_len, &message_len, client_key,
                                                   &authenticated, &handler);
    if (!CHECK(got == expected || got == also)) {
        fprintf(stderr, "  %s (%zu bytes): got %s, expected %s\n", id, packet_len,
                pssst_result_message(got), pssst_result_message(expected));
    }
    CHECK(handler == NULL);
    CHECK(message_len == 0);
    CHECK(!authenticated);
    pssst_server_reply_handler_free(handler);
    free(message);
}

static void check_reject_cases(void)
{
    for (size_t i = 0; i < REJECT_CASE_COUNT; i++) {
        const struct reject_case *reject = &REJECT_CASES[i];
        uint8_t server_private[PSSST_KEY_LEN];
        pssst_server *server = NULL;
        size_t packet_len;
        uint8_t *packet = hex_decode(reject->request_packet, &packet_len);

        hex_key(reject->server_private, server_private);
        if (CHECK_RESULT(pssst_server_new(server_private, &server), PSSST_OK)) {
            check_rejected(reject->id, server, packet, packet_len, reject->expected,
                           reject->also_accepted);
        }
        pssst_server_free(server);
        free(packet);
    }
}

/* Every proper prefix of a valid request is rejected cleanly. */
static void check_every_prefix(const struct kat_case *kat)
{
    uint8_t server_private[PSSST_KEY_LEN];
    pssst_server *server = NULL;
    size_t packet_len;
    uint8_t *packet = hex_decode(kat->request_packet, &packet_len);

    hex_key(kat->server_private, server_private);
    if (CHECK_RESULT(pssst_server_new(server_private, &server), PSSST_OK)) {
        for (size_t len = 0; len < packet_len; len++) {
            /* A copy of exactly `len` bytes, so ASan/valgrind see overreads. */
            uint8_t *prefix = allocate(len);
            memcpy(prefix, packet, len);
            check_rejected(kat->id, server, prefix, len, PSSST_ERR_TRUNCATED,
                           PSSST_ERR_DECRYPTION_FAILED);
            free(prefix);
        }
    }
    pssst_server_free(server);
    free(packet);
}

int main(void)
{
    for (size_t i = 0; i < KAT_CASE_COUNT; i++) check_kat(&KAT_CASES[i]);
    check_reject_cases();
    for (size_t i = 0; i < KAT_CASE_COUNT; i++) {
        const char *id = strchr(KAT_CASES[i].id, '/') + 1;
        if (strcmp(id, "unauth-16") == 0 || strcmp(id, "auth-16") == 0) {
            check_every_prefix(&KAT_CASES[i]);
        }
    }
    printf("test_vectors: %zu KAT cases, %zu reject cases\n", (size_t)KAT_CASE_COUNT,
           (size_t)REJECT_CASE_COUNT);
    return finish("test_vectors");
}
