/*
 * Chat client in C for examples/c/chat_server.c and examples/python/chat.py (protocol at the top of
 * examples/web/chat/chat.js): joins ROOM as NAME, sends each MESSAGE once the previous one came
 * back from the room, prints every line the room sends (JSON, as it arrives), then closes with 1000.
 *
 *     target/c/chat_client ws://127.0.0.1:9002/chat NAME [--room ROOM] [--ca CA_PEM] MESSAGE...
 *
 * Exit status 0 when every message came back and the close was clean; 1 otherwise (10 s limit).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wskit.h"
#include "json_buf.h"

typedef struct {
    char **messages;
    size_t count, next, confirmed;
    char *expected; /* the tail of the relayed copy of the message last sent: ,"text":"..."} */
    uint64_t conn;
    int hello, done, failed, clean;
} chat_t;

static void append_encoded(buf_t *b, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~", c)) {
            buf_put(b, s, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_put(b, esc, 3);
        }
    }
}

static void send_next(chat_t *c, wskit_ctx *ctx) {
    buf_t tail = {0};
    free(c->expected);
    c->expected = NULL;
    if (c->next == c->count) {
        wskit_conn_close(ctx, c->conn, 1000, "bye", WSKIT_NTS);
        return;
    }
    buf_puts(&tail, ",\"text\":");
    json_string(&tail, c->messages[c->next], strlen(c->messages[c->next]), 0);
    buf_puts(&tail, "}");
    c->expected = tail.data;
    if (wskit_conn_send_text(ctx, c->conn, c->messages[c->next], WSKIT_NTS) != WSKIT_OK) {
        fprintf(stderr, "chat_client: send: %s\n", wskit_error_last());
        c->failed = 1;
        wskit_conn_close(ctx, c->conn, 1000, "bye", WSKIT_NTS);
    }
    c->next++;
}

static int ends_with(const char *s, size_t len, const char *tail) {
    size_t n = strlen(tail);
    return len >= n && memcmp(s + len - n, tail, n) == 0;
}

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    chat_t *c = ud;
    (void)ctx;
    c->conn = ev->conn;
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    chat_t *c = ud;
    const char *text = (const char *)ev->data;
    if (!ev->is_text) return;
    printf("%.*s\n", (int)ev->len, text);
    fflush(stdout);
    if (!c->hello) {
        /* The hello comes first; then the first message goes out. */
        c->hello = 1;
        send_next(c, ctx);
    } else if (c->expected && ev->len > 17 && memcmp(text, "{\"type\":\"message\"", 17) == 0 &&
               ends_with(text, ev->len, c->expected)) {
        c->confirmed++;
        send_next(c, ctx);
    }
}

static void on_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    chat_t *c = ud;
    (void)ctx;
    if (!ev->clean || ev->code != 1000)
        fprintf(stderr, "chat_client: closed %u %.*s\n", (unsigned)ev->code, (int)ev->len, (const char *)ev->data);
    c->clean = ev->clean;
    c->done = 1;
}

static void on_error(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    (void)ud, (void)ctx;
    fprintf(stderr, "chat_client: %.*s\n", (int)ev->len, (const char *)ev->data);
}

int main(int argc, char **argv) {
    const char *room = "lobby", *ca = NULL;
    chat_t chat;
    buf_t url = {0};
    wskit_ctx *ctx = NULL;
    wskit_config *config = NULL;
    uint64_t conn = 0;
    time_t deadline = time(NULL) + 10;
    char **messages;
    size_t count = 0;
    int i;

    if (argc < 3) {
        fprintf(stderr, "usage: chat_client URL NAME [--room ROOM] [--ca CA_PEM] MESSAGE...\n");
        return 2;
    }
    messages = calloc((size_t)argc, sizeof *messages);
    if (!messages) abort();
    for (i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--room") == 0 && i + 1 < argc) room = argv[++i];
        else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc) ca = argv[++i];
        else messages[count++] = argv[i];
    }
    memset(&chat, 0, sizeof chat);
    chat.messages = messages;
    chat.count = count;
    buf_puts(&url, argv[1]);
    buf_puts(&url, "?room=");
    append_encoded(&url, room);
    buf_puts(&url, "&name=");
    append_encoded(&url, argv[2]);

    if (wskit_ctx_new(&ctx) != WSKIT_OK || wskit_config_new(&config) != WSKIT_OK) {
        fprintf(stderr, "chat_client: %s\n", wskit_error_last());
        return 1;
    }
    if (ca && wskit_config_set_tls_ca_file(config, ca, WSKIT_NTS) != WSKIT_OK) {
        fprintf(stderr, "chat_client: %s\n", wskit_error_last());
        return 1;
    }
    wskit_ctx_on_open(ctx, on_open, &chat);
    wskit_ctx_on_message(ctx, on_message, &chat);
    wskit_ctx_on_close(ctx, on_close, &chat);
    wskit_ctx_on_error(ctx, on_error, &chat);
    if (wskit_ctx_connect(ctx, url.data, url.len, config, &conn) != WSKIT_OK) {
        fprintf(stderr, "chat_client: %s: %s\n", url.data, wskit_error_last());
        return 1;
    }
    wskit_config_free(config);
    while (!chat.done) {
        if (time(NULL) > deadline) {
            fprintf(stderr, "chat_client: no reply within 10 s\n");
            chat.failed = 1;
            break;
        }
        if (wskit_ctx_poll(ctx, 100, NULL) != WSKIT_OK) {
            fprintf(stderr, "chat_client: poll: %s\n", wskit_error_last());
            chat.failed = 1;
            break;
        }
    }
    wskit_ctx_free(ctx);
    free(chat.expected);
    free(url.data);
    free(messages);
    return !chat.failed && chat.clean && chat.confirmed == chat.count ? 0 : 1;
}
