/*
 * Echo server in C: sends every text and binary message back as it came. Same CLI and behaviour
 * as examples/echo_server.rs.
 *
 *     scripts/build-c.sh && target/c/echo_server 127.0.0.1:9001
 *
 * Prints one line when listening and runs until killed (SIGINT/SIGTERM: graceful shutdown, exit 0).
 * Limits are raised to what conformance suites send (64 MiB messages); the library defaults stay
 * safe. Text commands for tests: `cmd:close <code> <reason>` closes, `cmd:headers` answers with
 * the request headers as JSON, `cmd:ping <payload>` sends a ping. `--trace` prints the handshake
 * lines and every frame header on stderr.
 *
 * It never drops a message: the library stops reading a connection whose echoes pile up unread
 * (read-pause high-water mark, 1 MiB by default), and an echo that still does not fit
 * (WSKIT_ERR_WOULD_BLOCK: one message bigger than the room under max_buffered) is kept, reading is
 * paused (wskit_conn_pause_reading) and the echo is sent from the writable event before reading
 * resumes.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wskit.h"
#include "json_buf.h"
#include "trace_print.h"

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* The first token of a comma-separated header value (the client's first offered subprotocol). */
static size_t first_token(const char *value, size_t len, const char **out) {
    size_t start = 0, end;
    while (start < len && (value[start] == ' ' || value[start] == '\t')) start++;
    end = start;
    while (end < len && value[end] != ',' && value[end] != ' ' && value[end] != '\t') end++;
    *out = value + start;
    return end - start;
}

/* Per connection (its user data, freed in on_close, which runs on every close path): the request
 * headers as JSON, and the echo waiting for room while reading is paused. */
typedef struct {
    char *headers_json;
    uint8_t *waiting;
    size_t waiting_len;
    int waiting_text, has_waiting;
} conn_state;

static wskit_status send_echo(wskit_ctx *ctx, uint64_t conn, int is_text, const uint8_t *data, size_t len) {
    return is_text ? wskit_conn_send_text(ctx, conn, (const char *)data, len)
                   : wskit_conn_send_binary(ctx, conn, data, len);
}

/* Accept every request, selecting the first offered subprotocol; remember the headers as JSON. */
static void on_accept(void *user_data, wskit_ctx *ctx, const wskit_event *ev) {
    size_t i, first_len = 0;
    const char *first = NULL;
    buf_t json = {0};
    (void)user_data;
    for (i = 0; i < ev->header_count; i++) {
        const wskit_header *h = &ev->headers[i];
        if (!first && h->name_len == 22 && strncasecmp(h->name, "Sec-WebSocket-Protocol", 22) == 0) {
            first_len = first_token(h->value, h->value_len, &first);
            if (first_len == 0) first = NULL;
        }
    }
    buf_put(&json, "{", 1);
    for (i = 0; i < ev->header_count; i++) {
        json_string(&json, ev->headers[i].name, ev->headers[i].name_len, 1);
        buf_put(&json, ":", 1);
        json_string(&json, ev->headers[i].value, ev->headers[i].value_len, 0);
        buf_put(&json, ",", 1);
    }
    buf_put(&json, "\"_subprotocol\":", 15);
    if (first) json_string(&json, first, first_len, 0);
    else buf_put(&json, "null", 4);
    buf_put(&json, "}", 1);
    if (wskit_conn_accept(ctx, ev->conn, first, first_len, NULL, 0) != WSKIT_OK) {
        fprintf(stderr, "echo_server: accept: %s\n", wskit_error_last());
    }
    {
        conn_state *state = calloc(1, sizeof *state);
        if (!state) abort();
        state->headers_json = json.data;
        if (wskit_conn_set_user_data(ctx, ev->conn, state) != WSKIT_OK) {
            free(json.data);
            free(state);
        }
    }
}

static int starts_with(const uint8_t *data, size_t len, const char *prefix) {
    size_t n = strlen(prefix);
    return len >= n && memcmp(data, prefix, n) == 0;
}

static void on_message(void *user_data, wskit_ctx *ctx, const wskit_event *ev) {
    wskit_status rc;
    const uint8_t *data = ev->data;
    size_t len = ev->len;
    uint64_t conn = ev->conn;
    (void)user_data;
    if (ev->is_text && starts_with(data, len, "cmd:close ")) {
        /* cmd:close <code> <reason...> */
        char *text = malloc(len + 1), *reason, *end;
        long code;
        if (!text) abort();
        memcpy(text, data, len);
        text[len] = '\0';
        code = strtol(text + 10, &end, 10);
        if (end == text + 10) code = 1000;
        reason = (*end == ' ') ? end + 1 : end;
        wskit_conn_close(ctx, conn, (uint16_t)code, reason, (size_t)(text + len - reason));
        free(text);
        return;
    }
    if (ev->is_text && len == 11 && memcmp(data, "cmd:headers", 11) == 0) {
        const conn_state *state = ev->conn_user_data;
        const char *json = state ? state->headers_json : NULL;
        if (json) wskit_conn_send_text(ctx, conn, json, WSKIT_NTS);
        return;
    }
    if (ev->is_text && (starts_with(data, len, "cmd:ping ") || (len == 8 && memcmp(data, "cmd:ping", 8) == 0))) {
        size_t skip = len > 8 ? 9 : 8;
        wskit_conn_ping(ctx, conn, data + skip, len - skip);
        return;
    }
    rc = send_echo(ctx, conn, ev->is_text, data, len);
    if (rc == WSKIT_ERR_WOULD_BLOCK && ev->conn_user_data) {
        /* Keep it and stop the input until it is sent (on_writable): nothing is lost. */
        conn_state *state = ev->conn_user_data;
        state->waiting = malloc(len ? len : 1);
        if (!state->waiting) abort();
        memcpy(state->waiting, data, len);
        state->waiting_len = len;
        state->waiting_text = ev->is_text;
        state->has_waiting = 1;
        wskit_conn_pause_reading(ctx, conn);
    } else if (rc != WSKIT_OK) {
        fprintf(stderr, "echo to %llu: %s (%s)\n", (unsigned long long)conn, wskit_status_name(rc),
                wskit_error_last());
    }
}

static void on_writable(void *user_data, wskit_ctx *ctx, const wskit_event *ev) {
    conn_state *state = ev->conn_user_data;
    wskit_status rc;
    (void)user_data;
    if (!state || !state->has_waiting) return;
    rc = send_echo(ctx, ev->conn, state->waiting_text, state->waiting, state->waiting_len);
    if (rc == WSKIT_ERR_WOULD_BLOCK) return; /* still no room: wait for the next writable event */
    if (rc != WSKIT_OK) {
        fprintf(stderr, "echo to %llu: %s (%s)\n", (unsigned long long)ev->conn, wskit_status_name(rc),
                wskit_error_last());
    }
    free(state->waiting);
    state->waiting = NULL;
    state->has_waiting = 0;
    wskit_conn_resume_reading(ctx, ev->conn);
}

static void on_close(void *user_data, wskit_ctx *ctx, const wskit_event *ev) {
    conn_state *state = ev->conn_user_data;
    (void)user_data, (void)ctx;
    if (!state) return;
    free(state->headers_json);
    free(state->waiting);
    free(state);
}

int main(int argc, char **argv) {
    const char *addr = "127.0.0.1:9001";
    const char *tls_cert = NULL, *tls_key = NULL;
    int trace = 0;
    wskit_ctx *ctx = NULL;
    wskit_config *config = NULL;
    uint32_t listener = 0;
    uint16_t port = 0;
    struct sigaction sa;
    size_t left = 0;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tls") == 0 && i + 2 < argc) {
            tls_cert = argv[++i];
            tls_key = argv[++i];
        } else if (strcmp(argv[i], "--trace") == 0) {
            trace = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: echo_server [ADDR] [--tls CERT_PEM KEY_PEM] [--trace]\n");
            return 2;
        } else {
            addr = argv[i];
        }
    }
    if (wskit_ctx_new(&ctx) != WSKIT_OK || wskit_config_new(&config) != WSKIT_OK) {
        fprintf(stderr, "echo_server: %s\n", wskit_error_last());
        return 1;
    }
    if (tls_cert && wskit_config_set_tls_cert_files(config, tls_cert, WSKIT_NTS, tls_key, WSKIT_NTS) != WSKIT_OK) {
        fprintf(stderr, "echo_server: %s\n", wskit_error_last());
        wskit_config_free(config);
        wskit_ctx_free(ctx);
        return 1;
    }
    wskit_config_set_max_message_size(config, (uint64_t)64 << 20);
    wskit_config_set_max_frame_size(config, (uint64_t)64 << 20);
    wskit_config_set_max_buffered(config, (size_t)128 << 20);
    wskit_ctx_on_accept(ctx, on_accept, NULL);
    wskit_ctx_on_message(ctx, on_message, NULL);
    wskit_ctx_on_writable(ctx, on_writable, NULL);
    wskit_ctx_on_close(ctx, on_close, NULL);
    if (trace) wskit_ctx_set_tracer(ctx, trace_print, NULL);
    if (wskit_ctx_listen(ctx, addr, WSKIT_NTS, config, &listener) != WSKIT_OK) {
        fprintf(stderr, "echo_server: cannot listen on %s: %s\n", addr, wskit_error_last());
        wskit_config_free(config);
        wskit_ctx_free(ctx);
        return 1;
    }
    wskit_config_free(config);
    wskit_ctx_local_port(ctx, listener, &port);
    {
        /* Print the bound address like the Rust example: the host part of addr plus the port. */
        const char *colon = strrchr(addr, ':');
        int host_len = colon ? (int)(colon - addr) : (int)strlen(addr);
        printf("echo_server listening on %s://%.*s:%u\n", tls_cert ? "wss" : "ws", host_len, addr,
               (unsigned)port);
        fflush(stdout);
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop_requested) {
        wskit_status rc = wskit_ctx_poll(ctx, 200, NULL);
        if (rc != WSKIT_OK) fprintf(stderr, "echo_server: %s\n", wskit_error_last());
    }
    wskit_ctx_shutdown(ctx, 2000);
    wskit_ctx_connection_count(ctx, &left);
    if (wskit_ctx_free(ctx) != WSKIT_OK) {
        fprintf(stderr, "echo_server: free: %s\n", wskit_error_last());
        return 1;
    }
    return left == 0 ? 0 : 1;
}
