#!/usr/bin/env python3
"""Store benchmark (issue #11, item 8): Academemes on redb against etcd, one host and three, and
the latency etcd adds per read round and per commit.

    python3 bench/store.py [--host PATH] [--duration 5] [--runs 3] [--markdown]

It needs what `bench/run.py` needs (a release `nebula-host`, the guests, `wrk`) plus Debian's
`etcd` and `haproxy` (scripts/setup.sh installs them); it does not build. Everything listens on
127.0.0.1 and nothing is pinned: the etcd members, the hosts, HAProxy and `wrk` share the
machine's cores, as they would on one small machine (the report says how many).

1. **Throughput** (wrk, a warm-up and `--runs` runs of `--duration` s each, at 1 and at 64
   connections): votes (`POST /api/memes/{id}/vote` on each seeded meme in turn,
   lua/votes.lua; no cookie, so every vote is a new visitor's: a read round and a commit) and
   the home page (`GET /`, memoized as
   Academemes ships it: on etcd every hit still reads the collections' versions linearizably),
   with rate limits off, on three set-ups started one after the other:
   - `redb`: one host on its embedded file;
   - `etcd`: one host on a 3-member etcd cluster (what `scripts/cluster.sh` starts);
   - `etcd-3`: three hosts on that cluster behind HAProxy (configured as `scripts/cluster.sh`
     does: round robin, health checks on each host's `/readyz`).
   The server CPU per request counts every process of the set-up (hosts, members, HAProxy).
2. **Latency** (wrk -c1, the median of each run): `components/effects-probe` on a small
   manifest, memo off, on redb, on a 1-member etcd and on the 3-member cluster:
   `GET /count/{key}` (one read round), `POST /count/{key}` (the same read and one commit),
   `GET /lookup/{key}` on a key that is not a link (one round) and on one whose value links
   through `kv` four times (five rounds, the most a request may take). Per extra read round:
   (five rounds − one round) / 4; per commit: POST − GET.

Results: bench/out/store.json; `--markdown` prints the section for RESULTS.md, with ratios to
redb from the same run.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import secrets
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import OPTIMIZED  # noqa: E402
from paths import ACADEMEMES, GUESTS, LUA, NCPU, OUT, RELEASE  # noqa: E402
from procfs import machine  # noqa: E402
from servers import Server, cleanup, free_port, log, request  # noqa: E402
from wrk import Wrk  # noqa: E402

# (label, method, path, wrk script, connections); `{id}` is a meme id.
THROUGHPUT = [
    ("vote", "POST", "/api/memes/{id}/vote", LUA / "votes.lua", 1),
    ("vote", "POST", "/api/memes/{id}/vote", LUA / "votes.lua", 64),
    ("home", "GET", "/", None, 1),
    ("home", "GET", "/", None, 64),
]
SETUPS = ["redb", "etcd", "etcd-3"]

PROBE_MANIFEST = """version = 1

[components.probe]
path = "{probe}"

[collections.kv]
indexes = ["by-body"]

[collections.hits]
counter = true

[[routes]]
route = "PUT /kv/{{key}}"
component = "probe"
may_write = ["kv"]

[[routes]]
route = "GET /lookup/{{key}}"
component = "probe"
reads = [{{ name = "hop0", op = "get", collection = "kv", key = "{{key}}" }}]
memo = false

[[routes]]
route = "GET /count/{{key}}"
component = "probe"
reads = [{{ name = "count", op = "counter", collection = "hits", key = "{{key}}" }}]
memo = false

[[routes]]
route = "POST /count/{{key}}"
component = "probe"
reads = [{{ name = "count", op = "counter", collection = "hits", key = "{{key}}" }}]
may_write = ["hits"]
"""
# A chain of links kv/c0 -> c1 -> ... -> c4 = "end": 1 declared read round + 4 `need` rounds
# (MAX_READ_ROUNDS in host/src/manifest/limits.rs).
CHAIN = 4
LATENCY = [
    ("read", "GET", "/count/x", None),
    ("read+commit", "POST", "/count/x", LUA / "post.lua"),
    ("lookup 1 round", "GET", "/lookup/plain", None),
    (f"lookup {CHAIN + 1} rounds", "GET", "/lookup/c0", None),
]
LATENCY_STORES = ["redb", "etcd 1 member", "etcd 3 members"]


class EtcdCluster:
    """`size` etcd members on 127.0.0.1 with the flags `scripts/cluster.sh` uses, as Servers
    (stopped at exit whatever happens)."""

    def __init__(self, name: str, size: int, tmp: Path):
        clients = [free_port() for _ in range(size)]
        peers = [free_port() for _ in range(size)]
        initial = ",".join(f"{name}{i}=http://127.0.0.1:{peers[i]}" for i in range(size))
        self.members = []
        for i in range(size):
            argv = ["etcd", "--name", f"{name}{i}", "--data-dir", str(tmp / f"{name}{i}"),
                    "--listen-client-urls", f"http://127.0.0.1:{clients[i]}",
                    "--advertise-client-urls", f"http://127.0.0.1:{clients[i]}",
                    "--listen-peer-urls", f"http://127.0.0.1:{peers[i]}",
                    "--initial-advertise-peer-urls", f"http://127.0.0.1:{peers[i]}",
                    "--initial-cluster", initial, "--initial-cluster-state", "new",
                    "--max-txn-ops", "4096", "--auto-compaction-mode", "periodic",
                    "--auto-compaction-retention", "1h"]
            self.members.append(Server(f"store-{name}{i}", argv, clients[i], None, OUT / "logs"))

    def start(self, timeout: float = 60) -> "EtcdCluster":
        for m in self.members:
            m.start()
        deadline = time.monotonic() + timeout
        for m in self.members:
            while True:
                try:
                    status, _, body = request(m.port, "GET", "/health", timeout=2)
                    if status == 200 and b"true" in body:
                        break
                except OSError:
                    pass
                if not m.alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"{m.name} is not healthy: {m.log_tail()}")
                time.sleep(0.1)
        return self

    def url(self, namespace: str) -> str:
        return "etcd://" + ",".join(f"127.0.0.1:{m.port}" for m in self.members) + "/" + namespace

    @property
    def pids(self) -> list[int]:
        return [m.pid for m in self.members]

    def stop(self) -> None:
        for m in self.members:
            m.stop()


def host(args, name: str, manifest: Path, tmp: Path, store: str | None, admin: bool = False,
         ready: str = "/") -> Server:
    """`nebula-host up MANIFEST` on `store` (None: redb in its data folder), optimized code from
    the default compile cache (~/.cache/nebula, warm after any earlier start), rate limits off;
    started and answering 200 on `ready`."""
    port = free_port()
    argv = [args.host, "up", str(manifest), "--listen", f"127.0.0.1:{port}",
            "--data", str(tmp / f"data-{name}"), "--rate-limits", "off"]
    if store:
        argv += ["--store", store]
    if admin:
        argv += ["--admin", f"127.0.0.1:{free_port()}"]
    server = Server(f"store-{name}", argv, port, None, OUT / "logs",
                    env={**OPTIMIZED, "ACADEMEMES_ADMIN_TOKEN": args.token})
    log(f"{name}: {shlex.join(argv)}")
    server.start()
    server.wait_ready(ready, timeout=300)
    return server


def admin_port(server: Server) -> int:
    return int(server.argv[server.argv.index("--admin") + 1].rsplit(":", 1)[1])


def seeded_memes(port: int, timeout: float = 120) -> list[str]:
    """The ids of the memes, once the host has seeded the site (12 memes or more listed); also
    in the environment variable MEMES, where lua/votes.lua (run by wrk) takes them from."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = request(port, "GET", "/api/memes?limit=100", timeout=30)
        listing = json.loads(body) if status == 200 else []
        memes = listing.get("memes", []) if isinstance(listing, dict) else listing
        if len(memes) >= 12:
            ids = [m["id"] for m in memes]
            os.environ["MEMES"] = ",".join(ids)
            return ids
        if time.monotonic() > deadline:
            raise RuntimeError(f"not seeded within {timeout:.0f} s: {status} {body[:200]!r}")
        time.sleep(0.2)


def haproxy(hosts: list[Server], tmp: Path) -> Server:
    """HAProxy in front of `hosts`, configured as scripts/cluster.sh does, once it sees every
    host up."""
    port, stats = free_port(), free_port()
    servers = "\n".join(f"  server h{i} 127.0.0.1:{h.port} check port {admin_port(h)}"
                        for i, h in enumerate(hosts))
    config = f"""global
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
  bind 127.0.0.1:{port}
  default_backend hosts
backend hosts
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1
{servers}
listen stats
  bind 127.0.0.1:{stats}
  stats enable
  stats uri /stats
"""
    path = tmp / "haproxy.cfg"
    path.write_text(config)
    proxy = Server("store-haproxy", ["haproxy", "-db", "-f", str(path)], port, None, OUT / "logs")
    proxy.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            _, _, csv = request(stats, "GET", "/stats;csv", timeout=2)
            up = [line for line in csv.decode().splitlines()
                  if line.startswith("hosts,h") and ",UP," in line]
            if len(up) == len(hosts):
                return proxy
        except OSError:
            pass
        if not proxy.alive() or time.monotonic() > deadline:
            raise RuntimeError(f"HAProxy does not see {len(hosts)} hosts up: {proxy.log_tail()}")
        time.sleep(0.2)


def throughput(args, wrk: Wrk, setup: str, front: Server, pids: list[int], meme: str) -> list[dict]:
    rows = []
    for label, method, path, script, connections in THROUGHPUT:
        path = path.replace("{id}", meme)
        status, headers, _ = request(front.port, method, path, timeout=30)
        row = wrk.measure(front, path, script, connections, pids)
        row.update(setup=setup, scenario=label, connections=connections,
                   probe_status=status, memo=headers.get("x-nebula-memo", "—"))
        rows.append(row)
        log(f"  {setup} {label} c{connections}: {row['spread']['rps'].get('median', 0):.0f} req/s "
            f"(median of {row['runs']}), p99 {row.get('p99_us', 0) / 1e3:.1f} ms, "
            f"{row.get('non2xx', 0)} non-2xx, other load {row.get('other_cpu_pct', 0):.0f}%")
    return rows


def latency(args, wrk: Wrk, store: str, server: Server, pids: list[int]) -> list[dict]:
    for i in range(CHAIN):
        request(server.port, "PUT", f"/kv/c{i}", body=f"@c{i + 1}".encode(), timeout=30)
    request(server.port, "PUT", f"/kv/c{CHAIN}", body=b"end", timeout=30)
    request(server.port, "PUT", "/kv/plain", body=b"end", timeout=30)
    status, _, body = request(server.port, "GET", "/lookup/c0", timeout=30)
    if status != 200 or f"hops={CHAIN}".encode() not in body:
        raise RuntimeError(f"{store}: GET /lookup/c0 answered {status} {body[:200]!r}")
    rows = []
    for label, method, path, script in LATENCY:
        row = wrk.measure(server, path, script, 1, pids)
        row.update(store=store, scenario=label)
        rows.append(row)
        log(f"  {store} {label}: p50 {row['spread']['p50_us'].get('median', 0):.0f} µs "
            f"(median of {row['runs']} runs), {row.get('non2xx', 0)} non-2xx")
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default=str(RELEASE / "nebula-host"))
    p.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    p.add_argument("--warmup", type=float, default=2.0, help="wrk warm-up seconds per scenario")
    p.add_argument("--latency-duration", type=float, default=3.0, help="seconds per latency run")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--only", choices=["throughput", "latency"], help="one part only")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)
    args.token = secrets.token_hex(32)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    atexit.register(cleanup)
    for binary in (Path(args.host), GUESTS / "effects_probe.wasm", GUESTS / "academemes_api.wasm"):
        if not binary.exists():
            raise SystemExit(f"missing {binary}: build the host in release and the guests first")

    def wrk_for(duration: float, warmup: float, threads: int) -> Wrk:
        # Nothing pinned and no waiting for a quiet machine: every process of a set-up shares
        # the cores, and the other load is reported per row instead.
        settings = argparse.Namespace(threads=threads, connections=1, duration=duration,
                                      warmup=warmup, wait_quiet=0, runs=args.runs)
        return Wrk(settings, None)

    tmp = Path(tempfile.mkdtemp(prefix="nebula-store-bench-"))
    mach = machine()
    result: dict = {
        "command": shlex.join(["python3", "bench/store.py", *(sys.argv[1:] if argv is None else argv)]),
        "machine": mach,
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "throughput": [],
        "latency": [],
    }
    log(f"machine: {NCPU} CPUs, load average {' '.join(mach['loadavg'])}")
    try:
        if args.only in (None, "throughput"):
            wrk = wrk_for(args.duration, args.warmup, 2)
            redb = host(args, "redb", ACADEMEMES, tmp, None)
            meme = seeded_memes(redb.port)[0]
            result["throughput"] += throughput(args, wrk, "redb", redb, [redb.pid], meme)
            redb.stop()

            cluster = EtcdCluster("bench", 3, tmp).start()
            url = cluster.url("academemes")
            hosts = [host(args, "etcd-h0", ACADEMEMES, tmp, url, admin=True)]
            meme = seeded_memes(hosts[0].port)[0]
            result["throughput"] += throughput(args, wrk, "etcd", hosts[0],
                                               [hosts[0].pid, *cluster.pids], meme)
            hosts += [host(args, f"etcd-h{i}", ACADEMEMES, tmp, url, admin=True) for i in (1, 2)]
            proxy = haproxy(hosts, tmp)
            pids = [*(h.pid for h in hosts), *cluster.pids, proxy.pid]
            result["throughput"] += throughput(args, wrk, "etcd-3", proxy, pids, meme)
            for s in (proxy, *hosts):
                s.stop()
            cluster.stop()

        if args.only in (None, "latency"):
            wrk = wrk_for(args.latency_duration, 1.0, 1)
            manifest = tmp / "probe.toml"
            manifest.write_text(PROBE_MANIFEST.format(probe=GUESTS / "effects_probe.wasm"))
            for store, members in zip(LATENCY_STORES, (0, 1, 3)):
                cluster = EtcdCluster(f"lat{members}-", members, tmp).start() if members else None
                name = "probe-" + store.replace(" ", "-")
                server = host(args, name, manifest, tmp, cluster and cluster.url("probe"),
                              ready="/count/ready")
                pids = [server.pid, *(cluster.pids if cluster else [])]
                result["latency"] += latency(args, wrk, store, server, pids)
                server.stop()
                if cluster:
                    cluster.stop()
    except KeyboardInterrupt:
        log("interrupted: stopping servers")
        return 130
    finally:
        cleanup()
    result["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    OUT.mkdir(exist_ok=True)
    (OUT / "store.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    log(f"wrote {OUT / 'store.json'}")
    if args.markdown:
        print(markdown(result))
    errors = sum(r.get("non2xx", 0) + r.get("socket_errors", 0)
                 for r in result["throughput"] + result["latency"])
    return 0 if errors == 0 else 1


def spread(row: dict, key: str, scale: float = 1.0, fmt: str = "{:.0f}") -> str:
    s = row["spread"].get(key) or {}
    if not s:
        return "—"
    return " / ".join(fmt.format(s[k] / scale) for k in ("min", "median", "max"))


def median(row: dict, key: str) -> float:
    return (row["spread"].get(key) or {}).get("median", float("nan"))


def markdown(r: dict) -> str:
    lines: list[str] = []
    if r["throughput"]:
        by = {(x["setup"], x["scenario"], x["connections"]): x for x in r["throughput"]}
        lines += [
            "Throughput, req/s (min / median / max of the runs; ×: ratio of medians to redb):",
            "",
            "| request | conns | redb, 1 host | etcd, 1 host | etcd, 3 hosts + HAProxy |",
            "|---|---|---|---|---|",
        ]
        for label, _, _, _, c in THROUGHPUT:
            base = by.get(("redb", label, c))
            cells = []
            for setup in SETUPS:
                row = by.get((setup, label, c))
                if row is None:
                    cells.append("—")
                    continue
                ratio = "" if setup == "redb" or base is None else \
                    f" (×{median(row, 'rps') / median(base, 'rps'):.2f})"
                cells.append(spread(row, "rps") + ratio)
            name = ("vote `POST /api/memes/{id}/vote` (the seeded memes in turn)" if label == "vote"
                    else "home `GET /` (memo hit)")
            lines.append(f"| {name} | {c} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "p50 / p99 ms (medians of the runs), CPU µs per request of every serving process "
            "(hosts, etcd members, HAProxy; median), non-2xx, other load (CPU not ours nor "
            "wrk's, % of the machine; median):",
            "",
            "| request | conns | setup | p50 ms | p99 ms | CPU µs/req | non-2xx | other load |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for label, _, _, _, c in THROUGHPUT:
            for setup in SETUPS:
                row = by.get((setup, label, c))
                if row is None:
                    continue
                lines.append(
                    f"| {label} | {c} | {setup} | {median(row, 'p50_us') / 1e3:.2f} | "
                    f"{median(row, 'p99_us') / 1e3:.2f} | {median(row, 'cpu_us_per_req'):.0f} | "
                    f"{row.get('non2xx', 0) + row.get('socket_errors', 0)} | "
                    f"{median(row, 'other_cpu_pct'):.0f}% |")
    if r["latency"]:
        by = {(x["store"], x["scenario"]): x for x in r["latency"]}
        stores = [s for s in LATENCY_STORES if any(k[0] == s for k in by)]
        lines += [
            "",
            "Latency, one connection, µs per request (median of each run: min / median / max of "
            "the runs):",
            "",
            "| request | " + " | ".join(stores) + " |",
            "|---|" + "---|" * len(stores),
        ]
        for label, method, path, _ in LATENCY:
            cells = [spread(by[(s, label)], "p50_us") if (s, label) in by else "—" for s in stores]
            lines.append(f"| {label}: `{method} {path}` | " + " | ".join(cells) + " |")

        def derived(store: str) -> dict:
            m = {label: median(by[(store, label)], "p50_us") for label, *_ in LATENCY}
            return {
                "first read round (GET /count)": m["read"],
                "each further read round": (m[f"lookup {CHAIN + 1} rounds"] - m["lookup 1 round"]) / CHAIN,
                "one commit": m["read+commit"] - m["read"],
            }

        d = {s: derived(s) for s in stores}
        lines += [
            "",
            "Derived from the medians, µs (each further round: (5 rounds − 1 round) / 4; a "
            "commit: POST − GET of `/count/x`); in brackets what etcd adds over redb:",
            "",
            "| | " + " | ".join(stores) + " |",
            "|---|" + "---|" * len(stores),
        ]
        for key in d[stores[0]]:
            cells = []
            for s in stores:
                added = "" if s == "redb" or "redb" not in d else f" ({d[s][key] - d['redb'][key]:+.0f})"
                cells.append(f"{d[s][key]:.0f}{added}")
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
    m = r["machine"]
    lines += ["", f"Load average at the start {' '.join(m['loadavg'])}, at the end "
              f"{' '.join(m.get('loadavg_end', ['?']))}; {m['nproc']} CPUs ({m['cpu']})."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
