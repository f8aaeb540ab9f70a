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

typedef struct {
    char **messages;
    size_t count, next;
    uint64_t conn;
    int open, done, failed, clean;
} client_t;

static void send_next(client_t *c, wskit_ctx *ctx) {
    if (c->next < c->count) {
        const char *m = c->messages[c->next++];
        if (wskit_send_text(ctx, c->conn, m, strlen(m)) != WSKIT_OK) {
            fprintf(stderr, "client: send: %s\n", wskit_error_last());
            c->failed = 1;
        }
    } else {
        wskit_close(ctx, c->conn, 1000, "bye");
    }
}

static void on_open(void *ud, wskit_ctx *ctx, uint64_t conn, uint32_t listener,
                    const char *subprotocol, const char *path, const char *peer) {
    client_t *c = ud;
    (void)listener, (void)subprotocol, (void)path, (void)peer;
    c->open = 1;
    c->conn = conn;
    send_next(c, ctx);
}

static void on_message(void *ud, wskit_ctx *ctx, uint64_t conn, bool is_text, const uint8_t *data,
                       size_t len) {
    client_t *c = ud;
    (void)conn;
    if (is_text) printf("%.*s\n", (int)len, (const char *)data);
    else printf("<%zu binary bytes>\n", len);
    fflush(stdout);
    send_next(c, ctx);
}

static void on_close(void *ud, wskit_ctx *ctx, uint64_t conn, uint16_t code, const char *reason,
                     size_t reason_len, bool clean) {
    client_t *c = ud;
    (void)ctx, (void)conn, (void)reason_len;
    if (!clean || code != 1000) fprintf(stderr, "client: closed %u %s\n", (unsigned)code, reason);
    c->clean = clean;
    c->done = 1;
}

static void on_error(void *ud, wskit_ctx *ctx, uint64_t conn, wskit_status status, const char *message) {
    client_t *c = ud;
    (void)ctx, (void)conn;
    fprintf(stderr, "client: %s: %s\n", wskit_status_name(status), message);
    c->failed = 1;
}

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : "ws://127.0.0.1:9001/";
    const char *ca_file = NULL;
    int first_message = 2;
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
    if (ca_file && (wskit_config_new(&config) != WSKIT_OK ||
                    wskit_config_set_tls_ca_file(config, ca_file) != WSKIT_OK)) {
        fprintf(stderr, "client: %s\n", wskit_error_last());
        wskit_config_free(config);
        wskit_ctx_free(ctx);
        return 1;
    }
    rc = (int)wskit_ctx_connect(ctx, url, config, &conn);
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
