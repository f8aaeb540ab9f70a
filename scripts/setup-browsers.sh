#!/usr/bin/env bash
# Installs the real browsers and WebDriver servers used by tests/browsers.rs:
# Chromium + chromedriver, Firefox ESR and certutil (libnss3-tools) from Debian's packages, geckodriver built from crates.io
# (Debian 12 has no geckodriver package) into /opt/wskit-browsers/cargo (or $WSKIT_BROWSERS_DIR/cargo), outside the checkout
# so that every clone on the machine (CI runs in a fresh one) reuses the build.
# Idempotent; meant for a fresh Debian 12 machine as root (CI); fast when everything is present.
# The first run takes a few minutes: apt (~1-2 min) and compiling geckodriver (~3-5 min on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: change it here only (tests/browsers.rs does not care which version it finds).
GECKODRIVER_VERSION=0.37.1

BROWSERS_DIR="${WSKIT_BROWSERS_DIR:-/opt/wskit-browsers}"
mkdir -p "$BROWSERS_DIR"
BROWSERS_DIR="$(cd "$BROWSERS_DIR" && pwd)"
CARGO_ROOT="$BROWSERS_DIR/cargo"
GECKODRIVER="$CARGO_ROOT/bin/geckodriver"

log() { echo "setup-browsers: $*"; }

# --- Debian packages ----------------------------------------------------------------------------
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
# certutil: the wss:// browser tests put their test CA into the test profile's NSS database.
command -v certutil >/dev/null || missing+=(libnss3-tools)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-browsers: missing ${missing[*]}; install them (needs root)" >&2
    exit 1
  fi
  # Update the package lists only when they do not know the packages (fresh image) or are stale.
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1 \
    || [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
  fi
  log "apt-get install ${missing[*]} (a minute or two on a fresh machine)"
  start=$SECONDS
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "apt-get install took $((SECONDS - start)) s"
else
  log "chromium, chromedriver, firefox-esr, certutil already installed"
fi

# --- geckodriver ----------------------------------------------------------------------------------
gecko_ok() {
  # Capture, then compare (no `| grep -q`: under pipefail its early exit can fail the pipe).
  local version
  version=$("$GECKODRIVER" --version 2>/dev/null) || return 1
  [ "${version%%$'\n'*}" = "geckodriver $GECKODRIVER_VERSION" ]
}
if gecko_ok; then
  log "geckodriver $GECKODRIVER_VERSION already installed"
else
  if ! command -v cargo >/dev/null; then
    echo "setup-browsers: cargo is required to build geckodriver" >&2
    exit 1
  fi
  log "cargo install geckodriver $GECKODRIVER_VERSION into $CARGO_ROOT (compiles for a few minutes)"
  start=$SECONDS
  # Progress: cargo prints a line per crate compiled; a heartbeat covers long silent steps.
  (while sleep 30; do log "  ... still building geckodriver ($((SECONDS - start)) s)"; done) &
  heartbeat=$!
  trap 'kill "$heartbeat" 2>/dev/null || true' EXIT
  cargo install geckodriver --version "=$GECKODRIVER_VERSION" --locked --root "$CARGO_ROOT" --force
  kill "$heartbeat" 2>/dev/null || true
  trap - EXIT
  gecko_ok || { echo "setup-browsers: geckodriver install did not verify" >&2; exit 1; }
  log "geckodriver built in $((SECONDS - start)) s"
fi

# --- report ---------------------------------------------------------------------------------------
log "$(chromium --version 2>/dev/null | head -1)"
log "$(chromedriver --version 2>/dev/null | head -1)"
log "$(firefox-esr --version 2>/dev/null | head -1)"
gecko_version=$("$GECKODRIVER" --version)
log "${gecko_version%%$'\n'*} ($GECKODRIVER)"
