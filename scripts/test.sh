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

step "guest crates: native unit and doc tests"
# Every crate of the guest workspace, built for the machine rather than wasm so the test harness
# runs (a new crate's tests run without being listed here).
(cd components && cargo test --quiet --workspace --target "$(rustc -vV | sed -n 's/^host: //p')")

step "nebula-host check on every manifest"
# The same compile cache as the integration tests: checking compiles every component once, so the
# tests' hosts start from a warm cache.
cargo build --quiet -p nebula-host
# Wherever cargo put it: CARGO_TARGET_DIR (or a config's build.target-dir) may move `target/`.
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
export NEBULA_CACHE_DIR="$PWD/target/test-compile-cache"
for manifest in manifests/*.toml; do
  start=$SECONDS
  "$target_dir/debug/nebula-host" check "$manifest"
  echo "checked $manifest in $((SECONDS - start))s"
done
unset NEBULA_CACHE_DIR

step "deploy: Kubernetes manifests against the Kubernetes schemas"
deploy/validate.sh

step "cargo test (unit, integration on redb and etcd, etcd and HAProxy fault tests, browser)"
cargo test --workspace
