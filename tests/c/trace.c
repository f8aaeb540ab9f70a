/* Tracing from C: handshake bytes and every frame header, both directions; calls back into the
 * context from the tracer are refused; NULL turns it off. */
#include "test_util.h"

typedef struct {
    wskit_ctx *ctx;
    int handshakes_sent, handshakes_received, saw_get, saw_101;
    int text_sent, text_received, close_frames, after_off, reentrant_refused;
    int opened, closed;
    int off;
} tr_t;

static int contains(const uint8_t *data, size_t len, const char *needle) {
    size_t n = strlen(needle), i;
    for (i = 0; i + n <= len; i++)
        if (memcmp(data + i, needle, n) == 0) return 1;
    return 0;
}

static void on_trace(void *ud, const wskit_trace *t) {
    tr_t *tr = ud;
    if (tr->off) tr->after_off++;
    if (!tr->reentrant_refused) {
        tr->reentrant_refused = wskit_conn_send_text(tr->ctx, t->conn, "x", 1) == WSKIT_ERR_REENTRANT;
    }
    CHECK(t->conn != 0);
    if (t->kind == WSKIT_TRACE_HANDSHAKE) {
        CHECK(t->data != NULL && t->len > 0);
        if (t->direction == WSKIT_TRACE_SENT) tr->handshakes_sent++;
        else tr->handshakes_received++;
        if (contains(t->data, t->len, "GET /traced HTTP/1.1")) tr->saw_get++;
        if (contains(t->data, t->len, "HTTP/1.1 101")) tr->saw_101++;
    } else {
        CHECK(t->kind == WSKIT_TRACE_FRAME && t->data == NULL);
        if (t->opcode == 1 && t->payload_len == 5 && t->fin) {
            if (t->direction == WSKIT_TRACE_SENT) tr->text_sent++;
            else tr->text_received++;
        }
        if (t->opcode == 8) tr->close_frames++;
    }
}

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    tr_t *tr = ud;
    tr->opened++;
    if (!ev->listener) CHECK_OK(wskit_conn_send_text(ctx, ev->conn, "hello", 5));
}

static void on_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    tr_t *tr = ud;
    (void)ctx, (void)ev;
    tr->closed++;
}

int main(void) {
    wskit_ctx *ctx = NULL;
    tr_t tr;
    char url[64];
    uint64_t conn = 0;
    uint16_t port = 0;
    uint32_t listener = 0;
    double end;

    memset(&tr, 0, sizeof tr);
    CHECK_OK(wskit_ctx_new(&ctx));
    tr.ctx = ctx;
    CHECK_OK(wskit_ctx_set_tracer(ctx, on_trace, &tr));
    CHECK_OK(wskit_ctx_on_open(ctx, on_open, &tr));
    CHECK_OK(wskit_ctx_on_close(ctx, on_close, &tr));
    CHECK_OK(wskit_ctx_listen(ctx, "127.0.0.1:0", WSKIT_NTS, NULL, &listener));
    CHECK_OK(wskit_ctx_local_port(ctx, listener, &port));
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/traced", (unsigned)port);
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, NULL, &conn));
    end = test_now() + 5;
    while ((tr.opened < 2 || tr.text_received < 1) && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    CHECK(tr.opened == 2);
    /* Both sides' handshakes, both directions: the request line and the 101 were seen twice
     * (sent by one side, received by the other). */
    CHECK(tr.handshakes_sent >= 2 && tr.handshakes_received >= 2);
    CHECK(tr.saw_get >= 2 && tr.saw_101 >= 2);
    CHECK(tr.text_sent == 1 && tr.text_received == 1);
    CHECK(tr.reentrant_refused);
    CHECK_OK(wskit_conn_close(ctx, conn, 1000, "bye", WSKIT_NTS));
    end = test_now() + 5;
    while (tr.closed < 2 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    CHECK(tr.close_frames >= 4); /* sent and received, by each side */
    /* Off: nothing more is traced. */
    CHECK_OK(wskit_ctx_set_tracer(ctx, NULL, NULL));
    tr.off = 1;
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, NULL, &conn));
    end = test_now() + 5;
    while (tr.opened < 4 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    CHECK(tr.opened == 4);
    CHECK(tr.after_off == 0);
    CHECK_OK(wskit_ctx_free(ctx));
    printf("trace: %d handshake items, %d text frames\n", tr.handshakes_sent + tr.handshakes_received,
           tr.text_sent + tr.text_received);
    return test_finish("trace");
}
