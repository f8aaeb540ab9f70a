/* The header compiles as C99 with -Wall -Wextra -Werror -pedantic (and, via build-c.sh, as C++17),
 * declares every function, and agrees with the library about the version and status codes. */
#include "test_util.h"

typedef void (*any_fn)(void);
/* Any function pointer converts to another function pointer type (ISO C 6.3.2.3p8). */
#define wskit_fn_cast(f) ((any_fn)(f))

int main(void) {
    static const any_fn functions[] = {
    (void (*)(void))wskit_fn_cast(&wskit_status_message),
    (void (*)(void))wskit_fn_cast(&wskit_status_name),
    (void (*)(void))wskit_fn_cast(&wskit_error_last),
    (void (*)(void))wskit_fn_cast(&wskit_version_number),
    (void (*)(void))wskit_fn_cast(&wskit_version_string),
    (void (*)(void))wskit_fn_cast(&wskit_config_new),
    (void (*)(void))wskit_fn_cast(&wskit_config_free),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_max_message_size),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_max_frame_size),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_max_buffered),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_low_water_mark),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_read_pause_high_water),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_max_fragments),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_idle_timeout_ms),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_handshake_timeout_ms),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_close_timeout_ms),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_ping_interval_ms),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_pong_timeout_ms),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_streaming),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_auto_pong),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_backlog),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_reuse_port),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_max_connections),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_max_request_header_bytes),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_max_request_headers),
    (void (*)(void))wskit_fn_cast(&wskit_config_add_allowed_origin),
    (void (*)(void))wskit_fn_cast(&wskit_config_add_subprotocol),
    (void (*)(void))wskit_fn_cast(&wskit_config_add_header),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_origin),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_deflate),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_deflate_no_context_takeover),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_deflate_window_bits),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_deflate_level),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_deflate_min_size),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_deflate_compact_idle),
    (void (*)(void))wskit_fn_cast(&wskit_conn_deflate_params),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_broadcast),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_tls_cert_files),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_tls_cert_pem),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_tls_ca_file),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_tls_ca_pem),
    (void (*)(void))wskit_fn_cast(&wskit_config_dangerous_skip_tls_verification),
    (void (*)(void))wskit_fn_cast(&wskit_config_keep_request),
    (void (*)(void))wskit_fn_cast(&wskit_config_keep_header),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_new),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_free),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_poll),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_fd),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_next_timeout_ms),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_flush),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_shutdown),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_begin_shutdown),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_connection_count),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_listen),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_local_port),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_close_listener),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_connect),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_listen_unix),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_connect_unix),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_listen),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_accept),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_open),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_message),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_fragment),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_ping),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_pong),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_writable),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_close),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_error),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_rejected),
    (void (*)(void))wskit_fn_cast(&wskit_conn_accept),
    (void (*)(void))wskit_fn_cast(&wskit_conn_reject),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_http_request),
    (void (*)(void))wskit_fn_cast(&wskit_http_respond),
    (void (*)(void))wskit_fn_cast(&wskit_http_begin),
    (void (*)(void))wskit_fn_cast(&wskit_http_write),
    (void (*)(void))wskit_fn_cast(&wskit_http_end),
    (void (*)(void))wskit_fn_cast(&wskit_http_serve_static),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_static_dir),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_max_http_body),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_http_keep_alive_ms),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_proxy),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_proxy_from_env),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_proxy_credentials),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_proxy_timeout_ms),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_proxy_ca_file),
    (void (*)(void))wskit_fn_cast(&wskit_conn_defer_accept),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_use_event_queue),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_next_event),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_next_events),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_send_batch),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_queue_stats),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_stats),
    (void (*)(void))wskit_fn_cast(&wskit_conn_send_text),
    (void (*)(void))wskit_fn_cast(&wskit_conn_send_binary),
    (void (*)(void))wskit_fn_cast(&wskit_conn_begin_message),
    (void (*)(void))wskit_fn_cast(&wskit_conn_continue_message),
    (void (*)(void))wskit_fn_cast(&wskit_conn_finish_message),
    (void (*)(void))wskit_fn_cast(&wskit_conn_ping),
    (void (*)(void))wskit_fn_cast(&wskit_conn_pong),
    (void (*)(void))wskit_fn_cast(&wskit_conn_close),
    (void (*)(void))wskit_fn_cast(&wskit_conn_abort),
    (void (*)(void))wskit_fn_cast(&wskit_conn_buffered_amount),
    (void (*)(void))wskit_fn_cast(&wskit_conn_pause_reading),
    (void (*)(void))wskit_fn_cast(&wskit_conn_resume_reading),
    (void (*)(void))wskit_fn_cast(&wskit_conn_is_reading_paused),
    (void (*)(void))wskit_fn_cast(&wskit_conn_set_user_data),
    (void (*)(void))wskit_fn_cast(&wskit_conn_user_data),
    (void (*)(void))wskit_fn_cast(&wskit_conn_subprotocol),
    (void (*)(void))wskit_fn_cast(&wskit_conn_peer),
    (void (*)(void))wskit_fn_cast(&wskit_conn_path),
    (void (*)(void))wskit_fn_cast(&wskit_conn_query),
    (void (*)(void))wskit_fn_cast(&wskit_conn_header),
    (void (*)(void))wskit_fn_cast(&wskit_conn_header_count),
    (void (*)(void))wskit_fn_cast(&wskit_conn_header_at),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_set_tracer),
    (void (*)(void))wskit_fn_cast(&wskit_remote_new),
    (void (*)(void))wskit_fn_cast(&wskit_remote_free),
    (void (*)(void))wskit_fn_cast(&wskit_remote_send_text),
    (void (*)(void))wskit_fn_cast(&wskit_remote_send_binary),
    (void (*)(void))wskit_fn_cast(&wskit_remote_ping),
    (void (*)(void))wskit_fn_cast(&wskit_remote_close),
    (void (*)(void))wskit_fn_cast(&wskit_remote_http_respond),
    (void (*)(void))wskit_fn_cast(&wskit_remote_http_begin),
    (void (*)(void))wskit_fn_cast(&wskit_remote_http_write),
    (void (*)(void))wskit_fn_cast(&wskit_remote_http_end),
    (void (*)(void))wskit_fn_cast(&wskit_remote_wake),
    (void (*)(void))wskit_fn_cast(&wskit_remote_pause_reading),
    (void (*)(void))wskit_fn_cast(&wskit_remote_resume_reading),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_reconnect),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_reconnect_max_attempts),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_reconnect_stable_after_ms),
    (void (*)(void))wskit_fn_cast(&wskit_config_set_offline_queue_bytes),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_reconnect),
    (void (*)(void))wskit_fn_cast(&wskit_ctx_on_undelivered),
    (void (*)(void))wskit_fn_cast(&wskit_conn_reconnect_delay),
    (void (*)(void))wskit_fn_cast(&wskit_conn_stop_reconnect),
    (void (*)(void))wskit_fn_cast(&wskit_conn_reconnect_state),
    };
    static const uint32_t codes[] = {
        WSKIT_OK, WSKIT_QUEUE_EMPTY, WSKIT_ERR_NULL_ARG, WSKIT_ERR_INVALID_ARG, WSKIT_ERR_INVALID_STATE, WSKIT_ERR_REENTRANT, WSKIT_ERR_NOT_FOUND, WSKIT_ERR_UNAVAILABLE, WSKIT_ERR_NOT_CONNECTED, WSKIT_ERR_PROTOCOL, WSKIT_ERR_INVALID_UTF8, WSKIT_ERR_MESSAGE_TOO_BIG, WSKIT_ERR_HANDSHAKE_REJECTED, WSKIT_ERR_HANDSHAKE, WSKIT_ERR_IO, WSKIT_ERR_RESOLVE, WSKIT_ERR_CONNECT, WSKIT_ERR_TIMEOUT, WSKIT_ERR_TLS, WSKIT_ERR_NO_MEMORY, WSKIT_ERR_WOULD_BLOCK, WSKIT_ERR_INTERNAL, WSKIT_ERR_PANIC,
    };
    size_t i;
    char version[32];
    for (i = 0; i < sizeof functions / sizeof functions[0]; i++) CHECK(functions[i] != NULL);
    CHECK(wskit_version_number() == WSKIT_VERSION);
    CHECK(strcmp(wskit_version_string(), WSKIT_VERSION_STRING) == 0);
    snprintf(version, sizeof version, "%d.%d.%d", WSKIT_VERSION_MAJOR, WSKIT_VERSION_MINOR, WSKIT_VERSION_PATCH);
    CHECK(strcmp(version, wskit_version_string()) == 0);
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *name = wskit_status_name(codes[i]);
        CHECK(name != NULL && strncmp(name, "WSKIT_", 6) == 0 && strcmp(name, "WSKIT_UNKNOWN") != 0);
        CHECK(wskit_status_message(codes[i]) != NULL && wskit_status_message(codes[i])[0] != '\0');
    }
    CHECK(strcmp(wskit_status_name(WSKIT_ERR_NOT_FOUND), "WSKIT_ERR_NOT_FOUND") == 0);
    CHECK(strcmp(wskit_status_name(12345), "WSKIT_UNKNOWN") == 0);
    CHECK(strcmp(wskit_status_message(12345), "unknown status") == 0);
    CHECK(wskit_error_last() != NULL);
    CHECK(sizeof(wskit_status) == 4);
    /* Retired values stay unknown; results that are not errors are below 100. */
    CHECK(strcmp(wskit_status_name(402), "WSKIT_UNKNOWN") == 0);
    CHECK(strcmp(wskit_status_name(403), "WSKIT_UNKNOWN") == 0);
    CHECK(WSKIT_QUEUE_EMPTY == 1 && WSKIT_ERR_UNAVAILABLE == 105);
    CHECK(strcmp(wskit_status_message(WSKIT_OK), "Success.") == 0);
    CHECK(WSKIT_NTS == SIZE_MAX);
    CHECK(WSKIT_UNIX_REMOVE_STALE == 1u);
    {
        /* Every struct the header declares is complete. */
        wskit_event ev;
        wskit_header hd;
        wskit_queue_stats qs;
        wskit_stats st;
        wskit_trace tr;
        wskit_deflate_params dp;
        wskit_send sd;
        wskit_reconnect_state rs;
        memset(&rs, 0, sizeof rs);
        CHECK(rs.attempt == 0 && !rs.waiting && WSKIT_EVENT_RECONNECT == 13 && WSKIT_EVENT_UNDELIVERED == 14);
        CHECK(WSKIT_ERR_NOT_CONNECTED == 106 && WSKIT_UNDELIVERED_STOPPED == 3);
        memset(&sd, 0, sizeof sd);
        memset(&ev, 0, sizeof ev);
        memset(&hd, 0, sizeof hd);
        memset(&qs, 0, sizeof qs);
        memset(&st, 0, sizeof st);
        memset(&tr, 0, sizeof tr);
        memset(&dp, 0, sizeof dp);
        CHECK(ev.kind == 0 && hd.name == NULL && qs.events == 0 && tr.conn == 0 && !dp.negotiated
              && sd.conn == 0 && sd.data == NULL && !sd.is_text);
    }
    printf("header: %zu functions declared\n", sizeof functions / sizeof functions[0]);
    return test_finish("header_compiles");
}
