/*
 * wskit C API echo server with the smallest handler, for bench/compare.sh ("wskit-c-min"): every
 * text and binary message goes back as it came, nothing is kept per connection. The same limits
 * as examples/c/echo_server.c (64 MiB messages and frames, 128 MiB send queue), without that
 * example's per-connection copy of the request headers (its `cmd:headers` test command), so the
 * idle row shows what the library costs a C program per connection.
 *
 *     cc -O2 -I include bench/peers/wskit_c_min_echo.c target/release/libwskit.a -lpthread -ldl -lm
 *     ./a.out 127.0.0.1:9208
 */
#include <stdio.h>

#include "wskit.h"

static void on_message(void *user_data, wskit_ctx *ctx, const wskit_event *ev) {
    wskit_status rc;
    (void)user_data;
    rc = ev->is_text ? wskit_conn_send_text(ctx, ev->conn, (const char *)ev->data, ev->len)
                     : wskit_conn_send_binary(ctx, ev->conn, ev->data, ev->len);
    if (rc != WSKIT_OK) {
        fprintf(stderr, "echo to %llu: %s (%s)\n", (unsigned long long)ev->conn, wskit_status_name(rc),
                wskit_error_last());
    }
}

int main(int argc, char **argv) {
    const char *addr = argc > 1 ? argv[1] : "127.0.0.1:9208";
    wskit_ctx *ctx = NULL;
    wskit_config *config = NULL;
    uint32_t listener = 0;
    if (wskit_ctx_new(&ctx) != WSKIT_OK || wskit_config_new(&config) != WSKIT_OK) {
        fprintf(stderr, "wskit_c_min_echo: %s\n", wskit_error_last());
        return 1;
    }
    wskit_config_set_max_message_size(config, (uint64_t)64 << 20);
    wskit_config_set_max_frame_size(config, (uint64_t)64 << 20);
    wskit_config_set_max_buffered(config, (size_t)128 << 20);
    wskit_ctx_on_message(ctx, on_message, NULL);
    if (wskit_ctx_listen(ctx, addr, WSKIT_NTS, config, &listener) != WSKIT_OK) {
        fprintf(stderr, "wskit_c_min_echo: cannot listen on %s: %s\n", addr, wskit_error_last());
        return 1;
    }
    wskit_config_free(config);
    printf("wskit_c_min_echo listening on ws://%s\n", addr);
    fflush(stdout);
    for (;;) {
        if (wskit_ctx_poll(ctx, 1000, NULL) != WSKIT_OK) {
            fprintf(stderr, "wskit_c_min_echo: %s\n", wskit_error_last());
        }
    }
}
