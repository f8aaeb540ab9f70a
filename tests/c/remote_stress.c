/* 10,000 messages sent from another thread through a wskit_remote while the loop runs: all
 * arrive, in order. Then the remote outlives its context: calls return WSKIT_ERR_INVALID_STATE. */
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
    return test_finish("remote_stress");
}
