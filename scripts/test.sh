#!/usr/bin/env bash
# Runs everything CI runs: formatting, lints, and all tests (unit, integration, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== cargo fmt --check"
cargo fmt --all --check
(cd components && cargo fmt --all --check)

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
(cd components && cargo clippy --release -- -D warnings)

echo "== cargo test"
cargo test --workspace
