/* docs/c.md's retry pattern (`transact`, extracted from that page into
 * retry_pattern.c by tests/legs/30-c-ffi.sh) against a UDP echo server
 * behind a balancer whose first flow went to a dead backend: datagrams from
 * the first source port it sees are dropped, every other flow is answered.
 * Passes only if a retransmission leaves from a new port, and the reply
 * taken is the genuine one. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/time.h>

#include "test_support.h"
#include "retry_pattern.c"

struct pinned_server {
    int fd;
    const pssst_server *server;
    atomic_int stop;
    int dead_port, dropped, answered;
};

/* Answers every request, reversed, except those from the dead flow. */
static void *serve(void *arg)
{
    struct pinned_server *s = arg;
    uint8_t packet[65536], message[65536], reply[65536], client_key[PSSST_KEY_LEN];
    while (!atomic_load(&s->stop)) {
        struct sockaddr_in peer;
        socklen_t peer_len = sizeof peer;
        ssize_t n = recvfrom(s->fd, packet, sizeof packet, 0, (struct sockaddr *)&peer, &peer_len);
        if (n < 0)
            continue; /* the receive timeout: look at `stop` again */
        int port = ntohs(peer.sin_port);
        if (s->dead_port == 0 || s->dead_port == port) {
            s->dead_port = port;
            s->dropped++;
            continue;
        }
        size_t message_len, reply_len;
        bool authenticated;
        pssst_server_reply_handler *handler = NULL;
        if (pssst_server_unpack_request(s->server, packet, (size_t)n, message, sizeof message,
                                        &message_len, client_key, &authenticated,
                                        &handler) != PSSST_OK)
            continue;
        for (size_t k = 0; k < message_len / 2; k++) {
            uint8_t t = message[k];
            message[k] = message[message_len - 1 - k];
            message[message_len - 1 - k] = t;
        }
        if (pssst_server_reply_handler_pack(handler, message, message_len, reply, sizeof reply,
                                            &reply_len) == PSSST_OK &&
            sendto(s->fd, reply, reply_len, 0, (struct sockaddr *)&peer, peer_len) >= 0)
            s->answered++;
        pssst_server_reply_handler_free(handler);
    }
    return NULL;
}

int main(void)
{
    uint8_t server_private[PSSST_KEY_LEN], server_public[PSSST_KEY_LEN];
    pssst_server *server = NULL;
    pssst_client *client = NULL;
    CHECK_RESULT(pssst_generate_key_pair(server_private, server_public), PSSST_OK);
    CHECK_RESULT(pssst_server_new(server_private, &server), PSSST_OK);
    CHECK_RESULT(pssst_client_new(server_public, NULL, &client), PSSST_OK);

    struct pinned_server s = {.fd = socket(AF_INET, SOCK_DGRAM, 0), .server = server};
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t addr_len = sizeof addr;
    struct timeval tick = {.tv_sec = 0, .tv_usec = 100000};
    CHECK(s.fd >= 0);
    CHECK(bind(s.fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(getsockname(s.fd, (struct sockaddr *)&addr, &addr_len) == 0);
    CHECK(setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick) == 0);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, serve, &s) == 0);

    /* Short waits, so the dead flow costs little; two requests. */
    const char *messages[] = {"anyone there?", "again"}, *expected[] = {"?ereht enoyna", "niaga"};
    for (int i = 0; i < 2; i++) {
        uint8_t reply[256];
        size_t reply_len = 0;
        int result = transact(client, (struct sockaddr *)&addr, addr_len,
                              (const uint8_t *)messages[i], strlen(messages[i]), reply,
                              sizeof reply, &reply_len,
                              (pssst_retry_schedule){.first_wait_ms = 50, .retries = 4});
        CHECK(result == 0);
        CHECK(reply_len == strlen(expected[i]) && memcmp(reply, expected[i], reply_len) == 0);
    }
    /* A schedule that would resend past the window sends nothing. */
    int before = s.dropped + s.answered;
    uint8_t unused[16];
    size_t unused_len;
    CHECK(transact(client, (struct sockaddr *)&addr, addr_len, (const uint8_t *)"x", 1, unused,
                   sizeof unused, &unused_len,
                   (pssst_retry_schedule){.first_wait_ms = 5000, .retries = 2}) == -1);
    CHECK(s.dropped + s.answered == before);
    atomic_store(&s.stop, 1);
    pthread_join(thread, NULL);
    close(s.fd);
    /* The first attempt went down the dead flow; retransmissions got through. */
    CHECK(s.dropped >= 1);
    CHECK(s.answered >= 2);

    pssst_client_free(client);
    pssst_server_free(server);
    return finish("test_retry");
}
