// wskit.hpp: a header-only C++17 wrapper over the wskit C API (include/wskit.h).
//
// - wskit::Context owns a wskit_ctx (RAII, move-only). Handlers are std::function objects kept
//   in a heap block, so moving a Context never invalidates the callbacks registered with C.
// - Errors are reported with exceptions: every failing C call throws wskit::Error, which carries
//   the wskit_status (code()), its name and wskit_error_last()'s detail (what()). Exceptions
//   must not escape a handler into C: the trampolines catch them, store the first one, and
//   Context::poll rethrows it after wskit_ctx_poll returns.
// - Threads: a Context is used from one thread; wskit::Remote (from Context::remote()) from any.
// - Payloads passed to handlers (std::string_view) are valid only during the handler.
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
    ~Remote() { wskit_remote_free(raw_); }

    void send_text(std::uint64_t conn, std::string_view text) const {
        detail::check(wskit_remote_send_text(raw_, conn, text.data(), text.size()));
    }
    void send_binary(std::uint64_t conn, std::string_view data) const {
        detail::check(wskit_remote_send_binary(raw_, conn, reinterpret_cast<const std::uint8_t *>(data.data()),
                                               data.size()));
    }
    void close(std::uint64_t conn, std::uint16_t code = 1000, const std::string &reason = {}) const {
        detail::check(wskit_remote_close(raw_, conn, code, reason.c_str()));
    }
    void wake() const { detail::check(wskit_remote_wake(raw_)); }

private:
    wskit_remote *raw_;
};

/// An event loop with its connections (wraps wskit_ctx). Move-only; loop thread only.
class Context {
public:
    using OpenHandler = std::function<void(Context &, std::uint64_t conn, std::string_view subprotocol,
                                           std::string_view path)>;
    using MessageHandler = std::function<void(Context &, std::uint64_t conn, bool is_text, std::string_view data)>;
    using CloseHandler =
        std::function<void(Context &, std::uint64_t conn, std::uint16_t code, std::string_view reason, bool clean)>;
    using ErrorHandler = std::function<void(Context &, std::uint64_t conn, wskit_status, std::string_view message)>;

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
    ~Context() { wskit_ctx_free(raw_); }

    /// The C handle, for calls this wrapper does not cover.
    wskit_ctx *get() const noexcept { return raw_; }

    void on_open(OpenHandler h) {
        handlers_->open = std::move(h);
        detail::check(wskit_ctx_on_open(raw_, &Context::open_tramp, handlers_.get()));
    }
    void on_message(MessageHandler h) {
        handlers_->message = std::move(h);
        detail::check(wskit_ctx_on_message(raw_, &Context::message_tramp, handlers_.get()));
    }
    void on_close(CloseHandler h) {
        handlers_->close = std::move(h);
        detail::check(wskit_ctx_on_close(raw_, &Context::close_tramp, handlers_.get()));
    }
    void on_error(ErrorHandler h) {
        handlers_->error = std::move(h);
        detail::check(wskit_ctx_on_error(raw_, &Context::error_tramp, handlers_.get()));
    }

    /// Listens on addr ("127.0.0.1:0"); returns the listener id.
    std::uint32_t listen(const std::string &addr, const wskit_config *config = nullptr) {
        std::uint32_t id = 0;
        detail::check(wskit_ctx_listen(raw_, addr.c_str(), config, &id));
        return id;
    }
    std::uint16_t local_port(std::uint32_t listener) const {
        std::uint16_t port = 0;
        detail::check(wskit_ctx_local_port(raw_, listener, &port));
        return port;
    }
    /// Connects to a ws:// URL; returns the connection id.
    std::uint64_t connect(const std::string &url, const wskit_config *config = nullptr) {
        std::uint64_t id = 0;
        detail::check(wskit_ctx_connect(raw_, url.c_str(), config, &id));
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
    void send_text(std::uint64_t conn, std::string_view text) {
        detail::check(wskit_send_text(raw_, conn, text.data(), text.size()));
    }
    void send_binary(std::uint64_t conn, std::string_view data) {
        detail::check(wskit_send_binary(raw_, conn, reinterpret_cast<const std::uint8_t *>(data.data()), data.size()));
    }
    void close(std::uint64_t conn, std::uint16_t code = 1000, const std::string &reason = {}) {
        detail::check(wskit_close(raw_, conn, code, reason.c_str()));
    }
    void abort(std::uint64_t conn) { detail::check(wskit_abort(raw_, conn)); }
    void shutdown(std::uint32_t timeout_ms) { detail::check(wskit_ctx_shutdown(raw_, timeout_ms)); }
    std::size_t connection_count() const {
        std::size_t n = 0;
        detail::check(wskit_ctx_connection_count(raw_, &n));
        return n;
    }
    Remote remote() const {
        wskit_remote *r = nullptr;
        detail::check(wskit_ctx_remote_new(raw_, &r));
        return Remote(r);
    }

private:
    struct Handlers {
        Context *owner = nullptr;
        OpenHandler open;
        MessageHandler message;
        CloseHandler close;
        ErrorHandler error;
        std::exception_ptr pending;
    };

    template <class F>
    static void guarded(void *ud, F &&f) noexcept {
        auto *h = static_cast<Handlers *>(ud);
        if (h->pending) return;  // an earlier handler threw: skip the rest of this poll's handlers
        try {
            f(*h);
        } catch (...) {
            h->pending = std::current_exception();
        }
    }
    static void open_tramp(void *ud, wskit_ctx *, std::uint64_t conn, std::uint32_t, const char *sub,
                           const char *path, const char *) noexcept {
        guarded(ud, [&](Handlers &h) {
            if (h.open) h.open(*h.owner, conn, sub ? sub : "", path);
        });
    }
    static void message_tramp(void *ud, wskit_ctx *, std::uint64_t conn, bool is_text, const std::uint8_t *data,
                              std::size_t len) noexcept {
        guarded(ud, [&](Handlers &h) {
            if (h.message)
                h.message(*h.owner, conn, is_text, std::string_view(reinterpret_cast<const char *>(data), len));
        });
    }
    static void close_tramp(void *ud, wskit_ctx *, std::uint64_t conn, std::uint16_t code, const char *reason,
                            std::size_t reason_len, bool clean) noexcept {
        guarded(ud, [&](Handlers &h) {
            if (h.close) h.close(*h.owner, conn, code, std::string_view(reason, reason_len), clean);
        });
    }
    static void error_tramp(void *ud, wskit_ctx *, std::uint64_t conn, wskit_status status,
                            const char *message) noexcept {
        guarded(ud, [&](Handlers &h) {
            if (h.error) h.error(*h.owner, conn, status, message);
        });
    }

    wskit_ctx *raw_ = nullptr;
    std::unique_ptr<Handlers> handlers_;
};

}  // namespace wskit

#endif  // WSKIT_HPP
