/*
 * Echo over a Unix domain socket in C: a server on a socket path and, in the same loop, a client
 * that reaches it with a `ws+unix:` URL (as Node `ws` writes them).
 *
 *     scripts/build-c.sh && target/c/unix_echo /tmp/echo.sock hello world
 *         -> prints "hello" and "world" (the echoes), then exits 0
 *     target/c/unix_echo --serve /tmp/echo.sock
 *         -> only the server, until SIGINT/SIGTERM (e.g. for websockets' unix_connect)
 *
 * The socket file is created with mode 0660 (owner and group may connect), replacing a stale
 * socket left by a crashed run (WSKIT_UNIX_REMOVE_STALE), and removed when the listener closes.
 * A path starting with '@' is a Linux abstract socket (no file).
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wskit.h"

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

typedef struct {
    uint64_t client; /* the client connection; the others are the server's */
    char **messages;
    int count;
    int replies;
    int done;
} state_t;

static void on_listen(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    (void)ud;
    (void)ctx;
    printf("listening on unix:%.*s\n", (int)ev->len, (const char *)ev->data);
    fflush(stdout);
}

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    int i;
    if (ev->conn != st->client) return; /* the server side */
    for (i = 0; i < st->count; i++) wskit_conn_send_text(ctx, ev->conn, st->messages[i], WSKIT_NTS);
    if (st->count == 0) wskit_conn_close(ctx, ev->conn, 1000, "", 0);
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    if (ev->conn != st->client) { /* server: echo */
        if (ev->is_text) wskit_conn_send_text(ctx, ev->conn, (const char *)ev->data, ev->len);
        else wskit_conn_send_binary(ctx, ev->conn, ev->data, ev->len);
        return;
    }
    printf("%.*s\n", (int)ev->len, (const char *)ev->data);
    if (++st->replies == st->count) wskit_conn_close(ctx, ev->conn, 1000, "done", WSKIT_NTS);
}

static void on_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    if (ev->conn == st->client) st->done = 1;
}

static void on_error(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    (void)ud;
    (void)ctx;
    fprintf(stderr, "error: %.*s\n", (int)ev->len, (const char *)ev->data);
}

int main(int argc, char **argv) {
    wskit_ctx *ctx = NULL;
    state_t st = {0};
    uint32_t listener = 0;
    int serve = argc > 1 && strcmp(argv[1], "--serve") == 0;
    int first = serve ? 2 : 1;
    const char *path;
    char url[256];
    int status = 0;

    if (argc <= first) {
        fprintf(stderr, "usage: %s SOCKET_PATH [MESSAGE...] | %s --serve SOCKET_PATH\n", argv[0], argv[0]);
        return 2;
    }
    path = argv[first];
    st.messages = argv + first + 1;
    st.count = argc - first - 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    if (wskit_ctx_new(&ctx) != WSKIT_OK) return 1;
    wskit_ctx_on_listen(ctx, on_listen, &st);
    wskit_ctx_on_open(ctx, on_open, &st);
    wskit_ctx_on_message(ctx, on_message, &st);
    wskit_ctx_on_close(ctx, on_close, &st);
    wskit_ctx_on_error(ctx, on_error, &st);
    if (wskit_ctx_listen_unix(ctx, path, WSKIT_NTS, 0660, WSKIT_UNIX_REMOVE_STALE, NULL, &listener) != WSKIT_OK) {
        fprintf(stderr, "listen on %s: %s\n", path, wskit_error_last());
        wskit_ctx_free(ctx);
        return 1;
    }
    if (!serve) {
        snprintf(url, sizeof url, "ws+unix://%s:/echo", path);
        if (wskit_ctx_connect(ctx, url, WSKIT_NTS, NULL, &st.client) != WSKIT_OK) {
            fprintf(stderr, "connect %s: %s\n", url, wskit_error_last());
            status = 1;
            st.done = 1;
        }
    }
    while (!stop_requested && !st.done) {
        if (wskit_ctx_poll(ctx, 100, NULL) != WSKIT_OK) {
            fprintf(stderr, "poll: %s\n", wskit_error_last());
            status = 1;
            break;
        }
    }
    if (!serve && st.replies != st.count) status = 1;
    wskit_ctx_shutdown(ctx, 2000); /* closes the listener: the socket file is removed */
    wskit_ctx_free(ctx);
    return status;
}
