/*
 * Reconnecting client in C: sends COUNT text messages to an echo server that may not be up yet,
 * or may go away and come back, and exits once every message was echoed.
 *
 *     target/c/reconnect_client ws://127.0.0.1:9001/ 5
 *     target/c/echo_server 127.0.0.1:9001      # start it now, or kill and restart it meanwhile
 *
 * Reconnect is on (100 ms .. 2 s, full jitter, at most 40 attempts in a row) and sends made while
 * the connection is not open are queued (up to 64 KiB) and written in order after the next open.
 * Each attempt prints a line ("reconnect: attempt 2 in 187 ms (connect failed: ...)"); messages the
 * queue could not deliver are printed as "undelivered". A message whose echo had not come back when
 * the connection dropped is sent again after the reconnect, so every message gets its echo.
 * Exit status 0 when every message got its echo, 1 when the attempts ran out.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wskit.h"

typedef struct {
    uint64_t conn;
    int count, echoed, done, failed;
} client_t;

static void send_from(client_t *c, wskit_ctx *ctx, int first) {
    int i;
    char text[32];
    for (i = first; i < c->count; i++) {
        snprintf(text, sizeof text, "message %d", i + 1);
        if (wskit_conn_send_text(ctx, c->conn, text, WSKIT_NTS) != WSKIT_OK)
            fprintf(stderr, "reconnect_client: send: %s\n", wskit_error_last());
    }
}

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    printf("open (same id: %s)\n", ev->conn == c->conn ? "yes" : "no");
    fflush(stdout);
    /* The offline queue was written just before this event. After a reconnect, send again what
     * was in flight when the connection dropped (sent, never echoed). */
    (void)ctx;
}

static void on_reconnect(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    wskit_reconnect_state rs;
    printf("reconnect: attempt %u in %u ms (%.*s)\n", (unsigned)ev->code, (unsigned)ev->listener,
           (int)ev->len, (const char *)ev->data);
    fflush(stdout);
    /* Messages in flight when the connection dropped are lost with it: queue them again (the
     * queue is empty unless they were queued while offline). */
    if (wskit_conn_reconnect_state(ctx, ev->conn, &rs) == WSKIT_OK && rs.queued_messages == 0 && ev->code == 1)
        send_from(c, ctx, c->echoed);
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    printf("echo: %.*s\n", (int)ev->len, (const char *)ev->data);
    fflush(stdout);
    if (++c->echoed == c->count) wskit_conn_close(ctx, ev->conn, 1000, "done", WSKIT_NTS);
}

static void on_undelivered(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    (void)ud;
    (void)ctx;
    printf("undelivered (reason %u): %.*s\n", (unsigned)ev->code, (int)ev->len, (const char *)ev->data);
}

static void on_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    (void)ctx;
    printf("closed %u\n", (unsigned)ev->code);
    c->failed = c->echoed < c->count;
    c->done = 1;
}

int main(int argc, char **argv) {
    client_t c;
    wskit_ctx *ctx = NULL;
    wskit_config *cfg = NULL;
    if (argc < 2) {
        fprintf(stderr, "usage: %s ws://host:port/ [COUNT]\n", argv[0]);
        return 2;
    }
    memset(&c, 0, sizeof c);
    c.count = argc > 2 ? atoi(argv[2]) : 3;
    if (wskit_ctx_new(&ctx) != WSKIT_OK || wskit_config_new(&cfg) != WSKIT_OK) return 1;
    wskit_config_set_reconnect(cfg, 100, 2000);
    wskit_config_set_reconnect_max_attempts(cfg, 40);
    wskit_config_set_offline_queue_bytes(cfg, 64 << 10);
    wskit_ctx_on_open(ctx, on_open, &c);
    wskit_ctx_on_reconnect(ctx, on_reconnect, &c);
    wskit_ctx_on_message(ctx, on_message, &c);
    wskit_ctx_on_undelivered(ctx, on_undelivered, &c);
    wskit_ctx_on_close(ctx, on_close, &c);
    if (wskit_ctx_connect(ctx, argv[1], WSKIT_NTS, cfg, &c.conn) != WSKIT_OK) {
        fprintf(stderr, "reconnect_client: connect: %s\n", wskit_error_last());
        return 1;
    }
    wskit_config_free(cfg);
    /* Not open yet: these go to the offline queue and are written right after the open. */
    send_from(&c, ctx, 0);
    while (!c.done) {
        if (wskit_ctx_poll(ctx, 100, NULL) != WSKIT_OK) {
            fprintf(stderr, "reconnect_client: poll: %s\n", wskit_error_last());
            break;
        }
    }
    wskit_ctx_free(ctx);
    return c.failed ? 1 : 0;
}
