#!/usr/bin/env python3
"""Nebula's benchmark harness: one command, every scenario, one report.

    python3 bench/run.py            # full run (13 minutes on a quiet machine, more on a busy one), writes bench/RESULTS.md
    python3 bench/run.py --quick    # smoke run (5-8 minutes)

Builds what it needs in release, installs the `wasmtime` CLI it compares with, starts each server
on 127.0.0.1, drives it with wrk (the one load generator for every HTTP scenario; a warm-up,
then 3 measured runs), reads the server's CPU time and memory from /proc, and writes
bench/RESULTS.md (with the goals of issue #13, each PASS or MISS), bench/out/results.json,
bench/out/load.csv and bench/out/load.svg. The scenarios live in bench/scenarios/, one module
each; bench/README.md explains every section and column. Not part of the tests.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as _dt
import json
import os
import re
import shlex
import shutil
import signal
import sys
from pathlib import Path

from harness import Harness
from paths import BENCH, COMPUTE_NATIVE, HELLO_WASM, HOST_BIN, HTTP_HELLO_WASM, NATIVE_HELLO, NCPU, OUT, ROOT
from procfs import machine
from report import write_results
from scenarios import academemes, cold, compute, http, idle, load
from servers import cleanup, log, run
from toolchain import SPIN_UNAVAILABLE, build, ensure_wasmtime, ensure_wrk

SECTIONS = ["hello", "http", "academemes", "cold", "compute", "idle", "load"]


def versions(wasmtime: str | None) -> dict:
    v = {}
    v["rustc"] = run(["rustc", "-V"], cwd=ROOT).stdout.strip()
    lock = (ROOT / "Cargo.lock").read_text()
    m = re.search(r'name = "wasmtime"\nversion = "([^"]+)"', lock)
    v["wasmtime crate"] = f"wasmtime {m.group(1)} (crate, in nebula-host)" if m else "?"
    w = run(["wrk", "-v"])
    first = (w.stdout + w.stderr).splitlines()[0] if (w.stdout + w.stderr) else "wrk ?"
    v["wrk"] = first.split(" Copyright")[0].strip()
    if wasmtime:
        v["wasmtime CLI"] = run([wasmtime, "--version"]).stdout.strip() + " (CLI, for `wasmtime serve`)"
    v["python"] = f"Python {sys.version.split()[0]}"
    return v


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: short durations, few repetitions")
    p.add_argument("--runs", type=int, help="measured wrk runs per HTTP scenario (default 3, quick 1)")
    p.add_argument("--duration", type=float, help="seconds per wrk run (default 5, quick 2)")
    p.add_argument("--warmup", type=float, help="wrk warm-up seconds before each scenario's runs (default 2, quick 1)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    p.add_argument("--cold-reps", type=int, help="cold starts per server and cache state (default 10, quick 3)")
    p.add_argument("--compute-reps", type=int, help="runs per compute benchmark (default 3, quick 1)")
    p.add_argument("--compute-sizes", help="default nbody=25000000,fannkuch-redux=10,mandelbrot=4000,binary-trees=18")
    p.add_argument("--idle-window", type=float, help="idle CPU sampling, three windows in all this many seconds (default 60, quick 15)")
    p.add_argument("--idle-unload", type=int, default=5, help="--idle-unload SECONDS for the idle section (default 5)")
    p.add_argument("--load-step", type=float, help="seconds of the low and the peak load-simulation steps (default 15, quick 5)")
    p.add_argument("--load-runs", type=int, help="load simulations (default 3, quick 1)")
    p.add_argument("--low-users", type=int, default=8, help="simulated users in the low step (default 8)")
    p.add_argument("--peak-users", type=int, default=24, help="simulated users in the peak step (default 24)")
    p.add_argument("--wait-quiet", type=float, help="before each measurement, wait up to this many seconds for the machine to be under 15%% busy (default 20, quick 5; 0 = do not wait)")
    p.add_argument("--only", help="comma list of sections: " + ",".join(SECTIONS))
    p.add_argument("--no-build", action="store_true", help="use the binaries already in target/")
    p.add_argument("--no-pin", action="store_true", help="do not pin servers to CPU 1 and clients to CPU 0")
    p.add_argument("--wasmtime", help="wasmtime CLI to compare with (default: wasmtime-cli 48.0.8, installed by cargo into ~/.cache/nebula-bench)")
    p.add_argument("--results", default=str(BENCH / "RESULTS.md"), help="report path (default bench/RESULTS.md)")
    args = p.parse_args(argv)
    q = args.quick
    args.runs = args.runs or (1 if q else 3)
    args.duration = args.duration or (2.0 if q else 5.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if q else 2.0)
    args.cold_reps = args.cold_reps or (3 if q else 10)
    args.compute_reps = args.compute_reps or (1 if q else 3)
    args.idle_window = args.idle_window or (15.0 if q else 60.0)
    args.load_step = args.load_step or (5.0 if q else 15.0)
    args.load_runs = args.load_runs or (1 if q else 3)
    if args.wait_quiet is None:
        args.wait_quiet = 5.0 if q else 20.0
    if args.only:
        args.only = {s.strip() for s in args.only.split(",")}
        unknown = args.only - set(SECTIONS)
        if unknown:
            p.error(f"unknown section(s) {', '.join(sorted(unknown))}; use {','.join(SECTIONS)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    command = shlex.join(["python3", "bench/run.py", *(sys.argv[1:] if argv is None else argv)])
    # Ctrl-C raises KeyboardInterrupt even where SIGINT was ignored at start (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    atexit.register(cleanup)
    if NCPU > 1 and not args.no_pin:
        os.sched_setaffinity(0, {0})  # the harness and its clients stay off the server's CPU
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(OUT / "logs", ignore_errors=True)
    started = _dt.datetime.now(_dt.timezone.utc)
    # The tree as it is built and measured (edits made while the run goes on do not count).
    head = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT).stdout.strip()
    dirty = bool(run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT).stdout.strip())
    mach = machine()
    notes: list[str] = []
    h = None
    try:
        ensure_wrk()
        if not args.no_build:
            build(notes)
        for binary in (HOST_BIN, NATIVE_HELLO, COMPUTE_NATIVE, HELLO_WASM):
            if not binary.exists():
                raise SystemExit(f"missing {binary.relative_to(ROOT)}: run without --no-build")
        wasmtime = ensure_wasmtime(args.wasmtime, notes) if (args.only is None or {"http", "cold"} & args.only) else None
        h = Harness(args, wasmtime)
        h.notes += notes
        h.notes.append(SPIN_UNAVAILABLE)
        if not HTTP_HELLO_WASM.exists():
            h.notes.append(f"{HTTP_HELLO_WASM.relative_to(ROOT)} is missing: wasi:http scenarios skipped.")
            args.only = (args.only or set(SECTIONS)) - {"http"}
        log(f"machine: {mach['nproc']} CPUs ({mach['cpu']}), load average {' '.join(mach['loadavg'])}")
        for section, scenario in (("hello", http), ("academemes", academemes), ("cold", cold),
                                  ("compute", compute), ("idle", idle), ("load", load)):
            if section == "hello" and not (h.section("hello") or h.section("http")):
                continue
            if section != "hello" and not h.section(section):
                continue
            scenario.run(h)
    except KeyboardInterrupt:
        log("interrupted: stopping servers")
        cleanup()
        return 130
    finally:
        cleanup()
        if h is not None:
            shutil.rmtree(h.tmp, ignore_errors=True)
    mach["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    finished = _dt.datetime.now(_dt.timezone.utc)
    report = {
        "command": command,
        "commit": head + (" (with uncommitted changes)" if dirty else ""),
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "machine": mach,
        "versions": versions(h.wasmtime),
        "settings": {
            "wrk": shlex.join(h.wrk.flags(args.duration)) + " --latency",
            "runs": args.runs,
            "warmup_s": args.warmup,
            "wait_quiet_s": args.wait_quiet,
            "pinning": None if args.no_pin else {"server": h.server_cpu, "client": h.client_cpu},
            "cold_reps": args.cold_reps,
            "compute_reps": args.compute_reps,
            "idle_window_s": args.idle_window,
            "idle_unload_flag": h.idle_unload_flag,
            "load_step_s": args.load_step,
            "load_runs": args.load_runs,
            "quick": args.quick,
        },
        "notes": h.notes,
        **h.results,
    }
    (OUT / "results.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    write_results(report, Path(args.results))
    log(f"wrote {args.results} and {OUT / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
