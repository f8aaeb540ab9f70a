#!/usr/bin/env bash
# Python binding tests: builds libwskit (cargo build --release), installs bindings/python into the
# peers venv (.peers/venv, from scripts/setup-peers.sh: Python `websockets` + pytest) as an editable
# install that finds the library in target/release, and runs pytest on bindings/python/tests.
# Type-checks the package with `mypy --strict` first. Ends with pytest's summary line.
#
# Usage: scripts/test-python.sh [--bundle] [pytest args...]
#   --bundle   also copy target/release/libwskit.so into bindings/python/src/wskit/ (what a
#              wheel would ship; found before target/release) and run the tests against that copy
# Environment: WSKIT_PEERS_DIR (as scripts/setup-peers.sh), WSKIT_LIBRARY (use this library).
set -euo pipefail
cd "$(dirname "$0")/.."

bundle=0
if [ "${1:-}" = "--bundle" ]; then bundle=1; shift; fi

cargo build --release --locked --quiet
if [ ! -x "${WSKIT_PEERS_DIR:-.peers}/venv/bin/python" ]; then
  bash scripts/setup-peers.sh
fi
peers=$(cd "${WSKIT_PEERS_DIR:-.peers}" && pwd)
py="$peers/venv/bin/python"

pkg=bindings/python/src/wskit
rm -f "$pkg"/libwskit.so*
if [ "$bundle" = 1 ]; then
  cp -f target/release/libwskit.so "$pkg/libwskit.so"
  trap 'rm -f "$pkg"/libwskit.so*' EXIT
fi

# Editable install (pip fetches setuptools/wheel for the build). Offline, fall back to a .pth file
# naming bindings/python/src, which is what an editable install amounts to.
if ! "$py" -m pip install --quiet --disable-pip-version-check -e ./bindings/python >/dev/null 2>&1; then
  site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$(pwd)/bindings/python/src" >"$site/wskit-dev.pth"
  echo "test-python: pip install -e failed (offline?); using $site/wskit-dev.pth" >&2
fi
"$py" -c 'import wskit, sys; print(f"test-python: wskit {wskit.library_version} from {wskit.library_path}", file=sys.stderr)'

# The whole package is type-checked strictly (mypy from scripts/setup-peers.sh; it has no
# third-party imports, and --no-site-packages keeps an editable install of another checkout out
# of the check); a type error fails the run before the tests start.
if ! "$py" -m mypy --version >/dev/null 2>&1; then
  bash scripts/setup-peers.sh
fi
(cd bindings/python && "$py" -m mypy --strict --no-site-packages --cache-dir=/dev/null src/wskit)

# Not exec: the EXIT trap must still remove a bundled copy.
(cd bindings/python && "$py" -m pytest -p no:cacheprovider -q "${@:-tests}")
