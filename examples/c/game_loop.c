/*
 * A game-style host: a fixed-timestep loop (60 Hz) that calls wskit_ctx_poll(ctx, 0, ...) once
 * per frame and never blocks in wskit, sends a state message every frame to an echo server, while
 * a worker pthread sends its own messages through a wskit_remote handle. After N seconds it stops
 * sending, waits (still frame by frame, at most 2 s) for the remaining echoes, closes, prints what
 * it sent and received, and exits 0 when every message came back.
 *
 *     target/c/echo_server 127.0.0.1:9001 &
 *     target/c/game_loop ws://127.0.0.1:9001/ 3
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wskit.h"
#include "trace_print.h"

typedef struct {
    uint64_t conn;
    int open, closed;
    long state_sent, worker_received, state_received, other_received;
    long worker_expected; /* next worker sequence number expected back */
    int out_of_order;
} game_t;

typedef struct {
    wskit_remote *remote;
    uint64_t conn;
    pthread_mutex_t lock;
    int stop;
    long sent;
} worker_t;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s) {
    struct timespec ts;
    if (s <= 0) return;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    for (;;) {
        char msg[64];
        int stop;
        long n;
        pthread_mutex_lock(&w->lock);
        stop = w->stop;
        n = w->sent;
        pthread_mutex_unlock(&w->lock);
        if (stop) break;
        snprintf(msg, sizeof msg, "worker %ld", n);
        if (wskit_remote_send_text(w->remote, w->conn, msg, strlen(msg)) == WSKIT_OK) {
            pthread_mutex_lock(&w->lock);
            w->sent++;
            pthread_mutex_unlock(&w->lock);
        }
        sleep_s(0.005);
    }
    return NULL;
}

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    game_t *g = ud;
    (void)ctx;
    g->conn = ev->conn;
    g->open = 1;
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    game_t *g = ud;
    const uint8_t *data = ev->data;
    size_t len = ev->len;
    (void)ctx;
    if (len > 7 && memcmp(data, "worker ", 7) == 0) {
        char num[32];
        size_t n = len - 7 < sizeof num - 1 ? len - 7 : sizeof num - 1;
        memcpy(num, data + 7, n);
        num[n] = '\0';
        if (strtol(num, NULL, 10) != g->worker_expected) g->out_of_order = 1;
        g->worker_expected++;
        g->worker_received++;
    } else if (len > 6 && memcmp(data, "state ", 6) == 0) {
        g->state_received++;
    } else {
        g->other_received++;
    }
}

static void on_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    game_t *g = ud;
    (void)ctx, (void)ev;
    g->closed = 1;
}

static void on_error(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    (void)ud, (void)ctx;
    fprintf(stderr, "game_loop: %s: %s\n", wskit_status_name(ev->code), (const char *)ev->data);
}

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : "ws://127.0.0.1:9001/";
    double seconds = argc > 2 ? atof(argv[2]) : 3.0;
    const double dt = 1.0 / 60.0;
    game_t g;
    worker_t w;
    wskit_ctx *ctx = NULL;
    uint64_t conn = 0;
    pthread_t thread;
    int worker_started = 0;
    double start, next, stop_at, drain_until;
    long frames = 0;
    int ok;

    memset(&g, 0, sizeof g);
    memset(&w, 0, sizeof w);
    pthread_mutex_init(&w.lock, NULL);
    if (wskit_ctx_new(&ctx) != WSKIT_OK) return 1;
    wskit_ctx_on_open(ctx, on_open, &g);
    wskit_ctx_on_message(ctx, on_message, &g);
    wskit_ctx_on_close(ctx, on_close, &g);
    wskit_ctx_on_error(ctx, on_error, &g);
    if (argc > 3 && strcmp(argv[3], "--trace") == 0) wskit_ctx_set_tracer(ctx, trace_print, NULL);
    if (wskit_ctx_connect(ctx, url, WSKIT_NTS, NULL, &conn) != WSKIT_OK ||
        wskit_remote_new(ctx, &w.remote) != WSKIT_OK) {
        fprintf(stderr, "game_loop: %s\n", wskit_error_last());
        wskit_ctx_free(ctx);
        return 1;
    }
    start = now_s();
    next = start;
    stop_at = start + seconds;
    drain_until = stop_at + 2.0;
    for (;;) {
        double t = now_s();
        /* One frame: network, then simulation, then "render". */
        if (wskit_ctx_poll(ctx, 0, NULL) != WSKIT_OK) {
            fprintf(stderr, "game_loop: poll: %s\n", wskit_error_last());
            break;
        }
        if (g.closed) break;
        if (g.open && !worker_started) {
            w.conn = g.conn;
            if (pthread_create(&thread, NULL, worker_main, &w) == 0) worker_started = 1;
        }
        if (g.open && t < stop_at) {
            char msg[96];
            snprintf(msg, sizeof msg, "state frame=%ld x=%.3f y=%.3f", frames, t - start, (t - start) * 2);
            if (wskit_conn_send_text(ctx, g.conn, msg, strlen(msg)) == WSKIT_OK) g.state_sent++;
        }
        if (t >= stop_at && worker_started) {
            pthread_mutex_lock(&w.lock);
            w.stop = 1;
            pthread_mutex_unlock(&w.lock);
            pthread_join(thread, NULL);
            worker_started = 0;
            w.conn = 0; /* joined: sent is final */
        }
        if (t >= stop_at && !worker_started && g.open) {
            int all_back = g.state_received == g.state_sent && g.worker_received == w.sent;
            if (all_back || t >= drain_until) {
                wskit_conn_close(ctx, g.conn, 1000, "game over", WSKIT_NTS);
                g.open = 0;
            }
        }
        if (!g.open && t >= drain_until + 3.0) break; /* never connected or close never finished */
        frames++;
        next += dt;
        sleep_s(next - now_s());
    }
    if (worker_started) {
        pthread_mutex_lock(&w.lock);
        w.stop = 1;
        pthread_mutex_unlock(&w.lock);
        pthread_join(thread, NULL);
    }
    printf("frames=%ld state_sent=%ld state_received=%ld worker_sent=%ld worker_received=%ld in_order=%s\n",
           frames, g.state_sent, g.state_received, w.sent, g.worker_received, g.out_of_order ? "no" : "yes");
    ok = g.closed && g.state_sent > 0 && g.state_sent == g.state_received && w.sent > 0 &&
         w.sent == g.worker_received && !g.out_of_order && g.other_received == 0;
    wskit_remote_free(w.remote);
    wskit_ctx_free(ctx);
    pthread_mutex_destroy(&w.lock);
    return ok ? 0 : 1;
}
