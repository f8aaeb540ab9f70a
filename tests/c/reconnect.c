/* Client auto-reconnect through the C ABI, against a real server in its own process (Python
 * websockets, tests/peers/py_server.py) that is killed with SIGKILL and restarted on the same port:
 * RECONNECT events with consecutive attempts and delays within [min, max], the same connection id
 * after the reconnect, the offline queue flushed in order, WSKIT_ERR_NOT_CONNECTED without a queue,
 * UNDELIVERED events when attempts run out, a reshaped delay, and stop / wskit_ctx_free with a retry
 * pending returning at once (valgrind and ASan check that nothing leaks). */
#include "test_util.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_EVENTS 64

typedef struct {
    int opened, closed, errors;
    int close_code;
    int attempts;
    uint32_t attempt[MAX_EVENTS], delay_ms[MAX_EVENTS];
    int messages;
    char message[MAX_EVENTS][32];
    int undelivered;
    uint32_t undelivered_reason[MAX_EVENTS];
    char undelivered_data[MAX_EVENTS][32];
    /* RECONNECT callback behaviour: stop at this attempt (0: never), or set this delay (0: keep). */
    uint32_t stop_at, reshape_ms;
    wskit_status reshape_rc;
} state;

static void copy_text(char *dst, const wskit_event *e) {
    size_t n = e->len < 31 ? e->len : 31;
    memcpy(dst, e->data, n);
    dst[n] = '\0';
}

static void on_event(void *user, wskit_ctx *ctx, const wskit_event *e) {
    state *st = user;
    switch (e->kind) {
    case WSKIT_EVENT_OPEN: st->opened++; break;
    case WSKIT_EVENT_CLOSE: st->closed++; st->close_code = (int)e->code; break;
    case WSKIT_EVENT_ERROR: st->errors++; break;
    case WSKIT_EVENT_MESSAGE:
        if (st->messages < MAX_EVENTS) copy_text(st->message[st->messages++], e);
        break;
    case WSKIT_EVENT_RECONNECT:
        if (st->attempts < MAX_EVENTS) {
            st->attempt[st->attempts] = e->code;
            st->delay_ms[st->attempts] = e->listener;
            st->attempts++;
        }
        CHECK(e->len > 0 && e->data != NULL); /* why the last attempt ended */
        if (st->stop_at && e->code == st->stop_at) CHECK_OK(wskit_conn_stop_reconnect(ctx, e->conn));
        else if (st->reshape_ms) st->reshape_rc = wskit_conn_reconnect_delay(ctx, e->conn, st->reshape_ms);
        break;
    case WSKIT_EVENT_UNDELIVERED:
        if (st->undelivered < MAX_EVENTS) {
            st->undelivered_reason[st->undelivered] = e->code;
            copy_text(st->undelivered_data[st->undelivered++], e);
        }
        break;
    default: break;
    }
}

static wskit_ctx *new_ctx(state *st) {
    wskit_ctx *ctx = NULL;
    CHECK_OK(wskit_ctx_new(&ctx));
    CHECK_OK(wskit_ctx_on_open(ctx, on_event, st));
    CHECK_OK(wskit_ctx_on_close(ctx, on_event, st));
    CHECK_OK(wskit_ctx_on_error(ctx, on_event, st));
    CHECK_OK(wskit_ctx_on_message(ctx, on_event, st));
    CHECK_OK(wskit_ctx_on_reconnect(ctx, on_event, st));
    CHECK_OK(wskit_ctx_on_undelivered(ctx, on_event, st));
    return ctx;
}

static int wait_count(wskit_ctx *ctx, const int *count, int want, double seconds) {
    double end = test_now() + seconds;
    while (*count < want && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 20, NULL));
    return *count >= want;
}

static void poll_for(wskit_ctx *ctx, double seconds) {
    double end = test_now() + seconds;
    while (test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 20, NULL));
}

static unsigned free_port(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* Starts tests/peers/py_server.py on `port` (from the repo root, where test-c.sh runs tests) and
 * waits for its READY line. Returns its pid, or -1. */
static pid_t start_server(unsigned port) {
    char python[512], port_text[16];
    const char *peers = getenv("WSKIT_PEERS_DIR");
    int fds[2];
    pid_t pid;
    char line[64];
    size_t got = 0;
    snprintf(python, sizeof python, "%s/venv/bin/python", peers && *peers ? peers : ".peers");
    snprintf(port_text, sizeof port_text, "%u", port);
    if (access(python, X_OK) != 0) {
        fprintf(stderr, "%s missing: run scripts/setup-peers.sh\n", python);
        return -1;
    }
    if (pipe(fds) != 0) return -1;
    pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(python, python, "tests/peers/py_server.py", "--port", port_text, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    while (got < sizeof line - 1) {
        ssize_t n = read(fds[0], line + got, 1);
        if (n <= 0 || line[got] == '\n') break;
        got++;
    }
    line[got] = '\0';
    close(fds[0]);
    if (strncmp(line, "READY ", 6) != 0) {
        fprintf(stderr, "server did not start: %s\n", line);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

static void kill_server(pid_t pid) {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void killed_and_restarted(void) {
    state st;
    unsigned port = free_port();
    char url[64];
    uint64_t conn = 0;
    wskit_config *cfg = NULL;
    wskit_ctx *ctx;
    wskit_reconnect_state rs;
    pid_t server = start_server(port);
    double restarted;
    int i;
    memset(&st, 0, sizeof st);
    CHECK(server > 0);
    ctx = new_ctx(&st);
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/echo", port);
    CHECK_OK(wskit_config_new(&cfg));
    CHECK_OK(wskit_config_set_reconnect(cfg, 100, 400));
    CHECK_OK(wskit_config_set_reconnect_stable_after_ms(cfg, 60000));
    CHECK_OK(wskit_config_set_offline_queue_bytes(cfg, 1 << 20));
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, cfg, &conn));
    CHECK_OK(wskit_config_free(cfg));
    CHECK(wait_count(ctx, &st.opened, 1, 10));
    CHECK_OK(wskit_conn_send_text(ctx, conn, "before", WSKIT_NTS));
    CHECK(wait_count(ctx, &st.messages, 1, 10));
    {
        const char *peer = NULL;
        size_t peer_len = 0, headers = 0;
        /* Strings of the first connection: valid until its RECONNECT event was delivered. */
        CHECK_OK(wskit_conn_peer(ctx, conn, &peer, &peer_len));
        CHECK(peer_len > 0);
        CHECK_OK(wskit_conn_header_count(ctx, conn, &headers));
        CHECK(headers > 0);
    }

    kill_server(server);
    CHECK(wait_count(ctx, &st.attempts, 1, 10));
    CHECK_OK(wskit_conn_send_text(ctx, conn, "q1", WSKIT_NTS));
    CHECK_OK(wskit_conn_send_binary(ctx, conn, (const uint8_t *)"q2", 2));
    CHECK_OK(wskit_conn_reconnect_state(ctx, conn, &rs));
    CHECK(rs.queued_messages == 2 && rs.queued_bytes == 4 && rs.attempt >= 1);
    poll_for(ctx, 0.9); /* attempts fail meanwhile: connection refused */
    CHECK(st.attempts >= 2);
    CHECK(st.opened == 1);

    server = start_server(port);
    CHECK(server > 0);
    restarted = test_now();
    CHECK(wait_count(ctx, &st.opened, 2, 10));
    CHECK(test_now() - restarted < 0.4 + 0.7); /* within max_delay, plus connect + handshake */
    CHECK(wait_count(ctx, &st.messages, 3, 10));
    CHECK(strcmp(st.message[0], "before") == 0);
    CHECK(strcmp(st.message[1], "q1") == 0 && strcmp(st.message[2], "q2") == 0);
    for (i = 0; i < st.attempts; i++) {
        CHECK(st.attempt[i] == (uint32_t)i + 1);
        CHECK(st.delay_ms[i] >= 100 && st.delay_ms[i] <= 400);
    }
    CHECK(st.closed == 0 && st.errors == 0 && st.undelivered == 0);
    CHECK_OK(wskit_conn_reconnect_state(ctx, conn, &rs));
    CHECK(rs.queued_messages == 0 && !rs.waiting);
    {
        const char *name = NULL, *value = NULL;
        size_t name_len = 0, value_len = 0, headers = 0;
        /* The new connection's response headers, copied afresh. */
        CHECK_OK(wskit_conn_header_count(ctx, conn, &headers));
        CHECK(headers > 0);
        CHECK_OK(wskit_conn_header_at(ctx, conn, 0, &name, &name_len, &value, &value_len));
        CHECK(name != NULL && name_len > 0);
    }

    CHECK_OK(wskit_conn_close(ctx, conn, 1000, "done", WSKIT_NTS));
    CHECK(wait_count(ctx, &st.closed, 1, 10));
    CHECK(st.close_code == 1000);
    CHECK_OK(wskit_ctx_free(ctx));
    kill_server(server);
}

static void without_a_server(void) {
    state st;
    char url[64];
    uint64_t a = 0, b = 0, c = 0;
    wskit_config *cfg = NULL;
    wskit_ctx *ctx;
    double started;
    memset(&st, 0, sizeof st);
    ctx = new_ctx(&st);
    snprintf(url, sizeof url, "ws://127.0.0.1:%u/", free_port()); /* every attempt refused */

    /* Fail fast without a queue; a reshaped delay; stop from the callback. */
    CHECK_OK(wskit_config_new(&cfg));
    CHECK_OK(wskit_config_set_reconnect(cfg, 30000, 30000));
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, cfg, &a));
    CHECK(wait_count(ctx, &st.attempts, 1, 10));
    CHECK_RC(wskit_conn_send_text(ctx, a, "x", 1), WSKIT_ERR_NOT_CONNECTED);
    CHECK_OK(wskit_conn_reconnect_delay(ctx, a, 20)); /* instead of 30 s */
    st.reshape_ms = 20;
    st.stop_at = 3;
    started = test_now();
    CHECK(wait_count(ctx, &st.closed, 1, 5));
    CHECK(test_now() - started < 5);
    CHECK(st.attempts == 3 && st.reshape_rc == WSKIT_OK);
    CHECK(st.close_code == 1006);
    CHECK_RC(wskit_conn_reconnect_delay(ctx, a, 20), WSKIT_ERR_NOT_FOUND);

    /* Attempts exhausted: every queued message is reported, then the close. */
    memset(&st, 0, sizeof st);
    CHECK_OK(wskit_config_set_reconnect(cfg, 10, 20));
    CHECK_OK(wskit_config_set_reconnect_max_attempts(cfg, 2));
    CHECK_OK(wskit_config_set_offline_queue_bytes(cfg, 8));
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, cfg, &b));
    CHECK_OK(wskit_conn_send_text(ctx, b, "m1", 2));
    CHECK_OK(wskit_conn_send_text(ctx, b, "m2", 2));
    CHECK_OK(wskit_conn_send_text(ctx, b, "too long to fit", WSKIT_NTS));
    CHECK(wait_count(ctx, &st.closed, 1, 10));
    CHECK(st.attempts == 2);
    CHECK(st.undelivered == 3);
    CHECK(st.undelivered_reason[0] == WSKIT_UNDELIVERED_QUEUE_FULL);
    CHECK(strcmp(st.undelivered_data[0], "too long to fit") == 0);
    CHECK(st.undelivered_reason[1] == WSKIT_UNDELIVERED_EXHAUSTED && strcmp(st.undelivered_data[1], "m1") == 0);
    CHECK(st.undelivered_reason[2] == WSKIT_UNDELIVERED_EXHAUSTED && strcmp(st.undelivered_data[2], "m2") == 0);
    CHECK(st.errors == 1 && st.close_code == 1006);

    /* Stop while a 30 s retry is pending returns at once, and so does freeing the context. */
    memset(&st, 0, sizeof st);
    CHECK_OK(wskit_config_set_reconnect(cfg, 30000, 30000));
    CHECK_OK(wskit_config_set_offline_queue_bytes(cfg, 1024));
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, cfg, &b));
    CHECK(wait_count(ctx, &st.attempts, 1, 10));
    CHECK_OK(wskit_conn_send_text(ctx, b, "queued", WSKIT_NTS));
    started = test_now();
    CHECK_OK(wskit_conn_stop_reconnect(ctx, b));
    CHECK(test_now() - started < 0.1);
    CHECK(wait_count(ctx, &st.closed, 1, 1));
    CHECK(st.undelivered == 1 && st.undelivered_reason[0] == WSKIT_UNDELIVERED_STOPPED);

    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, cfg, &c));
    CHECK(wait_count(ctx, &st.attempts, 2, 10));
    CHECK_OK(wskit_conn_send_binary(ctx, c, (const uint8_t *)"held", 4)); /* freed with the context */
    CHECK_OK(wskit_config_free(cfg));
    started = test_now();
    CHECK_OK(wskit_ctx_free(ctx));
    CHECK(test_now() - started < 1.0);
    CHECK(st.closed == 2); /* the close event of the connection still there */
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    killed_and_restarted();
    without_a_server();
    return test_finish("reconnect");
}
