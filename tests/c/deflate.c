/* permessage-deflate through the C API: a wskit listener and a wskit client in one context.
 * - defaults: negotiated, the listener asked for no context takeover both ways (15-bit windows);
 *   a 10,000-byte text goes out as a smaller RSV1 frame (seen by the tracer) and arrives intact;
 *   a 20-byte message (under the 64-byte minimum) goes uncompressed;
 * - the client's window-bits and takeover settings reach the negotiated parameters;
 * - wskit_config_set_deflate(false) on either side: nothing negotiated, no RSV1 on the wire;
 * - the setters reject out-of-range values. */
#include "test_util.h"

#define BIG 10000

typedef struct {
    int opened;
    int messages;
    uint64_t client_conn;
    uint64_t server_conn;
    size_t last_len;
    int last_intact;
    /* tracer: sent data frames of the client */
    int sent_frames;
    int sent_rsv1;
    uint64_t last_sent_payload;
    uint64_t first_rsv1_payload;
} state_t;

static char big[BIG];

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    st->opened++;
    if (ev->listener) st->server_conn = ev->conn;
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    if (ev->conn != st->server_conn) return;
    st->messages++;
    st->last_len = ev->len;
    st->last_intact = ev->len == BIG ? memcmp(ev->data, big, BIG) == 0 : 1;
}

static void tracer(void *ud, const wskit_trace *t) {
    state_t *st = ud;
    if (t->kind != WSKIT_TRACE_FRAME || t->direction != WSKIT_TRACE_SENT || t->conn != st->client_conn) return;
    if (t->opcode != 1 && t->opcode != 2) return;
    st->sent_frames++;
    if ((t->rsv & 4) && st->sent_rsv1++ == 0) st->first_rsv1_payload = t->payload_len;
    st->last_sent_payload = t->payload_len;
}

/* Opens a listener with `server_cfg` and a client with `client_cfg`, returns the parameters both
 * ends negotiated, and sends the big and a small message from the client. */
static void run(wskit_config *server_cfg, wskit_config *client_cfg, wskit_deflate_params *server_side,
                wskit_deflate_params *client_side, state_t *st) {
    wskit_ctx *ctx = NULL;
    char url[64];
    double end;
    memset(st, 0, sizeof *st);
    CHECK_OK(wskit_ctx_new(&ctx));
    CHECK_OK(wskit_ctx_on_open(ctx, on_open, st));
    CHECK_OK(wskit_ctx_on_message(ctx, on_message, st));
    CHECK_OK(wskit_ctx_set_tracer(ctx, tracer, st));
    listen_local(ctx, server_cfg, url, sizeof url);
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, client_cfg, &st->client_conn));
    end = test_now() + 5;
    while (st->opened < 2 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    CHECK(st->opened == 2);
    CHECK_OK(wskit_conn_deflate_params(ctx, st->server_conn, server_side));
    CHECK_OK(wskit_conn_deflate_params(ctx, st->client_conn, client_side));

    CHECK_OK(wskit_conn_send_text(ctx, st->client_conn, big, BIG));
    end = test_now() + 5;
    while (st->messages < 1 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    CHECK(st->messages == 1 && st->last_len == BIG && st->last_intact);
    CHECK_OK(wskit_conn_send_text(ctx, st->client_conn, "twenty bytes of text", 20));
    end = test_now() + 5;
    while (st->messages < 2 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    CHECK(st->messages == 2 && st->last_len == 20);
    CHECK_OK(wskit_ctx_free(ctx));
}

int main(void) {
    wskit_config *server_cfg = NULL, *client_cfg = NULL;
    wskit_deflate_params s, c;
    state_t st;
    size_t i;
    for (i = 0; i < BIG; i++) big[i] = "{\"player\":42,\"x\":1.5,\"y\":-3.25},"[i % 33];

    /* Defaults. */
    run(NULL, NULL, &s, &c, &st);
    CHECK(s.negotiated && c.negotiated);
    CHECK(s.server_no_context_takeover && s.client_no_context_takeover);
    CHECK(c.server_no_context_takeover && c.client_no_context_takeover);
    CHECK(s.server_max_window_bits == c.server_max_window_bits);
    CHECK(s.client_max_window_bits == c.client_max_window_bits);
    CHECK(st.sent_frames == 2 && st.sent_rsv1 == 1);
    CHECK(st.last_sent_payload == 20); /* the small one went uncompressed */
    CHECK(st.first_rsv1_payload > 0 && st.first_rsv1_payload < BIG / 10);
    printf("deflate: defaults: %d-byte JSON text sent as a %llu-byte compressed frame, windows %u/%u bits\n", BIG,
           (unsigned long long)st.first_rsv1_payload, (unsigned)s.server_max_window_bits,
           (unsigned)s.client_max_window_bits);

    /* The client's settings reach the agreement: a listener that allows takeover, a client that
     * offers 10/9-bit windows. */
    CHECK_OK(wskit_config_new(&server_cfg));
    CHECK_OK(wskit_config_new(&client_cfg));
    CHECK_OK(wskit_config_set_deflate_no_context_takeover(server_cfg, false, false));
    CHECK_OK(wskit_config_set_deflate_window_bits(client_cfg, 10, 9));
    CHECK_OK(wskit_config_set_deflate_level(client_cfg, 9, 9));
    run(server_cfg, client_cfg, &s, &c, &st);
    CHECK(s.negotiated && c.negotiated);
    CHECK(!s.server_no_context_takeover && !s.client_no_context_takeover);
    CHECK(s.server_max_window_bits == 10 && s.client_max_window_bits == 9);
    CHECK(c.server_max_window_bits == 10 && c.client_max_window_bits == 9);
    CHECK(st.sent_rsv1 == 1);

    /* min_size 0 compresses the small message too. */
    CHECK_OK(wskit_config_set_deflate_min_size(client_cfg, 0));
    run(server_cfg, client_cfg, &s, &c, &st);
    CHECK(st.sent_rsv1 == 2 && st.last_sent_payload != 20);
    /* Idle compaction on the client too (the listener compacts by default): both messages still
     * arrive intact through codecs that went back to the pool between them. */
    CHECK_OK(wskit_config_set_deflate_compact_idle(client_cfg, true));
    run(server_cfg, client_cfg, &s, &c, &st);
    CHECK(!s.server_no_context_takeover && st.sent_rsv1 == 2);
    CHECK_OK(wskit_config_set_deflate_compact_idle(client_cfg, false));
    CHECK_OK(wskit_config_set_deflate_min_size(client_cfg, 64));

    /* Off on the client: nothing offered. Off on the listener: every offer declined. */
    CHECK_OK(wskit_config_set_deflate(client_cfg, false));
    run(server_cfg, client_cfg, &s, &c, &st);
    CHECK(!s.negotiated && !c.negotiated);
    CHECK(s.server_max_window_bits == 0 && c.client_max_window_bits == 0);
    CHECK(st.sent_frames == 2 && st.sent_rsv1 == 0);
    CHECK_OK(wskit_config_set_deflate(client_cfg, true));
    CHECK_OK(wskit_config_set_deflate(server_cfg, false));
    run(server_cfg, client_cfg, &s, &c, &st);
    CHECK(!s.negotiated && !c.negotiated);
    CHECK(st.sent_rsv1 == 0);

    /* Range checks. */
    CHECK_RC(wskit_config_set_deflate_window_bits(client_cfg, 7, 15), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_config_set_deflate_window_bits(client_cfg, 15, 16), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_config_set_deflate_level(client_cfg, 10, 8), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_config_set_deflate_level(client_cfg, 6, 0), WSKIT_ERR_INVALID_ARG);
    CHECK_OK(wskit_config_set_deflate_window_bits(client_cfg, 8, 15));
    CHECK_OK(wskit_config_free(server_cfg));
    CHECK_OK(wskit_config_free(client_cfg));
    return test_finish("deflate");
}
