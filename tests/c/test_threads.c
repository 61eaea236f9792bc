/* Many threads share one pssst_server and two pssst_clients (anonymous and
 * client-authenticated): each thread does round trips with its own
 * handlers, checking every message and client key.
 *
 *     test_threads [THREADS [ROUND_TRIPS_PER_THREAD]]   (default 8 1000) */
#include <pthread.h>

#include "test_support.h"

struct shared {
    const pssst_server *server;
    const pssst_client *anonymous, *authenticated;
    uint8_t client_public[PSSST_KEY_LEN];
    unsigned round_trips;
};

struct worker {
    pthread_t thread;
    const struct shared *shared;
    unsigned id, failures;
};

/* One round trip; returns 0 on success. */
static int round_trip(const struct shared *s, unsigned thread_id, unsigned i)
{
    uint8_t message[64], request[256], plaintext[256], reply[256], answer[256];
    uint8_t client_key[PSSST_KEY_LEN];
    size_t message_len = (size_t)snprintf((char *)message, sizeof message, "thread %u #%u",
                                          thread_id, i);
    size_t request_len, plaintext_len, reply_len, answer_len;
    bool authenticated, use_auth = (i + thread_id) % 2 == 0;
    const pssst_client *client = use_auth ? s->authenticated : s->anonymous;
    pssst_client_reply_handler *client_handler = NULL;
    pssst_server_reply_handler *server_handler = NULL;
    int failed = 1;

    if (pssst_client_pack_request(client, message, message_len, request, sizeof request,
                                  &request_len, &client_handler) != PSSST_OK ||
        pssst_server_unpack_request(s->server, request, request_len, plaintext,
                                    sizeof plaintext, &plaintext_len, client_key,
                                    &authenticated, &server_handler) != PSSST_OK) {
        goto done;
    }
    if (plaintext_len != message_len || memcmp(plaintext, message, message_len) != 0 ||
        authenticated != use_auth ||
        (use_auth && memcmp(client_key, s->client_public, PSSST_KEY_LEN) != 0)) {
        goto done;
    }
    /* Reply with the message reversed. */
    for (size_t k = 0; k < plaintext_len / 2; k++) {
        uint8_t t = plaintext[k];
        plaintext[k] = plaintext[plaintext_len - 1 - k];
        plaintext[plaintext_len - 1 - k] = t;
    }
    if (pssst_server_reply_handler_pack(server_handler, plaintext, plaintext_len, reply,
                                        sizeof reply, &reply_len) != PSSST_OK ||
        pssst_client_reply_handler_unpack(client_handler, reply, reply_len, answer,
                                          sizeof answer, &answer_len) != PSSST_OK ||
        answer_len != plaintext_len || memcmp(answer, plaintext, answer_len) != 0) {
        goto done;
    }
    failed = 0;
done:
    pssst_server_reply_handler_free(server_handler);
    pssst_client_reply_handler_free(client_handler);
    return failed;
}

static void *work(void *argument)
{
    struct worker *worker = argument;
    for (unsigned i = 0; i < worker->shared->round_trips; i++) {
        worker->failures += (unsigned)round_trip(worker->shared, worker->id, i);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned threads = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 8;
    struct shared shared = {0};
    uint8_t server_private[PSSST_KEY_LEN], server_public[PSSST_KEY_LEN];
    uint8_t client_private[PSSST_KEY_LEN];
    pssst_server *server = NULL;
    pssst_client *anonymous = NULL, *authenticated = NULL;

    shared.round_trips = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1000;
    if (threads == 0 || threads > 256 || shared.round_trips == 0) {
        fprintf(stderr, "usage: %s [THREADS(1..256) [ROUND_TRIPS]]\n", argv[0]);
        return EXIT_FAILURE;
    }
    CHECK_RESULT(pssst_generate_key_pair(server_private, server_public), PSSST_OK);
    CHECK_RESULT(pssst_generate_key_pair(client_private, shared.client_public), PSSST_OK);
    CHECK_RESULT(pssst_server_new(server_private, &server), PSSST_OK);
    CHECK_RESULT(pssst_client_new(server_public, NULL, &anonymous), PSSST_OK);
    CHECK_RESULT(pssst_client_new(server_public, client_private, &authenticated), PSSST_OK);
    shared.server = server;
    shared.anonymous = anonymous;
    shared.authenticated = authenticated;

    struct worker *workers = calloc(threads, sizeof *workers);
    CHECK(workers != NULL);
    if (server != NULL && anonymous != NULL && authenticated != NULL && workers != NULL) {
        for (unsigned t = 0; t < threads; t++) {
            workers[t] = (struct worker){.shared = &shared, .id = t};
            CHECK(pthread_create(&workers[t].thread, NULL, work, &workers[t]) == 0);
        }
        for (unsigned t = 0; t < threads; t++) {
            CHECK(pthread_join(workers[t].thread, NULL) == 0);
            if (!CHECK(workers[t].failures == 0)) {
                fprintf(stderr, "thread %u: %u failed round trips\n", t, workers[t].failures);
            }
        }
        printf("test_threads: %u threads x %u round trips\n", threads, shared.round_trips);
    }
    free(workers);
    pssst_client_free(authenticated);
    pssst_client_free(anonymous);
    pssst_server_free(server);
    return finish("test_threads");
}
