#!/usr/bin/env bash
# C ABI tests. Builds the C tests and examples (scripts/build-c.sh) and runs, each as one check:
#   - every tests/c/*.c test linked to the shared library and to the static library;
#   - every test again built with -fsanitize=address,undefined (static library);
#   - every test under valgrind --leak-check=full --error-exitcode=1 (shared library);
#   - the exported wskit_* symbols of libwskit.so equal the functions declared in the header;
#   - the C echo server and C client, shared and static; the C game loop against the C server;
#   - the C++ echo server (wskit.hpp) with the C client; the compression example;
#   - Python websockets (tests/peers/py_client.py) against the C echo server.
# Ends with "c tests: N passed, M failed"; exits non-zero on any failure. Nothing is skipped:
# a missing gcc/g++/valgrind/nm is installed with apt (root) or is a failure.
# Usage: scripts/test-c.sh [--lib-dir DIR]   (default: cargo build --release, target/release)
set -uo pipefail
cd "$(dirname "$0")/.."

lib_dir=target/release
build_args=()
if [ "${1:-}" = --lib-dir ]; then
  lib_dir=$2
  build_args=(--lib-dir "$2" --no-cargo)
fi
passed=0
failed=0
failures=()
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap cleanup EXIT

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); echo "FAIL $1"; }
# check NAME COMMAND...: runs the command (output in target/c/logs/NAME.log).
check() {
  local name=$1
  shift
  local log="target/c/logs/$(echo "$name" | tr -c 'A-Za-z0-9._-' '_').log"
  local runner=(timeout "${CHECK_TIMEOUT:-300}")
  declare -F "$1" >/dev/null && runner=() # shell functions bound their own commands
  if "${runner[@]}" "$@" >"$log" 2>&1; then
    pass "$name"
  else
    fail "$name"
    tail -20 "$log" | sed 's/^/    /'
  fi
}

need() { # need TOOL APT_PACKAGE
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test-c: installing $2"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  fi
  command -v "$1" >/dev/null || { fail "tool $1 missing (apt-get install $2)"; return 1; }
}
need gcc gcc
need g++ g++
need valgrind valgrind
need nm binutils
need readelf binutils

mkdir -p target/c/logs
if ! bash scripts/build-c.sh "${build_args[@]}"; then
  fail "build (scripts/build-c.sh)"
  echo "c tests: $passed passed, $failed failed"
  exit 1
fi
pass "build: C99/C++17 with -Wall -Wextra -Werror -pedantic, shared and static"
if WSKIT_C_OUT=target/c-asan CFLAGS_EXTRA="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
  bash scripts/build-c.sh --lib-dir "$lib_dir" --no-cargo; then
  pass "build with -fsanitize=address,undefined"
else
  fail "build with -fsanitize=address,undefined"
fi

tests=()
for src in tests/c/*.c; do tests+=("$(basename "${src%.c}")"); done
# tests/c/reconnect.c starts Python websockets (tests/peers/py_server.py) as its server.
[ -x "${WSKIT_PEERS_DIR:-.peers}/venv/bin/python" ] || bash scripts/setup-peers.sh >target/c/logs/setup-peers.log 2>&1

# 1. Every test, shared and static.
for t in "${tests[@]}"; do
  check "$t (shared)" "target/c/$t"
  check "$t (static)" "target/c/$t.static"
done
# 2. AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer included).
for t in "${tests[@]}"; do
  check "$t (asan+ubsan)" env ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "target/c-asan/$t.static"
done
# 3. Valgrind: no errors, no leaks (definite/indirect/possible count as errors).
VALGRIND=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
  --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1)
for t in "${tests[@]}"; do
  check "$t (valgrind)" "${VALGRIND[@]}" "target/c/$t"
done

# 4. Exported symbols == header functions; SONAME.
symbols_match() {
  diff <(nm -D --defined-only target/c/lib/libwskit.so | awk '{print $3}' | grep '^wskit_' | sort -u) \
    <(grep -E '^[A-Za-z].*[ *]wskit_[a-z0-9_]+\(' include/wskit.h | grep -v '^typedef' |
      grep -oE '[ *]wskit_[a-z0-9_]+\(' | tr -d ' *(' | sort -u)
}
check "exported symbols == header declarations" symbols_match
check "SONAME is libwskit.so.0.2" bash -c "readelf -d target/c/lib/libwskit.so | grep -q 'SONAME.*\[libwskit.so.0.2\]'"

# 5. Echo between C programs. start_server BINARY ARGS...: sets server_pid and server_url.
start_server() {
  local out
  out=$(mktemp)
  "$@" >"$out" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 200); do
    grep -Eq 'listening on wss?://' "$out" && break
    sleep 0.05
  done
  server_url=$(grep -Eo 'wss?://[^ ]*' "$out" | head -1)/
  rm -f "$out"
}
stop_server() { # SIGTERM, then up to 30 s for a graceful exit; its status is the result
  kill -TERM "$server_pid" 2>/dev/null
  for _ in $(seq 300); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server_pid" 2>/dev/null
  wait "$server_pid"
}
echo_round_trip() { # echo_round_trip CLIENT: the C client gets each argument back
  local got
  got=$(timeout 60 "$1" "$server_url" hello "wörld ✓" last) || return 1
  [ "$got" = $'hello\nwörld ✓\nlast' ] || { echo "unexpected replies: $got"; return 1; }
}
stdin_round_trip() {
  local got
  got=$(printf 'a\nb\n' | timeout 60 "$1" "$server_url") || return 1
  [ "$got" = $'a\nb' ] || { echo "unexpected replies: $got"; return 1; }
}
for variant in "" .static; do
  start_server "target/c/echo_server$variant" 127.0.0.1:0
  check "echo: C server$variant + C client$variant (args)" echo_round_trip "target/c/client$variant"
  check "echo: C server$variant + C client$variant (stdin)" stdin_round_trip "target/c/client$variant"
  check "game_loop$variant: 2 s at 60 Hz + remote thread" "target/c/game_loop$variant" "$server_url" 2
  check "echo_server$variant exits 0 on SIGTERM" stop_server
done
compression_example() { # examples/c/compression.c: negotiated, 20,100 bytes of JSON well under 1 KB on the wire
  local out sent
  out=$(timeout 60 target/c/compression) || return 1
  echo "$out"
  grep -q "^server negotiated: permessage-deflate, server no context takeover" <<<"$out" || return 1
  sent=$(sed -n 's/.*on the wire: \([0-9]*\) bytes sent.*/\1/p' <<<"$out")
  [ -n "$sent" ] && [ "$sent" -lt 1000 ] || return 1
  out=$(timeout 60 target/c/compression --no-compression) || return 1
  echo "$out"
  grep -q "^client negotiated: no compression" <<<"$out" && grep -q "on the wire: 20100 bytes sent" <<<"$out"
}
check "compression example: deflate negotiated and used, or off" compression_example
reconnect_example() { # examples/c/reconnect_client.c: the server comes up late; queued messages flushed
  local port out rc
  port=$(bash scripts/free-port.sh)
  timeout 60 target/c/reconnect_client "ws://127.0.0.1:$port/" 3 >target/c/logs/reconnect_client.out 2>&1 &
  local client=$!
  sleep 0.7
  start_server target/c/echo_server "127.0.0.1:$port"
  wait $client
  rc=$?
  stop_server
  out=$(cat target/c/logs/reconnect_client.out)
  echo "$out"
  [ $rc -eq 0 ] && grep -q "^reconnect: attempt 2 in" <<<"$out" && grep -q "^echo: message 3$" <<<"$out"
}
check "reconnect example: retries until the server is up, flushes its offline queue" reconnect_example
start_server "${VALGRIND[@]}" target/c/echo_server 127.0.0.1:0
check "echo: C client vs echo_server under valgrind" echo_round_trip target/c/client
check "game_loop vs echo_server under valgrind" target/c/game_loop "$server_url" 1
check "echo_server under valgrind: no errors, no leaks" stop_server
start_server target/c-asan/echo_server.static 127.0.0.1:0
check "echo: C client vs echo_server under asan+ubsan" echo_round_trip target/c-asan/client.static
check "echo_server under asan+ubsan: clean exit" stop_server
start_server target/c/echo_cpp 127.0.0.1:0
check "echo: C++ server (wskit.hpp) + C client" echo_round_trip target/c/client
check "echo_cpp exits 0 on SIGTERM" stop_server

# 6. An independent peer: Python websockets against the C echo server.
if [ -x .peers/venv/bin/python ] || bash scripts/setup-peers.sh >target/c/logs/setup-peers.log 2>&1; then
  start_server target/c/echo_server 127.0.0.1:0
  for scenario in echo-sizes fragmented "ping hello" "server-ping abc" "client-close 4000 bye" \
    "server-close 4001 done" "subprotocol chat,superchat" headers "concurrent 10 10"; do
    # shellcheck disable=SC2086
    check "python websockets: $scenario vs C echo_server" .peers/venv/bin/python tests/peers/py_client.py "$server_url" $scenario
  done
  check "echo_server exits 0 after the python peers" stop_server
else
  fail "scripts/setup-peers.sh (python websockets)"
fi

# 6b. Unix domain sockets (examples/c/unix_echo.c): its own client over a ws+unix: URL, then
# Python websockets' unix_connect against `unix_echo --serve`; the socket file is gone after each.
unix_dir=$(mktemp -d /tmp/wskit-c-unix.XXXXXX)
unix_example() {
  local got
  got=$(timeout 60 target/c/unix_echo "$unix_dir/echo.sock" hello "wörld ✓") || return 1
  [ "$got" = $'listening on unix:'"$unix_dir"$'/echo.sock\nhello\nwörld ✓' ] || { echo "unexpected: $got"; return 1; }
  [ ! -e "$unix_dir/echo.sock" ] || { echo "socket file left behind"; return 1; }
}
unix_websockets() {
  local pid rc
  target/c/unix_echo --serve "$unix_dir/serve.sock" >"$unix_dir/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do [ -S "$unix_dir/serve.sock" ] && break; sleep 0.05; done
  .peers/venv/bin/python tests/peers/py_unix.py connect "$unix_dir/serve.sock" /py
  rc=$?
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" || rc=1
  [ ! -e "$unix_dir/serve.sock" ] || { echo "socket file left behind"; rc=1; }
  return $rc
}
check "unix_echo example: ws+unix: URL, socket file removed" unix_example
check "unix: python websockets unix_connect vs C unix_echo --serve" unix_websockets
rm -rf "$unix_dir"

# 7. wss:// through the C API: a certificate made here with openssl (a leaf: CA:FALSE), the C server
# with --tls, the C client and Python websockets verifying it with --ca / WSKIT_PEER_CA.
tls_dir=target/c/tls
mkdir -p "$tls_dir"
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -addext basicConstraints=critical,CA:FALSE \
  -keyout "$tls_dir/key.pem" -out "$tls_dir/cert.pem" >/dev/null 2>&1; then
  start_server target/c/echo_server 127.0.0.1:0 --tls "$tls_dir/cert.pem" "$tls_dir/key.pem"
  server_url=${server_url/127.0.0.1/localhost}
  tls_round_trip() {
    local got
    got=$(timeout 60 target/c/client "$server_url" --ca "$tls_dir/cert.pem" hello "wörld ✓" last) || return 1
    [ "$got" = $'hello\nwörld ✓\nlast' ] || { echo "unexpected replies: $got"; return 1; }
  }
  tls_untrusted() { ! timeout 60 target/c/client "$server_url" hello >/dev/null 2>&1; }
  check "wss: C client --ca vs C echo_server --tls" tls_round_trip
  check "wss: C client without the CA is refused" tls_untrusted
  check "wss: python websockets (ssl) vs C echo_server" env WSKIT_PEER_CA="$tls_dir/cert.pem" \
    .peers/venv/bin/python tests/peers/py_client.py "$server_url" echo-sizes
  check "wss echo_server exits 0 on SIGTERM" stop_server
else
  fail "openssl could not make a test certificate"
fi

# 8. Proxies (scripts/proxies.sh: tinyproxy, squid, dante): examples/c/proxy_client through each,
# to the C echo server; a 407 is reported with its detail. (tests/c/proxy.c starts its own.)
proxy_dir=$(mktemp -d)
if bash scripts/proxies.sh start "$proxy_dir" >target/c/logs/proxies.log 2>&1; then
  # shellcheck disable=SC1091
  . "$proxy_dir/ports.env"
  start_server target/c/echo_server 127.0.0.1:0
  proxy_round_trip() { # proxy_round_trip PROXY
    local got
    got=$(timeout 60 target/c/proxy_client "$server_url" "$1" "hi via proxy") || return 1
    [ "$got" = "hi via proxy" ] || { echo "unexpected reply: $got"; return 1; }
  }
  proxy_auth_reported() {
    local err
    ! err=$(timeout 60 target/c/proxy_client "$server_url" "http://127.0.0.1:$TINYPROXY_AUTH_PORT" x 2>&1) || return 1
    echo "$err"
    grep -q WSKIT_ERR_PROXY_AUTH <<<"$err" && grep -q ':status: 407' <<<"$err" && grep -qi 'Proxy-Authenticate: Basic' <<<"$err"
  }
  check "proxy_client via tinyproxy (HTTP CONNECT)" proxy_round_trip "http://127.0.0.1:$TINYPROXY_PORT"
  check "proxy_client via tinyproxy with Basic auth" proxy_round_trip "http://$PROXY_USER:$PROXY_PASS@127.0.0.1:$TINYPROXY_AUTH_PORT"
  check "proxy_client via squid" proxy_round_trip "http://127.0.0.1:$SQUID_PORT"
  check "proxy_client via dante (socks5h, username/password)" proxy_round_trip "socks5h://$SOCKS_USER:$SOCKS_PASS@127.0.0.1:$DANTE_AUTH_PORT"
  check "proxy_client: 407 reported with Proxy-Authenticate" proxy_auth_reported
  check "echo_server exits 0 after the proxy clients" stop_server
  # wss:// end to end through the tunnel: the target's certificate (the script's, for localhost)
  # is the one verified.
  start_server target/c/echo_server 127.0.0.1:0 --tls "$HTTPS_PROXY_CA" "$proxy_dir/proxy-key.pem"
  server_url=${server_url/127.0.0.1/localhost}
  proxy_wss_round_trip() { # proxy_wss_round_trip PROXY
    local got
    got=$(timeout 60 target/c/proxy_client "$server_url" "$1" "hi via proxy" --ca "$HTTPS_PROXY_CA") || return 1
    [ "$got" = "hi via proxy" ] || { echo "unexpected reply: $got"; return 1; }
  }
  check "proxy_client wss:// via squid, target verified" proxy_wss_round_trip "http://127.0.0.1:$SQUID_PORT"
  check "proxy_client wss:// via dante (socks5)" proxy_wss_round_trip "socks5://127.0.0.1:$DANTE_PORT"
  check "wss echo_server exits 0 after the proxy clients" stop_server
  bash scripts/proxies.sh stop "$proxy_dir"
else
  fail "scripts/proxies.sh start (see target/c/logs/proxies.log)"
fi
rm -rf "$proxy_dir"

# 8. Installed like a user would: bindings/c/install.sh into a scratch prefix, then pkg-config and
# CMake's find_package(wskit) each build the C echo server against it, and it runs.
need cmake cmake
prefix=$(cd target/c && pwd)/prefix
rm -rf "$prefix"
installed_echo() { # installed_echo BINARY: it starts, listens, and the C client gets an echo
  "$1" 127.0.0.1:0 >target/c/logs/installed.log 2>&1 &
  local pid=$! got url
  for _ in $(seq 100); do grep -q listening target/c/logs/installed.log && break; sleep 0.05; done
  url=$(grep -o 'ws://[^ ]*' target/c/logs/installed.log | head -1)/
  got=$(timeout 30 target/c/client "$url" installed) || { kill $pid; return 1; }
  kill $pid; wait $pid 2>/dev/null
  [ "$got" = installed ]
}
if check "install.sh into a scratch prefix" env WSKIT_NO_BUILD=1 WSKIT_LIB_DIR="$lib_dir" bash bindings/c/install.sh "$prefix"; then
  pc_build() {
    # shellcheck disable=SC2046
    gcc -std=c99 -Wall -Wextra -Werror -pedantic -o target/c/pc_echo examples/c/echo_server.c \
      $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs wskit) -Wl,-rpath,"$prefix/lib"
  }
  check "pkg-config --cflags --libs wskit builds the C echo server" pc_build
  check "pkg-config build runs against the installed library" installed_echo target/c/pc_echo
  cmake_build() {
    rm -rf target/c/cmake-build
    cmake -S bindings/c -B target/c/cmake-build -DCMAKE_PREFIX_PATH="$prefix" >target/c/logs/cmake.log 2>&1 &&
      cmake --build target/c/cmake-build >>target/c/logs/cmake.log 2>&1
  }
  check "find_package(wskit) builds the C echo server (CMake)" cmake_build
  check "CMake build runs against the installed library" installed_echo target/c/cmake-build/echo_server
fi

if [ ${#failures[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "c tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
