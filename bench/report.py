"""Writes bench/RESULTS.md from the harness's results (bench/run.py)."""

from __future__ import annotations

from pathlib import Path

NATIVE = "native hyper hello"
SERVE = "nebula pure hello (serve)"
NOOP = "pure no-op route (memo = false)"
MEMO = "pure memoized route (hit)"
HTTP = "nebula wasi:http hello"
WASMTIME = "wasmtime serve wasi:http hello"


def _f(v, fmt="{:.1f}", none="—"):
    if v is None or v == "" or (isinstance(v, float) and v != v):
        return none
    return fmt.format(v)


def _us(v):
    """A latency in µs, written in the unit that reads best."""
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    if v >= 1000:
        return f"{v / 1000:.2f} ms"
    return f"{v:.0f} µs"


def _mb(kb):
    return "—" if kb is None else f"{kb / 1024:.1f}"


def _table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _verdict(ok) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def targets(r: dict) -> list[list[str]]:
    sc = {s["name"]: s for s in r["scenarios"] if "skipped" not in s and s.get("requests")}
    cold = {(c["name"], c["cache"]): c for c in r["cold"] if c.get("reps")}
    rows = []

    def cpu(name):
        return sc.get(name, {}).get("cpu_us_per_req")

    def rps(name):
        return sc.get(name, {}).get("rps")

    def add(target, measured, ok):
        rows.append([target, measured, _verdict(ok)])

    for label, name in (("pure hello, `serve` (memo hit)", SERVE), ("pure hello, no-op route (memo off)", NOOP)):
        c, n, w = cpu(name), cpu(NATIVE), cpu(WASMTIME)
        add(f"{label}: server CPU ≤ 25 µs/request", _f(c, "{:.1f} µs"), None if c is None else c <= 25)
        add(
            f"{label}: CPU ≤ 3× native hyper",
            _f(c / n if c and n else None, "{:.2f}×") + (f" ({c:.1f} vs {n:.1f} µs)" if c and n else ""),
            None if not (c and n) else c <= 3 * n,
        )
        add(
            f"{label}: CPU ≤ 1/7 of wasmtime serve",
            _f(c / w if c and w else None, "{:.3f}× (1/7 = 0.143×)") + (f" ({c:.1f} vs {w:.1f} µs)" if c and w else ""),
            None if not (c and w) else c <= w / 7,
        )
        p, wr = rps(name), rps(WASMTIME)
        add(
            f"{label}: req/s ≥ 5× wasmtime serve",
            _f(p / wr if p and wr else None, "{:.2f}×") + (f" ({p:.0f} vs {wr:.0f})" if p and wr else ""),
            None if not (p and wr) else p >= 5 * wr,
        )
    h, wr = rps(HTTP), rps(WASMTIME)
    add(
        "wasi:http hello: req/s ≥ 1.5× wasmtime serve",
        _f(h / wr if h and wr else None, "{:.2f}×") + (f" ({h:.0f} vs {wr:.0f})" if h and wr else ""),
        None if not (h and wr) else h >= 1.5 * wr,
    )
    m, n = cpu(MEMO), cpu(NATIVE)
    add(
        "memoized hit: CPU ≤ 1.5× native hyper",
        _f(m / n if m and n else None, "{:.2f}×") + (f" ({m:.1f} vs {n:.1f} µs)" if m and n else ""),
        None if not (m and n) else m <= 1.5 * n,
    )
    cw, cn = cold.get((SERVE, "warm")), cold.get((NATIVE, "n/a"))
    if cw and cn:
        ratio = cw["median_ms"] / cn["median_ms"]
        add(
            "exec→first-200, warm cache: ≤ 1.5× native hyper",
            f"{ratio:.2f}× ({cw['median_ms']:.1f} vs {cn['median_ms']:.1f} ms)",
            ratio <= 1.5,
        )
    else:
        add("exec→first-200, warm cache: ≤ 1.5× native hyper", "—", None)
    for idle in r["idle"]:
        add(
            f"idle ({idle['name']}): ≤ 1 ms CPU per minute",
            f"{idle['cpu_ms_per_min']:.3f} ms/min",
            idle["cpu_ms_per_min"] <= 1.0,
        )
        unload = "after --idle-unload" if idle.get("idle_unload") is not None else "no --idle-unload flag: components loaded"
        add(
            f"idle ({idle['name']}): ≤ 12 MB RSS after components unload",
            f"{idle['rss_kb'] / 1024:.1f} MB ({unload})",
            idle["rss_kb"] / 1024 <= 12.0,
        )
    for c in r["compute"]:
        if "ratio" in c:
            add(f"compute {c['bench']}: wasm/native ≤ 1.3", f"{c['ratio']:.2f}×", c["ratio"] <= 1.3)
        else:
            add(f"compute {c['bench']}: wasm/native ≤ 1.3", "failed", None)
    return rows


def write_results(r: dict, path: Path) -> None:
    m, v, s = r["machine"], r["versions"], r["settings"]
    L: list[str] = []
    L.append("# Nebula benchmark results")
    L.append("")
    L.append(
        "Written by `bench/run.py` (see bench/README.md for what each column means); "
        "do not edit by hand. Raw numbers: `bench/out/results.json`."
    )
    L.append("")
    L.append(f"- Command: `{r['command']}`")
    L.append(f"- Run: {r['started']} → {r['finished']} (UTC){' — quick smoke run' if s['quick'] else ''}")
    L.append(
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} RAM, Linux {m['kernel']}; "
        f"load average {' '.join(m['loadavg'])} at start, {' '.join(m.get('loadavg_end', ['?']))} at end"
    )
    L.append("- Versions: " + "; ".join(v.values()))
    pin = s["pinning"]
    L.append(
        f"- Load generator: `wrk {s['wrk']}` for every HTTP scenario, after a {s['warmup_s']:g} s "
        "warm-up run; "
        + (
            f"server pinned to CPU {pin['server']}, wrk and the harness to CPU {pin['client']} "
            "(`sched_setaffinity`, same for every scenario)."
            if pin
            else "no CPU pinning."
        )
    )
    L.append(
        "- The server and the load generator share this machine's cores, and the machine is "
        "shared with other work: the *other load* column is the machine's CPU busy time not "
        "spent by the server or wrk during the run (from /proc/stat), so noisy rows can be spotted."
        + (
            f" Before each measurement the harness waited up to {s['wait_quiet_s']:g} s for the "
            "machine to be under 15% busy."
            if s.get("wait_quiet_s")
            else ""
        )
    )
    L.append("")

    L.append("## Targets")
    L.append("")
    L.append(_table(["target", "measured", "verdict"], targets(r)))
    L.append("")

    L.append("## HTTP scenarios")
    L.append("")
    rows = []
    for x in r["scenarios"]:
        if "skipped" in x:
            rows.append([x["name"], "skipped: " + x["skipped"][:120].replace("|", "/")] + [""] * 10)
            continue
        rows.append([
            x["name"],
            f"`{x['request']}` → {x['status']}",
            _f(x.get("rps"), "{:.0f}"),
            _us(x.get("p50_us")),
            _us(x.get("p99_us")),
            _f(x.get("cpu_s_per_10k"), "{:.3f}"),
            _f(x.get("cpu_us_per_req"), "{:.1f}"),
            _mb(x.get("rss_idle_kb")),
            _mb(x.get("rss_peak_kb")),
            x.get("memo", "—"),
            str(x.get("non2xx", 0) + x.get("socket_errors", 0)),
            _f(x.get("other_cpu_pct"), "{:.0f}%"),
        ])
    L.append(_table(
        ["scenario", "request → status", "req/s", "p50", "p99", "CPU-s / 10k req", "µs CPU / req",
         "RSS idle MB", "RSS peak MB", "x-nebula-memo", "errors", "other load"],
        rows,
    ))
    L.append("")

    L.append("## Cold start: exec → first 200")
    L.append("")
    rows = []
    for c in r["cold"]:
        if not c.get("reps"):
            rows.append([c["name"], c["cache"], "skipped: " + c.get("skipped", "")[:120].replace("|", "/"), "", "", ""])
            continue
        rows.append([c["name"], c["cache"], f"{c['median_ms']:.1f}", f"{c['min_ms']:.1f}", f"{c['max_ms']:.1f}", str(c["reps"])])
    L.append(_table(["server", "compile cache", "median ms", "min ms", "max ms", "runs"], rows))
    L.append("")

    L.append("## Compute: Benchmarks Game kernels, pure component vs native")
    L.append("")
    rows = []
    for c in r["compute"]:
        if "ratio" not in c:
            rows.append([c["bench"], str(c["n"]), "failed: " + c.get("skipped", "")[:100], "", "", "", "", "", ""])
            continue
        rows.append([
            c["bench"], f"{c['n']:,}",
            f"{c['native_cpu_s']:.3f}" if c.get("native_cpu_s") else "—", f"{c['wasm_cpu_s']:.3f}",
            f"**{c['ratio']:.2f}**",
            f"{c['native_s']:.3f}", f"{c['wasm_s']:.3f}", f"{c['wall_ratio']:.2f}",
            "yes" if c["same_output"] else "**NO**",
        ])
    L.append(_table(
        ["benchmark", "size", "native CPU s", "wasm CPU s", "wasm/native (CPU)", "native wall s",
         "wasm wall s", "wasm/native (wall)", "same output"],
        rows,
    ))
    L.append("")
    L.append(
        f"Median of {s['compute_reps']} run(s) each. Native: the kernel alone inside "
        "`compute-native` (a fresh process per run, process start not counted), pinned to the "
        "server's CPU; its CPU time is the "
        "thread's (`/proc/thread-self/schedstat`). Wasm: `GET /compute/{bench}/{n}` against "
        "`nebula-host up bench/manifests/compute.toml` (a fresh instance per request, memo off); "
        "its CPU time is the server process's for the request, which includes instantiation and "
        "HTTP (tens of microseconds). The verdict uses the CPU-time ratio, because wall time on "
        "this shared machine also counts the time other processes held the CPU. Both sides are "
        "built from components/compute-kernels with opt-level 3 and one codegen unit; the "
        "kernels enable wasm `simd128` in the guest (x86_64's baseline SSE2 is the same 128-bit "
        "width natively), so LLVM may vectorize both the same way; binary-trees uses each "
        "target's global allocator (the nebula-guest SDK's in the guest, glibc malloc natively)."
    )
    L.append("")

    L.append("## Idle")
    L.append("")
    rows = []
    for i in r["idle"]:
        rows.append([
            i["name"], f"{i['window_s']:.0f} s", f"{i['cpu_ms']:.3f}", f"{i['cpu_ms_per_min']:.3f}",
            f"{i['rss_kb'] / 1024:.1f}", _mb(i.get("rss_anon_kb")), _mb(i.get("rss_file_kb")), str(i["threads"]),
            f"{i['idle_unload']} s" if i.get("idle_unload") is not None else "flag not available",
            f"{i['stat_ticks_ms']:.0f}",
        ])
    L.append(_table(["server", "window", "CPU ms", "CPU ms / min", "RSS MB at end", "of which anon MB", "file MB", "threads", "--idle-unload", "/proc/PID/stat ms (10 ms ticks)"], rows))
    L.append("")

    load = r.get("load")
    L.append("## Load simulation (Academemes)")
    L.append("")
    if load:
        L.append(
            f"Simulated users (bench/load.py): home page, a meme page, its image, a vote 30% of "
            f"the time and an upload 2% of the time; low-step users think "
            f"{load['low_think_ms'][0]:g}–{load['low_think_ms'][1]:g} ms between requests, peak-step "
            f"users not at all. {load['step_s']:g} s per step, "
            f"{load['requests']:,} requests, {load['uploads']} uploads. Samples every 0.5 s in "
            "[`out/load.csv`](out/load.csv); plot: [`out/load.svg`](out/load.svg)."
        )
        L.append("")
        rows = []
        for p in load["phases"]:
            rows.append([
                p["step"], str(p["users"]), f"{p['req_per_s']:.0f}", _f(p["p99_ms"], "{:.2f} ms"),
                f"{p['cpu_pct']:.1f}", f"{p['rss_mb_max']:.1f}", f"{p['rss_mb_end']:.1f}",
            ])
        L.append(_table(["step", "users", "req/s (mean)", "p99", "server CPU % (mean)", "RSS MB (max)", "RSS MB (end)"], rows))
        L.append("")
        if load.get("server_command"):
            L.append(f"Server: `{load['server_command']}`.")
            L.append("")
        L.append("Responses: " + ", ".join(f"{k}: {n}" for k, n in sorted(load["statuses"].items())))
        L.append("")
        L.append("![load](out/load.svg)")
    else:
        L.append("Not run.")
    L.append("")

    notes = list(r["notes"])
    if any(x.get("server") == "academemes" and "skipped" not in x for x in r["scenarios"]):
        notes.append(
            "The Academemes HTTP scenarios run on one server started on an empty data folder: "
            "it seeds itself first (rendering every starting meme), so its *RSS idle* is the RSS "
            "right after seeding. The idle section restarts it on the seeded data."
        )
    if notes:
        L.append("## Notes")
        L.append("")
        for n in notes:
            L.append(f"- {n}")
        L.append("")
    path.write_text("\n".join(L))
