#!/usr/bin/env bash
# Builds the host and the demo's components, then serves the demo manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
manifest="${1:-manifests/academemes.toml}"
shift || true
cargo build --release -p nebula-host
# Academemes' moderation routes need a token (the host refuses to start without it): make one
# on first use, keep it beside the data (readable by this user only), and say where it is.
if [ -z "${ACADEMEMES_ADMIN_TOKEN:-}" ] && grep -q ACADEMEMES_ADMIN_TOKEN "$manifest"; then
  token_file=manifests/data/academemes-admin-token
  if [ ! -s "$token_file" ]; then
    mkdir -p manifests/data
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$token_file")
  fi
  ACADEMEMES_ADMIN_TOKEN=$(cat "$token_file")
  export ACADEMEMES_ADMIN_TOKEN
  echo "up.sh: the moderation page /admin asks for the token in $token_file" >&2
fi
# Wherever cargo put it: CARGO_TARGET_DIR (or a config's build.target-dir) may move `target/`.
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
exec "$target_dir/release/nebula-host" up "$manifest" --build "$@"
