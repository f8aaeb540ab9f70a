/* The pull API: a context in queue mode receives listen, open (with path, query, peer, subprotocol
 * and headers), message, ping, pong, close and error events through wskit_ctx_next_event, talking
 * to a callback-mode context. Also: the byte bound and its stated overshoot (PAUSE loses nothing),
 * the CLOSE policy (1013), the counters, close reasons with NUL bytes both ways, and mixing
 * callbacks with the queue is refused. */
#include "test_util.h"

typedef struct {
    int opened, closed, messages;
    uint64_t conn;
    char subprotocol[32];
    uint16_t close_code;
    char reason[64];
    size_t reason_len;
} peer_t;

static void peer_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    peer_t *p = ud;
    (void)ctx;
    p->opened = 1;
    p->conn = ev->conn;
    snprintf(p->subprotocol, sizeof p->subprotocol, "%s", ev->subprotocol ? ev->subprotocol : "(none)");
}

static void peer_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    peer_t *p = ud;
    p->messages++;
    /* echo */
    if (ev->is_text) wskit_conn_send_text(ctx, ev->conn, (const char *)ev->data, ev->len);
    else wskit_conn_send_binary(ctx, ev->conn, ev->data, ev->len);
}

static void peer_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    peer_t *p = ud;
    (void)ctx;
    p->closed = 1;
    p->close_code = (uint16_t)ev->code;
    p->reason_len = ev->len < sizeof p->reason ? ev->len : sizeof p->reason;
    memcpy(p->reason, ev->data, p->reason_len);
}

/* Polls both contexts until the queue context has an event of `kind` (others are collected). */
static int wait_event(wskit_ctx *q, wskit_ctx *other, wskit_event_kind kind, wskit_event *out) {
    double end = test_now() + 5;
    while (test_now() < end) {
        wskit_status rc;
        CHECK_OK(wskit_ctx_poll(q, 5, NULL));
        CHECK_OK(wskit_ctx_poll(other, 5, NULL));
        while ((rc = wskit_ctx_next_event(q, out)) == WSKIT_OK) {
            if (out->kind == kind) return 1;
        }
        CHECK_RC(rc, WSKIT_QUEUE_EMPTY);
    }
    return 0;
}

static const wskit_header *find_header(const wskit_event *ev, const char *name) {
    size_t i;
    for (i = 0; i < ev->header_count; i++) {
        const wskit_header *h = &ev->headers[i];
        if (h->name_len == strlen(name) && strncmp(h->name, name, h->name_len) == 0) return h;
    }
    return NULL;
}

#define BIG 32768
#define BIG_COUNT 200
#define MAX_BYTES 65536
#define READ_BUFFER (256 * 1024)

/* The byte bound with WSKIT_QUEUE_PAUSE: BIG_COUNT messages of 32 KiB against a 64 KiB bound.
 * While the application does not drain, the queue stays within the header's stated overshoot
 * (max_bytes + 256 KiB + max_message_size); then everything arrives, in order. */
static void byte_bound_pause(void) {
    wskit_ctx *q = NULL, *other = NULL;
    wskit_config *cfg = NULL;
    wskit_queue_stats stats;
    wskit_event ev;
    peer_t peer;
    char url[64];
    uint64_t client = 0;
    uint8_t *payload = malloc(BIG);
    int i, got = 0, order_ok = 1;
    double end;

    memset(&peer, 0, sizeof peer);
    CHECK(payload != NULL);
    CHECK_OK(wskit_ctx_new(&q));
    CHECK_OK(wskit_ctx_new(&other));
    CHECK_OK(wskit_ctx_use_event_queue(q, MAX_BYTES, WSKIT_QUEUE_PAUSE));
    CHECK_OK(wskit_config_new(&cfg));
    CHECK_OK(wskit_config_set_max_message_size(cfg, MAX_BYTES));
    listen_local(q, cfg, url, sizeof url);
    CHECK_OK(wskit_config_free(cfg));
    CHECK_OK(wskit_ctx_on_open(other, peer_open, &peer));
    CHECK_OK(wskit_ctx_connect(other, url, WSKIT_NTS, NULL, &client));
    CHECK(wait_event(q, other, WSKIT_EVENT_OPEN, &ev));
    CHECK(poll_until(other, &peer.opened, 5));
    for (i = 0; i < BIG_COUNT; i++) {
        memset(payload, i & 0xff, BIG);
        CHECK_OK(wskit_conn_send_binary(other, client, payload, BIG));
    }
    /* Poll for a while without draining. */
    end = test_now() + 1.5;
    while (test_now() < end) {
        CHECK_OK(wskit_ctx_poll(q, 2, NULL));
        CHECK_OK(wskit_ctx_poll(other, 2, NULL));
    }
    CHECK_OK(wskit_ctx_queue_stats(q, &stats));
    printf("queue: paused with %zu events, %zu bytes (peak %zu, bound %d + %d + %d), %llu overflows\n",
           stats.events, stats.bytes, stats.peak_bytes, MAX_BYTES, READ_BUFFER, MAX_BYTES,
           (unsigned long long)stats.overflows);
    CHECK(stats.bytes >= MAX_BYTES);         /* the bound was reached ... */
    CHECK(stats.events < BIG_COUNT);         /* ... so reading paused */
    CHECK(stats.overflows >= 1);
    CHECK(stats.peak_bytes <= (size_t)MAX_BYTES + READ_BUFFER + MAX_BYTES);
    /* Drain: every message arrives, in order (nothing was lost). */
    end = test_now() + 20;
    while (got < BIG_COUNT && test_now() < end) {
        CHECK_OK(wskit_ctx_poll(q, 2, NULL));
        CHECK_OK(wskit_ctx_poll(other, 2, NULL));
        while (wskit_ctx_next_event(q, &ev) == WSKIT_OK) {
            if (ev.kind != WSKIT_EVENT_MESSAGE) continue;
            if (ev.len != BIG || ev.data[0] != (uint8_t)(got & 0xff) || ev.data[BIG - 1] != (uint8_t)(got & 0xff))
                order_ok = 0;
            got++;
        }
        CHECK_OK(wskit_ctx_queue_stats(q, &stats));
        CHECK(stats.peak_bytes <= (size_t)MAX_BYTES + READ_BUFFER + MAX_BYTES);
    }
    CHECK(got == BIG_COUNT);
    CHECK(order_ok);
    CHECK_OK(wskit_ctx_queue_stats(q, &stats));
    CHECK(stats.events == 0 && stats.bytes == 0);
    free(payload);
    CHECK_OK(wskit_ctx_free(q));
    CHECK_OK(wskit_ctx_free(other));
}

/* WSKIT_QUEUE_CLOSE: the connection whose data would overflow is closed with 1013, and data events
 * never take the queue past max_bytes. */
static void byte_bound_close(void) {
    wskit_ctx *q = NULL, *other = NULL;
    wskit_queue_stats stats;
    wskit_event ev;
    peer_t peer;
    char url[64];
    uint64_t client = 0;
    uint8_t *payload = calloc(1, BIG);
    int i;
    double end;

    memset(&peer, 0, sizeof peer);
    CHECK_OK(wskit_ctx_new(&q));
    CHECK_OK(wskit_ctx_new(&other));
    CHECK_OK(wskit_ctx_use_event_queue(q, MAX_BYTES, WSKIT_QUEUE_CLOSE));
    listen_local(q, NULL, url, sizeof url);
    CHECK_OK(wskit_ctx_on_open(other, peer_open, &peer));
    CHECK_OK(wskit_ctx_on_close(other, peer_close, &peer));
    CHECK_OK(wskit_ctx_connect(other, url, WSKIT_NTS, NULL, &client));
    CHECK(wait_event(q, other, WSKIT_EVENT_OPEN, &ev));
    CHECK(poll_until(other, &peer.opened, 5));
    for (i = 0; i < 10; i++) CHECK_OK(wskit_conn_send_binary(other, client, payload, BIG));
    end = test_now() + 5;
    while (!peer.closed && test_now() < end) {
        CHECK_OK(wskit_ctx_poll(q, 2, NULL));
        CHECK_OK(wskit_ctx_poll(other, 2, NULL));
    }
    CHECK(peer.closed);
    CHECK(peer.close_code == 1013);
    CHECK_OK(wskit_ctx_queue_stats(q, &stats));
    CHECK(stats.overflows >= 1);
    CHECK(stats.peak_bytes <= MAX_BYTES + 64); /* data within the bound; the close event's reason on top */
    free(payload);
    CHECK_OK(wskit_ctx_free(q));
    CHECK_OK(wskit_ctx_free(other));
}

int main(void) {
    wskit_ctx *q = NULL, *other = NULL;
    wskit_config *server_cfg = NULL, *client_cfg = NULL;
    wskit_event ev;
    peer_t peer;
    uint32_t listener = 0;
    uint64_t client = 0, server_conn = 0;
    uint16_t port = 0;
    char url[64];
    const char *sub = NULL;
    size_t sub_len = 0;
    int i, got;
    const wskit_header *host;

    memset(&peer, 0, sizeof peer);
    CHECK_OK(wskit_ctx_new(&q));
    CHECK_OK(wskit_ctx_new(&other));
    CHECK_RC(wskit_ctx_next_event(q, &ev), WSKIT_ERR_INVALID_STATE);
    CHECK_RC(wskit_ctx_use_event_queue(q, 0, 0), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_ctx_use_event_queue(q, 64, 0x100), WSKIT_ERR_INVALID_ARG);
    CHECK_OK(wskit_ctx_use_event_queue(q, 64, WSKIT_QUEUE_PAUSE));
    CHECK_RC(wskit_ctx_on_message(q, NULL, NULL), WSKIT_ERR_INVALID_STATE);
    CHECK_RC(wskit_ctx_next_event(q, &ev), WSKIT_QUEUE_EMPTY);

    /* q is the server (subprotocols "b" and "a" supported); other is a callback-mode client
     * offering "a", "b". The first offered that the server lists wins: "a". */
    CHECK_OK(wskit_config_new(&server_cfg));
    CHECK_OK(wskit_config_add_subprotocol(server_cfg, "b", WSKIT_NTS));
    CHECK_OK(wskit_config_add_subprotocol(server_cfg, "a", 1));
    CHECK_OK(wskit_ctx_listen(q, "127.0.0.1:0", WSKIT_NTS, server_cfg, &listener));
    CHECK_OK(wskit_config_free(server_cfg));
    CHECK_OK(wskit_ctx_local_port(q, listener, &port));
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/game?room=1", (unsigned)port);
    CHECK(wait_event(q, other, WSKIT_EVENT_LISTEN, &ev));
    CHECK(ev.listener == listener && ev.code == port && ev.data != NULL && ev.len > 0);
    CHECK(strstr((const char *)ev.data, "127.0.0.1:") != NULL);

    CHECK_OK(wskit_ctx_on_open(other, peer_open, &peer));
    CHECK_OK(wskit_ctx_on_message(other, peer_message, &peer));
    CHECK_OK(wskit_ctx_on_close(other, peer_close, &peer));
    CHECK_OK(wskit_config_new(&client_cfg));
    CHECK_OK(wskit_config_add_subprotocol(client_cfg, "a", WSKIT_NTS));
    CHECK_OK(wskit_config_add_subprotocol(client_cfg, "b", WSKIT_NTS));
    CHECK_OK(wskit_config_add_header(client_cfg, "X-Token", WSKIT_NTS, "t0k", WSKIT_NTS));
    CHECK_OK(wskit_ctx_connect(other, url, WSKIT_NTS, client_cfg, &client));
    CHECK_OK(wskit_config_free(client_cfg));

    /* OPEN carries the request: path, query, peer, subprotocol, headers. */
    CHECK(wait_event(q, other, WSKIT_EVENT_OPEN, &ev));
    server_conn = ev.conn;
    CHECK(ev.listener == listener);
    CHECK(ev.subprotocol_len == 1 && memcmp(ev.subprotocol, "a", 2) == 0);
    CHECK(ev.path_len == 5 && strcmp(ev.path, "/game") == 0);
    CHECK(ev.query_len == 6 && strcmp(ev.query, "room=1") == 0);
    CHECK(ev.peer != NULL && strncmp(ev.peer, "127.0.0.1:", 10) == 0 && ev.peer_len == strlen(ev.peer));
    CHECK(ev.conn_user_data == NULL);
    host = find_header(&ev, "X-Token");
    CHECK(host != NULL && host->value_len == 3 && strcmp(host->value, "t0k") == 0);
    CHECK(find_header(&ev, "Host") != NULL);
    CHECK_OK(wskit_conn_subprotocol(q, server_conn, &sub, &sub_len));
    CHECK(sub != NULL && strcmp(sub, "a") == 0 && sub_len == 1);
    CHECK(poll_until(other, &peer.opened, 5));
    CHECK(strcmp(peer.subprotocol, "a") == 0);

    /* User data set now is carried by later events. */
    CHECK_OK(wskit_conn_set_user_data(q, server_conn, &peer));

    /* Round trip: q sends, other echoes, q pulls the message. */
    CHECK_OK(wskit_conn_send_text(q, server_conn, "hello queue", WSKIT_NTS));
    CHECK(wait_event(q, other, WSKIT_EVENT_MESSAGE, &ev));
    CHECK(ev.conn == server_conn && ev.is_text && ev.len == 11 && memcmp(ev.data, "hello queue", 11) == 0);
    CHECK(ev.conn_user_data == &peer);
    CHECK_OK(wskit_conn_send_binary(q, server_conn, (const uint8_t *)"\x00\x01\x02", 3));
    CHECK(wait_event(q, other, WSKIT_EVENT_MESSAGE, &ev));
    CHECK(!ev.is_text && ev.len == 3 && ev.data[2] == 2);

    /* Ping from q: the pong comes back as an event. */
    CHECK_OK(wskit_conn_ping(q, server_conn, (const uint8_t *)"p1", 2));
    CHECK(wait_event(q, other, WSKIT_EVENT_PONG, &ev));
    CHECK(ev.len == 2 && memcmp(ev.data, "p1", 2) == 0);
    CHECK_OK(wskit_conn_ping(other, peer.conn, (const uint8_t *)"p2", 2));
    CHECK(wait_event(q, other, WSKIT_EVENT_PING, &ev));
    CHECK(ev.len == 2 && memcmp(ev.data, "p2", 2) == 0);

    /* A small bound (64 bytes): 40 echoes; every message still arrives, in order. */
    for (i = 0; i < 40; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "m%d", i);
        CHECK_OK(wskit_conn_send_text(q, server_conn, msg, strlen(msg)));
    }
    got = 0;
    {
        double end = test_now() + 5;
        while (got < 40 && test_now() < end) {
            CHECK_OK(wskit_ctx_poll(q, 5, NULL));
            CHECK_OK(wskit_ctx_poll(other, 5, NULL));
            while (wskit_ctx_next_event(q, &ev) == WSKIT_OK) {
                if (ev.kind == WSKIT_EVENT_MESSAGE) {
                    char want[16];
                    snprintf(want, sizeof want, "m%d", got);
                    CHECK(ev.len == strlen(want) && memcmp(ev.data, want, ev.len) == 0);
                    got++;
                }
            }
        }
    }
    CHECK(got == 40);

    /* Close from the peer with a reason holding a NUL byte. */
    CHECK_OK(wskit_conn_close(other, peer.conn, 4321, "bye\0queue", 9));
    CHECK(wait_event(q, other, WSKIT_EVENT_CLOSE, &ev));
    CHECK(ev.conn == server_conn && ev.code == 4321 && ev.clean);
    CHECK(ev.len == 9 && memcmp(ev.data, "bye\0queue", 10) == 0);
    CHECK(ev.conn_user_data == &peer); /* still there in the close event */
    /* The subprotocol pointer got earlier stays valid until the next next_event/poll. */
    CHECK(strcmp(sub, "a") == 0);
    CHECK_RC(wskit_conn_send_text(q, server_conn, "x", 1), WSKIT_ERR_NOT_FOUND);

    /* An error event: a remote send to a stale id is reported to the queue. */
    {
        wskit_remote *remote = NULL;
        CHECK_OK(wskit_remote_new(q, &remote));
        CHECK_OK(wskit_remote_send_text(remote, server_conn, "stale", 5));
        CHECK(wait_event(q, other, WSKIT_EVENT_ERROR, &ev));
        CHECK(ev.conn == server_conn && ev.code == WSKIT_ERR_NOT_FOUND && ev.len > 0);
        CHECK_OK(wskit_remote_free(remote));
    }
    CHECK(poll_until(other, &peer.closed, 5));

    /* A reason with a NUL byte the other way: q closes, the callback side sees all 3 bytes. */
    memset(&peer, 0, sizeof peer);
    CHECK_OK(wskit_ctx_connect(other, url, WSKIT_NTS, NULL, &client));
    CHECK(wait_event(q, other, WSKIT_EVENT_OPEN, &ev));
    CHECK(poll_until(other, &peer.opened, 5));
    CHECK_OK(wskit_conn_close(q, ev.conn, 4000, "x\0y", 3));
    CHECK(wait_event(q, other, WSKIT_EVENT_CLOSE, &ev));
    CHECK(poll_until(other, &peer.closed, 5));
    CHECK(peer.close_code == 4000 && peer.reason_len == 3 && memcmp(peer.reason, "x\0y", 3) == 0);

    /* Events left in the queue are freed with the context. */
    CHECK_OK(wskit_ctx_connect(other, url, WSKIT_NTS, NULL, &client));
    for (i = 0; i < 20; i++) {
        CHECK_OK(wskit_ctx_poll(q, 5, NULL));
        CHECK_OK(wskit_ctx_poll(other, 5, NULL));
    }
    CHECK_OK(wskit_ctx_free(q));
    CHECK_OK(wskit_ctx_free(other));

    byte_bound_pause();
    byte_bound_close();
    return test_finish("queue");
}
