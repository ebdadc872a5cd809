#!/usr/bin/env python3
"""Soak (issue #10, item 10): Academemes under mixed traffic with hostile requests among it, for
minutes, watching errors on the good routes, latency, memory and the vote count.

    python3 bench/soak.py [--host PATH] [--minutes 10] [--connections 256] [--hostile 0.05]
                          [--markdown]

It needs what `bench/run.py` needs (a release `nebula-host` and the guests); it does not build.
One host serves Academemes (`manifests/academemes.toml`, rate limits off) plus the two hostile
guests under `/hostile/...` (2 s deadline, 16 MiB): endless loops, memory bombs, unbounded
recursion, endless `need` rounds, oversized responses, invalid statuses and 1-hour sleeps.
`--connections` client threads each keep one keep-alive connection busy (no think time); each
request is hostile with probability `--hostile`, else one of the site's usual requests (home
page, a meme page, its image and thumbnail, the JSON listing, a search, a vote).

Reported: per-status counts for the good and the hostile requests (goal: no error on a good
route; a hostile request must get the status its misbehaviour calls for, or 503 when its
component's queue is full, or 504 at the deadline), p50/p99 of the good requests per minute, the host's RSS (total and anonymous) sampled
every second (goal: no growth after the warm-up minute), CPU, and the votes: the sum of the
counts over every meme after the run, less before, must equal the votes the host acknowledged.
Results: bench/out/soak.json, soak.csv (one row per second) and soak.svg (the plot);
`--markdown` prints the section for RESULTS.md.
"""

from __future__ import annotations

import argparse
import collections
import csv
import http.client
import json
import random
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paths import ACADEMEMES, GUESTS, OUT, RELEASE, ROOT  # noqa: E402
from procfs import proc_cpu_seconds, proc_status_kb  # noqa: E402
from servers import Server, free_port  # noqa: E402

HOSTILE = """
[components.hostile-std]
path = "{std}"
limits = {{ timeout = "2s", memory = "16 MiB" }}

[components.hostile-nostd]
path = "{nostd}"
limits = {{ timeout = "2s", memory = "16 MiB" }}

[[routes]]
route = "GET /hostile/std/{{what}}"
component = "hostile-std"
memo = false

[[routes]]
route = "GET /hostile/nostd/{{what}}"
component = "hostile-nostd"
memo = false
"""

# (path, the status the host must answer): what each hostile request is, with its verdict.
HOSTILE_REQUESTS = [
    ("/hostile/nostd/loop", 504),
    ("/hostile/std/loop", 504),
    ("/hostile/nostd/memory", 500),
    ("/hostile/std/memory", 500),
    ("/hostile/nostd/recurse", 500),
    ("/hostile/nostd/need-forever", 500),
    ("/hostile/nostd/huge?mib=32", 500),
    ("/hostile/nostd/status?code=1000", 500),
    ("/hostile/std/sleep", 200),  # virtual time: an hour's sleep returns at once
]


def manifest(tmp: Path) -> Path:
    """Academemes' manifest with its relative paths made absolute, plus the hostile routes."""
    text = ACADEMEMES.read_text()
    base = ACADEMEMES.parent
    text = re.sub(r'^(path|build_dir) = "(\.\.?/[^"]*)"',
                  lambda m: f'{m.group(1)} = "{(base / m.group(2)).resolve()}"', text, flags=re.M)
    # The catch-all 404 route must stay last: the hostile routes go before it.
    catch_all = text.index('[[routes]]\nroute = "GET /{*path}"')
    hostile = HOSTILE.format(std=GUESTS / "hostile_std.wasm", nostd=GUESTS / "hostile_nostd.wasm")
    components, routes = hostile.split("[[routes]]", 1)
    text = text[:catch_all] + "[[routes]]" + routes + "\n" + text[catch_all:]
    first_route = text.index("[[routes]]")
    text = text[:first_route] + components.strip() + "\n\n" + text[first_route:]
    path = tmp / "soak.toml"
    path.write_text(text)
    return path


class Clients:
    """Threads, each with one keep-alive connection, sending requests back to back."""

    def __init__(self, port: int, ids: list[str], n: int, hostile: float):
        self.port, self.ids, self.hostile = port, ids, hostile
        self.stop = threading.Event()
        self.lock = threading.Lock()
        # (done at, latency s, status, kind); kind is a good route's name or "hostile".
        self.records: list[tuple[float, float, int, str]] = []
        self.hostile_wrong: collections.Counter = collections.Counter()
        self.votes_acked = 0
        self.threads = [threading.Thread(target=self.client, args=(i,), daemon=True)
                        for i in range(n)]

    def good(self, rng: random.Random) -> tuple[str, str, str]:
        meme = rng.choice(self.ids)
        x = rng.random()
        if x < 0.25:
            return "home", "GET", "/"
        if x < 0.45:
            return "meme", "GET", f"/memes/{meme}"
        if x < 0.60:
            return "image", "GET", f"/memes/{meme}/image"
        if x < 0.75:
            return "thumb", "GET", f"/memes/{meme}/thumb"
        if x < 0.85:
            return "api", "GET", "/api/memes?sort=top&limit=10"
        if x < 0.90:
            return "search", "GET", "/search?q=" + rng.choice(["proof", "thesis", "reviewer", "lemma"])
        return "vote", "POST", f"/api/memes/{meme}/vote"

    def client(self, i: int) -> None:
        rng = random.Random(i)
        conn = None
        while not self.stop.is_set():
            if rng.random() < self.hostile:
                path, want = rng.choice(HOSTILE_REQUESTS)
                kind, method = "hostile", "GET"
            else:
                (kind, method, path), want = self.good(rng), None
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            t0 = time.perf_counter()
            try:
                # No cookie: every vote is a new visitor's, so each acknowledged one counts.
                conn.request(method, path, body=b"" if method == "POST" else None)
                r = conn.getresponse()
                r.read()
                status = r.status
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = None
            t1 = time.perf_counter()
            with self.lock:
                self.records.append((t1, t1 - t0, status, kind))
                if kind == "vote" and 200 <= status < 300:
                    self.votes_acked += 1
                # Capacity (503, the hostile component's queue is full) and the deadline (504,
                # e.g. a memory bomb still filling its memory) are answers too; never 200 for a
                # failure or 500 for a capacity problem.
                if want is not None and status not in (want, 503, 504):
                    self.hostile_wrong[f"{path} {status} ({want} expected)"] += 1
        if conn is not None:
            conn.close()


def get_json(port: int, path: str):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"GET {path}: {r.status} {body[:200]!r}")
        return json.loads(body)
    finally:
        conn.close()


def vote_total(port: int, ids: list[str]) -> int:
    return sum(int(get_json(port, f"/api/memes/{m}")["votes"]) for m in ids)


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default=str(RELEASE / "nebula-host"))
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--connections", type=int, default=256)
    p.add_argument("--hostile", type=float, default=0.05, help="share of hostile requests")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="nebula-soak-"))
    port = free_port()
    argv_host = [args.host, "up", str(manifest(tmp)), "--listen", f"127.0.0.1:{port}",
                 "--data", str(tmp / "data"), "--rate-limits", "off"]
    env = {"ACADEMEMES_ADMIN_TOKEN": secrets.token_hex(32), "NEBULA_TIERS": "optimized"}
    server = Server("soak", argv_host, port, None, OUT / "logs", env=env)
    server.start()
    rows: list[dict] = []
    try:
        server.wait_ready("/", timeout=300)
        listing = get_json(port, "/api/memes?limit=100")
        ids = [m["id"] for m in (listing["memes"] if isinstance(listing, dict) else listing)]
        before = vote_total(port, ids)
        clients = Clients(port, ids, args.connections, args.hostile)
        t_start = time.perf_counter()
        end = t_start + args.minutes * 60
        for t in clients.threads:
            t.start()
        seen, cpu_prev, t_prev = 0, proc_cpu_seconds(server.pid), t_start
        while time.perf_counter() < end:
            time.sleep(max(0.0, min(1.0, end - time.perf_counter())))
            if not server.alive():
                raise RuntimeError(f"the host exited: {server.log_tail()}")
            now, cpu = time.perf_counter(), proc_cpu_seconds(server.pid)
            with clients.lock:
                new = clients.records[seen:]
                seen += len(new)
            good = [r for r in new if r[3] != "hostile"]
            rows.append({
                "t_s": round(now - t_start, 2),
                "req_per_s": round(len(new) / (now - t_prev), 1),
                "good_p99_ms": round(pct([r[1] * 1e3 for r in good], 99) or 0, 2),
                "good_errors": sum(1 for r in good if r[2] == 0 or r[2] >= 400),
                "cpu_pct": round(100 * (cpu - cpu_prev) / (now - t_prev), 1),
                "rss_mb": round((proc_status_kb(server.pid, "VmRSS") or 0) / 1024, 1),
                "rss_anon_mb": round((proc_status_kb(server.pid, "RssAnon") or 0) / 1024, 1),
            })
            cpu_prev, t_prev = cpu, now
        clients.stop.set()
        for t in clients.threads:
            t.join(timeout=90)
        after = vote_total(port, ids)
        alive = server.alive()
    finally:
        server.stop()

    records = clients.records
    by_status: dict[str, collections.Counter] = {"good": collections.Counter(),
                                                  "hostile": collections.Counter()}
    per_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for _, _, status, kind in records:
        by_status["hostile" if kind == "hostile" else "good"][str(status or "error")] += 1
        per_kind[kind][str(status or "error")] += 1
    minutes = []
    for m in range(int(args.minutes + 0.999)):
        lat = [r[1] * 1e3 for r in records
               if r[3] != "hostile" and m * 60 <= r[0] - t_start < (m + 1) * 60]
        minutes.append({"minute": m + 1, "good": len(lat), "p50_ms": pct(lat, 50),
                        "p99_ms": pct(lat, 99)})
    warm = [r for r in rows if r["t_s"] >= 60] or rows
    result = {
        "command": " ".join(["python3", "bench/soak.py"] + (argv if argv is not None else sys.argv[1:])),
        "host_command": " ".join(argv_host).replace(str(ROOT) + "/", "").replace(str(tmp), "<tmp>"),
        "connections": args.connections,
        "hostile_share": args.hostile,
        "minutes": args.minutes,
        "requests": len(records),
        "statuses": {k: dict(v) for k, v in by_status.items()},
        "statuses_per_kind": {k: dict(v) for k, v in sorted(per_kind.items())},
        "good_errors": sum(v for k, v in by_status["good"].items() if k == "error" or int(k) >= 400),
        "hostile_unexpected": dict(clients.hostile_wrong),
        "per_minute": minutes,
        "rss_mb_after_warmup": {"first": warm[0]["rss_mb"], "max": max(r["rss_mb"] for r in warm),
                                "last": warm[-1]["rss_mb"]},
        "rss_anon_mb_after_warmup": {"first": warm[0]["rss_anon_mb"],
                                     "max": max(r["rss_anon_mb"] for r in warm),
                                     "last": warm[-1]["rss_anon_mb"]},
        "votes": {"acknowledged": clients.votes_acked, "counted": after - before},
        "host_alive": alive,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "soak.json").write_text(json.dumps(result, indent=2))
    with open(OUT / "soak.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    (OUT / "soak.svg").write_text(svg(rows))
    print(json.dumps({k: result[k] for k in ("requests", "statuses", "good_errors", "votes",
                                              "rss_mb_after_warmup", "host_alive")}, indent=1))
    if args.markdown:
        print(markdown(result))
    ok = (result["good_errors"] == 0 and alive
          and result["votes"]["acknowledged"] == result["votes"]["counted"])
    return 0 if ok else 1


def markdown(r: dict) -> str:
    p99 = [m["p99_ms"] for m in r["per_minute"] if m["p99_ms"] is not None]
    lines = [
        f"`{r['command']}` — host: `{r['host_command']}`; {r['connections']} connections, "
        f"{r['hostile_share']:.0%} hostile, {r['minutes']:g} min, {r['requests']} requests.",
        "",
        "| | statuses |",
        "|---|---|",
        f"| good routes | {r['statuses']['good']} |",
        f"| hostile routes | {r['statuses']['hostile']} |",
        "",
        f"- Errors on good routes: {r['good_errors']}. Hostile requests answered other than "
        f"expected: {r['hostile_unexpected'] or 'none'}.",
        f"- Good requests' p99 per minute, ms (min / median / max over the minutes): "
        f"{min(p99):.1f} / {statistics.median(p99):.1f} / {max(p99):.1f}.",
        f"- RSS after the warm-up minute, MB (first / max / last): "
        f"{r['rss_mb_after_warmup']['first']} / {r['rss_mb_after_warmup']['max']} / "
        f"{r['rss_mb_after_warmup']['last']}; anonymous {r['rss_anon_mb_after_warmup']['first']} / "
        f"{r['rss_anon_mb_after_warmup']['max']} / {r['rss_anon_mb_after_warmup']['last']}.",
        f"- Votes acknowledged {r['votes']['acknowledged']}, counted {r['votes']['counted']}; "
        f"host alive at the end: {r['host_alive']}.",
        "",
        "![soak: throughput, good p99, CPU and RSS over time](out/soak.svg)",
    ]
    return "\n".join(lines)


def svg(rows: list[dict]) -> str:
    panels = [("req_per_s", "throughput (req/s)", "#1f77b4"),
              ("good_p99_ms", "good requests' p99 per second (ms)", "#d62728"),
              ("cpu_pct", "host CPU (% of one core)", "#2ca02c"),
              ("rss_mb", "host RSS (MB), anonymous dashed", "#9467bd")]
    width, left, right, top, panel_h, gap = 960, 70, 20, 40, 120, 34
    height = top + len(panels) * (panel_h + gap)
    t_max = max(r["t_s"] for r in rows) or 1.0

    def x(t: float) -> float:
        return left + (width - left - right) * t / t_max

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="15" font-weight="bold">Soak: Academemes with '
           f'hostile requests, sampled every second</text>']
    for i, (key, title, color) in enumerate(panels):
        y0 = top + i * (panel_h + gap) + 14
        vmax = max(max(r[key] for r in rows), max(r["rss_anon_mb"] for r in rows) if key == "rss_mb" else 0) or 1.0

        def y(v: float) -> float:
            return y0 + panel_h - panel_h * v / vmax

        out.append(f'<text x="{left}" y="{y0 - 4}" font-weight="bold">{title}</text>')
        out.append(f'<rect x="{left}" y="{y0}" width="{width - left - right}" height="{panel_h}" '
                   'fill="none" stroke="#888"/>')
        for frac in (0, 0.5, 1):
            out.append(f'<text x="{left - 6}" y="{y(vmax * frac) + 4:.1f}" text-anchor="end">'
                       f'{vmax * frac:.0f}</text>')
        pts = " ".join(f"{x(r['t_s']):.1f},{y(r[key]):.1f}" for r in rows)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.2"/>')
        if key == "rss_mb":
            pts = " ".join(f"{x(r['t_s']):.1f},{y(r['rss_anon_mb']):.1f}" for r in rows)
            out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.2" '
                       'stroke-dasharray="4 3"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
