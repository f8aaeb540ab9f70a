/* The pull API: a context in queue mode receives listen, open, message, ping, pong, close and
 * error events through wskit_ctx_next_event, talking to a callback-mode context. Also: the
 * soft capacity bound, and mixing callbacks with the queue is refused. */
#include "test_util.h"

typedef struct {
    int opened, closed, messages;
    uint64_t conn;
    char subprotocol[32];
} peer_t;

static void peer_open(void *ud, wskit_ctx *ctx, uint64_t conn, uint32_t listener, const char *sub,
                      const char *path, const char *peer) {
    peer_t *p = ud;
    (void)ctx, (void)listener, (void)path, (void)peer;
    p->opened = 1;
    p->conn = conn;
    snprintf(p->subprotocol, sizeof p->subprotocol, "%s", sub ? sub : "(none)");
}

static void peer_message(void *ud, wskit_ctx *ctx, uint64_t conn, bool is_text, const uint8_t *data,
                         size_t len) {
    peer_t *p = ud;
    p->messages++;
    /* echo */
    if (is_text) wskit_send_text(ctx, conn, (const char *)data, len);
    else wskit_send_binary(ctx, conn, data, len);
}

static void peer_close(void *ud, wskit_ctx *ctx, uint64_t conn, uint16_t code, const char *reason,
                       size_t reason_len, bool clean) {
    peer_t *p = ud;
    (void)ctx, (void)conn, (void)code, (void)reason, (void)reason_len, (void)clean;
    p->closed = 1;
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
    int i, got;

    memset(&peer, 0, sizeof peer);
    CHECK_OK(wskit_ctx_new(&q));
    CHECK_OK(wskit_ctx_new(&other));
    CHECK_RC(wskit_ctx_next_event(q, &ev), WSKIT_ERR_INVALID_STATE);
    CHECK_OK(wskit_ctx_use_event_queue(q, 4));
    CHECK_RC(wskit_ctx_on_message(q, NULL, NULL), WSKIT_ERR_INVALID_STATE);
    CHECK_RC(wskit_ctx_next_event(q, &ev), WSKIT_QUEUE_EMPTY);

    /* q is the server (subprotocols "b" and "a" supported); other is a callback-mode client
     * offering "a", "b". The first offered that the server lists wins: "a". */
    CHECK_OK(wskit_config_new(&server_cfg));
    CHECK_OK(wskit_config_add_subprotocol(server_cfg, "b"));
    CHECK_OK(wskit_config_add_subprotocol(server_cfg, "a"));
    CHECK_OK(wskit_ctx_listen(q, "127.0.0.1:0", server_cfg, &listener));
    wskit_config_free(server_cfg);
    CHECK_OK(wskit_ctx_local_port(q, listener, &port));
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/game?room=1", (unsigned)port);
    CHECK(wait_event(q, other, WSKIT_EVENT_LISTEN, &ev));
    CHECK(ev.listener == listener && ev.code == port && ev.data != NULL && ev.len > 0);
    CHECK(strstr((const char *)ev.data, "127.0.0.1:") != NULL);

    CHECK_OK(wskit_ctx_on_open(other, peer_open, &peer));
    CHECK_OK(wskit_ctx_on_message(other, peer_message, &peer));
    CHECK_OK(wskit_ctx_on_close(other, peer_close, &peer));
    CHECK_OK(wskit_config_new(&client_cfg));
    CHECK_OK(wskit_config_add_subprotocol(client_cfg, "a"));
    CHECK_OK(wskit_config_add_subprotocol(client_cfg, "b"));
    CHECK_OK(wskit_ctx_connect(other, url, client_cfg, &client));
    wskit_config_free(client_cfg);

    CHECK(wait_event(q, other, WSKIT_EVENT_OPEN, &ev));
    server_conn = ev.conn;
    CHECK(ev.listener == listener);
    CHECK(ev.len == 1 && memcmp(ev.data, "a", 2) == 0);
    CHECK_OK(wskit_conn_subprotocol(q, server_conn, &sub));
    CHECK(sub != NULL && strcmp(sub, "a") == 0);
    CHECK(poll_until(other, &peer.opened, 5));
    CHECK(strcmp(peer.subprotocol, "a") == 0);

    /* Round trip: q sends, other echoes, q pulls the message. */
    CHECK_OK(wskit_send_text(q, server_conn, "hello queue", 11));
    CHECK(wait_event(q, other, WSKIT_EVENT_MESSAGE, &ev));
    CHECK(ev.conn == server_conn && ev.is_text && ev.len == 11 && memcmp(ev.data, "hello queue", 11) == 0);
    CHECK_OK(wskit_send_binary(q, server_conn, (const uint8_t *)"\x00\x01\x02", 3));
    CHECK(wait_event(q, other, WSKIT_EVENT_MESSAGE, &ev));
    CHECK(!ev.is_text && ev.len == 3 && ev.data[2] == 2);

    /* Ping from q: the pong comes back as an event. */
    CHECK_OK(wskit_ping(q, server_conn, (const uint8_t *)"p1", 2));
    CHECK(wait_event(q, other, WSKIT_EVENT_PONG, &ev));
    CHECK(ev.len == 2 && memcmp(ev.data, "p1", 2) == 0);
    CHECK_OK(wskit_ping(other, peer.conn, (const uint8_t *)"p2", 2));
    CHECK(wait_event(q, other, WSKIT_EVENT_PING, &ev));
    CHECK(ev.len == 2 && memcmp(ev.data, "p2", 2) == 0);

    /* Soft capacity: 40 echoes with capacity 4; every message still arrives, in order. */
    for (i = 0; i < 40; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "m%d", i);
        CHECK_OK(wskit_send_text(q, server_conn, msg, strlen(msg)));
    }
    got = 0;
    {
        double end = test_now() + 5;
        while (got < 40 && test_now() < end) {
            size_t queued = 0;
            CHECK_OK(wskit_ctx_poll(q, 5, NULL));
            CHECK_OK(wskit_ctx_poll(other, 5, NULL));
            while (wskit_ctx_next_event(q, &ev) == WSKIT_OK) {
                if (ev.kind == WSKIT_EVENT_MESSAGE) {
                    char want[16];
                    snprintf(want, sizeof want, "m%d", got);
                    CHECK(ev.len == strlen(want) && memcmp(ev.data, want, ev.len) == 0);
                    got++;
                }
                queued++;
            }
            (void)queued;
        }
    }
    CHECK(got == 40);

    /* Close from the peer with a code and reason. */
    CHECK_OK(wskit_close(other, peer.conn, 4321, "bye queue"));
    CHECK(wait_event(q, other, WSKIT_EVENT_CLOSE, &ev));
    CHECK(ev.conn == server_conn && ev.code == 4321 && ev.clean);
    CHECK(ev.len == 9 && strcmp((const char *)ev.data, "bye queue") == 0);
    /* The subprotocol pointer got earlier stays valid until the next next_event/poll. */
    CHECK(strcmp(sub, "a") == 0);
    CHECK_RC(wskit_send_text(q, server_conn, "x", 1), WSKIT_ERR_NOT_FOUND);

    /* An error event: a remote send to a stale id is reported to the queue. */
    {
        wskit_remote *remote = NULL;
        CHECK_OK(wskit_ctx_remote_new(q, &remote));
        CHECK_OK(wskit_remote_send_text(remote, server_conn, "stale", 5));
        CHECK(wait_event(q, other, WSKIT_EVENT_ERROR, &ev));
        CHECK(ev.conn == server_conn && ev.code == WSKIT_ERR_NOT_FOUND && ev.len > 0);
        wskit_remote_free(remote);
    }
    CHECK(poll_until(other, &peer.closed, 5));

    /* Events left in the queue are freed with the context. */
    CHECK_OK(wskit_ctx_connect(other, url, NULL, &client));
    for (i = 0; i < 20; i++) {
        CHECK_OK(wskit_ctx_poll(q, 5, NULL));
        CHECK_OK(wskit_ctx_poll(other, 5, NULL));
    }
    CHECK_OK(wskit_ctx_free(q));
    CHECK_OK(wskit_ctx_free(other));
    return test_finish("queue");
}
