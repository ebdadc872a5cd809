#!/usr/bin/env bash
# Runs everything CI runs: formatting, lints, every guest build, a check of every manifest, and
# all tests (unit, integration, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check
(cd components && cargo fmt --all --check)

step "cargo clippy (host and tests)"
cargo clippy --workspace --all-targets -- -D warnings

step "guest components: build, then clippy"
scripts/build-guests.sh
(cd components && cargo clippy --release --quiet -- -D warnings)

step "guest libraries: native unit tests"
(cd components && cargo test --quiet --target x86_64-unknown-linux-gnu -p nebula-guest -p memegen -p academemes-core -p academemes-image -p generator)

step "nebula-host check on every manifest"
# The same compile cache as the integration tests: checking compiles every component once, so the
# tests' hosts start from a warm cache.
cargo build --quiet -p nebula-host
export NEBULA_CACHE_DIR="$PWD/target/test-compile-cache"
for manifest in manifests/*.toml; do
  start=$SECONDS
  target/debug/nebula-host check "$manifest"
  echo "checked $manifest in $((SECONDS - start))s"
done
unset NEBULA_CACHE_DIR

step "cargo test (unit, integration, browser)"
cargo test --workspace
