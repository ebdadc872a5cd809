"""Idle: the pure hello app and Academemes, each component used once and then left alone, with
`--idle-unload`: CPU time and RSS over three consecutive windows (min/median/max). One server at
a time: two hosts running at once share the binary's pages, which neither can then page out."""

from __future__ import annotations

import time

from harness import OPTIMIZED
from procfs import proc_cpu_seconds, proc_stat_cpu_seconds, proc_threads, rss_kb
from servers import ServerGone, log, request
from wrk import spread

WINDOWS = 3


def run(h) -> None:
    unload = h.args.idle_unload
    extra = ["--idle-unload", str(unload)] if h.idle_unload_flag else None
    if not h.idle_unload_flag:
        h.notes.append(
            "`nebula-host up` has no `--idle-unload` flag: idle RSS is with every component loaded."
        )
    plan = [("pure hello (manifest)", "pure-manifest", "/noop/world", ["/noop/world", "/memo/world"])]
    if h.section("academemes") and h.academemes_ready():
        plan.append(("academemes", "academemes", "/", ["/", "/api/memes", "/memes/{id}"]))
    for entry in plan:
        _measure(h, unload, extra, [entry])


def _measure(h, unload, extra, plan) -> None:
    servers = []
    try:
        for label, kind, ready, paths in plan:
            s = h.server(kind, name=f"idle-{kind}", extra=extra, env=OPTIMIZED)
            s.start()
            try:
                s.wait_ready(ready, timeout=300)
            except ServerGone as e:
                h.notes.append(f"idle {label}: skipped: {e}")
                s.stop()
                continue
            if kind == "academemes":
                h.meme_id = h.meme_id or h.first_meme(s.port)
            for p in paths:  # use every component once, then leave it alone
                request(s.port, "GET", p.replace("{id}", h.meme_id or ""))
            servers.append((label, s))
        time.sleep((unload + 2.0) if h.idle_unload_flag else 2.0)
        window = h.args.idle_window / WINDOWS
        samples: dict[int, list[dict]] = {s.pid: [] for _, s in servers}
        log(f"idle: sampling {len(servers)} server(s), {WINDOWS} windows of {window:g}s")
        for _ in range(WINDOWS):
            before = {s.pid: (proc_cpu_seconds(s.pid), proc_stat_cpu_seconds(s.pid)) for _, s in servers}
            t0 = time.perf_counter()
            time.sleep(window)
            elapsed = time.perf_counter() - t0
            for _, s in servers:
                cpu0, ticks0 = before[s.pid]
                cpu_ms = (proc_cpu_seconds(s.pid) - cpu0) * 1e3
                samples[s.pid].append({
                    "cpu_ms": cpu_ms,
                    "cpu_ms_per_min": cpu_ms * 60.0 / elapsed,
                    "stat_ticks_ms": (proc_stat_cpu_seconds(s.pid) - ticks0) * 1e3,
                    "window_s": elapsed,
                    **rss_kb(s.pid),
                })
        for label, s in servers:
            got = samples[s.pid]
            row = {
                "name": label,
                "window_s": sum(x["window_s"] for x in got),
                "cpu_ms": sum(x["cpu_ms"] for x in got),
                "cpu_ms_per_min": sum(x["cpu_ms"] for x in got) * 60.0 / sum(x["window_s"] for x in got),
                "stat_ticks_ms": sum(x["stat_ticks_ms"] for x in got),
                "threads": proc_threads(s.pid),
                **got[-1],
                "idle_unload": unload if h.idle_unload_flag else None,
                "windows": WINDOWS,
                "spread": {
                    "cpu_ms_per_min": spread([x["cpu_ms_per_min"] for x in got]),
                    "rss_kb": spread([x["rss_kb"] for x in got]),
                },
            }
            row["cpu_ms"] = sum(x["cpu_ms"] for x in got)
            h.results["idle"].append(row)
            log(
                f"idle {label}: {row['cpu_ms_per_min']:.3f} ms CPU/min, "
                f"RSS {row['rss_kb'] / 1024:.1f} MB ({row['rss_anon_kb'] / 1024:.1f} anon), "
                f"{row['threads']} threads"
            )
    finally:
        for _, s in servers:
            s.stop()
