/* --trace for the C examples: prints handshake lines and frame headers to stderr, like the frame
 * view of a browser's developer tools. Include it after wskit.h; install it with
 * wskit_ctx_set_tracer(ctx, trace_print, NULL). */
#ifndef WSKIT_EXAMPLES_TRACE_PRINT_H
#define WSKIT_EXAMPLES_TRACE_PRINT_H

#include <stdio.h>

static void trace_print(void *user_data, const wskit_trace *t) {
    const char *dir = t->direction == WSKIT_TRACE_SENT ? ">>" : "<<";
    (void)user_data;
    if (t->kind == WSKIT_TRACE_HANDSHAKE) {
        size_t start = 0, i;
        for (i = 0; i <= t->len; i++) {
            if (i == t->len || t->data[i] == '\n') {
                size_t end = i;
                if (end > start && t->data[end - 1] == '\r') end--;
                if (end > start) fprintf(stderr, "trace %llu %s %.*s\n", (unsigned long long)t->conn, dir,
                                         (int)(end - start), (const char *)t->data + start);
                if (i + 2 < t->len && t->data[i + 1] == '\r' && t->data[i + 2] == '\n') break; /* end of head */
                start = i + 1;
            }
        }
    } else {
        fprintf(stderr, "trace %llu %s frame opcode=%u fin=%d rsv=%u len=%llu\n", (unsigned long long)t->conn,
                dir, (unsigned)t->opcode, t->fin ? 1 : 0, (unsigned)t->rsv, (unsigned long long)t->payload_len);
    }
}

#endif
