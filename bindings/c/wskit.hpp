// wskit.hpp: a header-only C++17 wrapper over the wskit C API (include/wskit.h).
//
// - wskit::Context owns a wskit_ctx (RAII, move-only). Handlers are std::function objects kept
//   in a heap block, so moving a Context never invalidates the callbacks registered with C.
// - Errors are reported with exceptions: every failing C call throws wskit::Error, which carries
//   the wskit_status (code()), its name and wskit_error_last()'s detail (what()). Exceptions
//   must not escape a handler into C: the trampolines catch them, store the first one, and
//   Context::poll rethrows it after wskit_ctx_poll returns.
// - Threads: a Context is used from one thread; wskit::Remote (from Context::remote()) from any.
// - Payloads passed to handlers (std::string_view, const wskit_event &) are valid only during the
//   handler; queue-mode events (Context::next_event) until the next next_event/poll.
// - Strings go to C as pointer + length (std::string_view), so they may contain NUL bytes.
#ifndef WSKIT_HPP
#define WSKIT_HPP

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "wskit.h"

namespace wskit {

/// A failed wskit call.
class Error : public std::runtime_error {
public:
    Error(wskit_status status, const std::string &what)
        : std::runtime_error(std::string(wskit_status_name(status)) + ": " + what), status_(status) {}
    /// The status code (WSKIT_ERR_*).
    wskit_status code() const noexcept { return status_; }

private:
    wskit_status status_;
};

namespace detail {
inline void check(wskit_status status) {
    if (status != WSKIT_OK) throw Error(status, wskit_error_last());
}
inline std::string_view view(const char *s, std::size_t len) { return s ? std::string_view(s, len) : std::string_view(); }
inline std::string_view view(const std::uint8_t *s, std::size_t len) {
    return s ? std::string_view(reinterpret_cast<const char *>(s), len) : std::string_view();
}
}  // namespace detail

/// The payload (or reason, error text, body, address) of an event.
inline std::string_view data(const wskit_event &ev) { return detail::view(ev.data, ev.len); }
/// The path of an ACCEPT or OPEN event.
inline std::string_view path(const wskit_event &ev) { return detail::view(ev.path, ev.path_len); }
/// The query of an ACCEPT or OPEN event ("" without one).
inline std::string_view query(const wskit_event &ev) { return detail::view(ev.query, ev.query_len); }
/// The peer address of an ACCEPT or OPEN event.
inline std::string_view peer(const wskit_event &ev) { return detail::view(ev.peer, ev.peer_len); }
/// The subprotocol of an ACCEPT (default choice) or OPEN event ("" if none).
inline std::string_view subprotocol(const wskit_event &ev) { return detail::view(ev.subprotocol, ev.subprotocol_len); }
/// The value of the first header named `name` (ASCII case-insensitive) of an event, if any.
inline bool header(const wskit_event &ev, std::string_view name, std::string_view *value) {
    for (std::size_t i = 0; i < ev.header_count; i++) {
        std::string_view n = detail::view(ev.headers[i].name, ev.headers[i].name_len);
        if (n.size() != name.size()) continue;
        bool same = true;
        for (std::size_t k = 0; k < n.size() && same; k++) {
            char a = n[k], b = name[k];
            if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
            if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
            same = a == b;
        }
        if (same) {
            *value = detail::view(ev.headers[i].value, ev.headers[i].value_len);
            return true;
        }
    }
    return false;
}

namespace detail {
}  // namespace detail

/// Sends from any thread (wraps wskit_remote). Move-only.
class Remote {
public:
    explicit Remote(wskit_remote *raw) noexcept : raw_(raw) {}
    Remote(Remote &&other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
    Remote &operator=(Remote &&other) noexcept {
        std::swap(raw_, other.raw_);
        return *this;
    }
    Remote(const Remote &) = delete;
    Remote &operator=(const Remote &) = delete;
    ~Remote() { (void)wskit_remote_free(raw_); }  // always WSKIT_OK

    void send_text(std::uint64_t conn, std::string_view text) const {
        detail::check(wskit_remote_send_text(raw_, conn, text.data(), text.size()));
    }
    void send_binary(std::uint64_t conn, std::string_view data) const {
        detail::check(wskit_remote_send_binary(raw_, conn, reinterpret_cast<const std::uint8_t *>(data.data()),
                                               data.size()));
    }
    void close(std::uint64_t conn, std::uint16_t code = 1000, std::string_view reason = {}) const {
        detail::check(wskit_remote_close(raw_, conn, code, reason.data(), reason.size()));
    }
    void pause_reading(std::uint64_t conn) const { detail::check(wskit_remote_pause_reading(raw_, conn)); }
    void resume_reading(std::uint64_t conn) const { detail::check(wskit_remote_resume_reading(raw_, conn)); }
    void wake() const { detail::check(wskit_remote_wake(raw_)); }

private:
    wskit_remote *raw_;
};

/// An event loop with its connections (wraps wskit_ctx). Move-only; loop thread only.
///
/// Destruction frees the context (wskit_ctx_free). Destroying a Context from inside one of its own
/// handlers is a programming error (the C call is refused with WSKIT_ERR_REENTRANT and the
/// handlers would dangle): the destructor then calls std::terminate. Call free() to see the status
/// of the free as an exception instead.
class Context {
public:
    /// Any event: the one C callback signature.
    using EventHandler = std::function<void(Context &, const wskit_event &)>;
    using OpenHandler = std::function<void(Context &, std::uint64_t conn, std::string_view subprotocol,
                                           std::string_view path)>;
    using MessageHandler = std::function<void(Context &, std::uint64_t conn, bool is_text, std::string_view data)>;
    using CloseHandler =
        std::function<void(Context &, std::uint64_t conn, std::uint16_t code, std::string_view reason, bool clean)>;
    using ErrorHandler = std::function<void(Context &, std::uint64_t conn, wskit_status, std::string_view message)>;
    using TraceHandler = std::function<void(const wskit_trace &)>;

    Context() : handlers_(std::make_unique<Handlers>()) {
        detail::check(wskit_ctx_new(&raw_));
        handlers_->owner = this;
    }
    Context(Context &&other) noexcept
        : raw_(std::exchange(other.raw_, nullptr)), handlers_(std::move(other.handlers_)) {
        if (handlers_) handlers_->owner = this;
    }
    Context &operator=(Context &&other) noexcept {
        std::swap(raw_, other.raw_);
        std::swap(handlers_, other.handlers_);
        if (handlers_) handlers_->owner = this;
        if (other.handlers_) other.handlers_->owner = &other;
        return *this;
    }
    Context(const Context &) = delete;
    Context &operator=(const Context &) = delete;
    ~Context() {
        if (!raw_) return;
        // WSKIT_ERR_PANIC still frees the context; only a re-entrant free leaves it alive.
        if (wskit_ctx_free(raw_) == WSKIT_ERR_REENTRANT) std::terminate();
    }

    /// Frees the context now (close events run for connections still there); throws on a
    /// status other than WSKIT_OK (the context is freed unless the status is WSKIT_ERR_REENTRANT).
    void free() {
        wskit_status status = wskit_ctx_free(raw_);
        if (status != WSKIT_ERR_REENTRANT) raw_ = nullptr;
        if (handlers_->pending) std::rethrow_exception(std::exchange(handlers_->pending, nullptr));
        detail::check(status);
    }

    /// The C handle, for calls this wrapper does not cover.
    wskit_ctx *get() const noexcept { return raw_; }

    /// Sets the handler of one event kind (wskit_ctx_on_<kind>).
    void on(wskit_event_kind kind, EventHandler h) {
        handlers_->by_kind[index(kind)] = std::move(h);
        detail::check(set(kind));
    }
    void on_open(OpenHandler h) {
        on(WSKIT_EVENT_OPEN, [h = std::move(h)](Context &c, const wskit_event &ev) {
            h(c, ev.conn, subprotocol(ev), path(ev));
        });
    }
    void on_message(MessageHandler h) {
        on(WSKIT_EVENT_MESSAGE, [h = std::move(h)](Context &c, const wskit_event &ev) {
            h(c, ev.conn, ev.is_text, data(ev));
        });
    }
    void on_close(CloseHandler h) {
        on(WSKIT_EVENT_CLOSE, [h = std::move(h)](Context &c, const wskit_event &ev) {
            h(c, ev.conn, static_cast<std::uint16_t>(ev.code), data(ev), ev.clean);
        });
    }
    void on_error(ErrorHandler h) {
        on(WSKIT_EVENT_ERROR, [h = std::move(h)](Context &c, const wskit_event &ev) {
            h(c, ev.conn, static_cast<wskit_status>(ev.code), data(ev));
        });
    }
    /// Traces handshakes and frame headers (nullptr turns it off). The handler must not call the
    /// context; exceptions it throws are dropped (it runs inside any call that moves bytes).
    void set_tracer(TraceHandler h) {
        handlers_->trace = std::move(h);
        detail::check(wskit_ctx_set_tracer(raw_, handlers_->trace ? &Context::trace_tramp : nullptr, handlers_.get()));
    }

    /// Queue mode (wskit_ctx_use_event_queue): events are taken with next_event.
    void use_event_queue(std::size_t max_bytes, std::uint32_t flags = WSKIT_QUEUE_PAUSE) {
        detail::check(wskit_ctx_use_event_queue(raw_, max_bytes, flags));
    }
    /// The next queued event, if any; valid until the next next_event/poll.
    bool next_event(wskit_event *out) {
        wskit_status status = wskit_ctx_next_event(raw_, out);
        if (status == WSKIT_QUEUE_EMPTY) return false;
        detail::check(status);
        return true;
    }
    wskit_queue_stats queue_stats() const {
        wskit_queue_stats stats{};
        detail::check(wskit_ctx_queue_stats(raw_, &stats));
        return stats;
    }

    /// Listens on a numeric addr ("127.0.0.1:0", "[::1]:0", "localhost:0"); returns the listener id.
    std::uint32_t listen(std::string_view addr, const wskit_config *config = nullptr) {
        std::uint32_t id = 0;
        detail::check(wskit_ctx_listen(raw_, addr.data(), addr.size(), config, &id));
        return id;
    }
    std::uint16_t local_port(std::uint32_t listener) const {
        std::uint16_t port = 0;
        detail::check(wskit_ctx_local_port(raw_, listener, &port));
        return port;
    }
    /// Connects to a ws:// URL; returns the connection id.
    std::uint64_t connect(std::string_view url, const wskit_config *config = nullptr) {
        std::uint64_t id = 0;
        detail::check(wskit_ctx_connect(raw_, url.data(), url.size(), config, &id));
        return id;
    }
    /// Polls (timeout_ms: -1 blocks, 0 never blocks); rethrows an exception a handler threw.
    int poll(int timeout_ms) {
        int events = 0;
        wskit_status status = wskit_ctx_poll(raw_, timeout_ms, &events);
        if (handlers_->pending) std::rethrow_exception(std::exchange(handlers_->pending, nullptr));
        detail::check(status);
        return events;
    }
    void accept(std::uint64_t conn, std::string_view subprotocol = {}, const wskit_header *headers = nullptr,
                std::size_t header_count = 0) {
        detail::check(wskit_conn_accept(raw_, conn, subprotocol.data(), subprotocol.size(), headers, header_count));
    }
    void reject(std::uint64_t conn, std::uint16_t status, std::string_view body = {},
                const wskit_header *headers = nullptr, std::size_t header_count = 0) {
        detail::check(wskit_conn_reject(raw_, conn, status, headers, header_count, body.data(), body.size()));
    }
    void send_text(std::uint64_t conn, std::string_view text) {
        detail::check(wskit_conn_send_text(raw_, conn, text.data(), text.size()));
    }
    void send_binary(std::uint64_t conn, std::string_view data) {
        detail::check(
            wskit_conn_send_binary(raw_, conn, reinterpret_cast<const std::uint8_t *>(data.data()), data.size()));
    }
    void ping(std::uint64_t conn, std::string_view payload = {}) {
        detail::check(
            wskit_conn_ping(raw_, conn, reinterpret_cast<const std::uint8_t *>(payload.data()), payload.size()));
    }
    void close(std::uint64_t conn, std::uint16_t code = 1000, std::string_view reason = {}) {
        detail::check(wskit_conn_close(raw_, conn, code, reason.data(), reason.size()));
    }
    void abort(std::uint64_t conn) { detail::check(wskit_conn_abort(raw_, conn)); }
    /// Flow control: stop / restart reading `conn` (wskit_conn_pause_reading / _resume_reading).
    void pause_reading(std::uint64_t conn) { detail::check(wskit_conn_pause_reading(raw_, conn)); }
    void resume_reading(std::uint64_t conn) { detail::check(wskit_conn_resume_reading(raw_, conn)); }
    bool is_reading_paused(std::uint64_t conn) const {
        bool paused = false;
        detail::check(wskit_conn_is_reading_paused(raw_, conn, &paused));
        return paused;
    }
    void set_user_data(std::uint64_t conn, void *data) { detail::check(wskit_conn_set_user_data(raw_, conn, data)); }
    void shutdown(std::uint32_t timeout_ms) { detail::check(wskit_ctx_shutdown(raw_, timeout_ms)); }
    std::size_t connection_count() const {
        std::size_t n = 0;
        detail::check(wskit_ctx_connection_count(raw_, &n));
        return n;
    }
    Remote remote() const {
        wskit_remote *r = nullptr;
        detail::check(wskit_remote_new(raw_, &r));
        return Remote(r);
    }

private:
    static constexpr std::size_t kKinds = 16;
    struct Handlers {
        Context *owner = nullptr;
        EventHandler by_kind[kKinds];
        TraceHandler trace;
        std::exception_ptr pending;
    };

    static std::size_t index(wskit_event_kind kind) {
        std::size_t i = static_cast<std::size_t>(kind);
        if (i >= kKinds) throw Error(WSKIT_ERR_INVALID_ARG, "unknown event kind");
        return i;
    }
    wskit_status set(wskit_event_kind kind) {
        wskit_event_fn fn = handlers_->by_kind[index(kind)] ? &Context::event_tramp : nullptr;
        void *ud = handlers_.get();
        switch (kind) {
        case WSKIT_EVENT_LISTEN: return wskit_ctx_on_listen(raw_, fn, ud);
        case WSKIT_EVENT_ACCEPT: return wskit_ctx_on_accept(raw_, fn, ud);
        case WSKIT_EVENT_OPEN: return wskit_ctx_on_open(raw_, fn, ud);
        case WSKIT_EVENT_MESSAGE: return wskit_ctx_on_message(raw_, fn, ud);
        case WSKIT_EVENT_FRAGMENT: return wskit_ctx_on_fragment(raw_, fn, ud);
        case WSKIT_EVENT_PING: return wskit_ctx_on_ping(raw_, fn, ud);
        case WSKIT_EVENT_PONG: return wskit_ctx_on_pong(raw_, fn, ud);
        case WSKIT_EVENT_WRITABLE: return wskit_ctx_on_writable(raw_, fn, ud);
        case WSKIT_EVENT_CLOSE: return wskit_ctx_on_close(raw_, fn, ud);
        case WSKIT_EVENT_ERROR: return wskit_ctx_on_error(raw_, fn, ud);
        case WSKIT_EVENT_REJECTED: return wskit_ctx_on_rejected(raw_, fn, ud);
        case WSKIT_EVENT_HTTP_REQUEST: return wskit_ctx_on_http_request(raw_, fn, ud);
        case WSKIT_EVENT_RECONNECT: return wskit_ctx_on_reconnect(raw_, fn, ud);
        case WSKIT_EVENT_UNDELIVERED: return wskit_ctx_on_undelivered(raw_, fn, ud);
        }
        return WSKIT_ERR_INVALID_ARG;
    }

    static void event_tramp(void *ud, wskit_ctx *, const wskit_event *ev) noexcept {
        auto *h = static_cast<Handlers *>(ud);
        if (h->pending) return;  // an earlier handler threw: skip the rest of this poll's handlers
        try {
            auto &f = h->by_kind[static_cast<std::size_t>(ev->kind) % kKinds];
            if (f) f(*h->owner, *ev);
        } catch (...) {
            h->pending = std::current_exception();
        }
    }
    static void trace_tramp(void *ud, const wskit_trace *t) noexcept {
        auto *h = static_cast<Handlers *>(ud);
        try {
            if (h->trace) h->trace(*t);
        } catch (...) {
        }
    }

    wskit_ctx *raw_ = nullptr;
    std::unique_ptr<Handlers> handlers_;
};

}  // namespace wskit

#endif  // WSKIT_HPP
