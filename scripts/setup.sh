#!/usr/bin/env bash
# Installs what building and testing Nebula needs on a fresh machine. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# The toolchain file names the wasm target, but RUSTUP_AUTO_INSTALL=0 machines won't add it.
rustup target add wasm32-wasip2 >/dev/null
