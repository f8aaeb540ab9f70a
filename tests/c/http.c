/* Plain HTTP beside WebSocket from C: a static directory (file, index.html, traversal refused),
 * HTTP_REQUEST callbacks answering at once (whole and streamed), from another thread through a
 * remote (wskit_remote_http_respond), falling back to wskit_http_serve_static, refused answers
 * (reserved header, bad status, no request), keep-alive with pipelined requests answered in
 * order, and the limits (413 for a body over wskit_config_set_max_http_body). Raw-socket
 * clients, polled from the same thread. */
#include "test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    int requests;
    int checked_refusals;
    volatile int later_done;
    wskit_remote *remote;
    pthread_t worker;
    int has_worker;
    uint64_t later_conn;
} st_t;

static int eq(const char *s, size_t len, const char *want) { return s && len == strlen(want) && memcmp(s, want, len) == 0; }

static void *answer_later(void *arg) {
    st_t *st = arg;
    wskit_header h = {"X-From", WSKIT_NTS, "worker", WSKIT_NTS};
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    CHECK_OK(wskit_remote_http_respond(st->remote, st->later_conn, 202, &h, 1, (const uint8_t *)"later", 5));
    st->later_done = 1;
    return NULL;
}

static void on_http(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    st_t *st = ud;
    st->requests++;
    CHECK(ev->kind == WSKIT_EVENT_HTTP_REQUEST && ev->conn != 0 && ev->listener != 0 && ev->code == 11);
    CHECK(ev->peer != NULL && strncmp(ev->peer, "127.0.0.1:", 10) == 0);
    if (eq(ev->path, ev->path_len, "/hello")) {
        char body[128];
        wskit_header h = {"Content-Type", WSKIT_NTS, "text/plain", WSKIT_NTS};
        int n = snprintf(body, sizeof body, "%.*s %.*s %.*s", (int)ev->subprotocol_len, ev->subprotocol,
                         (int)ev->query_len, ev->query ? ev->query : "", (int)ev->len, (const char *)ev->data);
        if (!st->checked_refusals) {
            wskit_header reserved = {"Content-Length", WSKIT_NTS, "1", WSKIT_NTS};
            CHECK_RC(wskit_http_respond(ctx, ev->conn, 200, &reserved, 1, NULL, 0), WSKIT_ERR_INVALID_ARG);
            CHECK_RC(wskit_http_respond(ctx, ev->conn, 101, NULL, 0, NULL, 0), WSKIT_ERR_INVALID_ARG);
            CHECK_RC(wskit_http_write(ctx, ev->conn, (const uint8_t *)"x", 1), WSKIT_ERR_INVALID_STATE);
            st->checked_refusals = 1;
        }
        CHECK_OK(wskit_http_respond(ctx, ev->conn, 200, &h, 1, (const uint8_t *)body, (size_t)n));
        CHECK_RC(wskit_http_respond(ctx, ev->conn, 200, NULL, 0, NULL, 0), WSKIT_ERR_INVALID_STATE);
    } else if (eq(ev->path, ev->path_len, "/stream")) {
        CHECK_OK(wskit_http_begin(ctx, ev->conn, 200, NULL, 0, WSKIT_HTTP_UNKNOWN_LENGTH));
        CHECK_OK(wskit_http_write(ctx, ev->conn, (const uint8_t *)"ab", 2));
        CHECK_OK(wskit_http_write(ctx, ev->conn, (const uint8_t *)"cd", 2));
        CHECK_OK(wskit_http_end(ctx, ev->conn));
    } else if (eq(ev->path, ev->path_len, "/later")) {
        st->later_conn = ev->conn;
        CHECK(pthread_create(&st->worker, NULL, answer_later, st) == 0);
        st->has_worker = 1;
    } else {
        CHECK_OK(wskit_http_serve_static(ctx, ev->conn));
    }
}

/* Sends `request` and polls until the server closes the connection; the response goes to `out`. */
static size_t exchange(wskit_ctx *ctx, uint16_t port, const char *request, size_t request_len, char *out, size_t cap) {
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t got = 0;
    double end = test_now() + 10;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(send(fd, request, request_len, 0) == (ssize_t)request_len);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    while (test_now() < end) {
        ssize_t n;
        CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
        n = recv(fd, out + got, cap - 1 - got, 0);
        if (n == 0) break;
        if (n > 0) got += (size_t)n;
    }
    close(fd);
    out[got] = 0;
    return got;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

int main(void) {
    wskit_ctx *ctx = NULL;
    wskit_config *cfg = NULL;
    uint32_t listener = 0;
    uint16_t port = 0;
    st_t st;
    char dir[] = "/tmp/wskit-c-http-XXXXXX";
    char path[256], out[65536];
    size_t n;
    memset(&st, 0, sizeof st);

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/index.html", dir);
    write_file(path, "<h1>C</h1>");
    snprintf(path, sizeof path, "%s/a.txt", dir);
    write_file(path, "0123456789");

    CHECK_OK(wskit_ctx_new(&ctx));
    CHECK_OK(wskit_config_new(&cfg));
    CHECK_OK(wskit_config_set_static_dir(cfg, dir, WSKIT_NTS));
    CHECK_OK(wskit_config_set_max_http_body(cfg, 100));
    CHECK_OK(wskit_config_set_http_keep_alive_ms(cfg, 5000));
    CHECK_OK(wskit_ctx_on_http_request(ctx, on_http, &st));
    CHECK_OK(wskit_ctx_listen(ctx, "127.0.0.1:0", WSKIT_NTS, cfg, &listener));
    CHECK_OK(wskit_ctx_local_port(ctx, listener, &port));
    CHECK_OK(wskit_remote_new(ctx, &st.remote));

    /* A static file, the index page, and traversal. */
    {
        const char *req = "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        n = exchange(ctx, port, req, strlen(req), out, sizeof out);
        CHECK(n > 0 && strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
        CHECK(strstr(out, "Content-Type: text/plain; charset=utf-8\r\n") != NULL);
        CHECK(strstr(out, "\r\n\r\n0123456789") != NULL);
    }
    {
        const char *req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        exchange(ctx, port, req, strlen(req), out, sizeof out);
        CHECK(strstr(out, "\r\n\r\n<h1>C</h1>") != NULL);
    }
    {
        const char *req = "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        exchange(ctx, port, req, strlen(req), out, sizeof out);
        CHECK(strncmp(out, "HTTP/1.1 404 ", 13) == 0);
    }
    /* Pipelined on one connection: answered in order (dynamic, streamed, from a thread, static). */
    {
        const char *req =
            "POST /hello?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
            "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /later HTTP/1.1\r\nHost: x\r\n\r\n"
            "GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=3-5\r\nConnection: close\r\n\r\n";
        const char *hello, *stream, *later, *range;
        exchange(ctx, port, req, strlen(req), out, sizeof out);
        hello = strstr(out, "\r\n\r\nPOST q=1 body");
        stream = strstr(out, "Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n");
        later = strstr(out, "HTTP/1.1 202 Accepted\r\nX-From: worker\r\nContent-Length: 5\r\n\r\nlater");
        range = strstr(out, "HTTP/1.1 206 Partial Content\r\n");
        CHECK(hello && stream && later && range);
        CHECK(hello < stream && stream < later && later < range);
        CHECK(range && strstr(range, "Content-Range: bytes 3-5/10\r\n") && strstr(range, "\r\n\r\n345"));
        CHECK(st.later_done);
    }
    /* Limits: a body over max_http_body gets 413. */
    {
        char req[512];
        int len = snprintf(req, sizeof req, "POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n");
        exchange(ctx, port, req, (size_t)len, out, sizeof out);
        CHECK(strncmp(out, "HTTP/1.1 413 ", 13) == 0);
    }
    CHECK(st.requests == 7 && st.checked_refusals);

    if (st.has_worker) pthread_join(st.worker, NULL);
    CHECK_OK(wskit_remote_free(st.remote));
    CHECK_OK(wskit_config_free(cfg));
    CHECK_OK(wskit_ctx_free(ctx));
    snprintf(path, sizeof path, "%s/index.html", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/a.txt", dir);
    unlink(path);
    rmdir(dir);
    if (test_failures) fprintf(stderr, "http: %d failure(s)\n", test_failures);
    return test_failures ? 1 : 0;
}
