/* Web server in C: a directory, a tiny dynamic endpoint and a WebSocket echo on one port.
 *
 *     web_server [ADDR] [DIR]      (default 127.0.0.1:8080 and .)
 *
 * GET /api/hello?name=you answers {"hello":"you"} from the HTTP_REQUEST callback; WebSocket
 * upgrades on any path echo every message; everything else is served from DIR by
 * wskit_http_serve_static (index.html, Range, If-Modified-Since; files stream from disk).
 * Same CLI as examples/web_server.rs and examples/python/web_server.py (which also show /api/slow,
 * an answer from a worker thread: in C that is wskit_remote_http_respond). */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "wskit.h"

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void on_http(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    (void)ud;
    if (ev->path_len == 10 && memcmp(ev->path, "/api/hello", 10) == 0) {
        char name[64] = "world", body[128];
        size_t i, n = 0;
        wskit_header type = {"Content-Type", WSKIT_NTS, "application/json", WSKIT_NTS};
        const char *q = ev->query;
        if (q && ev->query_len > 5 && memcmp(q, "name=", 5) == 0) {
            /* Letters and digits only, so the JSON stays valid. */
            for (i = 5; i < ev->query_len && q[i] != '&' && n + 1 < sizeof name; i++)
                if (isalnum((unsigned char)q[i])) name[n++] = q[i];
            name[n] = '\0';
        }
        n = (size_t)snprintf(body, sizeof body, "{\"hello\":\"%s\"}\n", name);
        wskit_http_respond(ctx, ev->conn, 200, &type, 1, (const uint8_t *)body, n);
        return;
    }
    wskit_http_serve_static(ctx, ev->conn);
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    (void)ud;
    if (ev->is_text)
        wskit_conn_send_text(ctx, ev->conn, (const char *)ev->data, ev->len);
    else
        wskit_conn_send_binary(ctx, ev->conn, ev->data, ev->len);
}

int main(int argc, char **argv) {
    const char *addr = argc > 1 ? argv[1] : "127.0.0.1:8080";
    const char *dir = argc > 2 ? argv[2] : ".";
    wskit_ctx *ctx = NULL;
    wskit_config *cfg = NULL;
    uint32_t listener = 0;
    uint16_t port = 0;
    if (wskit_ctx_new(&ctx) != WSKIT_OK || wskit_config_new(&cfg) != WSKIT_OK) return 1;
    wskit_config_set_static_dir(cfg, dir, WSKIT_NTS);
    wskit_ctx_on_http_request(ctx, on_http, NULL);
    wskit_ctx_on_message(ctx, on_message, NULL);
    if (wskit_ctx_listen(ctx, addr, WSKIT_NTS, cfg, &listener) != WSKIT_OK) {
        fprintf(stderr, "web_server: %s\n", wskit_error_last());
        return 1;
    }
    wskit_config_free(cfg);
    wskit_ctx_local_port(ctx, listener, &port);
    printf("web_server: listening on port %u (http:// and ws://)\n", (unsigned)port);
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop_requested) wskit_ctx_poll(ctx, 200, NULL);
    wskit_ctx_shutdown(ctx, 2000);
    wskit_ctx_free(ctx);
    return 0;
}
