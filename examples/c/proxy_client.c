/*
 * Client through a proxy in C: connects to URL through PROXY (http://, https://, socks5://,
 * socks5h://; "env" to take it from http_proxy/https_proxy/all_proxy/no_proxy), sends MESSAGE,
 * prints the reply, closes with 1000.
 *
 *     target/c/proxy_client ws://127.0.0.1:9001/ http://127.0.0.1:3128 hello
 *     target/c/proxy_client wss://example.com/ socks5h://user:pass@127.0.0.1:1080 hello --ca ca.pem
 *
 * A proxy failure is printed with its detail: the status name, the proxy's HTTP status and
 * Proxy-Authenticate challenge, or the SOCKS5 reply code (the ERROR event's headers). Exit status
 * 0 when the reply came and the close was clean.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wskit.h"

typedef struct {
    const char *message;
    int done, ok;
} client_t;

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    if (wskit_conn_send_text(ctx, ev->conn, c->message, WSKIT_NTS) != WSKIT_OK)
        fprintf(stderr, "proxy_client: send: %s\n", wskit_error_last());
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    printf("%.*s\n", (int)ev->len, (const char *)ev->data);
    c->ok = 1;
    wskit_conn_close(ctx, ev->conn, 1000, "bye", WSKIT_NTS);
}

static void on_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    (void)ctx;
    if (!ev->clean) c->ok = 0;
    c->done = 1;
}

static void on_error(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    size_t i;
    (void)ud, (void)ctx;
    fprintf(stderr, "proxy_client: %s: %.*s\n", wskit_status_name(ev->code), (int)ev->len, (const char *)ev->data);
    /* Proxy failures (305-309): `:status` or `:socks-reply`, then the proxy's headers. */
    for (i = 0; i < ev->header_count; i++)
        fprintf(stderr, "  %.*s: %.*s\n", (int)ev->headers[i].name_len, ev->headers[i].name,
                (int)ev->headers[i].value_len, ev->headers[i].value);
}

int main(int argc, char **argv) {
    client_t c = {0};
    wskit_ctx *ctx = NULL;
    wskit_config *config = NULL;
    uint64_t conn = 0;
    int rc = 1;

    if (argc < 4) {
        fprintf(stderr, "usage: proxy_client URL PROXY|env MESSAGE [--ca CA.pem]\n");
        return 2;
    }
    c.message = argv[3];
    if (wskit_ctx_new(&ctx) != WSKIT_OK || wskit_config_new(&config) != WSKIT_OK) return 1;
    wskit_ctx_on_open(ctx, on_open, &c);
    wskit_ctx_on_message(ctx, on_message, &c);
    wskit_ctx_on_close(ctx, on_close, &c);
    wskit_ctx_on_error(ctx, on_error, &c);
    if (strcmp(argv[2], "env") != 0 && wskit_config_set_proxy(config, argv[2], WSKIT_NTS) != WSKIT_OK) {
        fprintf(stderr, "proxy_client: %s\n", wskit_error_last());
        goto out;
    }
    if (argc > 5 && strcmp(argv[4], "--ca") == 0 &&
        wskit_config_set_tls_ca_file(config, argv[5], WSKIT_NTS) != WSKIT_OK) {
        fprintf(stderr, "proxy_client: %s\n", wskit_error_last());
        goto out;
    }
    if (wskit_ctx_connect(ctx, argv[1], WSKIT_NTS, config, &conn) != WSKIT_OK) {
        fprintf(stderr, "proxy_client: connect: %s\n", wskit_error_last());
        goto out;
    }
    while (!c.done) {
        if (wskit_ctx_poll(ctx, 100, NULL) != WSKIT_OK) break;
    }
    rc = c.ok ? 0 : 1;
out:
    wskit_config_free(config);
    wskit_ctx_free(ctx);
    return rc;
}
