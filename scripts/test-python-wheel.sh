#!/usr/bin/env bash
# The Python wheel, as a user gets it. Builds it twice:
#   - offline: `pip wheel --no-build-isolation` in the checkout (the build hook runs cargo, a no-op
#     after the cargo build below), with the peers venv's setuptools + wheel;
#   - with pip's build isolation (setuptools fetched from the package index) from a copy of
#     bindings/python outside the checkout, the library named by $WSKIT_LIBRARY;
# checks each: tag py3-none-<this platform> (not `any`), not purelib, holds wskit/libwskit.so
# (stripped: no .debug_info). Then installs the wheel into a FRESH venv in a temp dir and, from
# that dir, with a clean environment (env -i: only PATH and HOME), runs an echo round trip:
# wskit server and client in one process, and the wskit client against Python `websockets`'
# echo server (bench/peers/py_websockets_echo.py, from .peers/venv); again with $WSKIT_LIBRARY
# pointing at nothing (the bundled copy must win).
# Ends with "python-wheel: N passed, M failed"; exits non-zero on any failure.
# Environment: WSKIT_PEERS_DIR (as scripts/setup-peers.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # check NAME COMMAND...
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name"; fi
}

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

cargo build --release --locked --quiet --lib || { echo "python-wheel: cargo build failed"; exit 1; }
if [ ! -x "${WSKIT_PEERS_DIR:-.peers}/venv/bin/python" ]; then bash scripts/setup-peers.sh >/dev/null; fi
peers=$(cd "${WSKIT_PEERS_DIR:-.peers}" && pwd)
py="$peers/venv/bin/python"
plat=$("$py" -c 'import sysconfig; print(sysconfig.get_platform().replace("-", "_").replace(".", "_"))')

# ----- build -----------------------------------------------------------------------------------
rm -rf bindings/python/build # stale files there would end up in the wheel
check "wheel builds offline (--no-build-isolation, in the checkout)" \
  "$py" -m pip wheel --quiet --disable-pip-version-check --no-build-isolation --no-deps \
  -w "$tmp/offline" ./bindings/python
rm -rf bindings/python/build
mkdir -p "$tmp/copy"
cp -r bindings/python "$tmp/copy/"
rm -rf "$tmp/copy/python/src/wskit/libwskit.so"* "$tmp/copy/python/build"
check "wheel builds with build isolation, outside the checkout, from \$WSKIT_LIBRARY" \
  env WSKIT_LIBRARY="$ROOT/target/release/libwskit.so" \
  "$py" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$tmp/isolated" "$tmp/copy/python"

# ----- what is in it ---------------------------------------------------------------------------
inspect() { # inspect WHEEL_DIR
  "$py" - "$1" "$plat" <<'PY'
import glob, os, subprocess, sys, tempfile, zipfile
wheels = glob.glob(os.path.join(sys.argv[1], "*.whl"))
assert len(wheels) == 1, wheels
name = os.path.basename(wheels[0])
tag = name.split("-", 2)[2][: -len(".whl")]
assert tag == f"py3-none-{sys.argv[2]}", f"{name}: tag {tag}, expected py3-none-{sys.argv[2]}"
with zipfile.ZipFile(wheels[0]) as z:
    names = z.namelist()
    assert "wskit/libwskit.so" in names, names
    assert "wskit/_native.py" in names and "wskit/py.typed" in names, names
    meta = [n for n in names if n.endswith(".dist-info/WHEEL")]
    wheel = z.read(meta[0]).decode()
    assert "Root-Is-Purelib: false" in wheel and f"Tag: py3-none-{sys.argv[2]}" in wheel, wheel
    readme = z.read([n for n in names if n.endswith(".dist-info/METADATA")][0]).decode()
    assert "# wskit for Python" in readme, "the long description (bindings/python/README.md) is missing"
    with tempfile.TemporaryDirectory() as d:
        lib = z.extract("wskit/libwskit.so", d)
        sections = subprocess.run(["objdump", "-h", lib], capture_output=True, text=True).stdout
        assert ".debug_info" not in sections, "libwskit.so was not stripped"
        symbols = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True).stdout
        assert " wskit_version_number" in symbols and " wskit_ctx_next_events" in symbols
print(f"python-wheel: {name}, {os.path.getsize(wheels[0]):,} bytes")
PY
}
check "offline wheel: py3-none-$plat, libwskit.so (stripped) inside, README as description" inspect "$tmp/offline"
check "isolated wheel: py3-none-$plat, libwskit.so (stripped) inside, README as description" inspect "$tmp/isolated"

# ----- a fresh venv, a clean environment ----------------------------------------------------------
wheel=$(ls "$tmp"/offline/*.whl 2>/dev/null | head -1)
check "fresh venv" python3 -m venv "$tmp/venv"
check "pip install the wheel (--no-index: no network)" \
  "$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "${wheel:-missing.whl}"

port=$(bash scripts/free-port.sh)
"$py" bench/peers/py_websockets_echo.py "127.0.0.1:$port" >"$tmp/peer.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q listening "$tmp/peer.log" 2>/dev/null && break
  sleep 0.1
done

cat >"$tmp/roundtrip.py" <<'PY'
"""Echo round trips with the installed wheel: wskit to wskit, and wskit to Python websockets."""
import os, sys, threading
import wskit

site = os.path.dirname(os.path.dirname(os.path.abspath(wskit.__file__)))
assert wskit.library_path == os.path.join(site, "wskit", "libwskit.so"), wskit.library_path
assert sys.prefix in wskit.__file__, (sys.prefix, wskit.__file__)

# wskit server (callbacks) and the blocking wskit client, in one process.
ctx = wskit.Context(on_message=lambda conn, data: conn.send(data))
port = ctx.listen("127.0.0.1", 0)
got = []
def client():
    try:
        with wskit.connect(f"ws://127.0.0.1:{port}/") as ws:
            ws.send("hello")
            got.append(ws.recv(timeout=5))
            ws.send(b"\x00\xff")
            got.append(ws.recv(timeout=5))
    finally:
        ctx.stop()
t = threading.Thread(target=client)
t.start()
ctx.run()
t.join()
ctx.close()
assert got == ["hello", b"\x00\xff"], got

# The wskit client against Python websockets' echo server.
with wskit.connect(f"ws://127.0.0.1:{sys.argv[1]}/") as ws:
    ws.send("to websockets")
    assert ws.recv(timeout=5) == "to websockets"
print("roundtrip: ok, library", wskit.library_path)
PY
cd "$tmp"
check "echo round trips from the fresh venv (env -i, cwd outside the checkout)" \
  env -i PATH=/usr/bin:/bin HOME="$HOME" "$tmp/venv/bin/python" "$tmp/roundtrip.py" "$port"
check "the bundled library wins over \$WSKIT_LIBRARY" \
  env -i PATH=/usr/bin:/bin HOME="$HOME" WSKIT_LIBRARY=/nonexistent/libwskit.so \
  "$tmp/venv/bin/python" "$tmp/roundtrip.py" "$port"
cd "$ROOT"

echo "python-wheel: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
