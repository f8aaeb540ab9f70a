/* The batch calls: wskit_ctx_next_events takes many queued events per call (each with its own
 * strings and headers, all valid until the next take), and wskit_ctx_send_batch queues many
 * messages per call: here the echoes of a take, sent straight from the taken events' data (no
 * copy: valid until the next take). Also: a refused message does not stop other connections' but
 * stops the rest of its own connection's batch (order is kept), with per-message statuses. A
 * queue-mode server talking to callback-mode wskit clients. */
#include "test_util.h"

#define CLIENTS 2
#define MESSAGES 200
#define CAP 16

typedef struct {
    int opened, echoes, order_ok;
    uint64_t conn;
} client_t;

static void client_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    (void)ctx;
    (void)ev;
    c->opened = 1;
}

static void client_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    client_t *c = ud;
    char want[32];
    (void)ctx;
    snprintf(want, sizeof want, "m%d", c->echoes);
    if (!ev->is_text || ev->len != strlen(want) || memcmp(ev->data, want, ev->len) != 0) c->order_ok = 0;
    c->echoes++;
}

static const wskit_header *find_header(const wskit_event *ev, const char *name) {
    size_t i;
    for (i = 0; i < ev->header_count; i++)
        if (strcmp(ev->headers[i].name, name) == 0) return &ev->headers[i];
    return NULL;
}

int main(void) {
    wskit_ctx *q = NULL, *other = NULL;
    wskit_config *cfg = NULL;
    wskit_event events[CAP];
    wskit_send sends[CAP];
    wskit_status statuses[CAP];
    client_t clients[CLIENTS];
    uint64_t server_conns[CLIENTS] = {0, 0};
    char url[64], token[CLIENTS][8];
    size_t n = 0, failed = 0, i;
    int c, k, opens = 0, taken_max = 0, received = 0;
    double end;

    memset(clients, 0, sizeof clients);
    CHECK_OK(wskit_ctx_new(&q));
    CHECK_OK(wskit_ctx_new(&other));
    CHECK_OK(wskit_ctx_use_event_queue(q, 1 << 20, WSKIT_QUEUE_PAUSE));
    CHECK_RC(wskit_ctx_next_events(q, events, CAP, &n), WSKIT_QUEUE_EMPTY);
    CHECK(n == 0);
    listen_local(q, NULL, url, sizeof url);
    /* One callback state for both clients: only the first sends (and counts echoes). */
    CHECK_OK(wskit_ctx_on_open(other, client_open, &clients[0]));
    for (c = 0; c < CLIENTS; c++) {
        CHECK_OK(wskit_config_new(&cfg));
        snprintf(token[c], sizeof token[c], "tok%d", c);
        CHECK_OK(wskit_config_add_header(cfg, "X-Token", WSKIT_NTS, token[c], WSKIT_NTS));
        clients[c].order_ok = 1;
        CHECK_OK(wskit_ctx_connect(other, url, WSKIT_NTS, cfg, &clients[c].conn));
        CHECK_OK(wskit_config_free(cfg));
    }

    /* Both OPEN events (and LISTEN) in as few takes as they come, each with its own headers. */
    end = test_now() + 5;
    while (opens < CLIENTS && test_now() < end) {
        CHECK_OK(wskit_ctx_poll(other, 5, NULL));
        CHECK_OK(wskit_ctx_poll(q, 5, NULL));
        while (wskit_ctx_next_events(q, events, CAP, &n) == WSKIT_OK) {
            for (i = 0; i < n; i++) {
                const wskit_header *h;
                if (events[i].kind != WSKIT_EVENT_OPEN) continue;
                h = find_header(&events[i], "X-Token");
                CHECK(h != NULL && h->value_len == 4 && strncmp(h->value, "tok", 3) == 0);
                CHECK(events[i].path_len == 1 && strcmp(events[i].path, "/") == 0);
                /* the client whose token this is */
                server_conns[h->value[3] - '0'] = events[i].conn;
                opens++;
            }
        }
    }
    CHECK(opens == CLIENTS && server_conns[0] != 0 && server_conns[1] != 0 && server_conns[0] != server_conns[1]);
    CHECK(poll_until(other, &clients[0].opened, 5));

    /* The clients send MESSAGES each; the server echoes every take with one send_batch straight
     * from the taken events (their data is valid until the next take). */
    CHECK_OK(wskit_ctx_on_message(other, client_message, &clients[0]));
    for (k = 0; k < MESSAGES; k++) {
        char text[32];
        int len = snprintf(text, sizeof text, "m%d", k);
        CHECK_OK(wskit_conn_send_text(other, clients[0].conn, text, (size_t)len));
    }
    CHECK_OK(wskit_ctx_flush(other));
    end = test_now() + 10;
    while (clients[0].echoes < MESSAGES && test_now() < end) {
        CHECK_OK(wskit_ctx_poll(q, 5, NULL));
        while (wskit_ctx_next_events(q, events, CAP, &n) == WSKIT_OK) {
            size_t m = 0;
            CHECK(n >= 1 && n <= CAP);
            if ((int)n > taken_max) taken_max = (int)n;
            for (i = 0; i < n; i++) {
                if (events[i].kind != WSKIT_EVENT_MESSAGE) continue;
                sends[m].conn = events[i].conn;
                sends[m].data = events[i].data;
                sends[m].len = events[i].len;
                sends[m].is_text = events[i].is_text;
                m++;
                received++;
            }
            CHECK_OK(wskit_ctx_send_batch(q, sends, m, statuses, &failed));
            CHECK(failed == 0);
            for (i = 0; i < m; i++) CHECK(statuses[i] == WSKIT_OK);
        }
        CHECK_OK(wskit_ctx_poll(q, 0, NULL)); /* writes the echoes */
        CHECK_OK(wskit_ctx_poll(other, 5, NULL));
    }
    printf("batch: %d messages echoed, up to %d events per take\n", clients[0].echoes, taken_max);
    CHECK(received == MESSAGES && clients[0].echoes == MESSAGES && clients[0].order_ok);
    CHECK(taken_max > 1); /* the point: several events per call */

    /* Refusals: an unknown connection's message is refused alone; a refused text (bad UTF-8) to
     * a live connection refuses the rest of that connection's batch with the same status, while
     * the other connection's message goes. */
    sends[0] = (wskit_send){server_conns[0] + 0x100000000ULL, (const uint8_t *)"x", 1, true};
    sends[1] = (wskit_send){server_conns[0], (const uint8_t *)"\xff", 1, true};
    sends[2] = (wskit_send){server_conns[1], (const uint8_t *)"m0", 2, true};
    sends[3] = (wskit_send){server_conns[0], (const uint8_t *)"m200", 4, true};
    CHECK_OK(wskit_ctx_send_batch(q, sends, 4, statuses, &failed));
    CHECK(statuses[0] == WSKIT_ERR_NOT_FOUND);
    CHECK(statuses[1] == WSKIT_ERR_INVALID_UTF8 && statuses[3] == WSKIT_ERR_INVALID_UTF8);
    CHECK(statuses[2] == WSKIT_OK && failed == 3);
    CHECK_OK(wskit_ctx_send_batch(q, sends + 2, 1, NULL, NULL)); /* statuses and failed optional */

    CHECK_OK(wskit_ctx_free(q));
    CHECK_OK(wskit_ctx_free(other));
    return test_finish("batch");
}
