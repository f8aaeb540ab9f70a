/* Accepting by id: the ACCEPT event (path, query, peer, headers, default subprotocol), answers
 * inside the callback (accept with a subprotocol and headers; reject with status, headers, body ->
 * the client's REJECTED event, then CLOSE 1006), arguments refused at once (reserved header,
 * unoffered subprotocol, bad status) leaving the request pending, deferred accept answered in a
 * later turn, queue mode with WSKIT_QUEUE_ACCEPT_EVENTS, and the request information kept after
 * the handshake (wskit_config_keep_request / keep_header; WSKIT_ERR_UNAVAILABLE otherwise). */
#include "test_util.h"

#include <strings.h>

typedef struct {
    int accepts, opens, closes, rejected, errors;
    uint64_t deferred;          /* a request left pending by the accept callback */
    uint64_t server_conn, client_conn;
    uint32_t rejected_code;
    char rejected_body[64];
    char rejected_header[64];
    char open_sub[32];
    char accept_default[32];
    int checked_invalid;
} st_t;

static int eq(const char *s, size_t len, const char *want) { return s && len == strlen(want) && memcmp(s, want, len) == 0; }

static void on_accept(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    st_t *st = ud;
    st->accepts++;
    CHECK(ev->kind == WSKIT_EVENT_ACCEPT && ev->conn != 0 && ev->listener != 0);
    CHECK(ev->peer != NULL && strncmp(ev->peer, "127.0.0.1:", 10) == 0);
    snprintf(st->accept_default, sizeof st->accept_default, "%.*s", (int)ev->subprotocol_len,
             ev->subprotocol ? ev->subprotocol : "");
    if (eq(ev->path, ev->path_len, "/reject")) {
        wskit_header h = {"X-Why", WSKIT_NTS, "closed", WSKIT_NTS};
        wskit_header bad = {"Content-Length", WSKIT_NTS, "9", WSKIT_NTS};
        /* Refused at once, the request stays pending. */
        CHECK_RC(wskit_conn_reject(ctx, ev->conn, 101, NULL, 0, NULL, 0), WSKIT_ERR_INVALID_ARG);
        CHECK_RC(wskit_conn_reject(ctx, ev->conn, 403, &bad, 1, NULL, 0), WSKIT_ERR_INVALID_ARG);
        CHECK_OK(wskit_conn_reject(ctx, ev->conn, 403, &h, 1, "go away", WSKIT_NTS));
        CHECK_RC(wskit_conn_accept(ctx, ev->conn, NULL, 0, NULL, 0), WSKIT_ERR_INVALID_STATE);
        return;
    }
    if (eq(ev->path, ev->path_len, "/defer")) {
        CHECK_OK(wskit_conn_defer_accept(ctx, ev->conn));
        st->deferred = ev->conn;
        return;
    }
    if (eq(ev->path, ev->path_len, "/default")) return; /* no answer: the default subprotocol */
    {
        wskit_header reserved = {"Sec-WebSocket-Accept", WSKIT_NTS, "x", WSKIT_NTS};
        wskit_header cookie = {"Set-Cookie", WSKIT_NTS, "id=1", WSKIT_NTS};
        CHECK(eq(ev->path, ev->path_len, "/chat") && eq(ev->query, ev->query_len, "room=7"));
        CHECK_RC(wskit_conn_accept(ctx, ev->conn, NULL, 0, &reserved, 1), WSKIT_ERR_INVALID_ARG);
        CHECK_RC(wskit_conn_accept(ctx, ev->conn, "never-offered", WSKIT_NTS, NULL, 0), WSKIT_ERR_INVALID_ARG);
        CHECK_RC(wskit_conn_defer_accept(ctx, ev->conn + 1), WSKIT_ERR_INVALID_STATE);
        CHECK_OK(wskit_conn_accept(ctx, ev->conn, "second", WSKIT_NTS, &cookie, 1));
        st->checked_invalid = 1;
    }
}

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    st_t *st = ud;
    (void)ctx;
    st->opens++;
    if (ev->listener) {
        st->server_conn = ev->conn;
        snprintf(st->open_sub, sizeof st->open_sub, "%.*s", (int)ev->subprotocol_len,
                 ev->subprotocol ? ev->subprotocol : "");
    } else {
        st->client_conn = ev->conn;
    }
}

static void on_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    st_t *st = ud;
    (void)ctx, (void)ev;
    st->closes++;
}

static void on_rejected(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    st_t *st = ud;
    size_t i;
    (void)ctx;
    st->rejected++;
    st->rejected_code = ev->code;
    snprintf(st->rejected_body, sizeof st->rejected_body, "%.*s", (int)ev->len, (const char *)ev->data);
    for (i = 0; i < ev->header_count; i++) {
        if (eq(ev->headers[i].name, ev->headers[i].name_len, "X-Why"))
            snprintf(st->rejected_header, sizeof st->rejected_header, "%s", ev->headers[i].value);
    }
}

static void on_error(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    st_t *st = ud;
    (void)ctx;
    st->errors++;
    CHECK(ev->len > 0);
}

static void connect_to(wskit_ctx *ctx, uint16_t port, const char *target, const char *subs) {
    char url[128];
    wskit_config *cfg = NULL;
    uint64_t conn = 0;
    CHECK_OK(wskit_config_new(&cfg));
    while (subs && *subs) {
        const char *comma = strchr(subs, ',');
        size_t n = comma ? (size_t)(comma - subs) : strlen(subs);
        CHECK_OK(wskit_config_add_subprotocol(cfg, subs, n));
        subs += n + (comma ? 1 : 0);
    }
    snprintf(url, sizeof url, "ws://127.0.0.1:%u%s", (unsigned)port, target);
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, cfg, &conn));
    CHECK_OK(wskit_config_free(cfg));
}

static void callbacks(void) {
    wskit_ctx *ctx = NULL;
    wskit_config *cfg = NULL;
    st_t st;
    uint32_t listener = 0;
    uint16_t port = 0;
    const char *s = NULL, *n = NULL;
    size_t len = 0, nlen = 0, count = 0;
    int want;

    memset(&st, 0, sizeof st);
    CHECK_OK(wskit_ctx_new(&ctx));
    CHECK_OK(wskit_ctx_on_accept(ctx, on_accept, &st));
    CHECK_OK(wskit_ctx_on_open(ctx, on_open, &st));
    CHECK_OK(wskit_ctx_on_close(ctx, on_close, &st));
    CHECK_OK(wskit_ctx_on_rejected(ctx, on_rejected, &st));
    CHECK_OK(wskit_ctx_on_error(ctx, on_error, &st));
    CHECK_OK(wskit_config_new(&cfg));
    CHECK_OK(wskit_config_add_subprotocol(cfg, "first", WSKIT_NTS));
    CHECK_OK(wskit_config_add_subprotocol(cfg, "second", WSKIT_NTS));
    CHECK_OK(wskit_config_keep_request(cfg, true));
    CHECK_OK(wskit_config_keep_header(cfg, "user-agent", WSKIT_NTS));
    CHECK_OK(wskit_config_keep_header(cfg, "Host", 4));
    CHECK_RC(wskit_config_keep_header(cfg, "bad name", WSKIT_NTS), WSKIT_ERR_INVALID_ARG);
    CHECK_OK(wskit_ctx_listen(ctx, "127.0.0.1:0", WSKIT_NTS, cfg, &listener));
    CHECK_OK(wskit_config_free(cfg));
    CHECK_OK(wskit_ctx_local_port(ctx, listener, &port));

    /* Accepted inside the callback with "second" (not the default "first") and a header. */
    connect_to(ctx, port, "/chat?room=7", "first,second");
    {
        double end = test_now() + 5;
        while (st.opens < 2 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    }
    CHECK(st.opens == 2 && st.checked_invalid);
    CHECK(strcmp(st.accept_default, "first") == 0);
    CHECK(strcmp(st.open_sub, "second") == 0);
    /* Kept request information. */
    CHECK_OK(wskit_conn_path(ctx, st.server_conn, &s, &len));
    CHECK(eq(s, len, "/chat") && s[len] == '\0');
    CHECK_OK(wskit_conn_query(ctx, st.server_conn, &s, NULL));
    CHECK(s && strcmp(s, "room=7") == 0);
    CHECK_OK(wskit_conn_peer(ctx, st.server_conn, &s, &len));
    CHECK(strncmp(s, "127.0.0.1:", 10) == 0 && len == strlen(s));
    CHECK_OK(wskit_conn_header(ctx, st.server_conn, "HOST", WSKIT_NTS, &s, &len));
    CHECK(strncmp(s, "127.0.0.1:", 10) == 0);
    CHECK_RC(wskit_conn_header(ctx, st.server_conn, "User-Agent", WSKIT_NTS, &s, &len), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_header(ctx, st.server_conn, "Sec-WebSocket-Key", WSKIT_NTS, &s, &len),
             WSKIT_ERR_UNAVAILABLE);
    CHECK_OK(wskit_conn_header_count(ctx, st.server_conn, &count));
    CHECK(count == 1);
    CHECK_OK(wskit_conn_header_at(ctx, st.server_conn, 0, &n, &nlen, &s, &len));
    CHECK(nlen == 4 && strncasecmp(n, "host", 4) == 0);
    CHECK_RC(wskit_conn_header_at(ctx, st.server_conn, 1, &n, &nlen, &s, &len), WSKIT_ERR_INVALID_ARG);
    /* A client keeps the response headers: the Set-Cookie the accept added. */
    CHECK_OK(wskit_conn_header(ctx, st.client_conn, "set-cookie", WSKIT_NTS, &s, &len));
    CHECK(eq(s, len, "id=1"));
    CHECK_OK(wskit_conn_subprotocol(ctx, st.client_conn, &s, &len));
    CHECK(eq(s, len, "second"));
    CHECK_OK(wskit_conn_path(ctx, st.client_conn, &s, &len));
    CHECK(eq(s, len, "/chat"));

    /* No answer: accepted with the default subprotocol. */
    want = st.opens + 2;
    connect_to(ctx, port, "/default", "nope,second,first");
    {
        double end = test_now() + 5;
        while (st.opens < want && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    }
    CHECK(st.opens == want && strcmp(st.open_sub, "second") == 0);

    /* Rejected: the client gets REJECTED (status, headers, body) and then CLOSE. */
    want = st.closes + 1;
    connect_to(ctx, port, "/reject", NULL);
    {
        double end = test_now() + 5;
        while (st.closes < want && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    }
    CHECK(st.rejected == 1 && st.rejected_code == 403);
    CHECK(strcmp(st.rejected_body, "go away") == 0);
    CHECK(strcmp(st.rejected_header, "closed") == 0);

    /* Deferred: pending after the callback, accepted in a later turn of the loop. */
    want = st.opens + 2;
    connect_to(ctx, port, "/defer", NULL);
    {
        double end = test_now() + 5;
        while (!st.deferred && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    }
    CHECK(st.deferred != 0);
    CHECK_OK(wskit_ctx_poll(ctx, 20, NULL));
    CHECK(st.opens == want - 2); /* still pending */
    CHECK_OK(wskit_conn_accept(ctx, st.deferred, NULL, 0, NULL, 0));
    CHECK_RC(wskit_conn_accept(ctx, st.deferred, NULL, 0, NULL, 0), WSKIT_ERR_INVALID_STATE);
    {
        double end = test_now() + 5;
        while (st.opens < want && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    }
    CHECK(st.opens == want);
    CHECK_RC(wskit_conn_defer_accept(ctx, st.deferred), WSKIT_ERR_INVALID_STATE);

    CHECK_OK(wskit_ctx_shutdown(ctx, 2000));
    CHECK(st.opens == st.closes - 1); /* the rejected client's close has no open */
    CHECK_OK(wskit_ctx_free(ctx));
}

/* Queue mode with WSKIT_QUEUE_ACCEPT_EVENTS: every request waits for an answer by id. */
static void queue_accept(void) {
    wskit_ctx *q = NULL, *other = NULL;
    wskit_config *cfg = NULL;
    wskit_event ev;
    st_t st;
    uint32_t listener = 0;
    uint16_t port = 0;
    uint64_t pending = 0;
    const char *s = NULL;
    size_t len = 0;
    int got_open = 0, got_accept = 0;
    double end;

    memset(&st, 0, sizeof st);
    CHECK_OK(wskit_ctx_new(&q));
    CHECK_OK(wskit_ctx_new(&other));
    CHECK_OK(wskit_ctx_use_event_queue(q, 1 << 20, WSKIT_QUEUE_ACCEPT_EVENTS));
    CHECK_OK(wskit_ctx_on_open(other, on_open, &st));
    CHECK_OK(wskit_ctx_on_rejected(other, on_rejected, &st));
    CHECK_OK(wskit_config_new(&cfg));
    CHECK_OK(wskit_config_add_subprotocol(cfg, "q1", WSKIT_NTS));
    CHECK_OK(wskit_ctx_listen(q, "127.0.0.1:0", WSKIT_NTS, cfg, &listener));
    CHECK_OK(wskit_config_free(cfg));
    CHECK_OK(wskit_ctx_local_port(q, listener, &port));
    connect_to(other, port, "/q?x=1", "q0,q1");
    end = test_now() + 5;
    while (!got_accept && test_now() < end) {
        CHECK_OK(wskit_ctx_poll(q, 5, NULL));
        CHECK_OK(wskit_ctx_poll(other, 5, NULL));
        while (wskit_ctx_next_event(q, &ev) == WSKIT_OK) {
            if (ev.kind != WSKIT_EVENT_ACCEPT) continue;
            got_accept = 1;
            pending = ev.conn;
            CHECK(eq(ev.path, ev.path_len, "/q") && eq(ev.query, ev.query_len, "x=1"));
            CHECK(eq(ev.subprotocol, ev.subprotocol_len, "q1"));
            CHECK(ev.header_count > 0 && ev.peer_len > 0);
        }
    }
    CHECK(got_accept);
    /* Pending until answered: the client does not open. */
    CHECK_OK(wskit_ctx_poll(q, 20, NULL));
    CHECK_OK(wskit_ctx_poll(other, 20, NULL));
    CHECK(st.opens == 0);
    CHECK_RC(wskit_conn_accept(q, pending, "q9", WSKIT_NTS, NULL, 0), WSKIT_ERR_INVALID_ARG);
    CHECK_OK(wskit_conn_accept(q, pending, "q1", 2, NULL, 0));
    end = test_now() + 5;
    while (!(got_open && st.opens == 1) && test_now() < end) {
        CHECK_OK(wskit_ctx_poll(q, 5, NULL));
        CHECK_OK(wskit_ctx_poll(other, 5, NULL));
        while (wskit_ctx_next_event(q, &ev) == WSKIT_OK) {
            if (ev.kind == WSKIT_EVENT_OPEN && ev.conn == pending) got_open = 1;
        }
    }
    CHECK(got_open && st.opens == 1);
    CHECK_OK(wskit_conn_subprotocol(q, pending, &s, &len));
    CHECK(eq(s, len, "q1"));
    /* Not kept: the path is unavailable after the handshake. */
    CHECK_RC(wskit_conn_path(q, pending, &s, &len), WSKIT_ERR_UNAVAILABLE);
    CHECK(strstr(wskit_error_last(), "keep") != NULL);

    /* A rejection by id from the queue. */
    connect_to(other, port, "/no", NULL);
    got_accept = 0;
    end = test_now() + 5;
    while (st.rejected == 0 && test_now() < end) {
        CHECK_OK(wskit_ctx_poll(q, 5, NULL));
        CHECK_OK(wskit_ctx_poll(other, 5, NULL));
        while (wskit_ctx_next_event(q, &ev) == WSKIT_OK) {
            if (ev.kind == WSKIT_EVENT_ACCEPT) CHECK_OK(wskit_conn_reject(q, ev.conn, 401, NULL, 0, "who?", 4));
        }
    }
    CHECK(st.rejected == 1 && st.rejected_code == 401 && strcmp(st.rejected_body, "who?") == 0);
    CHECK_OK(wskit_ctx_free(q));
    CHECK_OK(wskit_ctx_free(other));
}

int main(void) {
    callbacks();
    queue_accept();
    return test_finish("accept");
}
