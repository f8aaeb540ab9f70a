/* Helpers shared by the C tests: CHECK macros and polling until a condition holds. */
#ifndef WSKIT_TEST_UTIL_H
#define WSKIT_TEST_UTIL_H

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wskit.h"

static int test_failures = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
            test_failures++;                                                          \
        }                                                                             \
    } while (0)

#define CHECK_RC(expr, want)                                                          \
    do {                                                                              \
        wskit_status rc_ = (expr);                                                    \
        if (rc_ != (want)) {                                                          \
            fprintf(stderr, "%s:%d: %s returned %s, wanted %s (%s)\n", __FILE__,      \
                    __LINE__, #expr, wskit_status_name(rc_), wskit_status_name(want), \
                    wskit_error_last());                                              \
            test_failures++;                                                          \
        }                                                                             \
    } while (0)

#define CHECK_OK(expr) CHECK_RC(expr, WSKIT_OK)

static inline double test_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Polls until *flag is non-zero or `seconds` pass; returns *flag. */
static inline int poll_until(wskit_ctx *ctx, const volatile int *flag, double seconds) {
    double end = test_now() + seconds;
    while (!*flag && test_now() < end) {
        if (wskit_ctx_poll(ctx, 20, NULL) != WSKIT_OK) {
            fprintf(stderr, "poll failed: %s\n", wskit_error_last());
            return 0;
        }
    }
    return *flag;
}

/* Listens on 127.0.0.1:0 and writes "ws://127.0.0.1:PORT/" into url. */
static inline uint32_t listen_local(wskit_ctx *ctx, const wskit_config *config, char *url, size_t url_size) {
    uint32_t listener = 0;
    uint16_t port = 0;
    CHECK_OK(wskit_ctx_listen(ctx, "127.0.0.1:0", WSKIT_NTS, config, &listener));
    CHECK_OK(wskit_ctx_local_port(ctx, listener, &port));
    snprintf(url, url_size, "ws://127.0.0.1:%u/", (unsigned)port);
    return listener;
}

static inline int test_finish(const char *name) {
    if (test_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

#endif
