// Echo server in C++17 over bindings/c/wskit.hpp: echoes every message; prints one line when
// listening; exits 0 after `--seconds N` or on SIGINT/SIGTERM (graceful shutdown).
//
//     target/c/echo_cpp 127.0.0.1:9002 [--seconds N]
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "wskit.hpp"

static volatile std::sig_atomic_t stop_requested = 0;

extern "C" void on_signal(int) { stop_requested = 1; }

int main(int argc, char **argv) {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::string addr = argc > 1 ? argv[1] : "127.0.0.1:9002";
    double seconds = -1;
    for (int i = 2; i + 1 < argc; i++) {
        if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
    }
    try {
        wskit::Context ctx;
        ctx.on_message([](wskit::Context &c, std::uint64_t conn, bool is_text, std::string_view data) {
            if (is_text) c.send_text(conn, data);
            else c.send_binary(conn, data);
        });
        ctx.on_error([](wskit::Context &, std::uint64_t conn, wskit_status status, std::string_view message) {
            std::fprintf(stderr, "echo_cpp: conn %llu: %s: %.*s\n", static_cast<unsigned long long>(conn),
                         wskit_status_name(status), static_cast<int>(message.size()), message.data());
        });
        auto listener = ctx.listen(addr);
        std::string host = addr.substr(0, addr.rfind(':'));
        std::printf("echo_cpp listening on ws://%s:%u\n", host.c_str(), static_cast<unsigned>(ctx.local_port(listener)));
        std::fflush(stdout);
        auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (!stop_requested && (seconds < 0 || std::chrono::steady_clock::now() < end)) ctx.poll(100);
        ctx.shutdown(1000);
    } catch (const wskit::Error &e) {
        std::fprintf(stderr, "echo_cpp: %s\n", e.what());
        return 1;
    }
    return 0;
}
