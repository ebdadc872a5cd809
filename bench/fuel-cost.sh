#!/bin/bash
# What fuel metering (`limits.fuel`, docs/operations.md) costs: the same component with and
# without fuel checks, alternating in one run, host CPU per request from /proc/PID/stat.
# Scenarios: the pure hello (`memo = false`, a call per request) and three compute kernels.
# Usage: bench/fuel-cost.sh [NEBULA_HOST_BINARY] [ROUNDS]   (needs wrk, curl, bc; guests built)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release/nebula-host}
rounds=${2:-3}
guests=$root/target/guests/wasm32-wasip2/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One manifest per mode; `fuel` is far above what any request here burns.
for mode in plain fuel; do
  extra=""
  [ "$mode" = fuel ] && extra=', fuel = 1_000_000_000_000'
  cat >"$work/$mode.toml" <<TOML
version = 1
[components.hello]
path = "$guests/hello.wasm"
limits = { timeout = "60s"$extra }
[components.compute]
path = "$guests/compute.wasm"
limits = { memory = "512 MiB", timeout = "60s"$extra }
[[routes]]
route = "GET /noop/{name}"
component = "hello"
memo = false
[[routes]]
route = "GET /compute/{bench}/{n}"
component = "compute"
memo = false
TOML
done

# scenario = path, requests (the hello: wrk for 5 s instead)
scenarios=("/noop/x 0" "/compute/mandelbrot/1000 6" "/compute/nbody/1000000 6" "/compute/fannkuch-redux/9 6")
for round in $(seq 1 "$rounds"); do
  for scenario in "${scenarios[@]}"; do
    read -r path count <<<"$scenario"
    for mode in plain fuel; do
      port=$((18000 + RANDOM % 1000))
      NEBULA_TIERS=optimized RUST_LOG=warn "$bin" up "$work/$mode.toml" \
        --listen 127.0.0.1:$port --data "$work/data-$mode-$round" --cache-dir "$work/cache" >/dev/null 2>&1 &
      pid=$!
      url=http://127.0.0.1:$port$path
      for _ in $(seq 1 600); do curl -sf "$url" >/dev/null && break; sleep 0.1; done
      if [ "$count" = 0 ]; then
        wrk -t1 -c4 -d2s "$url" >/dev/null
        t0=$(awk '{print $14+$15}' /proc/$pid/stat)
        reqs=$(wrk -t1 -c4 -d5s "$url" | awk '/requests in/{print $1}')
      else
        t0=$(awk '{print $14+$15}' /proc/$pid/stat)
        for _ in $(seq 1 "$count"); do curl -sf "$url" >/dev/null || echo "failed: $url" >&2; done
        reqs=$count
      fi
      t1=$(awk '{print $14+$15}' /proc/$pid/stat)
      # Ticks are 10 ms: CPU µs per request = ticks × 10000 / requests.
      echo "round=$round path=$path mode=$mode requests=$reqs cpu_us_per_req=$(echo "($t1-$t0)*10000/$reqs" | bc -l | cut -c1-9)"
      kill $pid; wait $pid 2>/dev/null
    done
  done
done
