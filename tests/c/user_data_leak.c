/* Per-connection user data is freed on every close path. A C server mallocs per connection in its
 * ACCEPT callback and frees in its CLOSE callback; a C client (a second context) mallocs per
 * connection right after wskit_ctx_connect and frees in its CLOSE callback. 1,000 clients, a
 * quarter each:
 *   (a) /reset  - the client begins a fragmented message and aborts mid-message;
 *   (b) /stall  - the server defers the accept and never answers: the handshake times out;
 *   (c) /abort  - the server aborts the connection as soon as it opens;
 *   (d) /reject - the server rejects the request after setting the user data.
 * Every allocation must be freed by the close events (counted here; valgrind and LeakSanitizer in
 * scripts/test-c.sh check it too). WSKIT_LEAK_CLIENTS overrides the count. */
#include "test_util.h"

enum { RESET, STALL, ABORT, REJECT, KINDS };
static const char *const paths[KINDS] = {"/reset", "/stall", "/abort", "/reject"};

typedef struct {
    int kind;
    char pad[60];
} conn_data;

typedef struct {
    long allocated, freed, closes, accepts, opens;
    long closes_by_kind[KINDS];
} side_t;

static conn_data *new_data(side_t *side, int kind) {
    conn_data *d = malloc(sizeof *d);
    if (!d) abort();
    d->kind = kind;
    side->allocated++;
    return d;
}

static int kind_of(const char *path, size_t len) {
    int k;
    for (k = 0; k < KINDS; k++)
        if (len == strlen(paths[k]) && memcmp(path, paths[k], len) == 0) return k;
    return -1;
}

static void server_accept(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    side_t *s = ud;
    int kind = kind_of(ev->path, ev->path_len);
    s->accepts++;
    CHECK(kind >= 0);
    if (kind < 0) return;
    CHECK_OK(wskit_conn_set_user_data(ctx, ev->conn, new_data(s, kind)));
    if (kind == REJECT) CHECK_OK(wskit_conn_reject(ctx, ev->conn, 403, NULL, 0, "no", 2));
    if (kind == STALL) CHECK_OK(wskit_conn_defer_accept(ctx, ev->conn));
}

static void server_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    side_t *s = ud;
    const conn_data *d = ev->conn_user_data;
    s->opens++;
    CHECK(d != NULL);
    if (d && d->kind == ABORT) CHECK_OK(wskit_conn_abort(ctx, ev->conn));
}

static void any_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    side_t *s = ud;
    conn_data *d = ev->conn_user_data;
    (void)ctx;
    s->closes++;
    CHECK(d != NULL);
    if (d) {
        s->closes_by_kind[d->kind]++;
        free(d);
        s->freed++;
    }
}

static void client_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    const conn_data *d = ev->conn_user_data;
    (void)ud;
    CHECK(d != NULL);
    if (d && d->kind == RESET) {
        CHECK_OK(wskit_conn_begin_message(ctx, ev->conn, true, (const uint8_t *)"partial", 7));
        CHECK_OK(wskit_ctx_flush(ctx));
        CHECK_OK(wskit_conn_abort(ctx, ev->conn));
    }
}

int main(void) {
    wskit_ctx *server = NULL, *client = NULL;
    wskit_config *scfg = NULL, *ccfg = NULL;
    side_t srv, cli;
    uint32_t listener = 0;
    uint16_t port = 0;
    long total = 1000, started = 0, batch = 50, k;
    const char *env = getenv("WSKIT_LEAK_CLIENTS");
    double end;

    if (env) total = atol(env);
    memset(&srv, 0, sizeof srv);
    memset(&cli, 0, sizeof cli);
    CHECK_OK(wskit_ctx_new(&server));
    CHECK_OK(wskit_ctx_new(&client));
    CHECK_OK(wskit_ctx_on_accept(server, server_accept, &srv));
    CHECK_OK(wskit_ctx_on_open(server, server_open, &srv));
    CHECK_OK(wskit_ctx_on_close(server, any_close, &srv));
    CHECK_OK(wskit_ctx_on_open(client, client_open, &cli));
    CHECK_OK(wskit_ctx_on_close(client, any_close, &cli));
    CHECK_OK(wskit_config_new(&scfg));
    CHECK_OK(wskit_config_set_handshake_timeout_ms(scfg, 150));
    CHECK_OK(wskit_ctx_listen(server, "127.0.0.1:0", WSKIT_NTS, scfg, &listener));
    CHECK_OK(wskit_config_free(scfg));
    CHECK_OK(wskit_ctx_local_port(server, listener, &port));
    CHECK_OK(wskit_config_new(&ccfg));
    CHECK_OK(wskit_config_set_handshake_timeout_ms(ccfg, 5000));

    end = test_now() + 240;
    while ((cli.closes < total || srv.closes < total) && test_now() < end) {
        /* Keep up to `batch` clients in flight. */
        while (started < total && started - cli.closes < batch) {
            char url[64];
            uint64_t conn = 0;
            int kind = (int)(started % KINDS);
            snprintf(url, sizeof url, "ws://127.0.0.1:%u%s", (unsigned)port, paths[kind]);
            CHECK_OK(wskit_ctx_connect(client, url, WSKIT_NTS, ccfg, &conn));
            CHECK_OK(wskit_conn_set_user_data(client, conn, new_data(&cli, kind)));
            started++;
        }
        CHECK_OK(wskit_ctx_poll(server, 2, NULL));
        CHECK_OK(wskit_ctx_poll(client, 2, NULL));
        if (test_failures) break;
    }
    CHECK_OK(wskit_config_free(ccfg));
    printf("user_data_leak: %ld clients; server %ld accepts, %ld opens, %ld closes, %ld/%ld freed; "
           "client %ld closes, %ld/%ld freed\n",
           started, srv.accepts, srv.opens, srv.closes, srv.freed, srv.allocated, cli.closes, cli.freed,
           cli.allocated);
    for (k = 0; k < KINDS; k++) {
        printf("  %-8s server closes %ld, client closes %ld\n", paths[k], srv.closes_by_kind[k], cli.closes_by_kind[k]);
        CHECK(srv.closes_by_kind[k] == (total + KINDS - 1 - k) / KINDS);
        CHECK(cli.closes_by_kind[k] == (total + KINDS - 1 - k) / KINDS);
    }
    CHECK(started == total);
    CHECK(srv.allocated == total && srv.freed == srv.allocated);
    CHECK(cli.allocated == total && cli.freed == cli.allocated);
    CHECK(srv.closes == total && cli.closes == total); /* exactly one close each */
    CHECK_OK(wskit_ctx_free(server));
    CHECK_OK(wskit_ctx_free(client));
    return test_finish("user_data_leak");
}
