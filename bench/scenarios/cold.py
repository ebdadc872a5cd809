"""Cold start: exec of the server → its first 200, with a warm compile cache (filled by one untimed
start) and with an empty one; Academemes with an empty cache both tiered (the default: Winch
first, Cranelift in the background) and optimized only (`NEBULA_TIERS=optimized`), the
comparison the tiering is for."""

from __future__ import annotations

import shutil
import statistics

from procfs import wait_quiet
from harness import OPTIMIZED
from scenarios.http import NATIVE, SERVE
from servers import ServerGone, log

ACADEMEMES = "academemes (seeded data)"
ACADEMEMES_OPTIMIZED = "academemes (seeded data), Cranelift only"


def run(h) -> None:
    reps = h.args.cold_reps
    # (label, server kind, path, has a compile cache, environment)
    targets = [(NATIVE, "native", "/hello", False, None)]
    targets += [(SERVE, "pure-serve", "/hello", True, None)]
    if h.section("http"):
        targets += [("nebula wasi:http hello", "http-nebula", "/hello", True, None)]
        if h.wasmtime:
            targets += [("wasmtime serve wasi:http hello", "wasmtime", "/hello", True, None)]
    if h.section("academemes") and h.academemes_ready():
        targets += [(ACADEMEMES, "academemes", "/", True, None)]
        targets += [(ACADEMEMES_OPTIMIZED, "academemes", "/", True, OPTIMIZED)]
    for label, kind, path, has_cache, env in targets:
        kinds = ["warm", "empty"] if has_cache else ["n/a"]
        if env:
            kinds = ["empty"]  # warm starts never compile: the same as the tiered row
        for cache_kind in kinds:
            if h.args.wait_quiet > 0:
                wait_quiet(h.args.wait_quiet)
            times, error = [], None
            warm_dir = h.tmp / f"cold-{kind}-warm"
            if cache_kind == "warm":
                # One untimed start fills the cache with optimized code (a tiered start would
                # store it from the background, perhaps after the server was stopped).
                try:
                    once(h, kind, path, warm_dir, None, OPTIMIZED)
                except ServerGone as e:
                    error = str(e)
            n = reps
            if kind == "academemes" and cache_kind == "empty":
                n = 1 if h.args.quick else min(reps, 3)
            for i in range(n if error is None else 0):
                cache = warm_dir if cache_kind != "empty" else h.tmp / f"cold-{kind}-empty-{i}"
                extra = ["-C", "cache=n"] if (kind == "wasmtime" and cache_kind == "empty") else None
                try:
                    times.append(once(h, kind, path, cache, extra, env))
                except ServerGone as e:
                    error = str(e)
                    break
                if cache_kind == "empty":
                    shutil.rmtree(cache, ignore_errors=True)
            row = {"name": label, "server": kind, "cache": cache_kind, "reps": len(times)}
            if times:
                row.update(
                    median_ms=statistics.median(times) * 1e3,
                    min_ms=min(times) * 1e3,
                    max_ms=max(times) * 1e3,
                )
                log(f"cold start {label} ({cache_kind} cache): median {row['median_ms']:.1f} ms")
            if error:
                row["skipped"] = error
                log(f"cold start {label} ({cache_kind}): skipped: {error}")
            h.results["cold"].append(row)


def once(h, kind: str, path: str, cache, extra, env) -> float:
    server = h.server(kind, name=f"cold-{kind}", cache=cache, extra=extra, env=env)
    server.start()
    try:
        return server.wait_ready(path, timeout=300 if kind == "academemes" else 60, poll=0.0005)
    finally:
        server.stop()
