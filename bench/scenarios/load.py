"""Load simulation of Academemes users.

Simulated users browse the home page, open a meme, load its image, sometimes vote and rarely
upload, in steps idle -> low -> peak -> idle. Every 0.5 s a sampler records the throughput, the
latency percentiles of the requests completed in that half second, and the server's CPU and RSS
(total and anonymous) from /proc. The server runs without `--idle-unload`: the last idle step
shows how far memory falls with every component still loaded. Runs `--load-runs` times; writes
bench/out/load.csv and bench/out/load.svg (a hand-written SVG) for the last run.
"""

from __future__ import annotations

import csv
import http.client
import json
import os
import random
import statistics
import threading
import time
from pathlib import Path

from harness import OPTIMIZED
from paths import OUT
from servers import ServerGone, log as bench_log
from wrk import spread

SAMPLE_S = 0.5
LOW_THINK_S = (0.005, 0.025)  # think time between requests of a low-step user (uniform)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """The process's CPU time (all threads), from its CPU-time clock (ns), else /proc ticks."""
    try:
        return time.clock_gettime_ns(((~pid) << 3) | 2) / 1e9
    except OSError:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def _multipart(png: bytes, n: int) -> tuple[str, bytes]:
    boundary = "----nebula-bench-7d3f"
    parts = [
        ("image", "meme.png", png),
        ("title", None, f"Load test meme {n}".encode()),
        ("caption", None, b"uploaded by bench/load.py"),
        ("tags", None, b"benchmark"),
    ]
    body = bytearray()
    for name, filename, data in parts:
        body += f"--{boundary}\r\n".encode()
        if filename:
            body += (
                f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: image/png\r\n\r\n"
            ).encode()
        else:
            body += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        body += data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(body)


class Users:
    """Threads of simulated users; user i acts while the current step has more than i users."""

    def __init__(self, port: int, ids: list[str], png: bytes, max_users: int):
        self.port, self.ids, self.png = port, ids, png
        self.active = 0
        self.think = (0.0, 0.0)
        self.stop = threading.Event()
        self.records: list[tuple[float, float, int, str]] = []  # (done, latency s, status, kind)
        self.uploads = 0
        self.threads = [
            threading.Thread(target=self.user, args=(i,), daemon=True) for i in range(max_users)
        ]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=15)

    def user(self, i: int) -> None:
        rng = random.Random(i)
        conn = None
        while not self.stop.is_set():
            if i >= self.active:
                if conn is not None:
                    conn.close()
                    conn = None
                self.stop.wait(0.05)
                continue
            meme = rng.choice(self.ids)
            actions = [("home", "GET", "/", None, None), ("meme", "GET", f"/memes/{meme}", None, None),
                       ("image", "GET", f"/memes/{meme}/image", None, None)]
            if rng.random() < 0.3:
                actions.append(("vote", "POST", f"/api/memes/{meme}/vote", None, None))
            if self.png and rng.random() < 0.02:
                self.uploads += 1
                ctype, body = _multipart(self.png, self.uploads)
                actions.append(("upload", "POST", "/api/memes", {"content-type": ctype}, body))
            for kind, method, path, headers, body in actions:
                if self.stop.is_set() or i >= self.active:
                    break
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                t0 = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers or {})
                    r = conn.getresponse()
                    r.read()
                    status = r.status
                except (OSError, http.client.HTTPException):
                    status = 0
                    conn.close()
                    conn = None
                t1 = time.perf_counter()
                self.records.append((t1, t1 - t0, status, kind))
                lo, hi = self.think
                if hi > 0:
                    self.stop.wait(rng.uniform(lo, hi))
        if conn is not None:
            conn.close()


# Seconds after the load ends by which anonymous RSS must have fallen (issue #13, goal 1).
SETTLE_S = 30.0


def simulate(server, step: float, out: Path, client_cpu, low_users: int, peak_users: int, log) -> dict:
    port, pid = server.port, server.pid
    if client_cpu is not None:
        os.sched_setaffinity(0, {client_cpu})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/api/memes?limit=100")
    listing = json.loads(conn.getresponse().read())
    items = listing.get("memes") if isinstance(listing, dict) else listing
    ids = [m["id"] for m in items]
    conn.request("GET", f"/memes/{ids[0]}/image")
    r = conn.getresponse()
    png = r.read() if r.status == 200 else b""
    conn.close()

    # (name, users, think time range in seconds, seconds); the last idle step outlasts SETTLE_S.
    steps = [
        ("idle", 0, (0.0, 0.0), min(step, 5.0)),
        ("low", low_users, LOW_THINK_S, step),
        ("peak", peak_users, (0.0, 0.0), step),
        ("idle", 0, (0.0, 0.0), max(step, SETTLE_S + 5.0)),
    ]
    users = Users(port, ids, png, max(low_users, peak_users))
    users.start()
    rows = []
    t_start = time.perf_counter()
    seen = 0
    cpu_prev, t_prev = _cpu_s(pid), t_start
    try:
        step_end = t_start
        for idx, (name, n, think, seconds) in enumerate(steps):
            log(f"load: {name} step, {n} users, {seconds:g}s")
            users.think, users.active = think, n
            step_end += seconds  # absolute, so steps do not drift
            while time.perf_counter() < step_end:
                time.sleep(max(0.0, min(SAMPLE_S, step_end - time.perf_counter())))
                now = time.perf_counter()
                cpu = _cpu_s(pid)
                new = users.records[seen:]
                seen += len(new)
                dt = now - t_prev
                lat = [x[1] * 1e3 for x in new]
                rows.append({
                    "t_s": round(now - t_start, 3),
                    "step_index": idx,
                    "step": name,
                    "users": n,
                    "req_per_s": round(len(new) / dt, 1),
                    "p50_ms": round(_pct(lat, 50), 3) if lat else "",
                    "p99_ms": round(_pct(lat, 99), 3) if lat else "",
                    "errors": sum(1 for x in new if x[2] == 0 or x[2] >= 500),
                    "cpu_pct": round(100.0 * (cpu - cpu_prev) / dt, 1),
                    "rss_mb": round(_status_kb(pid, "VmRSS") / 1024, 2),
                    "rss_anon_mb": round(_status_kb(pid, "RssAnon") / 1024, 2),
                })
                cpu_prev, t_prev = cpu, now
    finally:
        users.join()

    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "load.csv"
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    svg_path = out / "load.svg"
    svg_path.write_text(svg(rows, steps))

    statuses: dict[str, int] = {}
    for rec in users.records:
        key = f"{rec[3]} {rec[2] or 'error'}"
        statuses[key] = statuses.get(key, 0) + 1
    phases = []
    for idx, (name, n, _, _) in enumerate(steps):
        sel = [r for r in rows if r["step_index"] == idx]
        t_lo, t_hi = (sel[0]["t_s"] - SAMPLE_S, sel[-1]["t_s"]) if sel else (0.0, 0.0)
        lat = [x[1] * 1e3 for x in users.records if t_lo < x[0] - t_start <= t_hi]
        phases.append({
            "step": name,
            "users": n,
            "req_per_s": statistics.mean(r["req_per_s"] for r in sel) if sel else 0.0,
            "p99_ms": _pct(lat, 99) if lat else None,
            "cpu_pct": statistics.mean(r["cpu_pct"] for r in sel) if sel else 0.0,
            "rss_mb_max": max(r["rss_mb"] for r in sel) if sel else 0.0,
            "rss_mb_end": sel[-1]["rss_mb"] if sel else 0.0,
            "rss_anon_mb_end": sel[-1]["rss_anon_mb"] if sel else 0.0,
        })
    load_end = sum(st[3] for st in steps[:3])
    after = [r for r in rows if r["t_s"] >= load_end + SETTLE_S]
    busy = [r for r in rows if r["t_s"] <= load_end]
    return {
        "csv": str(csv_path),
        "svg": str(svg_path),
        "step_s": step,
        "steps_s": [st[3] for st in steps],
        "rss_mb_max": max(r["rss_mb"] for r in busy) if busy else None,
        "rss_anon_mb_max": max(r["rss_anon_mb"] for r in busy) if busy else None,
        "settle_s": SETTLE_S,
        "rss_anon_mb_settled": after[0]["rss_anon_mb"] if after else None,
        "rss_mb_settled": after[0]["rss_mb"] if after else None,
        "low_think_ms": [LOW_THINK_S[0] * 1e3, LOW_THINK_S[1] * 1e3],
        "requests": len(users.records),
        "uploads": users.uploads,
        "statuses": statuses,
        "phases": phases,
    }


# ---- the plot -----------------------------------------------------------------------------------

PANELS = [
    ("req_per_s", "throughput (req/s)", "#1f77b4"),
    ("p99_ms", "p99 latency (ms)", "#d62728"),
    ("cpu_pct", "server CPU (% of one core)", "#2ca02c"),
    ("rss_mb", "server RSS (MB), anonymous part dashed", "#9467bd"),
]
STEP_FILL = {"idle": "#f2f2f2", "low": "#e3efff", "peak": "#ffe9d6"}


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    mag = 10 ** len(str(int(v))) / 10
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= m * mag:
            return m * mag
    return v


def svg(rows: list[dict], steps) -> str:
    width, left, right, top = 960, 70, 20, 40
    panel_h, gap = 140, 36
    height = top + len(PANELS) * (panel_h + gap) + 10
    starts = [sum(st[3] for st in steps[:i]) for i in range(len(steps) + 1)]
    t_max = starts[-1]
    plot_w = width - left - right

    def x(t: float) -> float:
        return left + plot_w * t / t_max

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">Academemes under simulated '
        f"users: idle → low → peak → idle, sampled every {SAMPLE_S} s</text>",
    ]
    for p, (key, title, color) in enumerate(PANELS):
        y0 = top + p * (panel_h + gap) + 16
        vals = [r[key] for r in rows if r[key] != ""]
        vmax = _nice_max(max(vals) if vals else 1.0)

        def y(v: float) -> float:
            return y0 + panel_h - panel_h * v / vmax

        for i, (name, n, _, _) in enumerate(steps):
            parts.append(
                f'<rect x="{x(starts[i]):.1f}" y="{y0}" width="{x(starts[i + 1]) - x(starts[i]):.1f}" '
                f'height="{panel_h}" fill="{STEP_FILL.get(name, "#fff")}"/>'
            )
            if p == 0:
                label = f"{name} ({n} users)" if n else name
                parts.append(
                    f'<text x="{x((starts[i] + starts[i + 1]) / 2):.1f}" y="{y0 + 12}" text-anchor="middle" '
                    f'fill="#555">{label}</text>'
                )
        parts.append(f'<text x="{left}" y="{y0 - 5}" font-weight="bold">{title}</text>')
        for frac in (0, 0.5, 1):
            v = vmax * frac
            parts.append(
                f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                f'stroke="#ccc" stroke-width="0.5"/>'
            )
            parts.append(
                f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>'
            )
        parts.append(
            f'<rect x="{left}" y="{y0}" width="{plot_w}" height="{panel_h}" fill="none" stroke="#888"/>'
        )
        # The line, broken where there is no value (no request completed in that sample).
        segs, cur = [], []
        for r in rows:
            if r[key] == "":
                if cur:
                    segs.append(cur)
                cur = []
                continue
            cur.append(f"{x(r['t_s']):.1f},{y(r[key]):.1f}")
        if cur:
            segs.append(cur)
        if key == "rss_mb":
            anon = " ".join(f"{x(r['t_s']):.1f},{y(r['rss_anon_mb']):.1f}" for r in rows)
            parts.append(
                f'<polyline points="{anon}" fill="none" stroke="{color}" stroke-width="1.2" '
                'stroke-dasharray="4 3"/>'
            )
        for seg in segs:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="1.8" fill="{color}"/>')
            else:
                parts.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{color}" stroke-width="1.6"/>'
                )
        tick = 5 if t_max <= 40 else 10
        t = 0
        while t <= t_max + 1e-9:
            parts.append(
                f'<text x="{x(t):.1f}" y="{y0 + panel_h + 13}" text-anchor="middle" fill="#555">{t:g}s</text>'
            )
            t += tick
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def run(h) -> None:
    """`--load-runs` simulations, each on a fresh server over the seeded data; the plot and CSV
    are the last run's, the table has min/median/max over the runs."""
    if not h.academemes_ready():
        return
    runs = []
    for i in range(h.args.load_runs):
        server = h.server("academemes", name=f"load-academemes-{i}", env=OPTIMIZED)
        server.start()
        try:
            server.wait_ready("/", timeout=300)
            result = simulate(
                server, step=h.args.load_step, out=OUT, client_cpu=h.client_cpu,
                low_users=h.args.low_users, peak_users=h.args.peak_users, log=bench_log,
            )
            result["server_command"] = " ".join(server.argv).replace(str(OUT.parent.parent) + "/", "")
            runs.append(result)
            bench_log(
                f"load run {i + 1}: max RSS {result['rss_mb_max']} MB (anon {result['rss_anon_mb_max']}), "
                f"{SETTLE_S:g} s after the load: anon {result['rss_anon_mb_settled']} MB"
            )
        except ServerGone as e:
            h.notes.append(f"load simulation: skipped: {e}")
            break
        finally:
            server.stop()
    if not runs:
        return
    summary = dict(runs[-1])
    summary["runs"] = len(runs)
    summary["spread"] = {
        key: spread([r[key] for r in runs if r.get(key) is not None])
        for key in ("rss_mb_max", "rss_anon_mb_max", "rss_anon_mb_settled", "rss_mb_settled")
    }
    summary["spread"]["peak_req_per_s"] = spread([r["phases"][2]["req_per_s"] for r in runs])
    h.results["load"] = summary
