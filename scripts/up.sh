#!/usr/bin/env bash
# Builds the host and the demo's components, then serves the demo manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
manifest="${1:-manifests/academemes.toml}"
shift || true
cargo build --release -p nebula-host
# Wherever cargo put it: CARGO_TARGET_DIR (or a config's build.target-dir) may move `target/`.
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
exec "$target_dir/release/nebula-host" up "$manifest" --build "$@"
