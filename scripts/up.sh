#!/usr/bin/env bash
# Builds the host and the demo's components, then serves the demo manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
manifest="${1:-manifests/academemes.toml}"
shift || true
cargo build --release -p nebula-host
exec target/release/nebula-host up "$manifest" --build "$@"
