/* 1,000 create/free cycles of contexts holding open connections (a listener, a client and its
 * server side, messages in flight, a remote handle): nothing leaks, nothing crashes. */
#include "test_util.h"

#define CYCLES 1000

typedef struct {
    int opened;
} state_t;

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    st->opened++;
    wskit_conn_send_text(ctx, ev->conn, "in flight", 9);
}

int main(void) {
    int i, all_opened = 0;
    int cycles = CYCLES;
    const char *env = getenv("WSKIT_LIFECYCLE_CYCLES");
    if (env) cycles = atoi(env);
    for (i = 0; i < cycles; i++) {
        wskit_ctx *ctx = NULL;
        wskit_remote *remote = NULL;
        state_t st = {0};
        char url[64];
        uint64_t conn = 0;
        double end;
        if (wskit_ctx_new(&ctx) != WSKIT_OK) {
            CHECK(0);
            break;
        }
        CHECK_OK(wskit_ctx_on_open(ctx, on_open, &st));
        listen_local(ctx, NULL, url, sizeof url);
        CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, NULL, &conn));
        CHECK_OK(wskit_remote_new(ctx, &remote));
        end = test_now() + 5;
        while (st.opened < 2 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
        if (st.opened == 2) all_opened++;
        CHECK_OK(wskit_conn_send_text(ctx, conn, "unsent", 6));
        CHECK_OK(wskit_remote_send_text(remote, conn, "queued", 6));
        CHECK_OK(wskit_ctx_free(ctx)); /* with open connections and queued work */
        CHECK_RC(wskit_remote_send_text(remote, conn, "late", 4), WSKIT_ERR_INVALID_STATE);
        CHECK_OK(wskit_remote_free(remote));
        if (test_failures) break;
    }
    CHECK(all_opened == cycles);
    printf("lifecycle: %d cycles\n", i);
    return test_finish("lifecycle");
}
