/* wskit_ctx_stats: the counters follow connections, and with the last connection gone the
 * context holds no timer entry and no pooled buffer (what a soak run checks). */
#include "test_util.h"

#define CONNS 20

typedef struct {
    int opened;
    int closed;
} state_t;

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    st->opened++;
    wskit_conn_send_binary(ctx, ev->conn, (const uint8_t *)"x", 1);
}

static void on_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    (void)ev;
    st->closed++;
}

int main(void) {
    wskit_ctx *ctx = NULL;
    wskit_config *cfg = NULL;
    wskit_stats stats;
    state_t st = {0};
    char url[64];
    uint64_t conns[CONNS];
    int i;
    double end;
    CHECK_OK(wskit_ctx_new(&ctx));
    CHECK_OK(wskit_ctx_on_open(ctx, on_open, &st));
    CHECK_OK(wskit_ctx_on_close(ctx, on_close, &st));
    CHECK_OK(wskit_config_new(&cfg));
    CHECK_OK(wskit_config_set_ping_interval_ms(cfg, 60000));
    listen_local(ctx, cfg, url, sizeof url);
    CHECK_OK(wskit_ctx_stats(ctx, &stats));
    CHECK(stats.connections == 0 && stats.listeners == 1 && stats.timer_entries == 0);
    for (i = 0; i < CONNS; i++) CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, cfg, &conns[i]));
    end = test_now() + 5;
    while (st.opened < 2 * CONNS && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    CHECK(st.opened == 2 * CONNS);
    CHECK_OK(wskit_ctx_stats(ctx, &stats));
    CHECK(stats.connections == 2 * CONNS);
    /* Each open connection has its ping timer; stale handshake deadlines may still be there. */
    CHECK(stats.timer_entries >= 2 * CONNS);
    for (i = 0; i < CONNS; i++) CHECK_OK(wskit_conn_close(ctx, conns[i], 1000, "bye", WSKIT_NTS));
    end = test_now() + 5;
    while (st.closed < 2 * CONNS && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    CHECK(st.closed == 2 * CONNS);
    CHECK_OK(wskit_ctx_stats(ctx, &stats));
    CHECK(stats.connections == 0);
    CHECK(stats.timer_entries == 0);
    CHECK(stats.pooled_buffers == 0 && stats.pooled_bytes == 0);
    CHECK(stats.held_inputs == 0 && stats.held_bytes == 0);
    CHECK(stats.listeners == 1 && stats.accept_backoffs == 0);
    printf("stats: %zu connections, %zu timer entries, %zu pooled buffers after %d closes\n",
           stats.connections, stats.timer_entries, stats.pooled_buffers, 2 * CONNS);
    CHECK_OK(wskit_config_free(cfg));
    CHECK_OK(wskit_ctx_free(ctx));
    return test_finish("stats");
}
