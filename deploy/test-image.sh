#!/usr/bin/env bash
# Runs the image that deploy/build-image.sh built, with podman, and checks that it serves
# Academemes: first on its own redb store, then twice on an etcd this script starts (a pod
# seeding an empty store, then a new pod joining the seeded one). Everything listens on
# 127.0.0.1 only; the containers and etcd are stopped and removed on exit, however it ends.
#
#   deploy/test-image.sh                  # IMAGE=nebula-academemes:latest
#   PORT=18580 APORT=18590 ETCD_PORT=23890 deploy/test-image.sh
#
# Each start checks: /readyz on the admin port within the deadline; every component loaded from
# the image's compile cache (the log) and no compilation after the first request; `GET /` is 200
# with Academemes on it; one vote over HTTP moves the meme's count by one, on the API and on a
# fresh read; /metrics is Prometheus text and its call counter moved. It prints the image's size
# and each start's cold start time (`podman run` → first 200 on `GET /`).
#
# The containers share the host's network namespace (`--network host`) and are told to listen on
# 127.0.0.1: the alternative, podman's bridge with `-p 127.0.0.1:PORT:8080`, sends the traffic
# on to the container's address on the bridge (10.88.0.0/16), and an etcd on the host would
# have to listen on the bridge too. deploy/README.md says more.
#
# Two settings of this machine's sandbox (deploy/README.md): crun refuses its hybrid cgroup
# layout ("cgroups in hybrid mode not supported"), so runc (Debian's `runc`) runs the containers
# when it is installed (OCI_RUNTIME overrides); and podman's default limits for root (1048576
# processes and files) are above what this shell may set, so the containers get explicit ones.
set -euo pipefail
cd "$(dirname "$0")/.."
image="${IMAGE:-nebula-academemes:latest}"
port="${PORT:-18580}"
aport="${APORT:-18590}"
etcd_port="${ETCD_PORT:-23890}"
etcd_peer=$((etcd_port + 1))
# How long a start may take: an empty store is seeded first (16 memes rendered by a component).
# A poll still under way at the deadline may add its own 5 s (curl --max-time).
deadline_s="${DEADLINE:-180}"

# What it runs besides podman, from Debian: etcd (etcd-server) and runc (above); curl and ss.
missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
[ -n "${OCI_RUNTIME:-}" ] || command -v runc >/dev/null 2>&1 || missing+=(runc)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-image.sh: installing ${missing[*]} (Debian)"
  apt-get install -y -qq "${missing[@]}" >/dev/null ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null; }
fi
runtime="${OCI_RUNTIME:-$(command -v runc || true)}"
run_opts=(--ulimit nofile=16384:16384 --ulimit nproc=8192:8192)
[ -z "$runtime" ] || run_opts+=(--runtime "$runtime")

base="http://127.0.0.1:$port"
admin="http://127.0.0.1:$aport"
work=$(mktemp -d -t nebula-image-test.XXXXXX)
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
containers=()
etcd_pid=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for c in "${containers[@]}"; do
    podman rm -f -t 5 "$c" >/dev/null 2>&1 || true
  done
  if [ -n "$etcd_pid" ]; then
    kill "$etcd_pid" 2>/dev/null || true
    wait "$etcd_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "test-image.sh: FAIL: $*" >&2
  if [ -n "${current:-}" ]; then
    echo "---- last lines of the log of $current ----" >&2
    podman logs --tail 40 "$current" >&2 || true
  fi
  exit 1
}
say() { echo "test-image.sh: $*"; }

# Milliseconds since the epoch.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

for p in "$port" "$aport" "$etcd_port" "$etcd_peer"; do
  if ss -Hltn "sport = :$p" | grep -q .; then
    fail "port $p is taken on this machine; choose others with PORT, APORT and ETCD_PORT"
  fi
done
podman image exists "$image" || fail "no image $image here; build it with deploy/build-image.sh"
say "image $image: $(podman image inspect --format '{{.Size}}' "$image") bytes ($(podman image inspect --format '{{.Id}}' "$image" | cut -c1-12))"

# An HTTP status, or 000 when nothing answered.
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }

# Starts a container named $1 with podman options $2…, waits for it to serve, and sets
# `cold_ms` (podman run → first 200 on GET /) and `current` (the container).
start() {
  local name=$1
  shift
  local t0
  # Listed before it exists: a `podman run` that fails may leave a created container behind.
  containers+=("$name")
  current=$name
  t0=$(now_ms)
  podman run -d --name "$name" --network host "${run_opts[@]}" \
    -e ACADEMEMES_ADMIN_TOKEN="$token" "$@" \
    "$image" up /app/manifests/academemes.toml \
    --listen "127.0.0.1:$port" --admin "127.0.0.1:$aport" >/dev/null ||
    fail "$name: podman run failed"
  local until=$((t0 + deadline_s * 1000)) polls=0
  # The site's listener is bound before the components load: poll GET / itself, bounded.
  until [ "$(status "$base/")" = 200 ]; do
    [ "$(now_ms)" -lt "$until" ] || fail "$name: no 200 on GET / within ${deadline_s}s"
    polls=$((polls + 1))
    if [ $((polls % 20)) = 0 ] &&
      [ "$(podman inspect --format '{{.State.Running}}' "$name")" != true ]; then
      fail "$name: the container stopped before serving"
    fi
    sleep 0.05
  done
  cold_ms=$(($(now_ms) - t0))
  until [ "$(status "$admin/readyz")" = 200 ]; do
    [ "$(now_ms)" -lt "$until" ] || fail "$name: /readyz is not 200 within ${deadline_s}s"
    sleep 0.05
  done
}

# The compile cache warmed at build time serves every component: the log says `loaded from
# cache` once per component and never that something was compiled (now or on a request).
check_no_compilation() {
  local log components
  log=$(podman logs "$current" 2>&1)
  components=$(grep -c '^\[components\.' manifests/academemes.toml)
  [ "$(grep -c 'loaded from cache' <<<"$log")" = "$components" ] ||
    fail "$current: $(grep -c 'loaded from cache' <<<"$log") of $components components loaded from the compile cache"
  if grep -E 'compiled in|baseline code|compile cache entry' <<<"$log"; then
    fail "$current: a component was compiled in the container"
  fi
}

# `"name":123` → 123, the first one in the JSON on stdin.
json_number() { grep -o "\"$1\":-\?[0-9]*" | head -1 | cut -d: -f2; }
json_string() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4; }

# The sum of a counter's samples (all labels) in /metrics, after checking every line is
# Prometheus text: a comment, or `name{labels} value`.
metric_sum() {
  local text
  text=$(curl -fsS --max-time 5 "$admin/metrics") || fail "$current: GET /metrics failed"
  local bad
  bad=$(grep -vE '^(#.*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+]?([0-9.eE+-]+|NaN|Inf)( [0-9]+)?)?$' <<<"$text" | head -3)
  [ -z "$bad" ] || fail "$current: /metrics has lines that are not Prometheus text: $bad"
  grep -E "^$1(\{| )" <<<"$text" | awk '{ s += $NF } END { printf "%d\n", s }'
}

# The checks every start must pass; $1 names the store in the messages.
check_site() {
  local what=$1
  check_no_compilation
  local home
  home=$(curl -fsS --max-time 10 "$base/") || fail "$what: GET / failed"
  grep -q 'Academemes' <<<"$home" || fail "$what: GET / has no Academemes on it"
  grep -q 'href="/memes/' <<<"$home" || fail "$what: GET / lists no meme"

  local calls_before id votes_before vote votes_after calls_after
  calls_before=$(metric_sum nebula_component_calls_total)
  id=$(curl -fsS --max-time 10 "$base/api/memes?limit=1" | json_string id)
  [ -n "$id" ] || fail "$what: /api/memes lists no meme"
  votes_before=$(curl -fsS --max-time 10 "$base/api/memes/$id" | json_number votes)
  vote=$(curl -fsS --max-time 10 -X POST "$base/api/memes/$id/vote") || fail "$what: the vote failed"
  [ "$(json_number votes <<<"$vote")" = $((votes_before + 1)) ] ||
    fail "$what: voted on $id with $votes_before votes and the reply says $vote"
  votes_after=$(curl -fsS --max-time 10 "$base/api/memes/$id" | json_number votes)
  [ "$votes_after" = $((votes_before + 1)) ] ||
    fail "$what: $id has $votes_after votes after one vote on $votes_before"
  calls_after=$(metric_sum nebula_component_calls_total)
  [ "$calls_after" -gt "$calls_before" ] ||
    fail "$what: nebula_component_calls_total did not move ($calls_before → $calls_after)"
  check_no_compilation
  voted_id=$id
  voted_count=$votes_after
  say "$what: cold start ${cold_ms} ms to the first 200; every component from the compile cache; GET / 200; vote on $id: $votes_before → $votes_after; component calls $calls_before → $calls_after"
}

# Stops the current container as an orchestrator would (SIGTERM, drain) and checks it exited 0.
stop_current() {
  podman stop -t 20 "$current" >/dev/null
  local code
  code=$(podman inspect --format '{{.State.ExitCode}}' "$current")
  [ "$code" = 0 ] || fail "$current exited with $code after SIGTERM"
  podman rm "$current" >/dev/null
  current=""
}

# 0. Without the moderators' token the host refuses to start, and says why.
current="nebula-image-test-$$-tokenless"
containers+=("$current")
if podman run --name "$current" --network host "${run_opts[@]}" "$image" \
  up /app/manifests/academemes.toml --listen "127.0.0.1:$port" --admin "127.0.0.1:$aport" \
  >"$work/tokenless.log" 2>&1; then
  fail "the image started without ACADEMEMES_ADMIN_TOKEN"
fi
# shellcheck disable=SC2016 # the backquotes are the host's message, not a command
grep -q 'needs a bearer token in environment variable `ACADEMEMES_ADMIN_TOKEN`' "$work/tokenless.log" ||
  fail "without ACADEMEMES_ADMIN_TOKEN the image exits without saying why"
podman rm "$current" >/dev/null
say "without ACADEMEMES_ADMIN_TOKEN: exits 1 and names the variable"

# 1. The image as it is: redb in its /var/lib/nebula/data.
start "nebula-image-test-$$-redb"
check_site "redb"
redb_ms=$cold_ms
stop_current

# 2. On etcd, started here as scripts/cluster.sh starts its members (one member is enough here).
etcd --name image-test --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-cluster "image-test=http://127.0.0.1:$etcd_peer" --initial-cluster-state new \
  --max-txn-ops 4096 >"$work/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 100); do
  curl -fsS --max-time 1 "http://127.0.0.1:$etcd_port/health" 2>/dev/null | grep -q true && break
  sleep 0.1
done
curl -fsS --max-time 1 "http://127.0.0.1:$etcd_port/health" | grep -q true ||
  { tail -20 "$work/etcd.log" >&2; fail "etcd did not come up on 127.0.0.1:$etcd_port"; }
store="etcd://127.0.0.1:$etcd_port/academemes-image-test"

start "nebula-image-test-$$-etcd-1" -e NEBULA_STORE="$store"
check_site "etcd, empty store"
etcd_ms=$cold_ms
first_id=$voted_id
first_count=$voted_count
stop_current

# A new container on the seeded store: what a new pod costs, and the vote outlived its host.
start "nebula-image-test-$$-etcd-2" -e NEBULA_STORE="$store"
seen=$(curl -fsS --max-time 10 "$base/api/memes/$first_id" | json_number votes)
[ "$seen" = "$first_count" ] ||
  fail "etcd: $first_id has $seen votes in a new container, $first_count before"
check_site "etcd, seeded store"
joined_ms=$cold_ms
stop_current

say "ok: cold start (podman run → first 200 on GET /): redb ${redb_ms} ms, etcd empty ${etcd_ms} ms (both seed 16 memes), etcd seeded ${joined_ms} ms"
