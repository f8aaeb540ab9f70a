/* Proxy traversal through the C API, against real proxies (scripts/proxies.sh starts tinyproxy,
 * squid and dante in a temporary directory; stopped at the end):
 * - wss:// through squid (HTTP CONNECT) to a wskit listener in the same context: TLS end to end,
 *   the target's certificate verified with wskit_config_set_tls_ca_file, an echo, a clean close;
 * - ws:// through dante with socks5h:// (the proxy resolves "localhost");
 * - tinyproxy with Basic auth: without credentials the ERROR event is WSKIT_ERR_PROXY_AUTH with
 *   the `:status` 407 pseudo-header and Proxy-Authenticate; with wskit_config_set_proxy_credentials
 *   it opens;
 * - an https:// proxy (stunnel + squid) trusted with wskit_config_set_proxy_ca_file, wss:// inside;
 * - SOCKS5 to a closed port: WSKIT_ERR_SOCKS with `:socks-reply` 5.
 * Under valgrind the target is ws:// (same listener code, no TLS): ring's assembly AES-GCM makes
 * valgrind report uninitialised reads that are not (the shared, static and ASan runs use wss://). */
#include "test_util.h"

#include <strings.h>
#include <unistd.h>

typedef struct {
    int opened, echoed, closed, errors;
    uint32_t error_code;
    char status[16], challenge[128], socks_reply[8];
    uint64_t client;
} state_t;

static char dir[256];
static char env_text[4096];

static const char *env_get(const char *key, char *out, size_t size) {
    const char *line = env_text;
    size_t klen = strlen(key);
    out[0] = '\0';
    while (line && *line) {
        if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
            const char *v = line + klen + 1;
            size_t n = strcspn(v, "\n");
            if (n >= size) n = size - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
        line = strchr(line, '\n');
        if (line) line++;
    }
    return out;
}

static void copy_header(const wskit_event *ev, const char *name, char *out, size_t size) {
    size_t i;
    for (i = 0; i < ev->header_count; i++) {
        const wskit_header *h = &ev->headers[i];
        if (h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0) {
            size_t n = h->value_len < size - 1 ? h->value_len : size - 1;
            memcpy(out, h->value, n);
            out[n] = '\0';
            return;
        }
    }
}

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    if (ev->listener) return;
    st->opened++;
    CHECK_OK(wskit_conn_send_text(ctx, ev->conn, "through the proxy", WSKIT_NTS));
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    if (ev->conn != st->client) { /* the listener's side: echo */
        CHECK_OK(wskit_conn_send_text(ctx, ev->conn, (const char *)ev->data, ev->len));
        return;
    }
    st->echoed = ev->len == 17 && memcmp(ev->data, "through the proxy", 17) == 0;
    CHECK_OK(wskit_conn_close(ctx, ev->conn, 1000, "done", WSKIT_NTS));
}

static void on_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    if (ev->conn == st->client) st->closed = 1;
}

static void on_error(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    if (ev->conn != st->client) return;
    st->errors++;
    st->error_code = ev->code;
    copy_header(ev, ":status", st->status, sizeof st->status);
    copy_header(ev, "Proxy-Authenticate", st->challenge, sizeof st->challenge);
    copy_header(ev, ":socks-reply", st->socks_reply, sizeof st->socks_reply);
}

/* Connects `url` through `proxy` (credentials if `user`), polls until the close. */
static void run_with(wskit_ctx *ctx, state_t *st, const char *url, const char *proxy, const char *ca,
                     const char *user, const char *pass, const char *proxy_ca) {
    wskit_config *cfg = NULL;
    memset(st, 0, sizeof *st);
    CHECK_OK(wskit_config_new(&cfg));
    CHECK_OK(wskit_config_set_proxy(cfg, proxy, WSKIT_NTS));
    CHECK_OK(wskit_config_set_proxy_timeout_ms(cfg, 5000));
    if (ca) CHECK_OK(wskit_config_set_tls_ca_file(cfg, ca, WSKIT_NTS));
    if (user) CHECK_OK(wskit_config_set_proxy_credentials(cfg, user, WSKIT_NTS, pass, WSKIT_NTS));
    if (proxy_ca) CHECK_OK(wskit_config_set_proxy_ca_file(cfg, proxy_ca, WSKIT_NTS));
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, cfg, &st->client));
    wskit_config_free(cfg);
    if (!poll_until(ctx, &st->closed, 20)) fprintf(stderr, "no close for %s via %s\n", url, proxy);
}

static void run(wskit_ctx *ctx, state_t *st, const char *url, const char *proxy, const char *ca, const char *user,
                const char *pass) {
    run_with(ctx, st, url, proxy, ca, user, pass, NULL);
}

int main(void) {
    wskit_ctx *ctx = NULL;
    wskit_config *server_cfg = NULL;
    state_t st;
    char cmd[1024], path[300], port[16], user[64], pass[64], url[128], proxy[192], cert[300], key[300];
    uint32_t listener = 0;
    uint16_t wss_port = 0;
    int under_valgrind;
    FILE *f;
    size_t n;

    snprintf(dir, sizeof dir, "/tmp/wskit-c-proxies-%ld", (long)getpid());
    snprintf(cmd, sizeof cmd, "bash scripts/proxies.sh start %s >/dev/null", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "scripts/proxies.sh start failed\n");
        return 1;
    }
    snprintf(path, sizeof path, "%s/ports.env", dir);
    f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f) return 1;
    n = fread(env_text, 1, sizeof env_text - 1, f);
    env_text[n] = '\0';
    fclose(f);

    CHECK_OK(wskit_ctx_new(&ctx));
    CHECK_OK(wskit_ctx_on_open(ctx, on_open, &st));
    CHECK_OK(wskit_ctx_on_message(ctx, on_message, &st));
    CHECK_OK(wskit_ctx_on_close(ctx, on_close, &st));
    CHECK_OK(wskit_ctx_on_error(ctx, on_error, &st));

    /* The target: a wss:// listener with the certificate the script made (localhost, 127.0.0.1). */
    snprintf(cert, sizeof cert, "%s/proxy-cert.pem", dir);
    snprintf(key, sizeof key, "%s/proxy-key.pem", dir);
    under_valgrind = getenv("LD_PRELOAD") && strstr(getenv("LD_PRELOAD"), "vgpreload");
    CHECK_OK(wskit_config_new(&server_cfg));
    if (!under_valgrind) CHECK_OK(wskit_config_set_tls_cert_files(server_cfg, cert, WSKIT_NTS, key, WSKIT_NTS));
    CHECK_OK(wskit_ctx_listen(ctx, "127.0.0.1:0", WSKIT_NTS, server_cfg, &listener));
    CHECK_OK(wskit_ctx_local_port(ctx, listener, &wss_port));
    wskit_config_free(server_cfg);

    /* wss:// through squid. */
    snprintf(url, sizeof url, "%s://localhost:%u/", under_valgrind ? "ws" : "wss", (unsigned)wss_port);
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%s", env_get("SQUID_PORT", port, sizeof port));
    run(ctx, &st, url, proxy, cert, NULL, NULL);
    CHECK(st.opened == 1 && st.echoed && st.errors == 0);

    /* wss:// through dante, the name resolved by the proxy. */
    snprintf(proxy, sizeof proxy, "socks5h://127.0.0.1:%s", env_get("DANTE_PORT", port, sizeof port));
    run(ctx, &st, url, proxy, cert, NULL, NULL);
    CHECK(st.opened == 1 && st.echoed && st.errors == 0);

    /* Basic auth: 407 with its challenge, then the credentials. */
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%s", env_get("TINYPROXY_AUTH_PORT", port, sizeof port));
    run(ctx, &st, url, proxy, cert, NULL, NULL);
    CHECK(st.opened == 0 && st.errors == 1);
    CHECK(st.error_code == WSKIT_ERR_PROXY_AUTH);
    CHECK(strcmp(st.status, "407") == 0);
    CHECK(strncmp(st.challenge, "Basic", 5) == 0);
    run(ctx, &st, url, proxy, cert, env_get("PROXY_USER", user, sizeof user), env_get("PROXY_PASS", pass, sizeof pass));
    CHECK(st.opened == 1 && st.echoed && st.errors == 0);

    /* An https:// proxy (stunnel in front of squid), its certificate trusted with
     * wskit_config_set_proxy_ca_file; the wss:// target's TLS runs inside the proxy's. */
    if (!under_valgrind) {
        snprintf(proxy, sizeof proxy, "https://localhost:%s", env_get("HTTPS_PROXY_PORT", port, sizeof port));
        run_with(ctx, &st, url, proxy, cert, NULL, NULL, cert);
        CHECK(st.opened == 1 && st.echoed && st.errors == 0);
        run(ctx, &st, url, proxy, cert, NULL, NULL); /* the proxy's certificate: system roots */
        CHECK(st.opened == 0 && st.error_code == WSKIT_ERR_TLS);
    }

    /* SOCKS5 to a closed port: reply 5 (connection refused). */
    snprintf(proxy, sizeof proxy, "socks5://127.0.0.1:%s", env_get("DANTE_PORT", port, sizeof port));
    run(ctx, &st, "ws://127.0.0.1:1/", proxy, NULL, NULL, NULL);
    CHECK(st.opened == 0 && st.errors == 1);
    CHECK(st.error_code == WSKIT_ERR_SOCKS);
    CHECK(strcmp(st.socks_reply, "5") == 0);

    CHECK_OK(wskit_ctx_free(ctx));
    snprintf(cmd, sizeof cmd, "bash scripts/proxies.sh stop %s; rm -rf %s", dir, dir);
    CHECK(system(cmd) == 0);
    return test_finish("proxy");
}
