/* permessage-deflate (RFC 7692) from C: a wskit server and a wskit client in one context.
 *
 *     ./target/c/compression [--no-compression]
 *
 * The client sends a 20 KB JSON-like message and the server echoes it. Prints what each end
 * negotiated (wskit_conn_deflate_params) and, from the tracer, the payload bytes on the wire.
 * The listener's defaults ask for no context takeover, so an idle connection holds no
 * compression state; --no-compression turns it off on the client (wskit_config_set_deflate). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wskit.h"

#define UNIT "{\"id\":1234,\"name\":\"player-one\",\"pos\":[1.5,-3.25,7.0],\"alive\":true},"

typedef struct {
    uint64_t client, server;
    int opened, echoed;
    unsigned long long wire_out, wire_in;
} app_t;

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    app_t *app = ud;
    (void)ctx;
    if (ev->listener) app->server = ev->conn;
    app->opened++;
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    app_t *app = ud;
    if (ev->conn == app->server) {
        wskit_conn_send_text(ctx, ev->conn, (const char *)ev->data, ev->len); /* echo */
    } else {
        app->echoed = (int)ev->len;
    }
}

static void tracer(void *ud, const wskit_trace *t) {
    app_t *app = ud;
    if (t->kind != WSKIT_TRACE_FRAME || t->conn != app->client || (t->opcode != 1 && t->opcode != 2)) return;
    if (t->direction == WSKIT_TRACE_SENT) app->wire_out += t->payload_len;
    else app->wire_in += t->payload_len;
}

static void print_params(const char *who, wskit_ctx *ctx, uint64_t conn) {
    wskit_deflate_params p;
    if (wskit_conn_deflate_params(ctx, conn, &p) != WSKIT_OK) {
        printf("%s: %s\n", who, wskit_error_last());
    } else if (!p.negotiated) {
        printf("%s negotiated: no compression\n", who);
    } else {
        printf("%s negotiated: permessage-deflate, server %s context takeover, window %u bits; "
               "client %s context takeover, window %u bits\n", who,
               p.server_no_context_takeover ? "no" : "with", (unsigned)p.server_max_window_bits,
               p.client_no_context_takeover ? "no" : "with", (unsigned)p.client_max_window_bits);
    }
}

int main(int argc, char **argv) {
    app_t app = {0};
    wskit_ctx *ctx = NULL;
    wskit_config *client_cfg = NULL;
    uint32_t listener = 0;
    uint16_t port = 0;
    char url[64], *message;
    size_t unit = strlen(UNIT), len = 300 * unit, i;
    int rounds;

    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--no-compression") != 0)) {
        fprintf(stderr, "usage: %s [--no-compression]\n", argv[0]);
        return 2;
    }
    message = malloc(len);
    if (!message) return 1;
    for (i = 0; i < 300; i++) memcpy(message + i * unit, UNIT, unit);

    if (wskit_ctx_new(&ctx) != WSKIT_OK || wskit_config_new(&client_cfg) != WSKIT_OK) {
        fprintf(stderr, "setup: %s\n", wskit_error_last());
        return 1;
    }
    if (argc == 2) wskit_config_set_deflate(client_cfg, false);
    wskit_ctx_on_open(ctx, on_open, &app);
    wskit_ctx_on_message(ctx, on_message, &app);
    wskit_ctx_set_tracer(ctx, tracer, &app);
    if (wskit_ctx_listen(ctx, "127.0.0.1:0", WSKIT_NTS, NULL, &listener) != WSKIT_OK ||
        wskit_ctx_local_port(ctx, listener, &port) != WSKIT_OK) {
        fprintf(stderr, "listen: %s\n", wskit_error_last());
        return 1;
    }
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", (unsigned)port);
    if (wskit_ctx_connect(ctx, url, WSKIT_NTS, client_cfg, &app.client) != WSKIT_OK) {
        fprintf(stderr, "connect: %s\n", wskit_error_last());
        return 1;
    }
    wskit_config_free(client_cfg);
    for (rounds = 0; app.opened < 2 && rounds < 500; rounds++) wskit_ctx_poll(ctx, 10, NULL);
    print_params("server", ctx, app.server);
    print_params("client", ctx, app.client);
    wskit_conn_send_text(ctx, app.client, message, len);
    for (rounds = 0; !app.echoed && rounds < 500; rounds++) wskit_ctx_poll(ctx, 10, NULL);
    printf("message: %zu bytes; on the wire: %llu bytes sent, %llu bytes of echo received\n", len, app.wire_out,
           app.wire_in);
    wskit_ctx_free(ctx);
    free(message);
    return app.echoed == (int)len ? 0 : 1;
}
