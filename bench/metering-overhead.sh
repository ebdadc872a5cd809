#!/bin/bash
# Metering's own cost (docs/operations.md): the pure hello behind its `memo = false` route, wrk
# runs with NEBULA_METERING on and off alternating, host CPU per request from /proc/PID/stat.
# Usage: bench/metering-overhead.sh [NEBULA_HOST_BINARY] [ROUNDS]   (needs wrk, curl, bc)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release/nebula-host}
rounds=${2:-5}
manifest=$root/bench/manifests/hello.toml
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
for round in $(seq 1 "$rounds"); do
  for mode in on off; do
    port=$((18000 + RANDOM % 1000))
    data=$(mktemp -d)
    NEBULA_METERING=$mode NEBULA_TIERS=optimized RUST_LOG=warn "$bin" up "$manifest" \
      --listen 127.0.0.1:$port --data "$data/data" --cache-dir "$cache" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/noop/x >/dev/null && break; sleep 0.1; done
    wrk -t1 -c4 -d2s http://127.0.0.1:$port/noop/x >/dev/null
    t0=$(awk '{print $14+$15}' /proc/$pid/stat)
    out=$(wrk -t1 -c4 -d5s http://127.0.0.1:$port/noop/x)
    t1=$(awk '{print $14+$15}' /proc/$pid/stat)
    reqs=$(echo "$out" | awk '/requests in/{print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
    # Ticks are 10 ms: CPU µs per request = ticks × 10000 / requests.
    echo "$mode rps=$rps cpu_us_per_req=$(echo "($t1-$t0)*10000/$reqs" | bc -l | cut -c1-7)"
    kill $pid; wait $pid 2>/dev/null; rm -rf "$data"
  done
done
