/* 10,000 messages sent from another thread through a wskit_remote while the loop runs: all
 * arrive, in order. Then the remote outlives its context: calls return WSKIT_ERR_INVALID_STATE.
 * Also: remote sends obey max_buffered (the documented result: an ERROR event with
 * WSKIT_ERR_WOULD_BLOCK naming the dropped bytes, then WRITABLE; a retry goes through). */
#include "test_util.h"

#include <pthread.h>

#define COUNT 10000

typedef struct {
    uint64_t server_conn, client_conn;
    int opened, received, out_of_order, done, errors;
} state_t;

typedef struct {
    wskit_remote *remote;
    uint64_t conn;
    int failures;
} worker_t;

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    if (ev->listener) st->server_conn = ev->conn;
    else st->client_conn = ev->conn;
    st->opened++;
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    char buf[32];
    size_t len = ev->len;
    const uint8_t *data = ev->data;
    (void)ctx;
    if (!ev->is_text || len >= sizeof buf) {
        st->out_of_order = 1;
        return;
    }
    memcpy(buf, data, len);
    buf[len] = '\0';
    if (atoi(buf) != st->received) st->out_of_order = 1;
    st->received++;
    if (st->received == COUNT) st->done = 1;
}

static void on_error(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    fprintf(stderr, "error event: %s %s\n", wskit_status_name(ev->code), (const char *)ev->data);
    st->errors++;
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    int i;
    for (i = 0; i < COUNT; i++) {
        char msg[32];
        wskit_status rc;
        snprintf(msg, sizeof msg, "%d", i);
        while ((rc = wskit_remote_send_text(w->remote, w->conn, msg, strlen(msg))) == WSKIT_ERR_WOULD_BLOCK) {
        }
        if (rc != WSKIT_OK) w->failures++;
    }
    return NULL;
}

typedef struct {
    uint64_t server_conn;
    int opened, would_block, writable, received, other_errors, dropped_text_ok;
} bp_t;

static void bp_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    bp_t *b = ud;
    (void)ctx;
    if (ev->listener) b->server_conn = ev->conn;
    b->opened++;
}

static void bp_error(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    bp_t *b = ud;
    (void)ctx;
    if (ev->code == WSKIT_ERR_WOULD_BLOCK && ev->conn == b->server_conn) {
        b->would_block++;
        if (strstr((const char *)ev->data, "3000 bytes") != NULL) b->dropped_text_ok++;
    } else {
        b->other_errors++;
    }
}

static void bp_writable(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    bp_t *b = ud;
    (void)ctx;
    if (ev->conn == b->server_conn) b->writable++;
}

static void bp_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    bp_t *b = ud;
    (void)ctx;
    if (ev->len == 3000) b->received++;
}

static void remote_backpressure(void) {
    wskit_ctx *ctx = NULL;
    wskit_config *cfg = NULL;
    wskit_remote *remote = NULL;
    bp_t b;
    char url[64];
    uint64_t conn = 0;
    static char payload[3000];
    int i;
    double end;

    memset(&b, 0, sizeof b);
    memset(payload, 'p', sizeof payload);
    CHECK_OK(wskit_ctx_new(&ctx));
    CHECK_OK(wskit_ctx_on_open(ctx, bp_open, &b));
    CHECK_OK(wskit_ctx_on_error(ctx, bp_error, &b));
    CHECK_OK(wskit_ctx_on_writable(ctx, bp_writable, &b));
    CHECK_OK(wskit_ctx_on_message(ctx, bp_message, &b));
    CHECK_OK(wskit_config_new(&cfg));
    CHECK_OK(wskit_config_set_max_buffered(cfg, 4096));
    /* Uncompressed: the counts below are of 3000-byte frames against the 4096-byte bound (the
     * 'p' payload would deflate to a few bytes). */
    CHECK_OK(wskit_config_set_deflate(cfg, false));
    listen_local(ctx, cfg, url, sizeof url);
    CHECK_OK(wskit_config_free(cfg));
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, NULL, &conn));
    end = test_now() + 5;
    while (b.opened < 2 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    CHECK(b.opened == 2);
    CHECK_OK(wskit_remote_new(ctx, &remote));
    /* 20 sends queued before the loop takes them: the first fits (nothing is buffered), the rest
     * would pass max_buffered (4096) and are dropped on the loop thread, each reported. */
    for (i = 0; i < 20; i++) CHECK_OK(wskit_remote_send_text(remote, b.server_conn, payload, sizeof payload));
    end = test_now() + 5;
    while ((b.would_block < 19 || b.writable < 1 || b.received < 1) && test_now() < end)
        CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    printf("remote_backpressure: %d sends dropped (WSKIT_ERR_WOULD_BLOCK), %d writable, %d received\n",
           b.would_block, b.writable, b.received);
    CHECK(b.would_block == 19 && b.dropped_text_ok == 19);
    CHECK(b.writable >= 1);
    CHECK(b.received == 1);
    CHECK(b.other_errors == 0);
    /* After WRITABLE a retry goes through. */
    CHECK_OK(wskit_remote_send_text(remote, b.server_conn, payload, sizeof payload));
    end = test_now() + 5;
    while (b.received < 2 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    CHECK(b.received == 2 && b.would_block == 19);
    CHECK_OK(wskit_remote_free(remote));
    CHECK_OK(wskit_ctx_free(ctx));
}

int main(void) {
    wskit_ctx *ctx = NULL;
    state_t st;
    worker_t w;
    pthread_t thread;
    char url[64];
    uint64_t conn = 0;
    int opened = 0;
    const uint8_t ping[2] = {'h', 'i'};

    memset(&st, 0, sizeof st);
    memset(&w, 0, sizeof w);
    CHECK_OK(wskit_ctx_new(&ctx));
    CHECK_OK(wskit_ctx_on_open(ctx, on_open, &st));
    CHECK_OK(wskit_ctx_on_message(ctx, on_message, &st));
    CHECK_OK(wskit_ctx_on_error(ctx, on_error, &st));
    listen_local(ctx, NULL, url, sizeof url);
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, NULL, &conn));
    {
        double end = test_now() + 5;
        while (st.opened < 2 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 20, NULL));
        opened = st.opened == 2;
    }
    CHECK(opened);
    CHECK_OK(wskit_remote_new(ctx, &w.remote));
    w.conn = st.server_conn; /* server -> client */
    CHECK(pthread_create(&thread, NULL, worker_main, &w) == 0);
    CHECK(poll_until(ctx, &st.done, 60));
    pthread_join(thread, NULL);
    CHECK(w.failures == 0);
    CHECK(st.received == COUNT);
    CHECK(!st.out_of_order);
    CHECK(st.errors == 0);
    /* Other remote calls while the context lives. */
    CHECK_OK(wskit_remote_ping(w.remote, w.conn, ping, sizeof ping));
    CHECK_OK(wskit_remote_wake(w.remote));
    CHECK_OK(wskit_remote_close(w.remote, w.conn, 1000, "done", WSKIT_NTS));
    CHECK_OK(wskit_ctx_poll(ctx, 50, NULL));
    CHECK_OK(wskit_ctx_shutdown(ctx, 2000));
    CHECK_OK(wskit_ctx_free(ctx));
    /* The remote outlives the context. */
    CHECK_RC(wskit_remote_send_text(w.remote, w.conn, "x", 1), WSKIT_ERR_INVALID_STATE);
    CHECK_RC(wskit_remote_wake(w.remote), WSKIT_ERR_INVALID_STATE);
    CHECK_OK(wskit_remote_free(w.remote));
    printf("remote_stress: %d messages in order\n", st.received);
    remote_backpressure();
    return test_finish("remote_stress");
}
