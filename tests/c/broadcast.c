/* wskit_ctx_broadcast: one message to many server connections, two that compress (sharing one
 * compression) and one that does not, plus a closed id: each client gets the message intact, the
 * compressing ones as an RSV1 frame; the closed id is refused with its own status. */
#include "test_util.h"

#define CLIENTS 3
#define BIG 10000

typedef struct {
    int opened;
    uint64_t server_conns[CLIENTS];
    int servers;
    uint64_t clients[CLIENTS];
    int received[CLIENTS];
    int intact[CLIENTS];
    int rsv1_sent;
    int plain_sent;
} state_t;

static char big[BIG];

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    st->opened++;
    if (ev->listener && st->servers < CLIENTS) st->server_conns[st->servers++] = ev->conn;
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    int i;
    (void)ctx;
    for (i = 0; i < CLIENTS; i++) {
        if (ev->conn == st->clients[i]) {
            st->received[i]++;
            st->intact[i] = ev->is_text && ev->len == BIG && memcmp(ev->data, big, BIG) == 0;
        }
    }
}

static void tracer(void *ud, const wskit_trace *t) {
    state_t *st = ud;
    int i, is_server = 0;
    if (t->kind != WSKIT_TRACE_FRAME || t->direction != WSKIT_TRACE_SENT || t->opcode != 1) return;
    for (i = 0; i < st->servers; i++) is_server |= t->conn == st->server_conns[i];
    if (!is_server) return;
    if (t->rsv & 4) st->rsv1_sent++;
    else st->plain_sent++;
}

int main(void) {
    wskit_ctx *ctx = NULL;
    wskit_config *plain = NULL;
    char url[64];
    state_t st;
    uint64_t targets[CLIENTS + 1];
    wskit_status statuses[CLIENTS + 1];
    size_t failed = 99, i;
    double end;
    memset(&st, 0, sizeof st);
    for (i = 0; i < BIG; i++) big[i] = "{\"ev\":\"tick\",\"n\":7},"[i % 20];

    CHECK_OK(wskit_ctx_new(&ctx));
    CHECK_OK(wskit_ctx_on_open(ctx, on_open, &st));
    CHECK_OK(wskit_ctx_on_message(ctx, on_message, &st));
    listen_local(ctx, NULL, url, sizeof url);
    CHECK_OK(wskit_config_new(&plain));
    CHECK_OK(wskit_config_set_deflate(plain, false));
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, NULL, &st.clients[0]));
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, NULL, &st.clients[1]));
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, plain, &st.clients[2]));
    CHECK_OK(wskit_config_free(plain));
    end = test_now() + 5;
    while (st.opened < 2 * CLIENTS && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    CHECK(st.opened == 2 * CLIENTS && st.servers == CLIENTS);
    CHECK_OK(wskit_ctx_set_tracer(ctx, tracer, &st));

    for (i = 0; i < CLIENTS; i++) targets[i] = st.server_conns[i];
    targets[CLIENTS] = 0xdead0000beefULL; /* never a connection */
    CHECK_OK(wskit_ctx_broadcast(ctx, targets, CLIENTS + 1, true, (const uint8_t *)big, BIG, statuses, &failed));
    CHECK(failed == 1);
    for (i = 0; i < CLIENTS; i++) CHECK(statuses[i] == WSKIT_OK);
    CHECK(statuses[CLIENTS] == WSKIT_ERR_NOT_FOUND);
    end = test_now() + 5;
    while ((st.received[0] + st.received[1] + st.received[2]) < CLIENTS && test_now() < end)
        CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    for (i = 0; i < CLIENTS; i++) CHECK(st.received[i] == 1 && st.intact[i]);
    /* The two compressing connections got RSV1 frames, the third a plain one (which of the three
     * server connections is which follows accept order, so count rather than index). */
    CHECK(st.rsv1_sent == 2 && st.plain_sent == 1);

    /* Without statuses or failed; invalid UTF-8 text queues nothing. */
    CHECK_OK(wskit_ctx_broadcast(ctx, targets, CLIENTS, false, (const uint8_t *)"bin", 3, NULL, NULL));
    CHECK_RC(wskit_ctx_broadcast(ctx, targets, CLIENTS, true, (const uint8_t *)"\xff", 1, NULL, NULL),
             WSKIT_ERR_INVALID_UTF8);
    CHECK_OK(wskit_ctx_broadcast(ctx, NULL, 0, false, NULL, 0, NULL, NULL));
    CHECK_OK(wskit_ctx_free(ctx));
    printf("broadcast: %d clients, %d compressed frames and %d plain from one call\n", CLIENTS, st.rsv1_sent,
           st.plain_sent);
    return test_finish("broadcast");
}
