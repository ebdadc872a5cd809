#!/usr/bin/env bash
# Retakes docs/academemes-home.png, the README's picture: Academemes as a new visitor sees it right
# after its first start (only the seeded memes), in headless chromium at 1280 x 800.
#   scripts/screenshot.sh [NEBULA_HOST_BINARY]   (default: the debug build, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
host="${1:-target/debug/nebula-host}"
[ -x "$host" ] || cargo build -p nebula-host
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ACADEMEMES_ADMIN_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n') \
  "$host" up manifests/academemes.toml --listen "127.0.0.1:$port" --data "$data" >"$data/host.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 300); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 1
done
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,800 \
  --virtual-time-budget=10000 --screenshot=docs/academemes-home.png "http://127.0.0.1:$port/" 2>/dev/null
echo "screenshot.sh: wrote docs/academemes-home.png"
