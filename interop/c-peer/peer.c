/*
 * Interop peer for pssst-rs's C API (libpssst), speaking the interop line
 * protocol on stdin/stdout: one TAG:hex line each (see interop/README.md).
 * `c-peer --suite 0xff01` makes its clients and its server use that cipher
 * suite only (pssst_client_new_with_suite, pssst_server_new_with_suites);
 * without it they are the defaults (suite-1 clients, a server of both).
 *
 *   cc -std=c11 -Wall -Wextra -Werror -I include interop/c-peer/peer.c \
 *      -L "$CARGO_TARGET_DIR/release" -Wl,-rpath,"$CARGO_TARGET_DIR/release" \
 *      -lpssst -o c-peer
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pssst.h"

#define KEY_LEN 32
#define PLAINTEXT_LEN 64
#define MAX_PACKET 4096

static void fail(const char *format, ...)
{
    va_list args;
    fputs("c-peer (libpssst): FAIL: ", stderr);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(1);
}

static void check(pssst_result result, const char *what)
{
    if (result != PSSST_OK)
        fail("%s: %s (%u)", what, pssst_result_message(result), (unsigned)result);
}

static void emit(const char *tag, const uint8_t *value, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    if (fputs(tag, stdout) == EOF || fputc(':', stdout) == EOF)
        fail("writing %s", tag);
    for (size_t i = 0; i < len; i++) {
        if (fputc(digits[value[i] >> 4], stdout) == EOF ||
            fputc(digits[value[i] & 15], stdout) == EOF)
            fail("writing %s", tag);
    }
    if (fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
        fail("writing %s", tag);
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes hex into out (capacity cap); returns the byte count or fails. */
static size_t unhex(const char *tag, const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex);
    if (n % 2 != 0)
        fail("%s: odd-length hex", tag);
    if (n / 2 > cap)
        fail("%s: %zu bytes is more than this peer accepts (%zu)", tag, n / 2, cap);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            fail("%s: bad hex", tag);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return n / 2;
}

static void reverse_into(const uint8_t *in, size_t len, uint8_t *out)
{
    for (size_t i = 0; i < len; i++)
        out[len - 1 - i] = in[i];
}

static void random_bytes(uint8_t *buf, size_t len)
{
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL || fread(buf, 1, len, f) != len)
        fail("reading /dev/urandom");
    fclose(f);
}

struct buffer {
    bool present;
    uint8_t data[MAX_PACKET];
    size_t len;
};

static struct {
    pssst_server *server;
    bool suite_given;
    uint16_t suite;
    uint8_t client_private[KEY_LEN];
    uint8_t plaintext[PLAINTEXT_LEN];

    struct buffer peer_plain;
    struct buffer peer_client_key;
    struct buffer pending[2];                   /* [0] REQUEST, [1] REQUEST_AUTH */
    pssst_client_reply_handler *handlers[2];    /* [0] REPLY, [1] REPLY_AUTH */
    bool seen[8];
    int served, verified;
    bool sent_done, peer_done;
} peer;

static const char *const tags[8] = {
    "SERVER_KEY", "CLIENT_KEY", "PLAINTEXT", "REQUEST",
    "REQUEST_AUTH", "REPLY", "REPLY_AUTH", "DONE",
};
enum { T_SERVER_KEY, T_CLIENT_KEY, T_PLAINTEXT, T_REQUEST, T_REQUEST_AUTH,
       T_REPLY, T_REPLY_AUTH, T_DONE };

static void serve(int auth)
{
    const char *tag = auth ? "REQUEST_AUTH" : "REQUEST";
    const struct buffer *pkt = &peer.pending[auth];
    static uint8_t message[MAX_PACKET], reply[MAX_PACKET], expect[MAX_PACKET];
    uint8_t client_key[KEY_LEN];
    bool authenticated = true;
    size_t message_len = 0, reply_len = 0;
    pssst_server_reply_handler *handler = NULL;

    if (pkt->len < PSSST_PACKET_OVERHEAD)
        fail("%s: %zu-byte packet is shorter than any request", tag, pkt->len);
    pssst_result r = pssst_server_unpack_request(
        peer.server, pkt->data, pkt->len, message, pkt->len - PSSST_PACKET_OVERHEAD,
        &message_len, client_key, &authenticated, &handler);
    if (r != PSSST_OK)
        fail("%s: server could not unpack the request: %s (%u)", tag,
             pssst_result_message(r), (unsigned)r);
    if (handler == NULL)
        fail("%s: unpack succeeded without a reply handler", tag);
    if (message_len != peer.peer_plain.len ||
        memcmp(message, peer.peer_plain.data, message_len) != 0)
        fail("%s: plaintext differs from the other side's PLAINTEXT", tag);
    if (auth) {
        if (!authenticated)
            fail("REQUEST_AUTH: no authenticated client key");
        if (memcmp(client_key, peer.peer_client_key.data, KEY_LEN) != 0)
            fail("REQUEST_AUTH: authenticated client key differs from the other side's CLIENT_KEY");
    } else if (authenticated) {
        fail("REQUEST: anonymous request unpacked as client-authenticated");
    }
    reverse_into(message, message_len, expect);
    size_t need = pssst_reply_size(message_len);
    if (need == 0 || need > sizeof reply)
        fail("%s: pssst_reply_size(%zu) = %zu", tag, message_len, need);
    check(pssst_server_reply_handler_pack(handler, expect, message_len, reply, need,
                                          &reply_len),
          "pssst_server_reply_handler_pack");
    pssst_server_reply_handler_free(handler);
    emit(auth ? "REPLY_AUTH" : "REPLY", reply, reply_len);
    peer.pending[auth].present = false;
    peer.served++;
}

static void process_pending(void)
{
    if (!peer.peer_plain.present)
        return;
    if (peer.pending[0].present)
        serve(0);
    if (peer.pending[1].present && peer.peer_client_key.present)
        serve(1);
}

static void send_requests(const uint8_t server_key[KEY_LEN])
{
    static uint8_t packet[MAX_PACKET];
    for (int auth = 0; auth < 2; auth++) {
        const char *tag = auth ? "REQUEST_AUTH" : "REQUEST";
        pssst_client *client = NULL;
        size_t packet_len = 0;
        const uint8_t *client_private = auth ? peer.client_private : NULL;
        if (peer.suite_given)
            check(pssst_client_new_with_suite(server_key, client_private, peer.suite, &client),
                  "pssst_client_new_with_suite");
        else
            check(pssst_client_new(server_key, client_private, &client), "pssst_client_new");
        size_t need = pssst_request_size(client, PLAINTEXT_LEN);
        if (need == 0 || need > sizeof packet)
            fail("%s: pssst_request_size = %zu", tag, need);
        check(pssst_client_pack_request(client, peer.plaintext, PLAINTEXT_LEN, packet, need,
                                        &packet_len, &peer.handlers[auth]),
              "pssst_client_pack_request");
        pssst_client_free(client);
        emit(tag, packet, packet_len);
    }
}

static void check_reply(int auth, const uint8_t *packet, size_t len)
{
    const char *tag = auth ? "REPLY_AUTH" : "REPLY";
    static uint8_t message[MAX_PACKET];
    uint8_t expect[PLAINTEXT_LEN];
    size_t message_len = 0;
    if (peer.handlers[auth] == NULL)
        fail("%s before this side sent its request", tag);
    if (len < PSSST_PACKET_OVERHEAD)
        fail("%s: %zu-byte packet is shorter than any reply", tag, len);
    pssst_result r = pssst_client_reply_handler_unpack(
        peer.handlers[auth], packet, len, message, len - PSSST_PACKET_OVERHEAD, &message_len);
    if (r != PSSST_OK)
        fail("%s: client could not unpack the reply: %s (%u)", tag, pssst_result_message(r),
             (unsigned)r);
    reverse_into(peer.plaintext, PLAINTEXT_LEN, expect);
    if (message_len != PLAINTEXT_LEN || memcmp(message, expect, PLAINTEXT_LEN) != 0)
        fail("%s: reply is not the reversed plaintext", tag);
    pssst_client_reply_handler_free(peer.handlers[auth]);
    peer.handlers[auth] = NULL;
    peer.verified++;
}

static void handle(char *line)
{
    static uint8_t value[MAX_PACKET];
    char *colon = strchr(line, ':');
    if (colon == NULL)
        fail("malformed line \"%.60s\"", line);
    *colon = '\0';
    int tag = -1;
    for (int i = 0; i < 8; i++)
        if (strcmp(line, tags[i]) == 0)
            tag = i;
    if (tag < 0)
        fail("unknown tag \"%.40s\"", line);
    if (peer.seen[tag])
        fail("duplicate %s line", tags[tag]);
    peer.seen[tag] = true;
    size_t len = unhex(tags[tag], colon + 1, value, sizeof value);

    switch (tag) {
    case T_SERVER_KEY:
        if (len != KEY_LEN)
            fail("SERVER_KEY is %zu bytes, want 32", len);
        send_requests(value);
        break;
    case T_CLIENT_KEY:
        if (len != KEY_LEN)
            fail("CLIENT_KEY is %zu bytes, want 32", len);
        /* fall through */
    case T_PLAINTEXT: {
        struct buffer *b = tag == T_CLIENT_KEY ? &peer.peer_client_key : &peer.peer_plain;
        memcpy(b->data, value, len);
        b->len = len;
        b->present = true;
        break;
    }
    case T_REQUEST:
    case T_REQUEST_AUTH: {
        struct buffer *b = &peer.pending[tag == T_REQUEST_AUTH];
        memcpy(b->data, value, len);
        b->len = len;
        b->present = true;
        break;
    }
    case T_REPLY:
    case T_REPLY_AUTH:
        check_reply(tag == T_REPLY_AUTH, value, len);
        break;
    case T_DONE:
        if (len != 0)
            fail("DONE carries data");
        peer.peer_done = true;
        break;
    }
    process_pending();
    if (peer.verified == 2 && !peer.sent_done) {
        emit("DONE", NULL, 0);
        peer.sent_done = true;
    }
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--suite") == 0) {
        char *end = NULL;
        unsigned long suite = strtoul(argv[2], &end, 0);
        if (*argv[2] == '\0' || *end != '\0' || suite > UINT16_MAX)
            fail("--suite %s is not a 16-bit number", argv[2]);
        peer.suite_given = true;
        peer.suite = (uint16_t)suite;
    } else if (argc > 1) {
        fputs("usage: c-peer [--suite ID]   (speaks the interop line protocol on "
              "stdin/stdout)\n",
              stderr);
        return 2;
    }
    uint8_t server_private[KEY_LEN], server_public[KEY_LEN], client_public[KEY_LEN];
    uint8_t derived[KEY_LEN];
    check(pssst_generate_key_pair(server_private, server_public), "pssst_generate_key_pair");
    check(pssst_generate_key_pair(peer.client_private, client_public), "pssst_generate_key_pair");
    check(pssst_public_key_from_private(server_private, derived), "pssst_public_key_from_private");
    if (memcmp(derived, server_public, KEY_LEN) != 0)
        fail("pssst_public_key_from_private disagrees with pssst_generate_key_pair");
    if (peer.suite_given)
        check(pssst_server_new_with_suites(server_private, &peer.suite, 1, &peer.server),
              "pssst_server_new_with_suites");
    else
        check(pssst_server_new(server_private, &peer.server), "pssst_server_new");
    random_bytes(peer.plaintext, PLAINTEXT_LEN);

    emit("SERVER_KEY", server_public, KEY_LEN);
    emit("CLIENT_KEY", client_public, KEY_LEN);
    emit("PLAINTEXT", peer.plaintext, PLAINTEXT_LEN);

    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) != -1) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        handle(line);
        if (peer.sent_done && peer.peer_done && peer.served == 2) {
            free(line);
            pssst_server_free(peer.server);
            return 0;
        }
    }
    free(line);
    fail("stdin closed before the exchange finished (served %d/2 requests, verified %d/2 "
         "replies, sent DONE %s, got DONE %s)",
         peer.served, peer.verified, peer.sent_done ? "yes" : "no",
         peer.peer_done ? "yes" : "no");
    return 1;
}
