/* A growable string and JSON string escaping for the C examples (echo_server.c answers
 * `cmd:headers` with JSON, chat_server.c speaks JSON to the chat page). Include after the
 * standard headers; everything is static inline (unused parts cost nothing). */
#ifndef WSKIT_EXAMPLES_JSON_BUF_H
#define WSKIT_EXAMPLES_JSON_BUF_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growable, always NUL-terminated string (aborts when out of memory: examples only). */
typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

static inline void buf_put(buf_t *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1) cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data) abort();
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void buf_puts(buf_t *b, const char *s) { buf_put(b, s, strlen(s)); }

/* Appends s (n bytes of UTF-8) as a JSON string literal; lower != 0 lowercases ASCII letters. */
static inline void json_string(buf_t *b, const char *s, size_t n, int lower) {
    size_t i;
    buf_put(b, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"') buf_put(b, "\\\"", 2);
        else if (c == '\\') buf_put(b, "\\\\", 2);
        else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            buf_put(b, esc, 6);
        } else {
            char ch = lower ? (char)tolower(c) : (char)c;
            buf_put(b, &ch, 1);
        }
    }
    buf_put(b, "\"", 1);
}

#endif
