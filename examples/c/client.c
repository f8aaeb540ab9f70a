/*
 * Client in C: connects to a URL, sends each argument (or, without arguments, each line of stdin)
 * as a text message, prints every reply on its own line, then closes with 1000.
 *
 *     target/c/client ws://127.0.0.1:9001/ hello world
 *     printf 'a\nb\n' | target/c/client ws://127.0.0.1:9001/
 *
 * Messages are sent one at a time: the next one goes out when the reply to the previous one
 * arrived. Exit status 0 when every message got a reply and the close was clean.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wskit.h"
#include "trace_print.h"

typedef struct {
    char **messages;
    size_t count, next;
    uint64_t conn;
    int open, done, failed, clean;
} client_t;

static void send_next(client_t *c, wskit_ctx *ctx) {
    if (c->next < c->count) {
        const char *m = c->messages[c->next++];
        if (wskit_conn_send_text(ctx, c->conn, m, WSKIT_NTS) != WSKIT_OK) {
            fprintf(stderr, "client: send: %s\n", wskit_error_last());
            c->failed = 1;
        }
    } else {
        wskit_conn_close(ctx, c->conn, 1000, "bye", WSKIT_NTS);
    }
}

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    c->open = 1;
    c->conn = ev->conn;
    send_next(c, ctx);
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    if (ev->is_text) printf("%.*s\n", (int)ev->len, (const char *)ev->data);
    else printf("<%zu binary bytes>\n", ev->len);
    fflush(stdout);
    send_next(c, ctx);
}

static void on_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    (void)ctx;
    if (!ev->clean || ev->code != 1000)
        fprintf(stderr, "client: closed %u %.*s\n", (unsigned)ev->code, (int)ev->len, (const char *)ev->data);
    c->clean = ev->clean;
    c->done = 1;
}

static void on_rejected(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    (void)ud, (void)ctx;
    fprintf(stderr, "client: rejected with HTTP %u: %.*s\n", (unsigned)ev->code, (int)ev->len, (const char *)ev->data);
}

static void on_error(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    (void)ctx;
    fprintf(stderr, "client: %s: %s\n", wskit_status_name(ev->code), (const char *)ev->data);
    c->failed = 1;
}

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : "ws://127.0.0.1:9001/";
    const char *ca_file = NULL;
    int first_message = 2, trace = 0;
    wskit_config *config = NULL;
    client_t c;
    wskit_ctx *ctx = NULL;
    uint64_t conn = 0;
    char **lines = NULL;
    size_t nlines = 0, i;
    int rc;

    memset(&c, 0, sizeof c);
    if (argc > 3 && strcmp(argv[2], "--ca") == 0) {
        ca_file = argv[3];
        first_message = 4;
    }
    if (argc > first_message && strcmp(argv[first_message], "--trace") == 0) {
        trace = 1;
        first_message++;
    }
    if (argc > first_message) {
        c.messages = argv + first_message;
        c.count = (size_t)(argc - first_message);
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, stdin)) >= 0) {
            if (n > 0 && line[n - 1] == '\n') line[n - 1] = '\0';
            lines = realloc(lines, (nlines + 1) * sizeof *lines);
            if (!lines) abort();
            lines[nlines++] = strdup(line);
        }
        free(line);
        c.messages = lines;
        c.count = nlines;
    }
    if (wskit_ctx_new(&ctx) != WSKIT_OK) return 1;
    wskit_ctx_on_open(ctx, on_open, &c);
    wskit_ctx_on_message(ctx, on_message, &c);
    wskit_ctx_on_close(ctx, on_close, &c);
    wskit_ctx_on_error(ctx, on_error, &c);
    wskit_ctx_on_rejected(ctx, on_rejected, &c);
    if (trace) wskit_ctx_set_tracer(ctx, trace_print, NULL);
    if (ca_file && (wskit_config_new(&config) != WSKIT_OK ||
                    wskit_config_set_tls_ca_file(config, ca_file, WSKIT_NTS) != WSKIT_OK)) {
        fprintf(stderr, "client: %s\n", wskit_error_last());
        wskit_config_free(config);
        wskit_ctx_free(ctx);
        return 1;
    }
    rc = (int)wskit_ctx_connect(ctx, url, WSKIT_NTS, config, &conn);
    wskit_config_free(config);
    if (rc != WSKIT_OK) {
        fprintf(stderr, "client: %s\n", wskit_error_last());
        wskit_ctx_free(ctx);
        return 1;
    }
    while (!c.done) {
        if (wskit_ctx_poll(ctx, 500, NULL) != WSKIT_OK) {
            fprintf(stderr, "client: %s\n", wskit_error_last());
            break;
        }
    }
    wskit_ctx_free(ctx);
    for (i = 0; i < nlines; i++) free(lines[i]);
    free(lines);
    rc = (c.done && c.clean && !c.failed && c.next == c.count) ? 0 : 1;
    return rc;
}
