/*
 * wskit: a WebSocket (RFC 6455) library with a C ABI.
 * Generated from src/ffi by cbindgen. Do not edit.
 * Regenerate with `cargo build` (build.rs); `scripts/header-check.sh` fails when it is stale.
 * Conventions (ownership, threads, errors): README.md, section "C API conventions".
 */

#ifndef WSKIT_H
#define WSKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Version of this header (Cargo.toml); compare with wskit_version_number() at run time. */
#define WSKIT_VERSION_MAJOR 0
#define WSKIT_VERSION_MINOR 2
#define WSKIT_VERSION_PATCH 0
/** WSKIT_VERSION_MAJOR << 16 | WSKIT_VERSION_MINOR << 8 | WSKIT_VERSION_PATCH */
#define WSKIT_VERSION ((WSKIT_VERSION_MAJOR << 16) | (WSKIT_VERSION_MINOR << 8) | WSKIT_VERSION_PATCH)
/** The version as a string literal. */
#define WSKIT_VERSION_STRING "0.2.0"

/** A string length meaning "NUL-terminated: measure it" (as SQLite's -1). */
#define WSKIT_NTS SIZE_MAX

/** `length` of wskit_http_begin for a body of unknown length (sent chunked). */
#define WSKIT_HTTP_UNKNOWN_LENGTH UINT64_MAX

/** `flags` of wskit_ctx_listen_unix: replace a stale socket file (nobody listens on it). */
#define WSKIT_UNIX_REMOVE_STALE 1u


/**
 * The result of every wskit function that can fail. `WSKIT_OK` is 0; values below 100 are
 * results that are not errors (`WSKIT_QUEUE_EMPTY`); errors are grouped by hundreds: 1xx the
 * caller's mistake, 2xx the WebSocket protocol, 3xx the network, 4xx resources, 9xx wskit
 * itself. Values are never reused: retired codes stay reserved (402 was
 * `WSKIT_ERR_TOO_MANY_CONNECTIONS`, 403 was `WSKIT_ERR_QUEUE_EMPTY`). Out-parameters are
 * written only when a function returns `WSKIT_OK`. After an error, `wskit_error_last()` says
 * more.
 *
 * The C type is `uint32_t`; functions that take a status from C take a `uint32_t` and accept
 * any value.
 */
enum wskit_status
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
    /**
     * Success.
     */
    WSKIT_OK = 0,
    /**
     * No event is queued (not an error: `wskit_ctx_next_event` has no more work).
     */
    WSKIT_QUEUE_EMPTY = 1,
    /**
     * A required pointer argument was NULL.
     */
    WSKIT_ERR_NULL_ARG = 100,
    /**
     * An argument is out of range or malformed.
     *
     * For example a bad address, URL, close code, header, status or size 0.
     */
    WSKIT_ERR_INVALID_ARG = 101,
    /**
     * The call is not allowed in the current state.
     *
     * Connection not open yet or already closing, callbacks and event queue mixed, context
     * freed behind a remote handle, ...
     */
    WSKIT_ERR_INVALID_STATE = 102,
    /**
     * Not allowed from inside a callback of the same context.
     *
     * `wskit_ctx_poll`, `wskit_ctx_shutdown`, `wskit_ctx_free` from a callback; any call on
     * the context from its tracer.
     */
    WSKIT_ERR_REENTRANT = 103,
    /**
     * No such connection, listener or item (closed, or never valid).
     *
     * The connection or listener id is stale or was never valid; or a looked-up item (a
     * header) does not exist.
     */
    WSKIT_ERR_NOT_FOUND = 104,
    /**
     * The information was not kept for this connection.
     *
     * Ask for it in the config (`wskit_config_keep_request`, `wskit_config_keep_header`).
     */
    WSKIT_ERR_UNAVAILABLE = 105,
    /**
     * The connection is reconnecting and sends are not queued meanwhile.
     *
     * A client connection with reconnect on (`wskit_config_set_reconnect`) is waiting for or
     * making an attempt, and its offline queue is off (`wskit_config_set_offline_queue_bytes`
     * 0, the default).
     */
    WSKIT_ERR_NOT_CONNECTED = 106,
    /**
     * The peer broke the WebSocket protocol.
     */
    WSKIT_ERR_PROTOCOL = 200,
    /**
     * Text is not valid UTF-8 (sent by the peer, or passed to a text send).
     */
    WSKIT_ERR_INVALID_UTF8 = 201,
    /**
     * A frame or message is larger than the configured limit.
     */
    WSKIT_ERR_MESSAGE_TOO_BIG = 202,
    /**
     * The server rejected the opening handshake (an HTTP status other than 101).
     */
    WSKIT_ERR_HANDSHAKE_REJECTED = 203,
    /**
     * The opening handshake failed (malformed request or response, bad accept key, ...).
     */
    WSKIT_ERR_HANDSHAKE = 204,
    /**
     * A socket operation failed.
     */
    WSKIT_ERR_IO = 300,
    /**
     * The host name could not be resolved.
     */
    WSKIT_ERR_RESOLVE = 301,
    /**
     * No address of the host accepted the TCP connection.
     */
    WSKIT_ERR_CONNECT = 302,
    /**
     * A deadline passed (opening or closing handshake, pong).
     */
    WSKIT_ERR_TIMEOUT = 303,
    /**
     * TLS failed (certificate, key or handshake).
     *
     * `wskit_error_last()` names the reason: unknown issuer, expired, hostname mismatch, ...
     */
    WSKIT_ERR_TLS = 304,
    /**
     * The proxy failed: its answer is not HTTP (or not SOCKS5), or it closed the connection.
     *
     * Also a bad proxy URL in the environment. `wskit_error_last()` / the ERROR event's text
     * says what it sent.
     */
    WSKIT_ERR_PROXY = 305,
    /**
     * The proxy wants (other) credentials: HTTP 407, or SOCKS5 authentication failed.
     *
     * The ERROR event's headers: `:status` 407 and the proxy's, `Proxy-Authenticate` among them.
     */
    WSKIT_ERR_PROXY_AUTH = 306,
    /**
     * The proxy refused the tunnel with an HTTP status (403, 502, 503, ...).
     *
     * The ERROR event's headers: `:status` (the proxy's status) and the proxy's headers.
     */
    WSKIT_ERR_PROXY_REFUSED = 307,
    /**
     * The proxy did not open the tunnel within the proxy timeout.
     */
    WSKIT_ERR_PROXY_TIMEOUT = 308,
    /**
     * The SOCKS5 proxy answered the connect with a failure reply code.
     *
     * The ERROR event's headers: `:socks-reply` (RFC 1928: 1 general failure, 2 not allowed,
     * 3 network unreachable, 4 host unreachable, 5 connection refused, ...).
     */
    WSKIT_ERR_SOCKS = 309,
    /**
     * Memory could not be allocated.
     */
    WSKIT_ERR_NO_MEMORY = 400,
    /**
     * The send buffer is full; wait for the writable event and retry.
     *
     * `max_buffered`, or the remote queue's cap.
     */
    WSKIT_ERR_WOULD_BLOCK = 401,
    /**
     * Internal error in wskit (a bug): an invariant did not hold.
     */
    WSKIT_ERR_INTERNAL = 900,
    /**
     * wskit panicked (a bug); the panic was caught at the C boundary.
     *
     * The context stays usable.
     */
    WSKIT_ERR_PANIC = 901,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum wskit_status wskit_status;
#else
typedef uint32_t wskit_status;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * The kind of an event (`wskit_event.kind`). Fields that a kind does not list are 0, false or
 * NULL.
 */
enum wskit_event_kind
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
    /**
     * A listener is accepting: `listener`, `code` = port, `data`/`len` = the bound address as
     * text (`"127.0.0.1:9001"`).
     */
    WSKIT_EVENT_LISTEN = 1,
    /**
     * A connection opened: `conn`, `conn_user_data`, `listener` (0 for clients), `subprotocol`
     * (NULL if none was negotiated), `path`, `query` (NULL without one), `peer`, and `headers`:
     * the request headers for server connections, the response headers for clients.
     */
    WSKIT_EVENT_OPEN = 2,
    /**
     * A whole message: `conn`, `conn_user_data`, `is_text`, `data`/`len` = payload (text is valid
     * UTF-8; payloads are not NUL-terminated in callbacks: use `len`).
     */
    WSKIT_EVENT_MESSAGE = 3,
    /**
     * A piece of a message (streaming mode): `conn`, `conn_user_data`, `is_text`, `first`,
     * `last`, `data`/`len`.
     */
    WSKIT_EVENT_FRAGMENT = 4,
    /**
     * A ping arrived: `conn`, `conn_user_data`, `data`/`len` = payload (at most 125 bytes; the
     * pong is already queued with auto-pong).
     */
    WSKIT_EVENT_PING = 5,
    /**
     * A pong arrived: `conn`, `conn_user_data`, `data`/`len` = payload.
     */
    WSKIT_EVENT_PONG = 6,
    /**
     * Sending may resume after `WSKIT_ERR_WOULD_BLOCK`: `conn`, `conn_user_data`.
     */
    WSKIT_EVENT_WRITABLE = 7,
    /**
     * The connection closed (clean, reset, timeout, abort, shutdown): `conn`, `conn_user_data`
     * (still the connection's user data, on every close path), `code` = close code (1006 when
     * dropped), `clean`, `data`/`len` = reason (any valid UTF-8, NUL bytes included: use `len`).
     * The id is invalid from now on; free what the user data owns here.
     */
    WSKIT_EVENT_CLOSE = 8,
    /**
     * Something failed: `conn` (0 if not tied to a connection), `conn_user_data`, `code` = the
     * `wskit_status`, `data`/`len` = an English description. For a connection a close event
     * follows unless the error was a refused send. Proxy failures (305-309) carry `headers`: a
     * pseudo-header `:status` (the proxy's HTTP status) or `:socks-reply` (the SOCKS5 reply
     * code), then the proxy's answer headers (`Proxy-Authenticate` for a 407).
     */
    WSKIT_EVENT_ERROR = 9,
    /**
     * Server: an upgrade request (after the Origin allowlist passed): `conn` (the id it will have),
     * `listener`, `path`, `query`, `peer`, `headers` (the request's), and in `subprotocol` the
     * default choice (the first subprotocol the client offered that the listener lists; NULL if
     * none). Decide with `wskit_conn_accept` / `wskit_conn_reject`.
     */
    WSKIT_EVENT_ACCEPT = 10,
    /**
     * Client: the server answered the upgrade with a status other than 101: `conn`,
     * `conn_user_data`, `code` = HTTP status, `headers` = response headers, `data`/`len` = the
     * response body. A close event (1006) follows.
     */
    WSKIT_EVENT_REJECTED = 11,
    /**
     * Server: a plain HTTP request (one that does not ask to upgrade): `conn` (answer with
     * `wskit_http_respond`, `wskit_http_begin`/`_write`/`_end` or `wskit_http_serve_static`, now or
     * in a later turn of the loop), `listener`, `subprotocol`/`subprotocol_len` = the method
     * (`"GET"`, `"POST"`, ...; this field, as the layout cannot grow), `path` (as sent, not
     * percent-decoded), `query`, `peer`, `headers`, `data`/`len` = the body (up to
     * `wskit_config_set_max_http_body`), `code` = 10 for HTTP/1.0, 11 for HTTP/1.1. Nothing more
     * is read from the connection until the answer ends. Delivered only with an HTTP_REQUEST
     * callback, or in queue mode with `WSKIT_QUEUE_HTTP_EVENTS`; otherwise requests get the
     * default answer (`wskit_http_serve_static`).
     */
    WSKIT_EVENT_HTTP_REQUEST = 12,
    /**
     * Client with reconnect on (`wskit_config_set_reconnect`): the connection dropped or an
     * attempt failed, and the next attempt is scheduled: `conn`, `conn_user_data`, `code` = the
     * attempt number (1-based, counted since the last stable connection), `listener` = its delay
     * in milliseconds (this field, as the layout cannot grow), `data`/`len` = why the last
     * connection or attempt ended. The id stays valid; OPEN follows when an attempt succeeds.
     */
    WSKIT_EVENT_RECONNECT = 13,
    /**
     * A message queued while a reconnecting connection was not open was dropped: `conn`,
     * `conn_user_data`, `is_text`, `data`/`len` = the payload, `code` = a
     * `wskit_undelivered_reason`. For the reasons EXHAUSTED and STOPPED the CLOSE event follows.
     */
    WSKIT_EVENT_UNDELIVERED = 14,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum wskit_event_kind wskit_event_kind;
#else
typedef uint32_t wskit_event_kind;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * What a `wskit_trace` describes.
 */
enum wskit_trace_kind
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
    /**
     * Bytes of the HTTP upgrade request or response (`data`/`len`; received bytes may include
     * the start of the first frames).
     */
    WSKIT_TRACE_HANDSHAKE = 1,
    /**
     * A frame header: `opcode`, `fin`, `rsv`, `payload_len`.
     */
    WSKIT_TRACE_FRAME = 2,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum wskit_trace_kind wskit_trace_kind;
#else
typedef uint32_t wskit_trace_kind;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Which way traced bytes went.
 */
enum wskit_trace_direction
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
    /**
     * From the peer.
     */
    WSKIT_TRACE_RECEIVED = 1,
    /**
     * To the peer.
     */
    WSKIT_TRACE_SENT = 2,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum wskit_trace_direction wskit_trace_direction;
#else
typedef uint32_t wskit_trace_direction;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Flags of `wskit_ctx_use_event_queue` (combine with `|`).
 */
enum wskit_queue_flag
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
    /**
     * Overflow policy (the default, 0): stop reading sockets while the queue holds `max_bytes`
     * or more; nothing is lost.
     */
    WSKIT_QUEUE_PAUSE = 0,
    /**
     * Overflow policy: a message, fragment, ping or pong that would take the queue past
     * `max_bytes` is dropped and its connection closed with 1013 (Try Again Later).
     */
    WSKIT_QUEUE_CLOSE = 1,
    /**
     * Deliver ACCEPT events: every upgrade request then waits for `wskit_conn_accept` /
     * `wskit_conn_reject` (or the handshake timeout).
     */
    WSKIT_QUEUE_ACCEPT_EVENTS = 2,
    /**
     * Deliver HTTP_REQUEST events: every plain HTTP request then waits for an answer
     * (`wskit_http_respond`, ..., `wskit_http_serve_static`). Without it they get the default
     * answer (the static directory, else a 4xx).
     */
    WSKIT_QUEUE_HTTP_EVENTS = 4,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum wskit_queue_flag wskit_queue_flag;
#else
typedef uint32_t wskit_queue_flag;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Why a queued message was not delivered: `code` of an UNDELIVERED event.
 */
enum wskit_undelivered_reason
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
    /**
     * The offline queue was full (`wskit_config_set_offline_queue_bytes`): the oldest queued
     * messages are dropped to make room for a new one (a message larger than the whole bound is
     * dropped itself).
     */
    WSKIT_UNDELIVERED_QUEUE_FULL = 1,
    /**
     * The attempts ran out (`wskit_config_set_reconnect_max_attempts`).
     */
    WSKIT_UNDELIVERED_EXHAUSTED = 2,
    /**
     * Reconnecting was stopped (close, abort, `wskit_conn_stop_reconnect`, shutdown, free).
     */
    WSKIT_UNDELIVERED_STOPPED = 3,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum wskit_undelivered_reason wskit_undelivered_reason;
#else
typedef uint32_t wskit_undelivered_reason;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * Options for `wskit_ctx_listen` and `wskit_ctx_connect`: limits, timers, and handshake settings.
 * Opaque: new options are added as new setters, never by changing a struct layout.
 *
 * A config is copied when it is used, so one config can serve many calls and may be freed (or
 * changed) right after. Settings that do not apply to a role are ignored by it (e.g. the backlog
 * for a client). Not thread-safe: use a config from one thread at a time.
 *
 * String arguments are a pointer and a length (`WSKIT_NTS`: NUL-terminated), and are copied.
 *
 * Methods: `wskit_config_new`, `wskit_config_free`, `wskit_config_set_*`, `wskit_config_add_*`,
 * `wskit_config_keep_*`.
 */
typedef struct wskit_config wskit_config;

/**
 * An event loop with its listeners, connections, timers and callbacks (or event queue).
 *
 * Threads: loop thread only. Every function taking a `wskit_ctx *` must be called from the one
 * thread that drives the context (it may change between calls if the host synchronises), except
 * through a `wskit_remote` handle, which any thread may use.
 *
 * Events reach the application one of two ways, chosen per context: callbacks
 * (`wskit_ctx_on_<kind>`), run inside `wskit_ctx_poll`; or an event queue
 * (`wskit_ctx_use_event_queue`) that `wskit_ctx_poll` fills and `wskit_ctx_next_event` drains.
 * Both carry the same `wskit_event`.
 *
 * Methods: `wskit_ctx_*`; per-connection calls are `wskit_conn_*(ctx, conn, ...)`;
 * `wskit_remote_new(ctx, &remote)` makes a handle for other threads.
 */
typedef struct wskit_ctx wskit_ctx;

/**
 * A thread-safe handle to a context: any thread may use it, concurrently. Calls copy their data,
 * queue it for the loop thread and wake it; the loop performs the work during its next poll, in
 * the order each thread issued it. Errors only the loop can detect (the connection closed
 * meanwhile, a bad close code) are reported to the context's error event with the connection id.
 *
 * A remote stays valid after its context is freed: its calls then return
 * `WSKIT_ERR_INVALID_STATE` and do nothing. Free it with `wskit_remote_free` (from any thread,
 * once no other thread uses it).
 *
 * Methods: `wskit_remote_new`, `wskit_remote_send_text`, `wskit_remote_send_binary`,
 * `wskit_remote_ping`, `wskit_remote_close`, `wskit_remote_pause_reading`,
 * `wskit_remote_resume_reading`, `wskit_remote_http_respond`, `wskit_remote_http_begin`,
 * `wskit_remote_http_write`, `wskit_remote_http_end`, `wskit_remote_wake`, `wskit_remote_free`.
 */
typedef struct wskit_remote wskit_remote;

/**
 * A header: name and value, each a pointer and a length, each also NUL-terminated after its
 * length when wskit hands it out. Used in both directions (events; accept and reject).
 */
typedef struct {
    /**
     * The header name (case as received or given).
     */
    const char *name;
    /**
     * Length of `name` in bytes.
     */
    size_t name_len;
    /**
     * The value (trimmed when received).
     */
    const char *value;
    /**
     * Length of `value` in bytes.
     */
    size_t value_len;
} wskit_header;

/**
 * One event, delivered to a callback (`wskit_ctx_on_<kind>`) or taken from the queue
 * (`wskit_ctx_next_event`). Which fields are set depends on `kind` (see `wskit_event_kind`);
 * the others are 0, false or NULL. Every string field is a pointer and a length, and is also
 * NUL-terminated after its length; `data` is NUL-terminated too except for MESSAGE, FRAGMENT,
 * PING and PONG payloads delivered to callbacks.
 *
 * Lifetime: the event and everything it points to is valid until the callback returns
 * (callbacks), or until the next `wskit_ctx_next_event`, `wskit_ctx_poll`,
 * `wskit_ctx_shutdown` or `wskit_ctx_free` on the context (queue).
 *
 * The layout is part of the ABI: it changes only with a new SONAME.
 */
typedef struct {
    /**
     * What happened.
     */
    wskit_event_kind kind;
    /**
     * Listener id (LISTEN; ACCEPT and OPEN of server connections), else 0.
     */
    uint32_t listener;
    /**
     * Connection id, or 0.
     */
    uint64_t conn;
    /**
     * The connection's user data (`wskit_conn_set_user_data`) on every per-connection event, or
     * NULL.
     */
    void *conn_user_data;
    /**
     * Close code (CLOSE), status (ERROR), HTTP status (REJECTED), port (LISTEN), else 0.
     */
    uint32_t code;
    /**
     * The message or fragment is text.
     */
    bool is_text;
    /**
     * FRAGMENT: the first piece of its message.
     */
    bool first;
    /**
     * FRAGMENT: the last piece of its message.
     */
    bool last;
    /**
     * CLOSE: the closing handshake completed.
     */
    bool clean;
    /**
     * Payload, close reason, error text, response body or bound address.
     */
    const uint8_t *data;
    /**
     * Length of `data` in bytes (without a NUL).
     */
    size_t len;
    /**
     * ACCEPT: the default subprotocol; OPEN: the negotiated one. NULL when none.
     */
    const char *subprotocol;
    /**
     * Length of `subprotocol`.
     */
    size_t subprotocol_len;
    /**
     * ACCEPT, OPEN: the request path (starts with `/`, no query; the URL's path for clients).
     */
    const char *path;
    /**
     * Length of `path`.
     */
    size_t path_len;
    /**
     * ACCEPT, OPEN: the query without `?`; NULL when the target has none.
     */
    const char *query;
    /**
     * Length of `query`.
     */
    size_t query_len;
    /**
     * ACCEPT, OPEN: the peer's address as `"ip:port"` (`""` if unknown).
     */
    const char *peer;
    /**
     * Length of `peer`.
     */
    size_t peer_len;
    /**
     * ACCEPT, OPEN: request headers (server) or response headers (client); REJECTED: response
     * headers. An array of `header_count` headers.
     */
    const wskit_header *headers;
    /**
     * Number of `headers`.
     */
    size_t header_count;
} wskit_event;

/**
 * The one callback signature: every `wskit_ctx_on_<kind>` takes one. Runs on the loop thread
 * inside `wskit_ctx_poll` (or `wskit_ctx_shutdown`); `event` and what it points to are valid
 * until it returns.
 */
typedef void (*wskit_event_fn)(void *user_data, wskit_ctx *ctx, const wskit_event *event);

/**
 * What `wskit_ctx_queue_stats` reports.
 */
typedef struct {
    /**
     * Events queued now.
     */
    size_t events;
    /**
     * Bytes queued now (data, strings and headers of the queued events).
     */
    size_t bytes;
    /**
     * The most bytes the queue has held.
     */
    size_t peak_bytes;
    /**
     * How many times the bound was hit: with `WSKIT_QUEUE_PAUSE` each time reading paused,
     * with `WSKIT_QUEUE_CLOSE` each dropped event.
     */
    uint64_t overflows;
} wskit_queue_stats;

/**
 * What `wskit_ctx_stats` reports. New fields are only ever appended.
 */
typedef struct {
    /**
     * Connection slots in use (any state: handshake, open, closing).
     */
    size_t connections;
    /**
     * Listening sockets.
     */
    size_t listeners;
    /**
     * Timer entries, live and stale (0 once no connection is left).
     */
    size_t timer_entries;
    /**
     * Drained send buffers kept for reuse (at most 64; 0 once no connection is left).
     */
    size_t pooled_buffers;
    /**
     * Their capacity in bytes.
     */
    size_t pooled_bytes;
    /**
     * Connections whose reading paused in the middle of a read, with the rest of it held.
     */
    size_t held_inputs;
    /**
     * Bytes held for them (at most one read buffer each).
     */
    size_t held_bytes;
    /**
     * Events waiting for delivery at the next `wskit_ctx_poll`.
     */
    size_t pending_events;
    /**
     * Listeners backing off after `accept` ran out of file descriptors.
     */
    size_t accept_backoffs;
} wskit_stats;

/**
 * One message of `wskit_ctx_send_batch`.
 */
typedef struct {
    /**
     * The connection to send it on.
     */
    uint64_t conn;
    /**
     * The payload: `len` bytes (may be NULL when `len` is 0); text must be valid UTF-8.
     */
    const uint8_t *data;
    /**
     * Length of `data` in bytes.
     */
    size_t len;
    /**
     * Text (true) or binary (false).
     */
    bool is_text;
} wskit_send;

/**
 * The permessage-deflate parameters a connection's handshake agreed on
 * (`wskit_conn_deflate_params`). "Server" and "client" name the two directions, as in RFC 7692:
 * `server_*` applies to what the server sends, `client_*` to what the client sends.
 */
typedef struct {
    /**
     * Whether permessage-deflate was negotiated at all. When false the other fields are 0.
     */
    bool negotiated;
    /**
     * The server resets its compressor after every message.
     */
    bool server_no_context_takeover;
    /**
     * The client resets its compressor after every message.
     */
    bool client_no_context_takeover;
    /**
     * LZ77 window of the server's compressor, 8 to 15 bits.
     */
    uint8_t server_max_window_bits;
    /**
     * LZ77 window of the client's compressor, 8 to 15 bits.
     */
    uint8_t client_max_window_bits;
} wskit_deflate_params;

/**
 * One traced item, valid only during the tracer call.
 */
typedef struct {
    /**
     * The connection.
     */
    uint64_t conn;
    /**
     * Handshake bytes or a frame header.
     */
    wskit_trace_kind kind;
    /**
     * Received or sent.
     */
    wskit_trace_direction direction;
    /**
     * FRAME: the opcode (0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong).
     */
    uint8_t opcode;
    /**
     * FRAME: the FIN bit.
     */
    bool fin;
    /**
     * FRAME: RSV1-3 (RSV1 = 0b100).
     */
    uint8_t rsv;
    /**
     * FRAME: the payload length.
     */
    uint64_t payload_len;
    /**
     * HANDSHAKE: the bytes (not NUL-terminated: use `len`); FRAME: NULL.
     */
    const uint8_t *data;
    /**
     * Length of `data`.
     */
    size_t len;
} wskit_trace;

/**
 * The tracer callback: `user_data` as given to `wskit_ctx_set_tracer`, and the item.
 */
typedef void (*wskit_trace_fn)(void *user_data, const wskit_trace *trace);

/**
 * What `wskit_conn_reconnect_state` reports.
 */
typedef struct {
    /**
     * Attempts since the last connection that stayed up for the stable time (0 while a stable
     * connection is open).
     */
    uint32_t attempt;
    /**
     * A retry is pending: the connection waits, without a socket.
     */
    bool waiting;
    /**
     * Messages in the offline queue.
     */
    size_t queued_messages;
    /**
     * Their payload bytes.
     */
    size_t queued_bytes;
} wskit_reconnect_state;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * A static, NUL-terminated English sentence describing `status` (`"unknown status"` for a
 * number that is not a status). A pure lookup: cannot fail, never NULL, never freed. Any
 * thread.
 */
const char *wskit_status_message(uint32_t status);

/**
 * The name of `status` as a static, NUL-terminated string, e.g. `"WSKIT_ERR_NOT_FOUND"`
 * (`"WSKIT_UNKNOWN"` for a number that is not a status). A pure lookup: cannot fail, never
 * NULL, never freed. Any thread.
 */
const char *wskit_status_name(uint32_t status);

/**
 * Details of the most recent failed wskit call on the calling thread: the text of the
 * underlying error (e.g. "I/O error: Address already in use (os error 98)"), or `""` if no
 * wskit call on this thread has failed yet. A pure lookup: cannot fail, never NULL.
 *
 * Lifetime: the text is replaced only when a later wskit call on the same thread fails (returns
 * a status of 100 or more). Successful calls and results that are not errors
 * (`WSKIT_QUEUE_EMPTY`) leave it, and the pointer, as they are; so the pointer stays valid
 * until the next failing call on this thread (or the thread's exit). Copy it to keep it
 * longer. Each thread has its own; any thread.
 */
const char *wskit_error_last(void);

/**
 * The version of the loaded library as `major << 16 | minor << 8 | patch` (Cargo.toml's
 * version). Compare with `WSKIT_VERSION` from the header to detect a header/library mismatch.
 * Any thread.
 */
uint32_t wskit_version_number(void);

/**
 * The version of the loaded library as a static, NUL-terminated string, e.g. `"0.2.0"`.
 * Never NULL; never freed. Any thread.
 */
const char *wskit_version_string(void);

/**
 * Creates a config with the library's safe defaults (16 MiB messages and frames, 16 MiB send
 * buffer, 64 KiB low-water mark, 10 s handshake and 5 s close timeouts, no pings, auto-pong on,
 * backlog 1024, 65,536 connections per listener, any Origin, 16 KiB / 64 request headers).
 * On `WSKIT_OK`, `*out` owns a new config; free it with `wskit_config_free`. Any thread.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
 */
wskit_status wskit_config_new(wskit_config **out);

/**
 * Frees a config. NULL is a no-op. Contexts do not keep a pointer to it (they copy it), so it
 * may be freed at any time after use. Must not be called twice on the same pointer.
 *
 * Returns `WSKIT_OK`.
 */
wskit_status wskit_config_free(wskit_config *config);

/**
 * Largest message accepted, in bytes (> 0); a larger one fails the connection with 1009.
 * Default 16 MiB.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_max_message_size(wskit_config *config, uint64_t value);

/**
 * Largest frame payload accepted, in bytes (> 0). Default 16 MiB.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_max_frame_size(wskit_config *config, uint64_t value);

/**
 * Most frames one received data message may span (its first frame and continuations); the
 * frame past the cap fails the connection with 1009. 0 and 1 both refuse fragmented
 * messages. Default 131,072 (twice the 65,536 of Autobahn's 9.3.1, 4 MiB in 64-byte frames).
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
 */
wskit_status wskit_config_set_max_fragments(wskit_config *config, uint32_t value);

/**
 * Cap on bytes queued for sending per connection (> 0); a send past it returns
 * `WSKIT_ERR_WOULD_BLOCK` (a message is always accepted when nothing is queued). Default 16 MiB.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_max_buffered(wskit_config *config, size_t value);

/**
 * Receive-side flow control: once a message send takes a connection's queue to `value` bytes
 * or more (a message sent onto an empty queue never pauses, the next one does), the context
 * stops reading that connection and delivering its events until the queue drains to the
 * low-water mark (`wskit_config_set_low_water_mark`); TCP then pushes back on the peer.
 * Events of data already read are held and delivered first on resuming, so a callback that
 * answers each message with one send keeps the queue under `value` plus one message (two
 * when one alone is larger than `value`), and sees `WSKIT_ERR_WOULD_BLOCK` only for a message
 * larger than `max_buffered` minus `value`. 0 turns it off. Default: 1 MiB for listeners, off
 * for client connections (a client usually produces what it sends: pausing its reads on its
 * own queue would stall a client that pipelines requests against an echoing server, both
 * ends waiting for the other to read). In queue mode the pause applies from the send on:
 * events already queued stay queued. Loop thread or before use, like every config setter.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
 */
wskit_status wskit_config_set_read_pause_high_water(wskit_config *config, size_t value);

/**
 * When the send queue drains to this many bytes after a `WSKIT_ERR_WOULD_BLOCK`, the writable
 * event fires; a connection paused by flow control resumes reading at the same mark. Default 64 KiB.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_low_water_mark(wskit_config *config,
                                             size_t value);

/**
 * Time allowed from TCP accept/connect (including name resolution for clients) to the end of
 * the opening handshake, in milliseconds (> 0). Default 10,000.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_handshake_timeout_ms(wskit_config *config, uint32_t value);

/**
 * Time allowed for the closing handshake before the TCP connection is dropped, in
 * milliseconds (> 0). Default 5,000.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_close_timeout_ms(wskit_config *config, uint32_t value);

/**
 * Send a ping after this many milliseconds of silence from the peer; 0 turns pings off
 * (the default).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_ping_interval_ms(wskit_config *config, uint32_t value);

/**
 * Close an open connection whose peer sent no whole data message for this many
 * milliseconds: an ERROR event (`WSKIT_ERR_TIMEOUT`), then this end starts the closing
 * handshake with 1001 ("idle timeout"; the close timeout bounds the wait for the answer).
 * Only a text or binary message received whole (streaming: its last fragment) counts as
 * activity: pings, pongs, parts of frames or of fragmented messages and this end's sends do
 * not, so a peer that trickles a frame header byte by byte, or only pings, is closed. While
 * reading is paused (flow control) the clock restarts. 0 turns it off (the default).
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
 */
wskit_status wskit_config_set_idle_timeout_ms(wskit_config *config, uint32_t value);

/**
 * With a ping interval: drop the connection (close code 1006) when nothing arrives this many
 * milliseconds after a ping (> 0). Default 20,000.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_pong_timeout_ms(wskit_config *config, uint32_t value);

/**
 * Streaming mode: deliver data as fragment events as it arrives instead of whole messages
 * (nothing is buffered for reassembly). Default false.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_streaming(wskit_config *config, bool value);

/**
 * Answer every ping with a pong automatically. Default true; turn off only to answer pings
 * yourself with `wskit_conn_pong`.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_auto_pong(wskit_config *config, bool value);

/**
 * Listeners: length of the kernel's accept queue (> 0). Default 1024.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_backlog(wskit_config *config, int32_t value);

/**
 * Listeners: set SO_REUSEPORT so several processes can listen on one port. Default false.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_reuse_port(wskit_config *config, bool value);

/**
 * Listeners: most connections held at once (> 0); more are answered with HTTP 503.
 * Default 65,536.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_max_connections(wskit_config *config, size_t value);

/**
 * Listeners: maximum size of the upgrade request's header block in bytes (> 0); larger
 * requests get HTTP 431. Default 16,384.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_max_request_header_bytes(wskit_config *config, size_t value);

/**
 * Listeners: maximum number of request headers (> 0); more get HTTP 431. Default 64.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_max_request_headers(wskit_config *config, size_t value);

/**
 * Listeners: adds an Origin to the allowlist (compared case-insensitively, e.g.
 * `"https://example.com"`). With a non-empty list, requests carrying another Origin get HTTP
 * 403 before the accept callback runs; requests without Origin are accepted. The string is
 * copied.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or `WSKIT_ERR_INVALID_ARG`
 * (empty).
 */
wskit_status wskit_config_add_allowed_origin(wskit_config *config,
                                             const char *origin,
                                             size_t origin_len);

/**
 * Adds a subprotocol (an RFC 7230 token such as `"chat.v1"`), in order of preference.
 * Clients offer the list in `Sec-WebSocket-Protocol`. Listeners use it as the server's
 * supported list: by default the first subprotocol the client offers that is in the list is
 * selected (an accept callback may choose otherwise). The string is copied.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or `WSKIT_ERR_INVALID_ARG`
 * (not a token).
 */
wskit_status wskit_config_add_subprotocol(wskit_config *config, const char *name, size_t name_len);

/**
 * Clients: adds a request header to the opening handshake (e.g. `Authorization`). Headers the
 * handshake sets itself (Host, Upgrade, Sec-WebSocket-*) are refused by `wskit_ctx_connect`
 * with `WSKIT_ERR_INVALID_ARG`. Both strings are copied.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or `WSKIT_ERR_INVALID_ARG`
 * (name not a token, or CR/LF in the value).
 */
wskit_status wskit_config_add_header(wskit_config *config,
                                     const char *name,
                                     size_t name_len,
                                     const char *value,
                                     size_t value_len);

/**
 * Listeners: serve the files under the directory `path` (`path_len` bytes or `WSKIT_NTS`;
 * copied) to plain HTTP GET/HEAD requests that no HTTP_REQUEST callback answers (and to
 * `wskit_http_serve_static`). Paths are resolved safely (no `..`, no symlinks out of the
 * directory); `index.html` serves a directory; files are streamed from disk. Upgrades on the
 * same listener work as without it. The directory must exist when `wskit_ctx_listen` runs
 * (else it returns `WSKIT_ERR_INVALID_ARG`). An empty path removes the setting.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_UTF8`.
 */
wskit_status wskit_config_set_static_dir(wskit_config *config, const char *path, size_t path_len);

/**
 * Listeners: the largest body of a plain HTTP request (`Content-Length` or chunked); larger
 * ones get 413 and the connection closes. Default 1 MiB (1048576). The head is bounded by
 * `wskit_config_set_max_request_header_bytes` (431).
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
 */
wskit_status wskit_config_set_max_http_body(wskit_config *config, size_t value);

/**
 * Listeners: how long an HTTP keep-alive connection may wait for (and take to send) its next
 * request after a response, in milliseconds (> 0); it is closed then. Default 15,000.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_ARG` (0).
 */
wskit_status wskit_config_set_http_keep_alive_ms(wskit_config *config, uint32_t value);

/**
 * Clients: the `Origin` header to send (replaces an earlier one). The string is copied.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or `WSKIT_ERR_INVALID_ARG`
 * (CR/LF or empty).
 */
wskit_status wskit_config_set_origin(wskit_config *config, const char *origin, size_t origin_len);

/**
 * Serve wss:// on listeners created with this config: loads a PEM certificate chain (leaf
 * first) and a PEM private key (PKCS#8, RSA or EC) now. ALPN `http/1.1` is offered.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` (paths), or `WSKIT_ERR_TLS`
 * with the reason in `wskit_error_last()` (unreadable file, bad PEM, key not matching).
 */
wskit_status wskit_config_set_tls_cert_files(wskit_config *config,
                                             const char *cert_chain_path,
                                             size_t cert_chain_path_len,
                                             const char *private_key_path,
                                             size_t private_key_path_len);

/**
 * Like `wskit_config_set_tls_cert_files`, from PEM data in memory (copied).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_TLS` (see `wskit_error_last()`).
 */
wskit_status wskit_config_set_tls_cert_pem(wskit_config *config,
                                           const uint8_t *cert_chain_pem,
                                           size_t cert_chain_len,
                                           const uint8_t *private_key_pem,
                                           size_t private_key_len);

/**
 * wss:// clients created with this config trust only the CA certificates in this PEM file
 * (instead of the system trust store, the default). Loaded now.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or `WSKIT_ERR_TLS`.
 */
wskit_status wskit_config_set_tls_ca_file(wskit_config *config,
                                          const char *ca_path,
                                          size_t ca_path_len);

/**
 * Like `wskit_config_set_tls_ca_file`, from PEM data in memory (copied).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_TLS`.
 */
wskit_status wskit_config_set_tls_ca_pem(wskit_config *config,
                                         const uint8_t *ca_pem,
                                         size_t ca_len);

/**
 * DANGER: wss:// clients created with this config accept ANY server certificate for ANY host
 * name, so anyone on the network path can read and change the traffic. For local testing with
 * self-signed certificates only; never in production. `enable` 0 restores verification against
 * the system trust store.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
 */
wskit_status wskit_config_dangerous_skip_tls_verification(wskit_config *config, bool enable);

/**
 * Listeners: keep each connection's request path and query after the handshake, for
 * `wskit_conn_path` and `wskit_conn_query` (default false: an idle connection costs nothing for
 * them; asking then returns `WSKIT_ERR_UNAVAILABLE`). During the ACCEPT and OPEN events they
 * are in the event regardless. Client connections always know theirs (from the URL).
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
 */
wskit_status wskit_config_keep_request(wskit_config *config, bool keep);

/**
 * Listeners: keep the request header `name` (`name_len` bytes or `WSKIT_NTS`; compared
 * case-insensitively) after the handshake, for `wskit_conn_header` and friends; `"*"` keeps
 * every header. Call once per name. Headers not kept return `WSKIT_ERR_UNAVAILABLE` later
 * (default: none kept). Clients keep every response header without asking.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or
 * `WSKIT_ERR_INVALID_ARG` (not a header name).
 */
wskit_status wskit_config_keep_header(wskit_config *config, const char *name, size_t name_len);

/**
 * Creates an event loop (an epoll instance, a waker and a 256 KiB read buffer). On `WSKIT_OK`,
 * `*out` owns the context; free it with `wskit_ctx_free`. The thread that calls it need not be
 * the loop thread; the context may be handed to another thread before first use.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_IO` (out of file descriptors).
 */
wskit_status wskit_ctx_new(wskit_ctx **out);

/**
 * Frees a context and everything it owns. In callback mode, every connection still there is
 * dropped first with a CLOSE event (1006, not clean) carrying its `conn_user_data`, so what
 * the user data owns can be freed in the close callback; no other event is delivered. Sockets
 * are closed without waiting for a closing handshake (call `wskit_ctx_shutdown` first for a
 * graceful end). Queued events and the strings handed out are freed. In queue mode no event
 * is delivered any more: to free what user data owns, call `wskit_ctx_shutdown` and drain the
 * queue (its CLOSE events carry `conn_user_data`) before freeing. Remote handles stay valid
 * (their calls then return `WSKIT_ERR_INVALID_STATE`).
 *
 * NULL is a no-op returning `WSKIT_OK`. Loop thread only. Calling it from inside a callback of
 * the same context is refused with `WSKIT_ERR_REENTRANT` and frees nothing (free it after
 * `wskit_ctx_poll` returns). The context is freed whatever the status, except for
 * `WSKIT_ERR_REENTRANT` and `WSKIT_ERR_NULL_ARG`; the pointer must not be used after.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_REENTRANT` or `WSKIT_ERR_PANIC` (a close callback's wskit
 * code panicked; the context was freed anyway).
 */
wskit_status wskit_ctx_free(wskit_ctx *ctx);

/**
 * Performs ready I/O, fires due timers and delivers events (runs callbacks, or fills the
 * event queue), waiting up to `timeout_ms` milliseconds for something to happen: -1 blocks
 * until something happens, 0 never blocks (call it once per frame). Everything sent during the
 * call is written before it returns. In queue mode the data pointer of the last event taken
 * with `wskit_ctx_next_event` becomes invalid.
 *
 * `out_events` is optional (may be NULL); on `WSKIT_OK` it receives the number of events
 * delivered or queued. Loop thread only; not from inside a callback of this context.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx), `WSKIT_ERR_INVALID_ARG` (timeout below -1),
 * `WSKIT_ERR_REENTRANT` or `WSKIT_ERR_IO` (the poll itself failed).
 */
wskit_status wskit_ctx_poll(wskit_ctx *ctx, int timeout_ms, int *out_events);

/**
 * The file descriptor of the context's epoll instance: it becomes readable when
 * `wskit_ctx_poll` has work, so hosts with their own select/poll/epoll loop can wait on it and
 * call `wskit_ctx_poll(ctx, 0, ...)` when it is readable (and after `wskit_ctx_next_timeout_ms`).
 * Owned by the context: do not close it. Loop thread only; may be called from a callback.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
 */
wskit_status wskit_ctx_fd(const wskit_ctx *ctx, int *out_fd);

/**
 * How long the host may sleep before `wskit_ctx_poll` has timer work, in milliseconds
 * (rounded up): -1 when no timer is set, 0 when work is pending now. Loop thread only; may be
 * called from a callback.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
 */
wskit_status wskit_ctx_next_timeout_ms(const wskit_ctx *ctx, int *out_ms);

/**
 * Writes what sends made outside `wskit_ctx_poll` queued, as far as the sockets take it (the
 * rest is written by the next poll). Events this causes are delivered at the next poll. Loop
 * thread only; may be called from a callback.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
 */
wskit_status wskit_ctx_flush(wskit_ctx *ctx);

/**
 * Graceful shutdown, blocking up to `timeout_ms`: stops every listener, closes every open
 * connection with 1001 and polls (running callbacks / queueing events) until all are closed
 * or the time is up; what is left is dropped (close events with 1006). The context stays
 * usable (new listeners and connections may be made). Calling it again is harmless. Loop
 * thread only; not from inside a callback (use `wskit_ctx_begin_shutdown` there).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_REENTRANT` or `WSKIT_ERR_IO`.
 */
wskit_status wskit_ctx_shutdown(wskit_ctx *ctx, uint32_t timeout_ms);

/**
 * Starts a graceful shutdown without blocking: stops every listener and closes every open
 * connection with 1001 (connections still in their handshake are dropped). Keep polling until
 * `wskit_ctx_connection_count` reports 0 (the close timeout bounds it). Loop thread only; may
 * be called from a callback.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
 */
wskit_status wskit_ctx_begin_shutdown(wskit_ctx *ctx);

/**
 * The number of connections in any state (handshaking, open, closing). Loop thread only; may
 * be called from a callback.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
 */
wskit_status wskit_ctx_connection_count(const wskit_ctx *ctx, size_t *out_count);

/**
 * Starts listening on `addr` (`addr_len` bytes, or `WSKIT_NTS`): a numeric address
 * (`"127.0.0.1:9001"`, `"[::1]:0"`, `"0.0.0.0:0"`) or `"localhost:PORT"` (127.0.0.1). Names
 * are never resolved (no DNS lookup blocks the loop thread). Port 0 picks a free port, see
 * `wskit_ctx_local_port`. `config` may be NULL (defaults); it is copied. The LISTEN event
 * follows at the next poll. On `WSKIT_OK`, `*out_listener` receives the listener id (never 0).
 * Loop thread only; may be called from a callback.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx, addr, out_listener),
 * `WSKIT_ERR_INVALID_UTF8`, `WSKIT_ERR_INVALID_ARG` (not a numeric address) or `WSKIT_ERR_IO`
 * (e.g. the port is in use).
 */
wskit_status wskit_ctx_listen(wskit_ctx *ctx,
                              const char *addr,
                              size_t addr_len,
                              const wskit_config *config,
                              uint32_t *out_listener);

/**
 * The port a listener is bound to (useful after listening on port 0). Loop thread only; may be
 * called from a callback.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND` (unknown or closed
 * listener).
 */
wskit_status wskit_ctx_local_port(const wskit_ctx *ctx, uint32_t listener, uint16_t *out_port);

/**
 * Stops accepting on a listener and closes its socket; its connections stay open. The id is
 * invalid afterwards. Loop thread only; may be called from a callback.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND` (unknown or already closed).
 */
wskit_status wskit_ctx_close_listener(wskit_ctx *ctx, uint32_t listener);

/**
 * Opens a client connection to a `ws://` or `wss://host[:port][/path][?query]` URL, or
 * `ws+unix:///path/to.sock:/request/path` over a Unix socket (see `wskit_ctx_connect_unix`)
 * (`url_len` bytes, or `WSKIT_NTS`; wss://
 * verifies the server against the system trust store unless the config sets a CA or skips
 * verification; a refused certificate is an error event with `WSKIT_ERR_TLS`). Returns at once: name
 * resolution runs on a helper thread, connect and handshake are non-blocking. The open event,
 * or an error event then a close event (1006), follows. `config` may be NULL (defaults); it is
 * copied. On `WSKIT_OK`, `*out_conn` receives the connection id (never 0). Loop thread only;
 * may be called from a callback.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx, url, out_conn), `WSKIT_ERR_INVALID_UTF8`,
 * `WSKIT_ERR_INVALID_ARG` (bad URL, a reserved header in the config) or
 * `WSKIT_ERR_IO`.
 */
wskit_status wskit_ctx_connect(wskit_ctx *ctx,
                               const char *url,
                               size_t url_len,
                               const wskit_config *config,
                               uint64_t *out_conn);

/**
 * Sets (or, with `cb` NULL, removes) the callback of LISTEN events (a listener is accepting).
 * `user_data` is passed back as is. Switches the context to callback mode. Loop thread only;
 * may be called from a callback.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx) or `WSKIT_ERR_INVALID_STATE` (the context
 * uses the event queue).
 */
wskit_status wskit_ctx_on_listen(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Sets (or removes) the callback of ACCEPT events (an upgrade request). The callback may
 * decide at once with `wskit_conn_accept` / `wskit_conn_reject` on `event->conn`; if it
 * returns without deciding, the request is accepted with the default subprotocol
 * (`event->subprotocol`), unless it called `wskit_conn_defer_accept`. Without an accept
 * callback every request that passes the Origin allowlist is accepted that way. Same rules and
 * statuses as `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_accept(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Sets (or removes) the callback of HTTP_REQUEST events (a plain HTTP request on a
 * listener). The callback answers with `wskit_http_respond` (or `_begin`/`_write`/`_end`, or
 * `wskit_http_serve_static` for the default), at once or in a later turn of the loop (also
 * from other threads with `wskit_remote_http_*`); a request never answered holds its
 * connection. Without this callback requests get the default answer. Same rules and statuses
 * as `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_http_request(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Sets (or removes) the callback of OPEN events. Every connection reported open later gets
 * exactly one close event. Same rules and statuses as `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_open(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Sets (or removes) the callback of MESSAGE events. Same rules and statuses as
 * `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_message(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Sets (or removes) the callback of FRAGMENT events (streaming mode). Same rules and statuses
 * as `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_fragment(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Sets (or removes) the callback of PING events. Same rules and statuses as
 * `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_ping(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Sets (or removes) the callback of PONG events. Same rules and statuses as
 * `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_pong(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Sets (or removes) the callback of WRITABLE events. Same rules and statuses as
 * `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_writable(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Sets (or removes) the callback of CLOSE events. Same rules and statuses as
 * `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_close(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Sets (or removes) the callback of ERROR events. Same rules and statuses as
 * `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_error(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Sets (or removes) the callback of REJECTED events (a client's handshake answered with a
 * status other than 101). Same rules and statuses as `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_rejected(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Accepts the upgrade request of `conn` (the `conn` of an ACCEPT event), selecting
 * `subprotocol` (`subprotocol_len` bytes or `WSKIT_NTS`; NULL with length 0 for none; it must
 * be one the client offered) and adding `header_count` response headers (e.g. `Set-Cookie`;
 * `headers` may be NULL when the count is 0). Everything is copied. Loop thread only: from the
 * ACCEPT callback (the answer is applied when it returns), or later for a deferred or queued
 * request (the OPEN event follows at the next poll).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8`,
 * `WSKIT_ERR_INVALID_ARG` (a reserved header such as `Sec-WebSocket-Accept`, a malformed
 * header, an unoffered subprotocol: checked at once, and the request stays pending),
 * `WSKIT_ERR_INVALID_STATE` (no request of this connection is waiting: already decided or
 * open) or `WSKIT_ERR_NOT_FOUND` (unknown id, or the request timed out or was dropped).
 */
wskit_status wskit_conn_accept(wskit_ctx *ctx,
                               uint64_t conn,
                               const char *subprotocol,
                               size_t subprotocol_len,
                               const wskit_header *headers,
                               size_t header_count);

/**
 * Rejects the upgrade request of `conn` with HTTP `status` (200-599; 204 and 304 without a
 * body), `header_count` extra response headers and a body of `body_len` bytes (`WSKIT_NTS`:
 * NUL-terminated; NULL with length 0 for none). Everything is copied. The connection is closed
 * once the response is written; a CLOSE event (1006) follows only if its user data was set.
 * Loop thread only; from the ACCEPT callback, or later for a deferred or queued request.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` (headers),
 * `WSKIT_ERR_INVALID_ARG` (status, a reserved header such as `Content-Length`, a malformed
 * header: checked at once, and the request stays pending), `WSKIT_ERR_INVALID_STATE` or
 * `WSKIT_ERR_NOT_FOUND` (as `wskit_conn_accept`).
 */
wskit_status wskit_conn_reject(wskit_ctx *ctx,
                               uint64_t conn,
                               uint16_t status,
                               const wskit_header *headers,
                               size_t header_count,
                               const char *body,
                               size_t body_len);

/**
 * From the ACCEPT callback of `conn`: leaves its request pending when the callback returns
 * without an answer, for `wskit_conn_accept` / `wskit_conn_reject` in a later turn of the
 * loop (e.g. after a worker thread checked a token and woke the loop with
 * `wskit_remote_wake`). Nothing is read from the connection meanwhile; the handshake timeout
 * still applies (a CLOSE event follows only if its user data was set). An answer given in the
 * same callback wins. Loop thread only.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (not called from the
 * ACCEPT callback of `conn`).
 */
wskit_status wskit_conn_defer_accept(wskit_ctx *ctx, uint64_t conn);

/**
 * Switches the context to queue mode: `wskit_ctx_poll` stores events in a queue instead of
 * calling callbacks, and `wskit_ctx_next_event` takes them one by one. A context uses either
 * callbacks or the queue, for its whole life. Calling it again changes the bound and flags.
 *
 * `max_bytes` (> 0) bounds the bytes of queued events: their data, strings and headers.
 * `flags` is a `wskit_queue_flag` combination: the overflow policy, `WSKIT_QUEUE_PAUSE` (0,
 * the default) or `WSKIT_QUEUE_CLOSE`, `WSKIT_QUEUE_ACCEPT_EVENTS` and
 * `WSKIT_QUEUE_HTTP_EVENTS`.
 *
 * The bound, exactly: with `WSKIT_QUEUE_PAUSE`, `wskit_ctx_poll` reads a socket only while
 * the queue holds fewer than `max_bytes` bytes, and one read takes at most 256 KiB (the
 * context's read buffer). The events of one read carry at most those bytes plus one message
 * reassembled from earlier reads (at most the connection's max message size). So message,
 * fragment, ping and pong events never take the queue past
 * `max_bytes + 256 KiB + max_message_size` bytes (`peak_bytes` in `wskit_ctx_queue_stats`).
 * Lifecycle events (listen, accept, open, close, error, writable, rejected) are always queued
 * and come on top: at most one open, one close and one rejected per connection. With
 * `WSKIT_QUEUE_CLOSE` data events never take the queue past `max_bytes`.
 *
 * Without `WSKIT_QUEUE_ACCEPT_EVENTS`, upgrade requests are accepted (after the Origin
 * allowlist) with the listener's default subprotocol: the first subprotocol the client
 * offers that the listener's config lists (`wskit_config_add_subprotocol`). Loop thread only.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (`max_bytes` 0, an
 * unknown flag) or `WSKIT_ERR_INVALID_STATE` (callbacks were set).
 */
wskit_status wskit_ctx_use_event_queue(wskit_ctx *ctx, size_t max_bytes, uint32_t flags);

/**
 * Takes the oldest queued event into `*out`. The event's pointers stay valid until the next
 * `wskit_ctx_next_event`, `wskit_ctx_next_events`, `wskit_ctx_poll`, `wskit_ctx_shutdown` or
 * `wskit_ctx_free` on this context. `conn_user_data` is the connection's user data now (or, once the connection is
 * gone, what it was when the event was queued). Loop thread only.
 *
 * Returns `WSKIT_OK`, `WSKIT_QUEUE_EMPTY` (no event; `*out` untouched; not an error),
 * `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (queue mode not enabled).
 */
wskit_status wskit_ctx_next_event(wskit_ctx *ctx,
                                  wskit_event *out);

/**
 * Takes up to `cap` of the oldest queued events at once, in order, into `out[0]` ..
 * `out[*count - 1]`: what `wskit_ctx_next_event` does `*count` times, in one call (bindings
 * whose calls into C cost far more than wskit's work per event, such as Python's ctypes, take
 * a whole poll's events with one call). Every taken event's pointers stay valid until the next
 * `wskit_ctx_next_events`, `wskit_ctx_next_event`, `wskit_ctx_poll`, `wskit_ctx_shutdown` or
 * `wskit_ctx_free` on this context. `out` has room for `cap` events (`cap` > 0); `*count`
 * receives how many were written (0 with `WSKIT_QUEUE_EMPTY`). Loop thread only.
 *
 * Returns `WSKIT_OK` (at least one event), `WSKIT_QUEUE_EMPTY` (none; not an error),
 * `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (`cap` 0) or `WSKIT_ERR_INVALID_STATE` (queue
 * mode not enabled).
 */
wskit_status wskit_ctx_next_events(wskit_ctx *ctx, wskit_event *out, size_t cap, size_t *count);

/**
 * The queue's counters (see `wskit_queue_stats`). Loop thread only.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (queue mode not
 * enabled).
 */
wskit_status wskit_ctx_queue_stats(const wskit_ctx *ctx, wskit_queue_stats *out);

/**
 * Fills `out` with the context's counters (see `wskit_stats`). Cheap (no connection is
 * visited). Loop thread only; may be called from a callback.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (ctx or out NULL).
 */
wskit_status wskit_ctx_stats(const wskit_ctx *ctx, wskit_stats *out);

/**
 * Queues a text message: `text_len` bytes of UTF-8 (or `WSKIT_NTS`: NUL-terminated; `text` may
 * be NULL when the length is 0). It is written during the next poll or flush (at once when called from a
 * callback, before the poll returns). The bytes are copied.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8`, `WSKIT_ERR_NOT_FOUND`
 * (closed or unknown id), `WSKIT_ERR_INVALID_STATE` (not open yet, or a close was already sent,
 * or a fragmented message is in progress) or `WSKIT_ERR_WOULD_BLOCK` (send buffer full: wait
 * for the writable event).
 */
wskit_status wskit_conn_send_text(wskit_ctx *ctx,
                                  uint64_t conn,
                                  const char *text,
                                  size_t text_len);

/**
 * Queues a binary message of `len` bytes (`data` may be NULL when `len` is 0). Same rules and
 * statuses as `wskit_conn_send_text`, without the UTF-8 check.
 */
wskit_status wskit_conn_send_binary(wskit_ctx *ctx, uint64_t conn, const uint8_t *data, size_t len);

/**
 * Begins a fragmented message of unknown total length, sending its first frame with `len`
 * bytes (may be 0). Continue with `wskit_conn_continue_message`, end with `wskit_conn_finish_message`;
 * pings, pongs and a close may be sent in between, other messages may not. For text, the
 * whole message must be valid UTF-8 (a piece may end inside a character).
 *
 * Returns the statuses of `wskit_conn_send_text` (`WSKIT_ERR_INVALID_STATE` when a message is
 * already in progress).
 */
wskit_status wskit_conn_begin_message(wskit_ctx *ctx,
                                      uint64_t conn,
                                      bool is_text,
                                      const uint8_t *data,
                                      size_t len);

/**
 * Sends the next piece of the message begun with `wskit_conn_begin_message`.
 *
 * Returns the statuses of `wskit_conn_send_text` (`WSKIT_ERR_INVALID_STATE` when no message is in
 * progress, `WSKIT_ERR_INVALID_UTF8` when text can no longer be valid UTF-8).
 */
wskit_status wskit_conn_continue_message(wskit_ctx *ctx,
                                         uint64_t conn,
                                         const uint8_t *data,
                                         size_t len);

/**
 * Sends the last piece (may be empty) of the message begun with `wskit_conn_begin_message`.
 *
 * Returns the statuses of `wskit_conn_continue_message`.
 */
wskit_status wskit_conn_finish_message(wskit_ctx *ctx,
                                       uint64_t conn,
                                       const uint8_t *data,
                                       size_t len);

/**
 * Queues a ping with a payload of at most 125 bytes (`data` may be NULL when `len` is 0).
 * Control frames ignore `max_buffered`.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (payload over 125 bytes),
 * `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_INVALID_STATE`.
 */
wskit_status wskit_conn_ping(wskit_ctx *ctx, uint64_t conn, const uint8_t *data, size_t len);

/**
 * Queues an unsolicited pong (or, with auto-pong off, the answer to a ping). Same rules and
 * statuses as `wskit_conn_ping`.
 */
wskit_status wskit_conn_pong(wskit_ctx *ctx, uint64_t conn, const uint8_t *data, size_t len);

/**
 * Starts the closing handshake with `code` (1000, 1001, 1003, 1007-1014, 3000-4999) and a
 * UTF-8 `reason` of at most 123 bytes: `reason_len` bytes (any valid UTF-8, NUL included), or
 * `WSKIT_NTS` for a NUL-terminated one; NULL with length 0 for none. The close event
 * follows when the peer answers or after the close timeout. Before the connection opened,
 * it is dropped instead (a client's connect is cancelled; the close event reports 1006).
 * Calling it on a connection already closing returns `WSKIT_ERR_INVALID_STATE`.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx), `WSKIT_ERR_INVALID_UTF8`,
 * `WSKIT_ERR_INVALID_ARG` (code or reason length), `WSKIT_ERR_NOT_FOUND` or
 * `WSKIT_ERR_INVALID_STATE`.
 */
wskit_status wskit_conn_close(wskit_ctx *ctx,
                              uint64_t conn,
                              uint16_t code,
                              const char *reason,
                              size_t reason_len);

/**
 * Drops the connection at once, without a closing handshake. If it had been reported open,
 * the close event (1006, not clean) follows at the next poll (or later in the current one).
 * No other event is delivered for it; the id is invalid after.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
 */
wskit_status wskit_conn_abort(wskit_ctx *ctx, uint64_t conn);

/**
 * Bytes queued for sending and not yet taken by the socket (the browser's `bufferedAmount`).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
 */
wskit_status wskit_conn_buffered_amount(const wskit_ctx *ctx, uint64_t conn, size_t *out_bytes);

/**
 * Attaches an application pointer to the connection (NULL allowed; wskit never dereferences
 * or frees it). It is carried in `conn_user_data` of every later event of the connection,
 * the close event included on every close path, and a connection whose user data was set
 * gets exactly one close event; so free what it points to in the close event. May be called
 * from the ACCEPT callback (on `event->conn`) before the connection opens.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx) or `WSKIT_ERR_NOT_FOUND`.
 */
wskit_status wskit_conn_set_user_data(wskit_ctx *ctx, uint64_t conn, void *user_data);

/**
 * The pointer set with `wskit_conn_set_user_data` (NULL if none).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
 */
wskit_status wskit_conn_user_data(const wskit_ctx *ctx, uint64_t conn, void **out);

/**
 * The negotiated subprotocol: `*out` (NUL-terminated) and `*out_len` (`out_len` may be
 * NULL), or `*out` = NULL and length 0 when none was negotiated (or before the connection
 * opened). The string is owned by the context and valid until the connection's close event
 * has been consumed: the close callback returned, or, in queue mode, the close event was
 * taken by `wskit_ctx_next_event` and the next `wskit_ctx_next_event` / `wskit_ctx_poll` call
 * was made; and never past `wskit_ctx_free`.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
 */
wskit_status wskit_conn_subprotocol(const wskit_ctx *ctx,
                                    uint64_t conn,
                                    const char **out,
                                    size_t *out_len);

/**
 * The peer's address as `"ip:port"` (`"[v6]:port"` for IPv6; `""` for a Unix socket
 * connection, which has none): `*out` (NUL-terminated, owned
 * by the context, valid as long as `wskit_conn_subprotocol`'s string) and `*out_len`
 * (`out_len` may be NULL). Always kept.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_UNAVAILABLE`
 * (a client connection that is not connected yet).
 */
wskit_status wskit_conn_peer(const wskit_ctx *ctx,
                             uint64_t conn,
                             const char **out,
                             size_t *out_len);

/**
 * The request path (starts with `/`, without the query; a client's is its URL's): `*out`
 * (NUL-terminated, owned by the context, valid as long as `wskit_conn_subprotocol`'s string)
 * and `*out_len` (`out_len` may be NULL).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_UNAVAILABLE`
 * (a server connection whose listener's config did not call `wskit_config_keep_request`).
 */
wskit_status wskit_conn_path(const wskit_ctx *ctx,
                             uint64_t conn,
                             const char **out,
                             size_t *out_len);

/**
 * The request query without `?`: `*out` (NUL-terminated, owned by the context, valid as long
 * as `wskit_conn_subprotocol`'s string) and `*out_len` (`out_len` may be NULL); `*out` = NULL
 * and length 0 when the target had no query.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_UNAVAILABLE`
 * (not kept: `wskit_config_keep_request`).
 */
wskit_status wskit_conn_query(const wskit_ctx *ctx,
                              uint64_t conn,
                              const char **out,
                              size_t *out_len);

/**
 * The value of the first header named `name` (`name_len` bytes or `WSKIT_NTS`;
 * case-insensitive): a server connection's request header, a client's response header.
 * `*out` (NUL-terminated, owned by the context, valid as long as `wskit_conn_subprotocol`'s
 * string) and `*out_len` (`out_len` may be NULL).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8`, `WSKIT_ERR_NOT_FOUND`
 * (unknown connection, or no such header), or `WSKIT_ERR_UNAVAILABLE` (headers of that name
 * are not kept: `wskit_config_keep_header`).
 */
wskit_status wskit_conn_header(const wskit_ctx *ctx,
                               uint64_t conn,
                               const char *name,
                               size_t name_len,
                               const char **out,
                               size_t *out_len);

/**
 * The number of headers kept for the connection (see `wskit_conn_header_at`).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_UNAVAILABLE`
 * (no header is kept).
 */
wskit_status wskit_conn_header_count(const wskit_ctx *ctx, uint64_t conn, size_t *out_count);

/**
 * The `index`th kept header, in the order received: name and value (each NUL-terminated,
 * owned by the context, valid as long as `wskit_conn_subprotocol`'s string); `out_name_len`
 * and `out_value_len` may be NULL.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (index out of range),
 * `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_UNAVAILABLE`.
 */
wskit_status wskit_conn_header_at(const wskit_ctx *ctx,
                                  uint64_t conn,
                                  size_t index,
                                  const char **out_name,
                                  size_t *out_name_len,
                                  const char **out_value,
                                  size_t *out_value_len);

/**
 * Stops reading `conn`'s socket and delivering its events until `wskit_conn_resume_reading`
 * (e.g. while a worker thread is busy with its messages). Events of data already read are
 * held inside the context, not delivered, and come first when reading resumes; TCP then
 * pushes back on the peer. Pings and the peer's close are behind that data, so they are
 * answered after reading resumes; `wskit_conn_close` by this end resumes reading so the
 * closing handshake completes. Pausing twice is the same as once. Independent of the
 * automatic pause (`wskit_config_set_read_pause_high_water`): reading resumes when neither
 * holds it. Loop thread only (other threads: `wskit_remote_pause_reading`).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND` (closed or unknown id).
 */
wskit_status wskit_conn_pause_reading(wskit_ctx *ctx, uint64_t conn);

/**
 * Undoes `wskit_conn_pause_reading`: reading resumes at the next poll (without waiting for
 * new data), unless the automatic pause still holds it (then when the send queue drains to
 * the low-water mark). Resuming a connection that is not paused does nothing. Loop thread only
 * (other threads: `wskit_remote_resume_reading`).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND` (closed or unknown id).
 */
wskit_status wskit_conn_resume_reading(wskit_ctx *ctx, uint64_t conn);

/**
 * Whether reading of `conn` is paused, by `wskit_conn_pause_reading` or automatically (its
 * send queue is above the read-pause high-water mark): stored in `*out`. Loop thread only.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx or out) or `WSKIT_ERR_NOT_FOUND`.
 */
wskit_status wskit_conn_is_reading_paused(const wskit_ctx *ctx, uint64_t conn, bool *out);

/**
 * Queues one message for each of the `count` connections in `conns` (broadcast, pub/sub
 * fan-out), encoding it once: server connections that compress without context takeover
 * (the listener default) share one compression of it, other server connections share its
 * plain frame, and connections that keep a compression context (and clients, whose frames
 * are masked each) encode it themselves. `is_text`: text (must be valid UTF-8, checked
 * before anything is queued) or binary. The bytes are copied.
 *
 * Each connection takes the message or not on its own, with the statuses of
 * `wskit_conn_send_text` (`WSKIT_ERR_WOULD_BLOCK` for a full queue: nothing is dropped
 * silently, the caller decides). When `statuses` is not NULL it has room for `count`
 * statuses and receives each connection's; `*failed` (may be NULL) receives how many did not
 * take it. Loop thread (callbacks included).
 *
 * Returns `WSKIT_OK` (also when some connections did not take the message: see `statuses`
 * and `failed`), `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (a length too large) or
 * `WSKIT_ERR_INVALID_UTF8`.
 */
wskit_status wskit_ctx_broadcast(wskit_ctx *ctx,
                                 const uint64_t *conns,
                                 size_t count,
                                 bool is_text,
                                 const uint8_t *data,
                                 size_t len,
                                 wskit_status *statuses,
                                 size_t *failed);

/**
 * Queues the `count` messages of `sends`, in order, each as `wskit_conn_send_text` /
 * `wskit_conn_send_binary` would (same rules and statuses; the bytes are copied, so `sends`
 * and the data may be reused once it returns). They are written during the next poll or
 * flush (before the poll returns when called from a callback).
 *
 * A refused message (`WSKIT_ERR_WOULD_BLOCK` for a full send buffer, `WSKIT_ERR_NOT_FOUND`
 * for a closed connection, `WSKIT_ERR_INVALID_UTF8`, ...) does not stop the messages to other
 * connections; the later messages of the batch to the same connection are refused with the
 * same status, so that what a connection sends keeps the batch's order (send the refused
 * ones again, in order, after the writable event). Nothing is dropped silently. When `statuses` is not NULL it has
 * room for `count` statuses and receives each message's; `*failed` (may be NULL) receives
 * how many were refused. Loop thread (callbacks included).
 *
 * Returns `WSKIT_OK` (also when some messages were refused: see `statuses` and `failed`),
 * `WSKIT_ERR_NULL_ARG` (`sends` NULL with `count` > 0; a message's NULL data with a length
 * counts as refused with this status) or `WSKIT_ERR_INVALID_ARG` (`count` too large).
 */
wskit_status wskit_ctx_send_batch(wskit_ctx *ctx,
                                  const wskit_send *sends,
                                  size_t count,
                                  wskit_status *statuses,
                                  size_t *failed);

/**
 * Turns permessage-deflate (RFC 7692) on or off. On: a listener answers the first acceptable
 * offer of each request, a client offers it. Default on in both roles:
 * - listeners ask for no context takeover both ways, so each message borrows a compressor or
 *   decompressor from one pool per context and an idle compressed connection holds no codec
 *   state (15-bit windows, level 6, memory level 8: their cost is the pool's, not each
 *   connection's);
 * - clients offer context takeover with 12-bit windows and memory level 5 (Python
 *   `websockets`' memory-saving settings), and pool their codecs too when the server asks for
 *   no context takeover.
 *
 * Messages under the minimum size (`wskit_config_set_deflate_min_size`, default 64 bytes) go
 * uncompressed. The inflated size counts against `wskit_config_set_max_message_size` while
 * inflating (1009 past it: a decompression bomb never grows memory past the limit), and
 * invalid compressed data closes with 1007. Any thread, on a config no other thread uses.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
 */
wskit_status wskit_config_set_deflate(wskit_config *config, bool enabled);

/**
 * Context takeover: `server` true asks (listener) or offers (client) that the server reset
 * its compressor after every message, `client` the same for the client's compressor. Without
 * takeover a direction keeps no codec state between messages (its codecs come from the
 * context's pool), at some cost in ratio for streams of similar messages. Default: listeners
 * true, true; clients false, false (a listener that asks wins either way).
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
 */
wskit_status wskit_config_set_deflate_no_context_takeover(wskit_config *config,
                                                          bool server,
                                                          bool client);

/**
 * The largest LZ77 windows, 8 to 15 bits, for the server's and the client's compressor: a
 * listener never agrees to more, a client offers these. Smaller windows cost less memory per
 * connection that keeps its context and compress repetitive data a little less well.
 * Default: listeners 15, 15; clients 12, 12.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_deflate_window_bits(wskit_config *config,
                                                  uint8_t server_bits,
                                                  uint8_t client_bits);

/**
 * This end's compressor: `level` 0 (store) to 9 (smallest), `mem_level` 1 to 9 (zlib's
 * memory level: the size of its internal state). Default: listeners 6 and 8, clients 6 and 5.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
 */
wskit_status wskit_config_set_deflate_level(wskit_config *config, uint8_t level, uint8_t mem_level);

/**
 * Messages shorter than `bytes` are sent uncompressed (deflate rarely shrinks them, and
 * skipping it saves the CPU). 0 compresses every message. Default 64.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
 */
wskit_status wskit_config_set_deflate_min_size(wskit_config *config, size_t bytes);

/**
 * Idle compaction of directions with context takeover: between messages the connection
 * hands its compressor and decompressor back to the context's pool and keeps only the last
 * window's worth of what it sent and received (at most 2^window_bits bytes each); the next
 * message primes a pooled codec with it, and the peer sees the same stream. An idle
 * connection with context takeover then holds a few KiB instead of ~160 KiB of zlib state;
 * each message costs a few microseconds more (a codec reset and re-hashing the history).
 * Directions without context takeover pool their codecs whatever this says. Default:
 * listeners true, clients false.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
 */
wskit_status wskit_config_set_deflate_compact_idle(wskit_config *config, bool enabled);

/**
 * Writes the permessage-deflate parameters `conn`'s handshake agreed on to `*out`
 * (`out->negotiated` false: not negotiated, or the connection is not open yet). Loop thread.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
 */
wskit_status wskit_conn_deflate_params(const wskit_ctx *ctx,
                                       uint64_t conn,
                                       wskit_deflate_params *out);

/**
 * Sets (or, with `fn` NULL, removes) the tracer: `fn` is called with every handshake's bytes
 * and every frame header, both directions, on every connection of the context. Off (the
 * default) costs nothing. The tracer runs on the loop thread, inside whichever wskit call
 * moves the bytes (`wskit_ctx_poll`, `wskit_ctx_flush`, a send, ...); it must not call wskit
 * functions on the same context (they return `WSKIT_ERR_REENTRANT`). `user_data` is passed
 * back as is. Loop thread only; may be called from a callback.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
 */
wskit_status wskit_ctx_set_tracer(wskit_ctx *ctx, wskit_trace_fn tracer, void *user_data);

/**
 * Creates a remote handle for `ctx`. On `WSKIT_OK`, `*out` owns it; free it with
 * `wskit_remote_free`. Loop thread only (the handle itself may then go to any thread); may be
 * called from a callback.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
 */
wskit_status wskit_remote_new(const wskit_ctx *ctx, wskit_remote **out);

/**
 * Frees a remote handle. NULL is a no-op. Any thread, once no other thread uses the handle.
 *
 * Returns `WSKIT_OK`.
 */
wskit_status wskit_remote_free(wskit_remote *remote);

/**
 * Queues a text message of `text_len` bytes of UTF-8 (or `WSKIT_NTS`) for `conn` (`text` may
 * be NULL when the length is 0; copied). Any thread. Like local sends it obeys the
 * connection's `max_buffered`, but on the loop thread: a send that would pass it is dropped
 * there and reported as an ERROR event with `WSKIT_ERR_WOULD_BLOCK` for the connection (its
 * text says how many bytes were dropped), then a WRITABLE event when the queue drains.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8`,
 * `WSKIT_ERR_INVALID_STATE` (context freed) or `WSKIT_ERR_WOULD_BLOCK` (other threads have
 * queued more than 64 MiB the loop has not taken yet). A stale `conn` is reported later, to
 * the error event.
 */
wskit_status wskit_remote_send_text(const wskit_remote *remote,
                                    uint64_t conn,
                                    const char *text,
                                    size_t text_len);

/**
 * Queues a binary message for `conn`. Same rules and statuses as `wskit_remote_send_text`,
 * without the UTF-8 check. Any thread.
 */
wskit_status wskit_remote_send_binary(const wskit_remote *remote,
                                      uint64_t conn,
                                      const uint8_t *data,
                                      size_t len);

/**
 * Queues a ping (payload at most 125 bytes) for `conn`. Any thread.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG` (payload too long),
 * `WSKIT_ERR_INVALID_STATE` (context freed) or `WSKIT_ERR_WOULD_BLOCK`.
 */
wskit_status wskit_remote_ping(const wskit_remote *remote,
                               uint64_t conn,
                               const uint8_t *data,
                               size_t len);

/**
 * Starts the closing handshake of `conn` with `code` and a `reason` of `reason_len` bytes
 * (or `WSKIT_NTS`; NULL with length 0 for none; any valid UTF-8, NUL included). An invalid code is reported later to the error event. Any thread.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (remote), `WSKIT_ERR_INVALID_UTF8`,
 * `WSKIT_ERR_INVALID_STATE` (context freed) or `WSKIT_ERR_WOULD_BLOCK`.
 */
wskit_status wskit_remote_close(const wskit_remote *remote,
                                uint64_t conn,
                                uint16_t code,
                                const char *reason,
                                size_t reason_len);

/**
 * `wskit_conn_pause_reading` from any thread: performed by the loop during its next poll
 * (an unknown or closed id is reported to the error event with `WSKIT_ERR_NOT_FOUND`).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (context freed).
 */
wskit_status wskit_remote_pause_reading(const wskit_remote *remote, uint64_t conn);

/**
 * `wskit_conn_resume_reading` from any thread (e.g. a worker that caught up): performed by
 * the loop during its next poll, which it wakes.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (context freed).
 */
wskit_status wskit_remote_resume_reading(const wskit_remote *remote, uint64_t conn);

/**
 * Wakes the loop: a `wskit_ctx_poll` blocked on this context returns (with no events if
 * there was nothing else to do). Any thread; async-signal-unsafe.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_STATE` (context freed) or
 * `WSKIT_ERR_IO`.
 */
wskit_status wskit_remote_wake(const wskit_remote *remote);

/**
 * Answers the HTTP request of `conn` (the `conn` of an HTTP_REQUEST event) with `status`
 * (200-599), `header_count` headers (`headers` may be NULL when the count is 0) and a body of
 * `body_len` bytes (NULL with length 0 for none). `Content-Length` and `Connection` are set by
 * wskit (giving them, or `Transfer-Encoding`, is `WSKIT_ERR_INVALID_ARG`); a HEAD request gets
 * the head only. Everything is copied. Loop thread only: from the HTTP_REQUEST callback or
 * any later turn of the loop (`wskit_remote_http_respond` from other threads). The next
 * request of a keep-alive connection is read once the answer is complete.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` (headers),
 * `WSKIT_ERR_INVALID_ARG` (status, a reserved or malformed header),
 * `WSKIT_ERR_INVALID_STATE` (no request of `conn` waits for an answer) or
 * `WSKIT_ERR_NOT_FOUND` (unknown id, or the client left).
 */
wskit_status wskit_http_respond(wskit_ctx *ctx,
                                uint64_t conn,
                                uint16_t status,
                                const wskit_header *headers,
                                size_t header_count,
                                const uint8_t *body,
                                size_t body_len);

/**
 * Starts a streamed answer to the HTTP request of `conn`: the head now, the body with
 * `wskit_http_write`, the end with `wskit_http_end`. With a `length` the response carries
 * `Content-Length` and exactly that many bytes must follow; `WSKIT_HTTP_UNKNOWN_LENGTH` sends
 * the body chunked. Headers as for `wskit_http_respond`. Loop thread only.
 *
 * Returns the statuses of `wskit_http_respond`.
 */
wskit_status wskit_http_begin(wskit_ctx *ctx,
                              uint64_t conn,
                              uint16_t status,
                              const wskit_header *headers,
                              size_t header_count,
                              uint64_t length);

/**
 * Appends `len` bytes (copied; NULL with length 0 is a no-op) to the body begun with
 * `wskit_http_begin`. When the connection's queue is over its `max_buffered`, nothing is
 * queued and `WSKIT_ERR_WOULD_BLOCK` is returned; a WRITABLE event follows once the queue
 * drains, and the piece may be written again. Loop thread only.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_WOULD_BLOCK`, `WSKIT_ERR_INVALID_ARG`
 * (more than the announced length), `WSKIT_ERR_INVALID_STATE` (no response begun) or
 * `WSKIT_ERR_NOT_FOUND`.
 */
wskit_status wskit_http_write(wskit_ctx *ctx, uint64_t conn, const uint8_t *data, size_t len);

/**
 * Ends the body begun with `wskit_http_begin`; the next request of the connection is read
 * then. Ending short of the announced length returns `WSKIT_ERR_INVALID_ARG` and closes the
 * connection once its output is written. Loop thread only.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_ARG`,
 * `WSKIT_ERR_INVALID_STATE` (no response begun) or `WSKIT_ERR_NOT_FOUND`.
 */
wskit_status wskit_http_end(wskit_ctx *ctx, uint64_t conn);

/**
 * Answers the HTTP request of `conn` the default way: from the listener's static directory
 * (`wskit_config_set_static_dir`; files streamed from disk as the socket takes them, with
 * `Range`, `If-Modified-Since`, 404, 405), or without one with the 4xx an invalid upgrade
 * request gets. For a request the application does not handle itself. Loop thread only.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_STATE` (no request of `conn`
 * waits for an answer), `WSKIT_ERR_NOT_FOUND` or `WSKIT_ERR_IO`.
 */
wskit_status wskit_http_serve_static(wskit_ctx *ctx, uint64_t conn);

/**
 * `wskit_http_respond` from any thread (e.g. a worker that computed the answer): copied,
 * queued for the loop, which it wakes. Errors only the loop can see (no request waiting, a
 * bad status or header) go to the ERROR event of `conn`.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` (headers),
 * `WSKIT_ERR_INVALID_STATE` (context freed) or `WSKIT_ERR_WOULD_BLOCK` (other threads have
 * queued more than 64 MiB the loop has not taken yet).
 */
wskit_status wskit_remote_http_respond(const wskit_remote *remote,
                                       uint64_t conn,
                                       uint16_t status,
                                       const wskit_header *headers,
                                       size_t header_count,
                                       const uint8_t *body,
                                       size_t body_len);

/**
 * `wskit_http_begin` from any thread. Same statuses as `wskit_remote_http_respond`.
 */
wskit_status wskit_remote_http_begin(const wskit_remote *remote,
                                     uint64_t conn,
                                     uint16_t status,
                                     const wskit_header *headers,
                                     size_t header_count,
                                     uint64_t length);

/**
 * `wskit_http_write` from any thread. The loop applies the connection's `max_buffered`: a
 * piece over it is dropped there and reported as an ERROR event with
 * `WSKIT_ERR_WOULD_BLOCK`, then a WRITABLE event when the queue drains. Same statuses as
 * `wskit_remote_http_respond`.
 */
wskit_status wskit_remote_http_write(const wskit_remote *remote,
                                     uint64_t conn,
                                     const uint8_t *data,
                                     size_t len);

/**
 * `wskit_http_end` from any thread. Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`,
 * `WSKIT_ERR_INVALID_STATE` (context freed) or `WSKIT_ERR_WOULD_BLOCK`.
 */
wskit_status wskit_remote_http_end(const wskit_remote *remote, uint64_t conn);

/**
 * Starts listening on the Unix domain socket `path` (`path_len` bytes, or `WSKIT_NTS`; any
 * bytes but NUL, at most 107). A path starting with `@` is a Linux abstract socket (`@name`,
 * no file). `mode` is the socket file's permission bits (e.g. `0660`: owner and group may
 * connect), set before any process can connect; 0 leaves what the process's umask gives.
 * `flags`: 0 or `WSKIT_UNIX_REMOVE_STALE`. An existing path fails with `WSKIT_ERR_IO`
 * ("address in use") unless the flag is set and it is a stale socket. The socket file is
 * removed when the listener closes (`wskit_ctx_close_listener`, shutdown, `wskit_ctx_free`),
 * if it is still the one this listener created.
 *
 * `config` may be NULL (defaults); it is copied; TLS settings are refused (no TLS over Unix
 * sockets). The LISTEN event follows at the next poll, with the path as `data` and 0 as
 * `code` (no port). Connections accepted on it have no IP address: their `peer` is empty,
 * in events and from `wskit_conn_peer`. On `WSKIT_OK`, `*out_listener`
 * receives the listener id (never 0). Loop thread only; may be called from a callback.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx, path, out_listener), `WSKIT_ERR_INVALID_ARG`
 * (empty or too long a path, NUL in it, `@` off Linux, unknown flags, TLS in the config, a
 * path that exists and is not a socket with `WSKIT_UNIX_REMOVE_STALE`) or `WSKIT_ERR_IO`
 * (address in use, no such directory, permission denied).
 */
wskit_status wskit_ctx_listen_unix(wskit_ctx *ctx,
                                   const char *path,
                                   size_t path_len,
                                   uint32_t mode,
                                   uint32_t flags,
                                   const wskit_config *config,
                                   uint32_t *out_listener);

/**
 * Opens a client connection over the Unix domain socket `path` (`path_len` bytes, or
 * `WSKIT_NTS`; `@name`: abstract), sending the request of the `ws://` `url` (`url_len` bytes,
 * or `WSKIT_NTS`): its host goes in `Host`, its path and query in the request line (e.g.
 * `"ws://localhost/chat"`). `wskit_ctx_connect` with `"ws+unix:///path/to.sock:/chat"` does
 * the same with `Host: localhost`. Returns at once; a missing socket or a refused connect is
 * an error event (`WSKIT_ERR_CONNECT`, naming the path) then a close event (1006), as for
 * TCP. `config` may be NULL (defaults); it is copied. On `WSKIT_OK`, `*out_conn` receives
 * the connection id (never 0). Loop thread only; may be called from a callback.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (ctx, path, url, out_conn),
 * `WSKIT_ERR_INVALID_UTF8` (url), `WSKIT_ERR_INVALID_ARG` (bad path, bad URL, `wss://`) or
 * `WSKIT_ERR_IO`.
 */
wskit_status wskit_ctx_connect_unix(wskit_ctx *ctx,
                                    const char *path,
                                    size_t path_len,
                                    const char *url,
                                    size_t url_len,
                                    const wskit_config *config,
                                    uint64_t *out_conn);

/**
 * Clients: connect through this proxy, whatever the environment says:
 * `http://[user:pass@]host[:port]` (HTTP CONNECT), `https://...` (HTTP CONNECT over TLS to
 * the proxy), `socks5://...` (SOCKS5, target resolved here) or `socks5h://...` (SOCKS5,
 * target resolved by the proxy); no scheme means `http://`; default port 1080 (443 for
 * `https://`). Userinfo is percent-decoded and used for Basic or SOCKS5 username/password
 * authentication. An empty string removes the explicit proxy (the environment applies
 * again, if enabled). The string is copied. Any thread, on a config no other thread uses.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or
 * `WSKIT_ERR_INVALID_ARG` (not a proxy URL; `wskit_error_last()` says why).
 */
wskit_status wskit_config_set_proxy(wskit_config *config, const char *url, size_t url_len);

/**
 * Clients: when no proxy is set with `wskit_config_set_proxy`, take it from the environment:
 * `http_proxy` (ws://) or `https_proxy` (wss://), then `all_proxy`, lower case before upper
 * case, unless `no_proxy` lists the target (curl's rules: names and their subdomains,
 * leading dots, `*`, addresses, CIDR ranges, `:port`). The environment is read by each
 * connect. Default on; `enabled` false connects directly unless a proxy is set.
 *
 * Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
 */
wskit_status wskit_config_set_proxy_from_env(wskit_config *config, bool enabled);

/**
 * Clients: the user name and password for the proxy (HTTP Basic, or SOCKS5
 * username/password), replacing any in the proxy URL. Both are copied; `user` must not be
 * empty. Any thread, on a config no other thread uses.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or
 * `WSKIT_ERR_INVALID_ARG` (empty user).
 */
wskit_status wskit_config_set_proxy_credentials(wskit_config *config,
                                                const char *user,
                                                size_t user_len,
                                                const char *password,
                                                size_t password_len);

/**
 * Clients: time allowed from the connect call until the proxy's tunnel is up (resolving and
 * connecting to the proxy, and its answer), in milliseconds (> 0); past it the connect fails
 * with `WSKIT_ERR_PROXY_TIMEOUT`. The handshake timeout still bounds the whole opening.
 * Default 10,000.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_ARG` (0).
 */
wskit_status wskit_config_set_proxy_timeout_ms(wskit_config *config, uint32_t value);

/**
 * Clients with an `https://` proxy: trust only the CA certificates in this PEM file for the
 * proxy's certificate (default: the system trust store). A wss:// target is verified
 * separately, end to end (`wskit_config_set_tls_ca_file`). Loaded now.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or `WSKIT_ERR_TLS`.
 */
wskit_status wskit_config_set_proxy_ca_file(wskit_config *config,
                                            const char *ca_path,
                                            size_t ca_path_len);

/**
 * Turns automatic reconnect on for client connections made with this config (listeners
 * ignore it): when the connection drops, or a connect attempt fails (the first one included),
 * it waits and connects again, keeping its id. The delay before attempt n is drawn uniformly
 * from `[min_delay_ms, min(max_delay_ms, min_delay_ms * 2^(n-1))]` (attempt 1 waits exactly
 * `min_delay_ms`). Each attempt is announced by a RECONNECT event; the OPEN event comes again
 * after each successful one; the CLOSE event comes once, when reconnecting ends (close,
 * abort, `wskit_conn_stop_reconnect`, attempts exhausted, shutdown). Errors of a connection
 * that reconnects are in the RECONNECT event's text, not in ERROR events. A close by the
 * server (any code) reconnects too. `min_delay_ms` 0 turns reconnect off (the default).
 * Also resets the other reconnect settings to their defaults: no attempt limit, 10 s stable
 * time, offline queue off.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_ARG` (`max_delay_ms` below
 * `min_delay_ms`).
 */
wskit_status wskit_config_set_reconnect(wskit_config *config,
                                        uint32_t min_delay_ms,
                                        uint32_t max_delay_ms);

/**
 * Reconnect: give up after `max_attempts` attempts in a row (0: never give up, the
 * default); the connection then closes (CLOSE event, 1006) after UNDELIVERED events for
 * what its offline queue held (`WSKIT_UNDELIVERED_EXHAUSTED`).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (reconnect is off:
 * call `wskit_config_set_reconnect` first).
 */
wskit_status wskit_config_set_reconnect_max_attempts(wskit_config *config, uint32_t max_attempts);

/**
 * Reconnect: a connection that stayed open `stable_after_ms` resets the attempt count, so
 * the next drop starts again at the minimum delay. Default 10,000.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (reconnect is off).
 */
wskit_status wskit_config_set_reconnect_stable_after_ms(wskit_config *config,
                                                        uint32_t stable_after_ms);

/**
 * Reconnect: the send policy while the connection is not open. 0 (the default): sends
 * (`wskit_conn_send*`, `wskit_remote_send*`) fail at once with `WSKIT_ERR_NOT_CONNECTED`.
 * Above 0: they are queued, up to `bytes` payload bytes, and written in order right after the
 * next open (before the OPEN event); when a message does not fit, the oldest queued ones are
 * dropped, each reported by an UNDELIVERED event (`WSKIT_UNDELIVERED_QUEUE_FULL`). Messages
 * still queued when reconnecting ends are reported the same way (`_EXHAUSTED`, `_STOPPED`)
 * before the CLOSE event. Fragmented messages and pings are never queued.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_STATE` (reconnect is off).
 */
wskit_status wskit_config_set_offline_queue_bytes(wskit_config *config, size_t bytes);

/**
 * Sets (or removes) the callback of RECONNECT events: a reconnecting client connection
 * dropped (or an attempt failed) and attempt `event->code` (1-based, counted since the last
 * stable connection) is scheduled after `event->listener` milliseconds (this field, as the
 * event layout cannot grow); `event->data`/`len` says why the last connection or attempt
 * ended. The callback may change the delay (`wskit_conn_reconnect_delay`) or stop
 * (`wskit_conn_stop_reconnect`, `wskit_conn_close`). Strings handed out for the connection
 * that dropped (`wskit_conn_subprotocol`, `_peer`, `_header`, ...) stay valid until this event
 * is consumed (as a close event's); ask again after the next OPEN for the new connection's.
 * Same rules and statuses as `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_reconnect(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Sets (or removes) the callback of UNDELIVERED events: a message queued while a
 * reconnecting connection was not open was dropped; `event->data`/`len` is its payload,
 * `is_text` its kind, `code` a `wskit_undelivered_reason`. Same rules and statuses as
 * `wskit_ctx_on_listen`.
 */
wskit_status wskit_ctx_on_undelivered(wskit_ctx *ctx, wskit_event_fn cb, void *user_data);

/**
 * Changes the delay of `conn`'s pending retry to `delay_ms` from now: from the RECONNECT
 * callback, or later while the retry is pending (queue mode: after taking the RECONNECT
 * event). Loop thread only; never blocks.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or
 * `WSKIT_ERR_INVALID_STATE` (no retry pending).
 */
wskit_status wskit_conn_reconnect_delay(wskit_ctx *ctx, uint64_t conn, uint32_t delay_ms);

/**
 * Stops reconnecting `conn`. Open, it stays open and its next drop ends it (CLOSE event as
 * usual); waiting for a retry, it closes now: UNDELIVERED events for its offline queue
 * (`WSKIT_UNDELIVERED_STOPPED`), then the CLOSE event (1006) at the next poll. Returns at
 * once. Loop thread only (other threads: `wskit_remote_close`).
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or
 * `WSKIT_ERR_INVALID_STATE` (the connection does not reconnect).
 */
wskit_status wskit_conn_stop_reconnect(wskit_ctx *ctx, uint64_t conn);

/**
 * The reconnect state of `conn` (see `wskit_reconnect_state`). Loop thread only.
 *
 * Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_NOT_FOUND` or
 * `WSKIT_ERR_INVALID_STATE` (the connection does not reconnect).
 */
wskit_status wskit_conn_reconnect_state(const wskit_ctx *ctx,
                                        uint64_t conn,
                                        wskit_reconnect_state *out);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* WSKIT_H */
