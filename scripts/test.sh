#!/usr/bin/env bash
# Runs everything CI runs: formatting, lints, and all tests (unit, integration, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check
(cd components && cargo fmt --all --check)

step "cargo clippy (host, tests)"
cargo clippy --workspace --all-targets -- -D warnings

step "guest components: build and clippy (wasm32-wasip2)"
start=$(date +%s)
(cd components && cargo build --release && cargo clippy --release -- -D warnings)
echo "guest components built in $(( $(date +%s) - start ))s"

step "guest libraries: native unit tests"
(cd components && cargo test --target x86_64-unknown-linux-gnu -p nebula-guest -p memegen -p academemes-core)

step "cargo test (unit, integration, browser)"
cargo test --workspace
