/* Unix domain sockets through the C API: wskit_ctx_listen_unix with a mode, the LISTEN event's
 * path, a ws+unix: URL and wskit_ctx_connect_unix, echo, the peer of a Unix connection
 * (empty, in events and from wskit_conn_peer), the socket file removed at
 * close, a stale socket replaced with WSKIT_UNIX_REMOVE_STALE, a regular file never removed, and
 * the argument checks. */
#include "test_util.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct {
    int listened;
    char listen_path[128];
    uint32_t listen_code;
    int opened;
    int server_opened;
    size_t server_peer_len;
    char host[64];
    char path[64];
    int echoes;
    char last[64];
    int closed; /* client connections closed */
    uint64_t clients[4];
    int client_count;
    int errors;
    wskit_status last_error;
} state_t;

static void on_listen(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    st->listened++;
    snprintf(st->listen_path, sizeof st->listen_path, "%.*s", (int)ev->len, (const char *)ev->data);
    st->listen_code = ev->code;
}

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    size_t i;
    if (ev->listener != 0) {
        st->server_opened++;
        st->server_peer_len = ev->peer_len;
        snprintf(st->path, sizeof st->path, "%.*s", (int)ev->path_len, ev->path);
        for (i = 0; i < ev->header_count; i++) {
            if (ev->headers[i].name_len == 4 && strncmp(ev->headers[i].name, "Host", 4) == 0) {
                snprintf(st->host, sizeof st->host, "%.*s", (int)ev->headers[i].value_len,
                         ev->headers[i].value);
            }
        }
    } else {
        st->opened++;
        wskit_conn_send_text(ctx, ev->conn, "over unix", WSKIT_NTS);
    }
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    if (ev->listener != 0) {
        wskit_conn_send_text(ctx, ev->conn, (const char *)ev->data, ev->len);
    } else {
        st->echoes++;
        snprintf(st->last, sizeof st->last, "%.*s", (int)ev->len, (const char *)ev->data);
    }
}

static void on_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    int i;
    (void)ctx;
    for (i = 0; i < st->client_count; i++) {
        if (st->clients[i] == ev->conn) st->closed++;
    }
}

static void on_error(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    st->errors++;
    st->last_error = (wskit_status)ev->code;
}

static int is_socket(const char *path) {
    struct stat sb;
    return lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

/* Leaves a socket file nobody listens on at `path`. */
static void make_stale_socket(const char *path) {
    struct sockaddr_un addr;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    CHECK(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    close(fd);
}

int main(void) {
    wskit_ctx *ctx = NULL;
    wskit_config *cfg = NULL;
    state_t st;
    char dir[] = "/tmp/wskit-c-unix-XXXXXX";
    char sock[128], url[192], stale[128], regular[128];
    uint32_t listener = 0, other = 0;
    uint64_t conn = 0, conn2 = 0;
    const char *peer = NULL;
    struct stat sb;
    FILE *f;
    int before;

    memset(&st, 0, sizeof st);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(sock, sizeof sock, "%s/ws.sock", dir);
    snprintf(stale, sizeof stale, "%s/stale.sock", dir);
    snprintf(regular, sizeof regular, "%s/regular", dir);

    CHECK_OK(wskit_ctx_new(&ctx));
    CHECK_OK(wskit_ctx_on_listen(ctx, on_listen, &st));
    CHECK_OK(wskit_ctx_on_open(ctx, on_open, &st));
    CHECK_OK(wskit_ctx_on_message(ctx, on_message, &st));
    CHECK_OK(wskit_ctx_on_close(ctx, on_close, &st));
    CHECK_OK(wskit_ctx_on_error(ctx, on_error, &st));

    /* Listen with mode 0600: the file exists at once with that mode. */
    CHECK_OK(wskit_ctx_listen_unix(ctx, sock, WSKIT_NTS, 0600, 0, NULL, &listener));
    CHECK(listener != 0);
    CHECK(lstat(sock, &sb) == 0 && S_ISSOCK(sb.st_mode) && (sb.st_mode & 0777) == 0600);
    CHECK_OK(wskit_ctx_poll(ctx, 0, NULL));
    CHECK(st.listened == 1 && strcmp(st.listen_path, sock) == 0 && st.listen_code == 0);
    {
        uint16_t port = 1;
        CHECK_RC(wskit_ctx_local_port(ctx, listener, &port), WSKIT_ERR_INVALID_STATE);
    }

    /* A ws+unix: URL as Node ws writes it. */
    snprintf(url, sizeof url, "ws+unix://%s:/chat", sock);
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, NULL, &conn));
    st.clients[st.client_count++] = conn;
    {
        double end = test_now() + 5;
        while (st.echoes < 1 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    }
    CHECK(st.server_opened == 1 && st.opened == 1);
    CHECK(strcmp(st.host, "localhost") == 0);
    CHECK(strcmp(st.path, "/chat") == 0);
    CHECK(st.server_peer_len == 0);
    CHECK(st.echoes == 1 && strcmp(st.last, "over unix") == 0);
    {
        size_t peer_len = 99;
        CHECK_OK(wskit_conn_peer(ctx, conn, &peer, &peer_len));
        CHECK(peer != NULL && peer_len == 0 && peer[0] == '\0');
    }

    /* wskit_ctx_connect_unix with a ws:// URL for Host and path. */
    CHECK_OK(wskit_ctx_connect_unix(ctx, sock, WSKIT_NTS, "ws://svc.local/api", WSKIT_NTS, NULL, &conn2));
    st.clients[st.client_count++] = conn2;
    {
        double end = test_now() + 5;
        while (st.echoes < 2 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    }
    CHECK(st.echoes == 2 && strcmp(st.host, "svc.local") == 0 && strcmp(st.path, "/api") == 0);
    CHECK_OK(wskit_conn_close(ctx, conn, 1000, "bye", WSKIT_NTS));
    CHECK_OK(wskit_conn_close(ctx, conn2, 1000, "bye", WSKIT_NTS));
    {
        double end = test_now() + 5;
        while (st.closed < 2 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    }
    CHECK(st.closed == 2);
    CHECK_OK(wskit_ctx_poll(ctx, 50, NULL)); /* the server side's closes */
    CHECK(st.closed == 2);

    /* Listening twice on one path: address in use; closing removes the file. */
    CHECK_RC(wskit_ctx_listen_unix(ctx, sock, WSKIT_NTS, 0, WSKIT_UNIX_REMOVE_STALE, NULL, &other),
             WSKIT_ERR_IO);
    CHECK(is_socket(sock));
    CHECK_OK(wskit_ctx_close_listener(ctx, listener));
    CHECK(!is_socket(sock) && access(sock, F_OK) != 0);

    /* A refused connect: an error event (CONNECT) then a close. */
    before = st.closed;
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, NULL, &conn));
    st.clients[st.client_count++] = conn;
    {
        double end = test_now() + 5;
        while (st.closed == before && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 10, NULL));
    }
    CHECK(st.closed == before + 1);
    CHECK(st.errors >= 1 && st.last_error == WSKIT_ERR_CONNECT);
    if (st.last_error != WSKIT_ERR_CONNECT) fprintf(stderr, "last error %s\n", wskit_status_name(st.last_error));

    /* A stale socket: refused, then replaced with the flag. */
    make_stale_socket(stale);
    CHECK(is_socket(stale));
    CHECK_RC(wskit_ctx_listen_unix(ctx, stale, WSKIT_NTS, 0, 0, NULL, &other), WSKIT_ERR_IO);
    CHECK_OK(wskit_ctx_listen_unix(ctx, stale, WSKIT_NTS, 0, WSKIT_UNIX_REMOVE_STALE, NULL, &other));

    /* A regular file is never removed. */
    f = fopen(regular, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    CHECK_RC(wskit_ctx_listen_unix(ctx, regular, WSKIT_NTS, 0, WSKIT_UNIX_REMOVE_STALE, NULL, &listener),
             WSKIT_ERR_INVALID_ARG);
    CHECK(access(regular, F_OK) == 0);

    /* Argument checks. */
    CHECK_RC(wskit_ctx_listen_unix(NULL, sock, WSKIT_NTS, 0, 0, NULL, &listener), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_listen_unix(ctx, NULL, 0, 0, 0, NULL, &listener), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_listen_unix(ctx, sock, WSKIT_NTS, 0, 0, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_listen_unix(ctx, sock, WSKIT_NTS, 0, 0x80, NULL, &listener), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_ctx_listen_unix(ctx, "", WSKIT_NTS, 0, 0, NULL, &listener), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_ctx_connect_unix(ctx, NULL, 0, "ws://localhost/", WSKIT_NTS, NULL, &conn), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_connect_unix(ctx, sock, WSKIT_NTS, NULL, 0, NULL, &conn), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_connect_unix(ctx, sock, WSKIT_NTS, "wss://localhost/", WSKIT_NTS, NULL, &conn),
             WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_ctx_connect(ctx, "wss+unix:///tmp/x.sock:/", WSKIT_NTS, NULL, &conn), WSKIT_ERR_INVALID_ARG);
    CHECK_OK(wskit_config_new(&cfg));
    CHECK_OK(wskit_config_free(cfg));

    /* Freeing the context removes the socket files of its listeners. */
    CHECK(is_socket(stale));
    CHECK_OK(wskit_ctx_free(ctx));
    CHECK(access(stale, F_OK) != 0);
    unlink(regular);
    rmdir(dir);
    return test_finish("unix");
}
