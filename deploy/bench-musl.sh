#!/usr/bin/env bash
# What the image's static musl host costs against the glibc release build: home-page and
# `/api/memes` req/s with wrk, the two binaries alternating for ROUNDS rounds on copies of one
# seeded redb, each on optimized code from a compile cache warmed by itself. Loopback only;
# every host is stopped after its round. Prints each round, then min / median / max and the
# ratio of the medians.
#
#   deploy/build-image.sh && cargo build --release -p nebula-host && deploy/bench-musl.sh
#   ROUNDS=5 PORT=18580 deploy/bench-musl.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-5}"
port="${PORT:-18580}"
declare -A bin=([musl]=target/image/context/nebula-host [glibc]=target/release/nebula-host)
for which in musl glibc; do
  [ -x "${bin[$which]}" ] || {
    echo "bench-musl.sh: no ${bin[$which]}; run deploy/build-image.sh and cargo build --release -p nebula-host" >&2
    exit 1
  }
done
work=$(mktemp -d -t nebula-bench-musl.XXXXXX)
pid=""
cleanup() {
  [ -z "$pid" ] || { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
export ACADEMEMES_ADMIN_TOKEN=bench-musl-token-0123456789abcdef0123
export NEBULA_CACHE_DIR="$work/cache"

# Starts `which` on data folder $2 and waits (bounded) for its first 200.
start() {
  "${bin[$1]}" up manifests/academemes.toml --data "$2" --listen "127.0.0.1:$port" \
    --rate-limits off >"$work/$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/")" = 200 ] && return
    sleep 0.1
  done
  echo "bench-musl.sh: $1 did not serve within 60 s" >&2
  exit 1
}
stop() { kill "$pid"; wait "$pid" || true; pid=""; }

# The two builds target different triples, so their compile cache entries differ: each warms
# its own (the image's cache is useless to the glibc build, and the reverse).
for which in musl glibc; do "${bin[$which]}" check manifests/academemes.toml >/dev/null; done
start musl "$work/seed/data"
stop

paths=(/ "/api/memes?limit=12")
for round in $(seq "$rounds"); do
  for which in musl glibc; do
    rm -rf "$work/run" && cp -r "$work/seed" "$work/run"
    start "$which" "$work/run/data"
    if grep -qE 'compiled in|baseline code' "$work/$which.log"; then
      echo "bench-musl.sh: $which compiled a component; its cache is not warm" >&2
      exit 1
    fi
    for path in "${paths[@]}"; do
      rps=$(wrk -t2 -c32 -d5s "http://127.0.0.1:$port$path" | awk '/Requests\/sec/ { print $2 }')
      echo "round $round $which $path $rps" | tee -a "$work/results"
    done
    stop
  done
done

python3 - "$work/results" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    _, _, which, path, rps = line.split()
    runs.setdefault(path, {}).setdefault(which, []).append(float(rps))
for path, by in runs.items():
    for which, v in by.items():
        print(f"{path:22} {which:5} req/s min {min(v):7.0f}  median {statistics.median(v):7.0f}  max {max(v):7.0f}")
    ratio = statistics.median(by["musl"]) / statistics.median(by["glibc"])
    print(f"{path:22} musl / glibc at the median: {ratio:.2f}")
EOF
