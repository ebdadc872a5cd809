#!/usr/bin/env bash
# Installs what building and testing Nebula needs on a fresh machine. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# The toolchain file names the wasm target, but RUSTUP_AUTO_INSTALL=0 machines won't add it.
rustup target add wasm32-wasip2 >/dev/null

# The browser test (tests/integration/browser.rs runs tests/browser/academemes.mjs): Debian's
# Chromium (a test tool's own browser download cannot work here), and playwright-core pinned by
# tests/browser/package-lock.json.
if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup.sh: Node.js 20 or later with npm is needed for the browser test (tests/browser)" >&2
  exit 1
fi
# `npm ci` when node_modules is missing or older than the lockfile (it reinstalls from scratch).
if [ ! -f tests/browser/node_modules/.package-lock.json ] ||
   [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
