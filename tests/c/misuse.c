/* Misuse never crashes: NULL for every pointer, stale and made-up ids, send after close, close and
 * abort inside callbacks, poll/shutdown/free from inside a callback (refused), double shutdown. */
#include "test_util.h"

static void null_everywhere(void) {
    wskit_ctx *ctx = NULL;
    wskit_config *cfg = NULL;
    wskit_remote *remote = NULL;
    wskit_event ev;
    wskit_queue_stats qs;
    wskit_deflate_params deflate;
    wskit_stats st;
    uint32_t u32 = 0;
    uint64_t u64 = 0;
    uint16_t u16 = 0;
    size_t sz = 0;
    bool flag = false;
    int i = 0;
    void *p = NULL;
    const char *s = NULL;
    const uint8_t bytes[4] = {1, 2, 3, 4};
    const char *err_before;

    /* Frees: NULL is a no-op returning WSKIT_OK. */
    CHECK_OK(wskit_config_free(NULL));
    CHECK_OK(wskit_remote_free(NULL));
    CHECK_OK(wskit_ctx_free(NULL));

    CHECK_RC(wskit_config_new(NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_new(NULL), WSKIT_ERR_NULL_ARG);
    CHECK(strstr(wskit_error_last(), "out") != NULL);
    /* The last-error text lives until the next failing call on this thread: successful calls
     * and WSKIT_QUEUE_EMPTY leave the pointer and its text alone. */
    err_before = wskit_error_last();
    CHECK_OK(wskit_config_new(&cfg));
    CHECK(wskit_error_last() == err_before && strstr(err_before, "out") != NULL);
    CHECK_OK(wskit_config_free(cfg));
    cfg = NULL;
    CHECK(wskit_error_last() == err_before && strstr(err_before, "out") != NULL);
    CHECK_RC(wskit_config_set_max_message_size(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK(strstr(wskit_error_last(), "config") != NULL);

    /* Config setters with a NULL config. */
    CHECK_RC(wskit_config_set_max_message_size(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_max_frame_size(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_max_buffered(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_low_water_mark(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_read_pause_high_water(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_max_fragments(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_idle_timeout_ms(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_handshake_timeout_ms(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_close_timeout_ms(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_ping_interval_ms(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_pong_timeout_ms(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_streaming(NULL, true), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_auto_pong(NULL, true), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_backlog(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_reuse_port(NULL, true), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_max_connections(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_max_request_header_bytes(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_max_request_headers(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_add_allowed_origin(NULL, "http://a", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_add_subprotocol(NULL, "chat", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_add_header(NULL, "X-A", WSKIT_NTS, "b", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_origin(NULL, "http://a", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_tls_cert_files(NULL, "c", WSKIT_NTS, "k", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_tls_cert_pem(NULL, bytes, 1, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_tls_ca_file(NULL, "c", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_tls_ca_pem(NULL, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_dangerous_skip_tls_verification(NULL, true), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_keep_request(NULL, true), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_keep_header(NULL, "*", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_deflate(NULL, true), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_deflate_no_context_takeover(NULL, true, true), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_deflate_window_bits(NULL, 15, 15), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_deflate_level(NULL, 6, 8), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_deflate_min_size(NULL, 64), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_deflate_compact_idle(NULL, true), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_static_dir(NULL, ".", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_max_http_body(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_http_keep_alive_ms(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_reconnect(NULL, 100, 200), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_reconnect_max_attempts(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_reconnect_stable_after_ms(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_offline_queue_bytes(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_OK(wskit_config_new(&cfg));
    /* Reconnect details need reconnect on; bad delays are refused. */
    CHECK_RC(wskit_config_set_reconnect_max_attempts(cfg, 1), WSKIT_ERR_INVALID_STATE);
    CHECK_RC(wskit_config_set_reconnect_stable_after_ms(cfg, 1), WSKIT_ERR_INVALID_STATE);
    CHECK_RC(wskit_config_set_offline_queue_bytes(cfg, 1), WSKIT_ERR_INVALID_STATE);
    CHECK_RC(wskit_config_set_reconnect(cfg, 200, 100), WSKIT_ERR_INVALID_ARG);
    CHECK_OK(wskit_config_set_reconnect(cfg, 100, 200));
    CHECK_OK(wskit_config_set_offline_queue_bytes(cfg, 1));
    CHECK_OK(wskit_config_set_reconnect(cfg, 0, 0));
    CHECK_RC(wskit_config_set_static_dir(cfg, NULL, WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_http_keep_alive_ms(cfg, 0), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_config_set_proxy(NULL, "http://p:1", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_proxy(cfg, NULL, WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_proxy(cfg, "ftp://p:1", WSKIT_NTS), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_config_set_proxy(cfg, "http://p:x", WSKIT_NTS), WSKIT_ERR_INVALID_ARG);
    CHECK_OK(wskit_config_set_proxy(cfg, "", WSKIT_NTS));
    CHECK_RC(wskit_config_set_proxy_from_env(NULL, false), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_proxy_credentials(cfg, NULL, 0, "p", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_proxy_credentials(cfg, "u", WSKIT_NTS, NULL, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_proxy_credentials(cfg, "", WSKIT_NTS, "p", WSKIT_NTS), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_config_set_proxy_timeout_ms(cfg, 0), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_config_set_proxy_timeout_ms(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_proxy_ca_file(cfg, NULL, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_proxy_ca_file(cfg, "/nonexistent.pem", WSKIT_NTS), WSKIT_ERR_TLS);
    CHECK_RC(wskit_config_add_allowed_origin(cfg, NULL, WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_add_subprotocol(cfg, NULL, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_add_header(cfg, NULL, WSKIT_NTS, "b", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_add_header(cfg, "X-A", WSKIT_NTS, NULL, WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_origin(cfg, NULL, WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_tls_cert_files(cfg, NULL, WSKIT_NTS, "k", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_tls_cert_files(cfg, "c", WSKIT_NTS, NULL, WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_tls_cert_pem(cfg, NULL, 1, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_tls_ca_file(cfg, NULL, WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_set_tls_ca_pem(cfg, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_keep_header(cfg, NULL, WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_config_keep_header(cfg, NULL, 0), WSKIT_ERR_NULL_ARG);
    /* Invalid values. */
    CHECK_RC(wskit_config_set_max_message_size(cfg, 0), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_config_set_backlog(cfg, -1), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_config_add_subprotocol(cfg, "not a token", WSKIT_NTS), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_config_add_subprotocol(cfg, "chat\0x", 6), WSKIT_ERR_INVALID_ARG);
    CHECK_OK(wskit_config_add_subprotocol(cfg, "chat.v2-and-more", 4)); /* the length counts */
    CHECK_RC(wskit_config_add_header(cfg, "X-A", WSKIT_NTS, "line\r\nbreak", WSKIT_NTS), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_config_add_subprotocol(cfg, "\xff\xfe", WSKIT_NTS), WSKIT_ERR_INVALID_UTF8);

    /* Context functions with a NULL context. */
    CHECK_RC(wskit_ctx_poll(NULL, 0, &i), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_fd(NULL, &i), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_next_timeout_ms(NULL, &i), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_flush(NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_shutdown(NULL, 10), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_begin_shutdown(NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_connection_count(NULL, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_listen(NULL, "127.0.0.1:0", WSKIT_NTS, NULL, &u32), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_local_port(NULL, 1, &u16), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_close_listener(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_connect(NULL, "ws://127.0.0.1:1/", WSKIT_NTS, NULL, &u64), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_listen_unix(NULL, "/tmp/x.sock", WSKIT_NTS, 0, 0, NULL, &u32), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_connect_unix(NULL, "/tmp/x.sock", WSKIT_NTS, "ws://localhost/", WSKIT_NTS, NULL, &u64),
             WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_listen(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_accept(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_open(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_message(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_fragment(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_ping(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_pong(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_writable(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_close(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_error(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_rejected(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_http_request(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_reconnect(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_on_undelivered(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_reconnect_delay(NULL, 1, 10), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_stop_reconnect(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_reconnect_state(NULL, 1, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_http_respond(NULL, 1, 200, NULL, 0, NULL, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_http_begin(NULL, 1, 200, NULL, 0, WSKIT_HTTP_UNKNOWN_LENGTH), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_http_write(NULL, 1, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_http_end(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_http_serve_static(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_set_tracer(NULL, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_use_event_queue(NULL, 8, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_next_event(NULL, &ev), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_next_events(NULL, &ev, 1, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_send_batch(NULL, NULL, 0, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_queue_stats(NULL, &qs), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_stats(NULL, &st), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_new(NULL, &remote), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_send_text(NULL, 1, "a", 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_send_binary(NULL, 1, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_begin_message(NULL, 1, true, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_continue_message(NULL, 1, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_finish_message(NULL, 1, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_ping(NULL, 1, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_pong(NULL, 1, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_close(NULL, 1, 1000, "x", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_abort(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_buffered_amount(NULL, 1, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_pause_reading(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_resume_reading(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_is_reading_paused(NULL, 1, &flag), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_set_user_data(NULL, 1, p), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_user_data(NULL, 1, &p), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_subprotocol(NULL, 1, &s, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_deflate_params(NULL, 1, &deflate), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_broadcast(NULL, &u64, 1, false, bytes, 1, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_peer(NULL, 1, &s, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_accept(NULL, 1, NULL, 0, NULL, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_defer_accept(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_path(NULL, 1, &s, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_query(NULL, 1, &s, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_header(NULL, 1, "Host", WSKIT_NTS, &s, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_header_count(NULL, 1, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_header_at(NULL, 1, 0, &s, &sz, &s, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_reject(NULL, 1, 403, NULL, 0, NULL, 0), WSKIT_ERR_NULL_ARG);

    /* Other pointers NULL with a real context. */
    CHECK_OK(wskit_ctx_new(&ctx));
    CHECK_OK(wskit_ctx_poll(ctx, 0, NULL)); /* out_events is optional */
    CHECK_RC(wskit_ctx_fd(ctx, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_next_timeout_ms(ctx, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_connection_count(ctx, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_listen(ctx, NULL, WSKIT_NTS, NULL, &u32), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_listen(ctx, NULL, 0, NULL, &u32), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_listen(ctx, "127.0.0.1:0", WSKIT_NTS, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_local_port(ctx, 1, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_connect(ctx, NULL, WSKIT_NTS, NULL, &u64), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_connect(ctx, "ws://127.0.0.1:1/", WSKIT_NTS, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_listen_unix(ctx, NULL, 0, 0, 0, NULL, &u32), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_listen_unix(ctx, "/tmp/x.sock", WSKIT_NTS, 0, 0, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_connect_unix(ctx, NULL, 0, "ws://localhost/", WSKIT_NTS, NULL, &u64), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_connect_unix(ctx, "/tmp/x.sock", WSKIT_NTS, NULL, 0, NULL, &u64), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_connect_unix(ctx, "/tmp/x.sock", WSKIT_NTS, "ws://localhost/", WSKIT_NTS, NULL, NULL),
             WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_new(ctx, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_next_event(ctx, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_next_events(ctx, NULL, 1, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_next_events(ctx, &ev, 1, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_send_batch(ctx, NULL, 1, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_OK(wskit_ctx_send_batch(ctx, NULL, 0, NULL, NULL)); /* an empty batch */
    {
        /* A message's NULL data with a length is refused on its own, with the statuses. */
        wskit_send sends[2] = {{1, NULL, 1, false}, {2, bytes, 1, false}};
        wskit_status statuses[2];
        size_t failed = 0;
        CHECK_OK(wskit_ctx_send_batch(ctx, sends, 2, statuses, &failed));
        CHECK(statuses[0] == WSKIT_ERR_NULL_ARG && statuses[1] == WSKIT_ERR_NOT_FOUND && failed == 2);
    }
    CHECK_RC(wskit_ctx_queue_stats(ctx, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_stats(ctx, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_send_text(ctx, 1, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_send_text(ctx, 1, NULL, WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_send_binary(ctx, 1, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_begin_message(ctx, 1, false, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_continue_message(ctx, 1, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_finish_message(ctx, 1, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_ping(ctx, 1, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_pong(ctx, 1, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_close(ctx, 1, 1000, NULL, 3), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_buffered_amount(ctx, 1, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_reconnect_state(ctx, 1, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_is_reading_paused(ctx, 1, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_user_data(ctx, 1, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_subprotocol(ctx, 1, NULL, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_deflate_params(ctx, 1, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_broadcast(ctx, NULL, 1, false, bytes, 1, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_ctx_broadcast(ctx, &u64, 1, false, NULL, 1, NULL, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_peer(ctx, 1, NULL, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_accept(ctx, 1, NULL, 2, NULL, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_path(ctx, 1, NULL, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_query(ctx, 1, NULL, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_header(ctx, 1, NULL, WSKIT_NTS, &s, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_header(ctx, 1, "Host", WSKIT_NTS, NULL, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_header_count(ctx, 1, NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_header_at(ctx, 1, 0, NULL, &sz, &s, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_header_at(ctx, 1, 0, &s, &sz, NULL, &sz), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_accept(ctx, 1, NULL, 0, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_reject(ctx, 1, 403, NULL, 1, NULL, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_conn_reject(ctx, 1, 403, NULL, 0, NULL, 2), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_http_respond(ctx, 1, 200, NULL, 1, NULL, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_http_respond(ctx, 1, 200, NULL, 0, NULL, 2), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_http_begin(ctx, 1, 200, NULL, 1, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_http_write(ctx, 1, NULL, 1), WSKIT_ERR_NULL_ARG);
    /* Remote functions with NULL. */
    CHECK_RC(wskit_remote_http_respond(NULL, 1, 200, NULL, 0, NULL, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_http_begin(NULL, 1, 200, NULL, 0, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_http_write(NULL, 1, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_http_end(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_send_text(NULL, 1, "a", 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_send_binary(NULL, 1, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_ping(NULL, 1, bytes, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_close(NULL, 1, 1000, "x", WSKIT_NTS), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_wake(NULL), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_pause_reading(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_resume_reading(NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_OK(wskit_remote_new(ctx, &remote));
    CHECK_RC(wskit_remote_send_text(remote, 1, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_send_binary(remote, 1, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_ping(remote, 1, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_close(remote, 1, 1000, NULL, 2), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_http_respond(remote, 1, 200, NULL, 1, NULL, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_http_respond(remote, 1, 200, NULL, 0, NULL, 2), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_http_begin(remote, 1, 200, NULL, 1, 0), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_http_write(remote, 1, NULL, 1), WSKIT_ERR_NULL_ARG);
    CHECK_RC(wskit_remote_send_text(remote, 1, "\xc3\x28", 2), WSKIT_ERR_INVALID_UTF8);

    /* Made-up ids: 0 and random values are never valid. */
    CHECK_RC(wskit_conn_send_text(ctx, 0, "a", 1), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_send_text(ctx, 0xdeadbeefcafeULL, "a", 1), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_close(ctx, 42, 1000, NULL, 0), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_abort(ctx, 7), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_buffered_amount(ctx, 3, &sz), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_reconnect_delay(ctx, 3, 10), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_stop_reconnect(ctx, 3), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_pause_reading(ctx, 3), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_resume_reading(ctx, 3), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_is_reading_paused(ctx, 3, &flag), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_set_user_data(ctx, 3, NULL), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_subprotocol(ctx, 3, &s, NULL), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_peer(ctx, 3, &s, NULL), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_accept(ctx, 3, NULL, 0, NULL, 0), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_defer_accept(ctx, 3), WSKIT_ERR_INVALID_STATE); /* not in an ACCEPT callback */
    CHECK_RC(wskit_conn_path(ctx, 3, &s, NULL), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_query(ctx, 3, &s, NULL), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_header(ctx, 3, "Host", WSKIT_NTS, &s, NULL), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_header_count(ctx, 3, &sz), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_header_at(ctx, 3, 0, &s, NULL, &s, NULL), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_conn_reject(ctx, 3, 403, NULL, 0, "no", WSKIT_NTS), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_http_respond(ctx, 3, 200, NULL, 0, NULL, 0), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_http_write(ctx, 3, bytes, 1), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_http_end(ctx, 3), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_http_serve_static(ctx, 3), WSKIT_ERR_INVALID_STATE); /* no request delivered */
    CHECK_RC(wskit_ctx_local_port(ctx, 0, &u16), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_ctx_local_port(ctx, 99, &u16), WSKIT_ERR_NOT_FOUND);
    CHECK_RC(wskit_ctx_close_listener(ctx, 99), WSKIT_ERR_NOT_FOUND);
    /* Bad arguments. */
    CHECK_RC(wskit_ctx_poll(ctx, -5, NULL), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_ctx_listen(ctx, "not an address", WSKIT_NTS, NULL, &u32), WSKIT_ERR_INVALID_ARG);
    /* Listen addresses are numeric: no name is resolved on the loop thread. */
    CHECK_RC(wskit_ctx_listen(ctx, "example.com:80", WSKIT_NTS, NULL, &u32), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_ctx_listen(ctx, "127.0.0.1:0junk", 11, NULL, &u32), WSKIT_OK); /* the length counts */
    {
        /* IPv6 parses (binding may fail where the host has no IPv6). */
        wskit_status rc = wskit_ctx_listen(ctx, "[::1]:0", WSKIT_NTS, NULL, &u32);
        CHECK(rc == WSKIT_OK || rc == WSKIT_ERR_IO);
    }
    CHECK_OK(wskit_ctx_listen(ctx, "localhost:0", WSKIT_NTS, NULL, &u32));
    /* (Bad statuses and reserved headers with a live request: tests/c/accept.c.) */
    {
        wskit_header h = {"X-A", 3, NULL, 1};
        CHECK_RC(wskit_conn_reject(ctx, 3, 403, &h, 1, NULL, 0), WSKIT_ERR_NULL_ARG);
        h.value = "\xff";
        CHECK_RC(wskit_conn_accept(ctx, 3, NULL, 0, &h, 1), WSKIT_ERR_INVALID_UTF8);
    }
    CHECK_RC(wskit_ctx_connect(ctx, "http://example.com/", WSKIT_NTS, NULL, &u64), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_ctx_connect(ctx, "ws://exa mple/", WSKIT_NTS, NULL, &u64), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_conn_send_text(ctx, 1, "\xff", 1), WSKIT_ERR_INVALID_UTF8);
    CHECK_RC(wskit_ctx_use_event_queue(ctx, 0, 0), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_ctx_next_event(ctx, &ev), WSKIT_ERR_INVALID_STATE);
    CHECK_RC(wskit_ctx_next_events(ctx, &ev, 1, &sz), WSKIT_ERR_INVALID_STATE);
    CHECK_RC(wskit_ctx_next_events(ctx, &ev, 0, &sz), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_ctx_queue_stats(ctx, &qs), WSKIT_ERR_INVALID_STATE);

    CHECK_OK(wskit_remote_free(remote));
    CHECK_OK(wskit_config_free(cfg));
    CHECK_OK(wskit_ctx_free(ctx));
}

/* ---- callbacks that misbehave ---------------------------------------------------------------- */

typedef struct {
    wskit_ctx *ctx;
    uint64_t server_conn, client_conn;
    int opened, closed, messages, errors;
    int reentrant_checked;
    uint16_t last_close_code;
} state_t;

static void on_open(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    CHECK(ev->path != NULL && ev->path[0] == '/' && ev->path_len == strlen(ev->path));
    if (ev->listener) st->server_conn = ev->conn;
    else st->client_conn = ev->conn;
    st->opened++;
    /* Re-entrant calls that must be refused, from inside a callback. */
    CHECK_RC(wskit_ctx_poll(ctx, 0, NULL), WSKIT_ERR_REENTRANT);
    CHECK_RC(wskit_ctx_shutdown(ctx, 10), WSKIT_ERR_REENTRANT);
    CHECK_RC(wskit_ctx_free(ctx), WSKIT_ERR_REENTRANT);
    CHECK_RC(wskit_ctx_use_event_queue(ctx, 4, 0), WSKIT_ERR_INVALID_STATE);
    st->reentrant_checked = 1;
}

static void on_message(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    uint64_t conn = ev->conn;
    const uint8_t *data = ev->data;
    size_t len = ev->len;
    st->messages++;
    if (len == 5 && memcmp(data, "close", 5) == 0) {
        /* Close the current connection inside its own callback, then use it again. */
        CHECK_OK(wskit_conn_close(ctx, conn, 4001, "closing in callback", WSKIT_NTS));
        CHECK_RC(wskit_conn_send_text(ctx, conn, "late", 4), WSKIT_ERR_INVALID_STATE);
        CHECK_RC(wskit_conn_close(ctx, conn, 1000, NULL, 0), WSKIT_ERR_INVALID_STATE);
    } else if (len == 5 && memcmp(data, "abort", 5) == 0) {
        CHECK_OK(wskit_conn_abort(ctx, conn));
        CHECK_RC(wskit_conn_send_text(ctx, conn, "late", 4), WSKIT_ERR_NOT_FOUND);
        CHECK_RC(wskit_conn_abort(ctx, conn), WSKIT_ERR_NOT_FOUND);
    } else {
        CHECK_OK(wskit_conn_send_binary(ctx, conn, data, len));
    }
}

static void on_close(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    CHECK(ev->kind == WSKIT_EVENT_CLOSE && ev->data != NULL && ev->data[ev->len] == '\0');
    st->closed++;
    st->last_close_code = (uint16_t)ev->code;
}

static void on_error(void *ud, wskit_ctx *ctx, const wskit_event *ev) {
    state_t *st = ud;
    (void)ctx;
    CHECK(ev->data != NULL && ev->len == strlen((const char *)ev->data));
    st->errors++;
}

static void connect_pair(state_t *st, wskit_ctx *ctx, const char *url) {
    uint64_t conn = 0;
    int want = st->opened + 2;
    st->server_conn = st->client_conn = 0;
    CHECK_OK(wskit_ctx_connect(ctx, url, WSKIT_NTS, NULL, &conn));
    CHECK(conn != 0);
    {
        double end = test_now() + 5;
        while (st->opened < want && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 20, NULL));
    }
    CHECK(st->opened == want);
    CHECK(st->client_conn == conn);
}

static void callbacks_misbehaving(void) {
    wskit_ctx *ctx = NULL;
    state_t st;
    char url[64];
    int closed_before;
    size_t count = 0;
    uint64_t stale;

    memset(&st, 0, sizeof st);
    CHECK_OK(wskit_ctx_new(&ctx));
    st.ctx = ctx;
    CHECK_OK(wskit_ctx_on_open(ctx, on_open, &st));
    CHECK_OK(wskit_ctx_on_message(ctx, on_message, &st));
    CHECK_OK(wskit_ctx_on_close(ctx, on_close, &st));
    CHECK_OK(wskit_ctx_on_error(ctx, on_error, &st));
    CHECK_RC(wskit_ctx_use_event_queue(ctx, 16, 0), WSKIT_ERR_INVALID_STATE);
    listen_local(ctx, NULL, url, sizeof url);

    /* Close inside a callback; then the id goes stale. */
    connect_pair(&st, ctx, url);
    CHECK(st.reentrant_checked);
    closed_before = st.closed;
    CHECK_OK(wskit_conn_send_text(ctx, st.client_conn, "close", 5));
    {
        double end = test_now() + 5;
        while (st.closed < closed_before + 2 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 20, NULL));
    }
    CHECK(st.closed == closed_before + 2);
    CHECK(st.last_close_code == 4001);
    stale = st.server_conn;
    CHECK_RC(wskit_conn_send_text(ctx, stale, "x", 1), WSKIT_ERR_NOT_FOUND);
    {
        /* The client side may still wait for the server's FIN: stale or closing, never sendable. */
        wskit_status rc = wskit_conn_send_text(ctx, st.client_conn, "x", 1);
        CHECK(rc == WSKIT_ERR_NOT_FOUND || rc == WSKIT_ERR_INVALID_STATE);
    }

    /* Abort inside a callback. */
    connect_pair(&st, ctx, url);
    closed_before = st.closed;
    CHECK_OK(wskit_conn_send_text(ctx, st.client_conn, "abort", 5));
    {
        double end = test_now() + 5;
        while (st.closed < closed_before + 2 && test_now() < end) CHECK_OK(wskit_ctx_poll(ctx, 20, NULL));
    }
    CHECK(st.closed == closed_before + 2);

    /* Send after close (outside callbacks). */
    connect_pair(&st, ctx, url);
    CHECK_OK(wskit_conn_close(ctx, st.client_conn, 1000, "bye", WSKIT_NTS));
    CHECK_RC(wskit_conn_send_text(ctx, st.client_conn, "after", 5), WSKIT_ERR_INVALID_STATE);
    CHECK_RC(wskit_conn_ping(ctx, st.client_conn, NULL, 0), WSKIT_ERR_INVALID_STATE);
    CHECK_RC(wskit_conn_close(ctx, st.client_conn, 9999, NULL, 0), WSKIT_ERR_INVALID_STATE);

    /* Double shutdown, then the context stays usable and then frees cleanly. */
    connect_pair(&st, ctx, url);
    CHECK_RC(wskit_conn_close(ctx, st.client_conn, 9999, NULL, 0), WSKIT_ERR_INVALID_ARG);
    CHECK_RC(wskit_conn_close(ctx, st.client_conn, 1005, NULL, 0), WSKIT_ERR_INVALID_ARG);
    CHECK_OK(wskit_ctx_shutdown(ctx, 2000));
    CHECK_OK(wskit_ctx_connection_count(ctx, &count));
    CHECK(count == 0);
    CHECK_OK(wskit_ctx_shutdown(ctx, 100));
    CHECK_OK(wskit_ctx_begin_shutdown(ctx));
    CHECK(st.opened == st.closed);
    CHECK_OK(wskit_ctx_free(ctx));
}

int main(void) {
    null_everywhere();
    callbacks_misbehaving();
    return test_finish("misuse");
}
