/*
 * Chat server in C for the browser page examples/web/chat/ (protocol at the top of chat.js):
 * connections to /chat?room=ROOM&name=NAME join ROOM; every text a member sends goes to everyone
 * in the room, the sender included, as {"type":"message","name":...,"text":...}. The first
 * message a connection gets is a "hello" with the request headers the server saw (from the open
 * event). "/close CODE REASON" makes the server close that connection with CODE and REASON.
 *
 *     scripts/build-c.sh && target/c/chat_server 127.0.0.1:9002 [--tls CERT_PEM KEY_PEM] [--page DIR]
 *
 * Prints where it listens and the URL of the page, then one line per join, message and leave.
 * SIGINT/SIGTERM: graceful shutdown (every page sees close 1001), exit 0.
 *
 * Nothing is lost and memory stays bounded (the flow control of examples/relay.rs, for one source
 * and many destinations): a destination whose send buffer is full (WSKIT_ERR_WOULD_BLOCK at
 * max_buffered, 1 MiB here) gets the message queued in order, and its source is paused
 * (wskit_conn_pause_reading) until every destination took it (the writable event). TCP then pushes
 * back on the fast sender. So each destination holds at most one queued message per source plus
 * the server's own join/leave notices.
 */
#define _XOPEN_SOURCE 700
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wskit.h"
#include "json_buf.h"
#include "trace_print.h"

#define NAME_MAX_BYTES 32

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* A message waiting for room in one destination's send buffer. */
typedef struct pending {
    struct pending *next;
    uint64_t source; /* the connection paused until this is sent; 0 for the server's own notices */
    size_t len;
    char *text;
} pending_t;

/* One open connection (its user data; freed in on_close, which runs on every close path). */
typedef struct member {
    struct member *next;
    uint64_t conn;
    char room[NAME_MAX_BYTES + 1];
    char name[NAME_MAX_BYTES + 1];
    pending_t *head, *tail; /* queued for this connection, in order */
    size_t blocked;         /* this connection's messages still queued at others */
} member_t;

static member_t *members = NULL;
static unsigned long guests = 0;

static member_t *find_member(uint64_t conn) {
    member_t *m;
    for (m = members; m; m = m->next)
        if (m->conn == conn) return m;
    return NULL;
}

/* ----- names from the query ------------------------------------------------------------------- */

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* 1 if s[0..n) is well-formed UTF-8 without control characters. */
static int printable_utf8(const unsigned char *s, size_t n) {
    size_t i = 0, extra, k;
    while (i < n) {
        unsigned char c = s[i];
        unsigned long cp;
        if (c < 0x20 || c == 0x7f) return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) extra = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef) extra = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4) extra = 3, cp = c & 0x07;
        else return 0;
        if (i + extra >= n) return 0;
        for (k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (extra == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return 0;
        if (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)) return 0;
        i += 1 + extra;
    }
    return 1;
}

/* Copies the percent-decoded value of `key` in the query into out, cut to at most NAME_MAX_BYTES
 * bytes at a character boundary. Returns 1 when found, not empty and printable UTF-8. */
static int query_value(const char *query, size_t len, const char *key, char out[NAME_MAX_BYTES + 1]) {
    size_t key_len = strlen(key), i = 0;
    while (query && i < len) {
        size_t end = i;
        while (end < len && query[end] != '&') end++;
        if (end - i > key_len && memcmp(query + i, key, key_len) == 0 && query[i + key_len] == '=') {
            size_t j, n = 0, cut;
            char *value = malloc(end - i);
            int ok;
            if (!value) abort();
            for (j = i + key_len + 1; j < end; j++) {
                char c = query[j];
                if (c == '+') c = ' ';
                else if (c == '%' && j + 2 < end && hex_value(query[j + 1]) >= 0 && hex_value(query[j + 2]) >= 0) {
                    c = (char)(hex_value(query[j + 1]) * 16 + hex_value(query[j + 2]));
                    j += 2;
                }
                value[n++] = c;
            }
            cut = n < NAME_MAX_BYTES ? n : NAME_MAX_BYTES;
            while (cut > 0 && cut < n && ((unsigned char)value[cut] & 0xc0) == 0x80) cut--;
            memcpy(out, value, cut);
            out[cut] = '\0';
            ok = cut > 0 && printable_utf8((const unsigned char *)out, cut);
            free(value);
            return ok;
        }
        i = end + 1;
    }
    return 0;
}

/* ----- delivery with flow control --------------------------------------------------------------- */

/* A delivery of `source`'s message finished (sent, or its destination left). */
static void release_source(wskit_ctx *ctx, uint64_t source) {
    member_t *m = source ? find_member(source) : NULL;
    if (m && m->blocked > 0 && --m->blocked == 0) wskit_conn_resume_reading(ctx, m->conn);
}

static void enqueue(wskit_ctx *ctx, member_t *dest, uint64_t source, const char *text, size_t len) {
    member_t *src = source ? find_member(source) : NULL;
    pending_t *p = calloc(1, sizeof *p);
    if (!p || !(p->text = malloc(len ? len : 1))) abort();
    memcpy(p->text, text, len);
    p->len = len;
    p->source = src ? source : 0;
    if (dest->tail) dest->tail->next = p;
    else dest->head = p;
    dest->tail = p;
    /* The source reads nothing more until this is sent. */
    if (src && src->blocked++ == 0) wskit_conn_pause_reading(ctx, src->conn);
}

/* Sends text to dest, behind what is already queued for it; queues it when the buffer is full. */
static void deliver(wskit_ctx *ctx, member_t *dest, uint64_t source, const char *text, size_t len) {
    wskit_status rc;
    if (dest->head) {
        enqueue(ctx, dest, source, text, len);
        return;
    }
    rc = wskit_conn_send_text(ctx, dest->conn, text, len);
    if (rc == WSKIT_ERR_WOULD_BLOCK) enqueue(ctx, dest, source, text, len);
    /* INVALID_STATE: dest is closing (its close event comes); nothing to deliver to. */
    else if (rc != WSKIT_OK && rc != WSKIT_ERR_INVALID_STATE)
        fprintf(stderr, "chat_server: send to %llu: %s (%s)\n", (unsigned long long)dest->conn,
                wskit_status_name(rc), wskit_error_last());
}

static void broadcast(wskit_ctx *ctx, const char *room, uint64_t source, const buf_t *json) {
    member_t *m;
    for (m = members; m; m = m->next)
        if (strcmp(m->room, room) == 0) deliver(ctx, m, source, json->data, json->len);
}

/* The writable event: send what waited, in order, and resume the sources that were waiting. */
static void on_writable(void *user_data, wskit_ctx *ctx, const wskit_event *ev) {
    member_t *dest = ev->conn_user_data;
    (void)user_data;
    while (dest && dest->head) {
        pending_t *p = dest->head;
        wskit_status rc = wskit_conn_send_text(ctx, dest->conn, p->text, p->len);
        if (rc == WSKIT_ERR_WOULD_BLOCK) return; /* still full: the next writable event goes on */
        if (rc != WSKIT_OK && rc != WSKIT_ERR_INVALID_STATE)
            fprintf(stderr, "chat_server: send to %llu: %s\n", (unsigned long long)dest->conn, wskit_status_name(rc));
        dest->head = p->next;
        if (!dest->head) dest->tail = NULL;
        release_source(ctx, p->source);
        free(p->text);
        free(p);
    }
}

/* ----- events ------------------------------------------------------------------------------------ */

static void notice(buf_t *json, const char *type, const char *name) {
    buf_puts(json, "{\"type\":\"");
    buf_puts(json, type);
    buf_puts(json, "\",\"name\":");
    json_string(json, name, strlen(name), 0);
    buf_puts(json, "}");
}

static void on_open(void *user_data, wskit_ctx *ctx, const wskit_event *ev) {
    member_t *m = calloc(1, sizeof *m), *other;
    buf_t hello = {0}, join = {0};
    size_t i;
    int first = 1;
    (void)user_data;
    if (!m) abort();
    m->conn = ev->conn;
    if (!query_value(ev->query, ev->query_len, "room", m->room)) strcpy(m->room, "lobby");
    if (!query_value(ev->query, ev->query_len, "name", m->name))
        snprintf(m->name, sizeof m->name, "guest-%lu", ++guests);
    if (wskit_conn_set_user_data(ctx, ev->conn, m) != WSKIT_OK) {
        free(m);
        return;
    }

    buf_puts(&hello, "{\"type\":\"hello\",\"server\":\"wskit C chat_server\",\"room\":");
    json_string(&hello, m->room, strlen(m->room), 0);
    buf_puts(&hello, ",\"name\":");
    json_string(&hello, m->name, strlen(m->name), 0);
    buf_puts(&hello, ",\"peer\":");
    json_string(&hello, ev->peer, ev->peer_len, 0);
    buf_puts(&hello, ",\"path\":");
    json_string(&hello, ev->path, ev->path_len, 0);
    buf_puts(&hello, ",\"query\":");
    json_string(&hello, ev->query ? ev->query : "", ev->query_len, 0);
    buf_puts(&hello, ",\"headers\":[");
    for (i = 0; i < ev->header_count; i++) {
        const wskit_header *h = &ev->headers[i];
        buf_puts(&hello, i ? ",[" : "[");
        json_string(&hello, h->name, h->name_len, 0);
        buf_puts(&hello, ",");
        json_string(&hello, h->value, h->value_len, 0);
        buf_puts(&hello, "]");
    }
    buf_puts(&hello, "],\"members\":[");
    for (other = members; other; other = other->next) {
        if (strcmp(other->room, m->room) != 0) continue;
        if (!first) buf_puts(&hello, ",");
        json_string(&hello, other->name, strlen(other->name), 0);
        first = 0;
    }
    buf_puts(&hello, "]}");

    m->next = members;
    members = m;
    deliver(ctx, m, 0, hello.data, hello.len);
    notice(&join, "join", m->name);
    broadcast(ctx, m->room, 0, &join);
    printf("[%s] %s joined from %.*s\n", m->room, m->name, (int)ev->peer_len, ev->peer);
    fflush(stdout);
    free(hello.data);
    free(join.data);
}

static void on_message(void *user_data, wskit_ctx *ctx, const wskit_event *ev) {
    member_t *m = ev->conn_user_data;
    buf_t json = {0};
    (void)user_data;
    if (!m || !ev->is_text) return;
    if (ev->len > 7 && memcmp(ev->data, "/close ", 7) == 0) {
        /* "/close CODE REASON": a server-side close on request. */
        char *text = malloc(ev->len + 1), *end, *reason;
        long code;
        if (!text) abort();
        memcpy(text, ev->data, ev->len);
        text[ev->len] = '\0';
        code = strtol(text + 7, &end, 10);
        reason = *end == ' ' ? end + 1 : end;
        if (wskit_conn_close(ctx, m->conn, (uint16_t)(code > 0 && code < 65536 ? code : 1000), reason,
                             (size_t)(text + ev->len - reason)) != WSKIT_OK)
            fprintf(stderr, "chat_server: close: %s\n", wskit_error_last());
        free(text);
        return;
    }
    buf_puts(&json, "{\"type\":\"message\",\"name\":");
    json_string(&json, m->name, strlen(m->name), 0);
    buf_puts(&json, ",\"text\":");
    json_string(&json, (const char *)ev->data, ev->len, 0);
    buf_puts(&json, "}");
    printf("[%s] %s: %.*s\n", m->room, m->name, (int)ev->len, (const char *)ev->data);
    fflush(stdout);
    broadcast(ctx, m->room, m->conn, &json);
    free(json.data);
}

static void on_close(void *user_data, wskit_ctx *ctx, const wskit_event *ev) {
    member_t *m = ev->conn_user_data, **link;
    buf_t leave = {0};
    (void)user_data;
    if (!m) return;
    for (link = &members; *link; link = &(*link)->next) {
        if (*link == m) {
            *link = m->next;
            break;
        }
    }
    /* What waited for this connection will never be sent: its sources may go on. */
    while (m->head) {
        pending_t *p = m->head;
        m->head = p->next;
        release_source(ctx, p->source);
        free(p->text);
        free(p);
    }
    printf("[%s] %s left (%u%s%.*s)\n", m->room, m->name, (unsigned)ev->code, ev->len ? " " : "", (int)ev->len,
           ev->len ? (const char *)ev->data : "");
    fflush(stdout);
    notice(&leave, "leave", m->name);
    broadcast(ctx, m->room, 0, &leave);
    free(leave.data);
    free(m);
}

static void on_error(void *user_data, wskit_ctx *ctx, const wskit_event *ev) {
    (void)user_data, (void)ctx;
    fprintf(stderr, "chat_server: %.*s\n", (int)ev->len, (const char *)ev->data);
}

/* ----- main -------------------------------------------------------------------------------------- */

static void print_page_url(const char *scheme, const char *host, int host_len, unsigned port) {
    printf("chat page: %s://%.*s:%u/\n", scheme[2] == 's' ? "https" : "http", host_len, host, port);
}

int main(int argc, char **argv) {
    const char *addr = "127.0.0.1:9002", *page_dir = "examples/web/chat";
    const char *tls_cert = NULL, *tls_key = NULL, *colon, *host;
    int trace = 0, host_len, i;
    wskit_ctx *ctx = NULL;
    wskit_config *config = NULL;
    uint32_t listener = 0;
    uint16_t port = 0;
    struct sigaction sa;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tls") == 0 && i + 2 < argc) {
            tls_cert = argv[++i];
            tls_key = argv[++i];
        } else if (strcmp(argv[i], "--page") == 0 && i + 1 < argc) {
            page_dir = argv[++i];
        } else if (strcmp(argv[i], "--trace") == 0) {
            trace = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: chat_server [ADDR] [--tls CERT_PEM KEY_PEM] [--page DIR] [--trace]\n");
            return 2;
        } else {
            addr = argv[i];
        }
    }
    if (wskit_ctx_new(&ctx) != WSKIT_OK || wskit_config_new(&config) != WSKIT_OK) {
        fprintf(stderr, "chat_server: %s\n", wskit_error_last());
        return 1;
    }
    if (tls_cert && wskit_config_set_tls_cert_files(config, tls_cert, WSKIT_NTS, tls_key, WSKIT_NTS) != WSKIT_OK) {
        fprintf(stderr, "chat_server: %s\n", wskit_error_last());
        return 1;
    }
    /* A small send buffer per connection: a slow reader pauses its senders early. */
    wskit_config_set_max_buffered(config, (size_t)1 << 20);
    /* The page and its WebSocket on one port: plain HTTP GET/HEAD requests get the files. */
    if (wskit_config_set_static_dir(config, page_dir, WSKIT_NTS) != WSKIT_OK) {
        fprintf(stderr, "chat_server: page %s: %s\n", page_dir, wskit_error_last());
        return 1;
    }
    wskit_ctx_on_open(ctx, on_open, NULL);
    wskit_ctx_on_message(ctx, on_message, NULL);
    wskit_ctx_on_writable(ctx, on_writable, NULL);
    wskit_ctx_on_close(ctx, on_close, NULL);
    wskit_ctx_on_error(ctx, on_error, NULL);
    if (trace) wskit_ctx_set_tracer(ctx, trace_print, NULL);
    if (wskit_ctx_listen(ctx, addr, WSKIT_NTS, config, &listener) != WSKIT_OK) {
        fprintf(stderr, "chat_server: cannot listen on %s: %s\n", addr, wskit_error_last());
        return 1;
    }
    wskit_config_free(config);
    wskit_ctx_local_port(ctx, listener, &port);
    colon = strrchr(addr, ':');
    host = addr;
    host_len = colon ? (int)(colon - addr) : (int)strlen(addr);
    if (host_len == 7 && strncmp(host, "0.0.0.0", 7) == 0) host = "127.0.0.1", host_len = 9;
    printf("chat_server listening on %s://%.*s:%u/chat\n", tls_cert ? "wss" : "ws", host_len, host, (unsigned)port);
    print_page_url(tls_cert ? "wss" : "ws", host, host_len, (unsigned)port);
    fflush(stdout);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop_requested) {
        wskit_status rc = wskit_ctx_poll(ctx, 200, NULL);
        if (rc != WSKIT_OK) fprintf(stderr, "chat_server: %s\n", wskit_error_last());
    }
    wskit_ctx_shutdown(ctx, 2000);
    return wskit_ctx_free(ctx) == WSKIT_OK ? 0 : 1;
}
