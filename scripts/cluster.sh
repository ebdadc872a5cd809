#!/usr/bin/env bash
# Academemes on a local cluster, all on 127.0.0.1: 3 etcd members, 3 nebula-host processes on
# that etcd, and HAProxy in front of them on one port (default 8080). Ctrl-C stops everything.
#
#   scripts/cluster.sh [MANIFEST]          # default manifests/academemes.toml
#   PORT=9000 scripts/cluster.sh           # the site's port
#   CLUSTER_DIR=/tmp/c scripts/cluster.sh  # where etcd data and logs go (default: a temp folder)
#
# The same pieces on several machines: README "Running on several machines".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

manifest="${1:-manifests/academemes.toml}"
port="${PORT:-8080}"
dir="${CLUSTER_DIR:-$(mktemp -d -t nebula-cluster.XXXXXX)}"
mkdir -p "$dir"
echo "cluster.sh: data and logs in $dir"

# Ports: etcd clients 23791-23793, peers 23801-23803; hosts 18081-18083, their admin listeners
# 19081-19083; HAProxy statistics on 18404.
etcd_client=(23791 23792 23793)
etcd_peer=(23801 23802 23803)
host_port=(18081 18082 18083)
admin_port=(19081 19082 19083)

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "cluster.sh: stopping ${#pids[@]} processes"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  exit 0
}
trap stop INT TERM EXIT

cargo build --release -p nebula-host
target/release/nebula-host check "$manifest" >/dev/null 2>&1 || {
  echo "cluster.sh: building the components (up --build)"
  scripts/build-guests.sh
}

initial=""
for i in 0 1 2; do
  initial+="${initial:+,}m$i=http://127.0.0.1:${etcd_peer[$i]}"
done
for i in 0 1 2; do
  # --max-txn-ops: one request's writes are one transaction (the seed holds a few hundred
  # operations); docs/stores.md lists the settings a production cluster wants.
  etcd --name "m$i" --data-dir "$dir/etcd-m$i" \
    --listen-client-urls "http://127.0.0.1:${etcd_client[$i]}" \
    --advertise-client-urls "http://127.0.0.1:${etcd_client[$i]}" \
    --listen-peer-urls "http://127.0.0.1:${etcd_peer[$i]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${etcd_peer[$i]}" \
    --initial-cluster "$initial" --initial-cluster-state new \
    --max-txn-ops 4096 --auto-compaction-mode periodic --auto-compaction-retention 1h \
    >"$dir/etcd-m$i.log" 2>&1 &
  pids+=($!)
done
for i in 0 1 2; do
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:${etcd_client[$i]}/health" 2>/dev/null | grep -q true && break
    sleep 0.1
  done
done
echo "cluster.sh: etcd is up on 127.0.0.1:${etcd_client[0]},${etcd_client[1]},${etcd_client[2]}"

store="etcd://127.0.0.1:${etcd_client[0]},127.0.0.1:${etcd_client[1]},127.0.0.1:${etcd_client[2]}/academemes"
for i in 0 1 2; do
  NEBULA_STORE="$store" target/release/nebula-host up "$manifest" \
    --listen "127.0.0.1:${host_port[$i]}" --admin "127.0.0.1:${admin_port[$i]}" \
    >"$dir/host-$i.log" 2>&1 &
  pids+=($!)
done
for i in 0 1 2; do
  for _ in $(seq 600); do
    curl -fsS "http://127.0.0.1:${admin_port[$i]}/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
done

cat >"$dir/haproxy.cfg" <<EOF
global
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch 1
  retry-on conn-failure
frontend app
  bind 127.0.0.1:$port
  default_backend hosts
backend hosts
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1
  server h0 127.0.0.1:${host_port[0]} check port ${admin_port[0]}
  server h1 127.0.0.1:${host_port[1]} check port ${admin_port[1]}
  server h2 127.0.0.1:${host_port[2]} check port ${admin_port[2]}
listen stats
  bind 127.0.0.1:18404
  stats enable
  stats uri /
EOF
haproxy -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
pids+=($!)

echo "cluster.sh: Academemes on http://127.0.0.1:$port/ (3 hosts behind HAProxy; statistics on http://127.0.0.1:18404/)"
echo "cluster.sh: Ctrl-C stops everything"
wait -n "${pids[@]}" || true
echo "cluster.sh: a process ended; see the logs in $dir"
