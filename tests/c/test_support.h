/* Shared helpers for the C tests of libpssst: checks that count and report
   failures, and hex decoding for the test vectors. */
#ifndef PSSST_TEST_SUPPORT_H
#define PSSST_TEST_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pssst.h"

static int checks_run;
static int checks_failed;

#define CHECK(condition)                                                      \
    check_that((condition), #condition, __FILE__, __LINE__)

/* Checks that a call returned the expected pssst_result. */
#define CHECK_RESULT(call, expected)                                          \
    check_result((call), (expected), #call, __FILE__, __LINE__)

static inline int check_that(int ok, const char *what, const char *file, int line)
{
    checks_run++;
    if (!ok) {
        checks_failed++;
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
    }
    return ok;
}

static inline int check_result(pssst_result got, pssst_result expected, const char *call,
                               const char *file, int line)
{
    checks_run++;
    if (got != expected) {
        checks_failed++;
        fprintf(stderr, "%s:%d: FAILED: %s returned %u (%s), expected %u (%s)\n", file, line,
                call, (unsigned)got, pssst_result_message(got), (unsigned)expected,
                pssst_result_message(expected));
        return 0;
    }
    return 1;
}

/* Prints the totals; the exit status of a test program. */
static inline int finish(const char *program)
{
    printf("%s: %d checks, %d failed\n", program, checks_run, checks_failed);
    return checks_failed == 0 && checks_run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static inline int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex into a new malloc'd buffer (at least 1 byte, so never NULL);
   exits on malformed input, which would be a broken vector file. */
static inline unsigned char *hex_decode(const char *hex, size_t *len_out)
{
    size_t hex_len = strlen(hex);
    unsigned char *bytes = malloc(hex_len / 2 + 1);
    if (bytes == NULL || hex_len % 2 != 0) {
        fprintf(stderr, "bad hex or out of memory: %.40s\n", hex);
        exit(EXIT_FAILURE);
    }
    for (size_t i = 0; i < hex_len / 2; i++) {
        int high = hex_digit(hex[2 * i]), low = hex_digit(hex[2 * i + 1]);
        if (high < 0 || low < 0) {
            fprintf(stderr, "bad hex digit in %.40s\n", hex);
            exit(EXIT_FAILURE);
        }
        bytes[i] = (unsigned char)(high << 4 | low);
    }
    *len_out = hex_len / 2;
    return bytes;
}

/* Decodes a 32-byte key. */
static inline void hex_key(const char *hex, uint8_t key[PSSST_KEY_LEN])
{
    size_t len;
    unsigned char *bytes = hex_decode(hex, &len);
    if (len != PSSST_KEY_LEN) {
        fprintf(stderr, "key is %zu bytes, not 32: %s\n", len, hex);
        exit(EXIT_FAILURE);
    }
    memcpy(key, bytes, PSSST_KEY_LEN);
    free(bytes);
}

/* Allocates len bytes (at least 1) or exits. */
static inline uint8_t *allocate(size_t len)
{
    uint8_t *buffer = malloc(len > 0 ? len : 1);
    if (buffer == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(EXIT_FAILURE);
    }
    return buffer;
}

#endif /* PSSST_TEST_SUPPORT_H */
