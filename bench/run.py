#!/usr/bin/env python3
"""Nebula's benchmark harness: one command, every scenario, one report.

    python3 bench/run.py            # full run (about 10 minutes), writes bench/RESULTS.md
    python3 bench/run.py --quick    # smoke run (about 2-3 minutes)

Builds what it needs in release, starts each server on 127.0.0.1, drives it with wrk (the one
load generator for every HTTP scenario), reads the server's CPU time and memory from /proc, and
writes bench/RESULTS.md, bench/out/results.json, bench/out/load.csv and bench/out/load.svg.
bench/README.md explains every section and column. Not part of the tests.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as _dt
import http.client
import json
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from load import simulate  # bench/load.py
from report import write_results  # bench/report.py

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
RELEASE = ROOT / "target" / "release"
GUESTS = ROOT / "target" / "guests" / "wasm32-wasip2" / "release"
HOST_BIN = RELEASE / "nebula-host"
NATIVE_HELLO = RELEASE / "native-hello"
COMPUTE_NATIVE = RELEASE / "compute-native"
HELLO_WASM = GUESTS / "hello.wasm"
HTTP_HELLO_WASM = GUESTS / "bench_http_hello.wasm"
ACADEMEMES = ROOT / "manifests" / "academemes.toml"
HELLO_MANIFEST = BENCH / "manifests" / "hello.toml"
COMPUTE_MANIFEST = BENCH / "manifests" / "compute.toml"
LUA = BENCH / "lua"

CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1

# Benchmarks Game sizes that take about a second natively on the reference machine (2-core AMD
# EPYC VM): nbody and mandelbrot ~1.0 s. fannkuch-redux 10 takes 0.2 s and 11 ~12x longer, so it
# stays at 10. binary-trees 17 takes 0.5 s; 18 would take 1.3 s but traps in the guest: the
# nebula-guest SDK's bump allocator frees nothing within a request, and depth 18 allocates more
# than the 512 MiB memory limit of bench/manifests/compute.toml.
DEFAULT_SIZES = {"nbody": 25_000_000, "fannkuch-redux": 10, "mandelbrot": 4000, "binary-trees": 17}

# The targets of issue #6 (bench/README.md, "Targets").
TARGET_PURE_CPU_US = 25.0


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---- /proc --------------------------------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the whole process, live and exited threads, in seconds.

    Read from the process's CPU-time clock (clock_getcpuclockid(3): clock id
    `(~pid << 3) | 2`), which has nanosecond resolution; falls back to utime + stime from
    /proc/PID/stat, in clock ticks (10 ms), if the kernel refuses the clock."""
    try:
        return time.clock_gettime_ns(((~pid) << 3) | 2) / 1e9
    except OSError:
        return proc_stat_cpu_seconds(pid)


def proc_stat_cpu_seconds(pid: int) -> float:
    """utime + stime from /proc/PID/stat (fields 14 and 15 of proc(5)), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def proc_status_kb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def reset_peak_rss(pid: int) -> bool:
    """Resets VmHWM to the current RSS (proc(5), clear_refs value 5)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def system_cpu() -> dict[str, float]:
    """Machine-wide CPU seconds from /proc/stat: busy (not idle/iowait) and steal."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    v = [int(x) for x in parts]
    idle = v[3] + v[4]
    steal = v[7] if len(v) > 7 else 0
    total = sum(v[:8])
    return {"busy": (total - idle) / CLK_TCK, "steal": steal / CLK_TCK, "total": total / CLK_TCK}


def wait_quiet(max_wait: float, threshold_pct: float = 15.0) -> tuple[float, float]:
    """Waits (at most `max_wait` seconds) until the machine's CPUs are less than `threshold_pct`
    busy over one second, the harness's own servers being idle meanwhile; returns the seconds
    waited and the last busy percentage. On a shared machine this keeps other people's builds
    out of the measurements when they pause."""
    waited, busy_pct = 0.0, 0.0
    while True:
        a = system_cpu()
        time.sleep(1.0)
        b = system_cpu()
        busy_pct = 100.0 * (b["busy"] - a["busy"]) / max(1e-9, b["total"] - a["total"])
        if busy_pct < threshold_pct or waited + 1.0 >= max_wait:
            return waited, busy_pct
        waited += 1.0


def children_cpu_seconds() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# ---- processes ----------------------------------------------------------------------------------

LIVE: set["Server"] = set()


def cleanup() -> None:
    for server in list(LIVE):
        server.stop()


def pin(cpu: int | None):
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerGone(RuntimeError):
    pass


class Server:
    """A server process on 127.0.0.1, pinned to the server CPU, stopped at exit whatever happens."""

    def __init__(self, name: str, argv: list[str], port: int, cpu: int | None, logdir: Path):
        self.name, self.argv, self.port, self.cpu = name, argv, port, cpu
        self.logpath = logdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> "Server":
        self.logpath.parent.mkdir(parents=True, exist_ok=True)
        logf = open(self.logpath, "ab")
        logf.write(f"\n$ {shlex.join(self.argv)}\n".encode())
        logf.flush()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the harness only; it stops the servers
            preexec_fn=pin(self.cpu),
            cwd=ROOT,
        )
        logf.close()
        LIVE.add(self)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 6) -> str:
        try:
            text = self.logpath.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def wait_ready(self, path: str = "/", timeout: float = 60.0, poll: float = 0.001) -> float:
        """Polls (connect + GET) until the first 200; returns seconds since exec."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if not self.alive():
                raise ServerGone(f"{self.name} exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                status, _, _ = request(self.port, "GET", path, timeout=max(1.0, timeout))
                if status == 200:
                    return time.perf_counter() - self.started
                raise ServerGone(f"{self.name}: GET {path} answered {status}: {self.log_tail()}")
            except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
                time.sleep(poll)
            except (TimeoutError, socket.timeout):
                pass
        raise ServerGone(f"{self.name}: no 200 on {path} within {timeout:.0f}s: {self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        LIVE.discard(self)


def request(
    port: int,
    method: str,
    path: str,
    headers: dict | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, text=True, capture_output=True, **kw)


# ---- wrk ----------------------------------------------------------------------------------------


def parse_duration_us(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6}[unit]


def parse_wrk(out: str) -> dict:
    res: dict = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if m:
        res["requests"] = int(m.group(1))
        res["seconds"] = parse_duration_us(m.group(2) + m.group(3)) / 1e6
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        res[f"p{pct}_us"] = parse_duration_us(m.group(1)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    return res


class Wrk:
    def __init__(self, args, cpu: int | None):
        self.threads, self.connections = args.threads, args.connections
        self.duration, self.warmup, self.cpu = args.duration, args.warmup, cpu
        self.quiet = args.wait_quiet

    def flags(self, duration: float) -> list[str]:
        return ["-t", str(self.threads), "-c", str(self.connections), "-d", f"{duration:g}s"]

    def command(self, port: int, path: str, script: Path | None, duration: float) -> list[str]:
        argv = ["wrk", *self.flags(duration), "--latency", "--timeout", "10s"]
        if script:
            argv += ["-s", str(script)]
        return argv + [f"http://127.0.0.1:{port}{path}"]

    def _wrk(self, argv: list[str], duration: float) -> subprocess.CompletedProcess:
        return subprocess.run(
            argv, text=True, capture_output=True, timeout=duration + 60, preexec_fn=pin(self.cpu)
        )

    def measure(self, server: Server, path: str, script: Path | None = None) -> dict:
        waited, busy = wait_quiet(self.quiet) if self.quiet > 0 else (0.0, float("nan"))
        if self.warmup > 0:
            self._wrk(self.command(server.port, path, script, self.warmup), self.warmup)
        reset_peak_rss(server.pid)
        argv = self.command(server.port, path, script, self.duration)
        res: dict = {"quiet_wait_s": waited, "busy_before_pct": busy}
        tick0 = proc_stat_cpu_seconds(server.pid)
        cpu0, sys0, ch0 = proc_cpu_seconds(server.pid), system_cpu(), children_cpu_seconds()
        t0 = time.perf_counter()
        done = self._wrk(argv, self.duration)
        wall = time.perf_counter() - t0
        cpu1, sys1, ch1 = proc_cpu_seconds(server.pid), system_cpu(), children_cpu_seconds()
        res["server_cpu_s_stat"] = proc_stat_cpu_seconds(server.pid) - tick0  # cross-check
        res.update(parse_wrk(done.stdout))
        res["wrk_command"] = shlex.join(argv).replace(str(ROOT) + "/", "")
        res["server_cpu_s"] = cpu1 - cpu0
        res["wrk_cpu_s"] = ch1 - ch0
        busy = sys1["busy"] - sys0["busy"]
        other = busy - res["server_cpu_s"] - res["wrk_cpu_s"]
        res["other_cpu_pct"] = max(0.0, 100.0 * other / (wall * NCPU))
        res["steal_pct"] = 100.0 * (sys1["steal"] - sys0["steal"]) / (wall * NCPU)
        res["rss_peak_kb"] = proc_status_kb(server.pid, "VmHWM")
        n = res.get("requests", 0)
        if n:
            res["cpu_s_per_10k"] = res["server_cpu_s"] / n * 10_000
            res["cpu_us_per_req"] = res["server_cpu_s"] / n * 1e6
        if done.returncode != 0:
            res["error"] = (done.stderr or done.stdout).strip()[-300:]
        return res


# ---- builds -------------------------------------------------------------------------------------

NATIVE_KERNEL_CONFIG = [
    # The guest gets opt-level 3 for the kernels (components/Cargo.toml) and one codegen unit
    # (its whole release profile); give the native kernels the same.
    "--config",
    "profile.release.package.compute-kernels.opt-level=3",
    "--config",
    "profile.release.package.compute-kernels.codegen-units=1",
]


def build(notes: list[str]) -> None:
    steps = [
        (["cargo", "build", "--release", "-p", "nebula-host"], ROOT),
        (["cargo", "build", "--release", "-p", "nebula-bench", *NATIVE_KERNEL_CONFIG], ROOT),
        (["cargo", "build", "--release"], ROOT / "components"),
    ]
    for argv, cwd in steps:
        log(f"build: {shlex.join(argv)} (in {cwd.relative_to(ROOT) if cwd != ROOT else '.'})")
        done = subprocess.run(argv, cwd=cwd, text=True, capture_output=True)
        if done.returncode == 0:
            continue
        if cwd.name == "components":
            # Someone's guest may not build right now: build the ones the benchmark needs.
            pkgs = ["hello", "compute", "bench-http-hello"]
            pkgs += [
                "academemes-api",
                "academemes-pages",
                "academemes-upload",
                "academemes-assets",
                "academemes-seed",
                "generator",
            ]
            notes.append(
                "`cargo build --release` of the whole components workspace failed; built the "
                "benchmark's guests one by one instead."
            )
            for pkg in pkgs:
                d = subprocess.run(
                    ["cargo", "build", "--release", "-p", pkg], cwd=cwd, text=True,
                    capture_output=True,
                )
                if d.returncode != 0:
                    notes.append(f"guest `{pkg}` did not build: {d.stderr.strip()[-200:]}")
            continue
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"build failed: {shlex.join(argv)}")


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    log("wrk is missing: apt-get install -y wrk")
    if subprocess.run(["apt-get", "install", "-y", "wrk"]).returncode != 0:
        subprocess.run(["apt-get", "update"])
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)


def find_wasmtime(explicit: str | None) -> str | None:
    for cand in [explicit, shutil.which("wasmtime"), "/opt/wasmtime48/bin/wasmtime"]:
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


# ---- the harness --------------------------------------------------------------------------------


class Harness:
    def __init__(self, args):
        self.args = args
        self.notes: list[str] = []
        self.server_cpu = None if args.no_pin else (1 if NCPU > 1 else None)
        self.client_cpu = None if args.no_pin else 0
        self.wrk = Wrk(args, self.client_cpu)
        self.tmp = Path(tempfile.mkdtemp(prefix="nebula-bench-"))
        self.cache = self.tmp / "cache-warm"  # compile cache shared by the throughput servers
        self.logs = OUT / "logs"
        self.results: dict = {
            "scenarios": [],
            "cold": [],
            "compute": [],
            "idle": [],
            "load": None,
        }
        self.wasmtime = find_wasmtime(args.wasmtime)
        self.academemes_data: Path | None = None
        self.meme_id: str | None = None
        self.idle_unload_flag = False

    def section(self, name: str) -> bool:
        return self.args.only is None or name in self.args.only

    # -- servers --

    def server(self, kind: str, name: str | None = None, cache: Path | None = None,
               extra: list[str] | None = None) -> Server:
        port = free_port()
        listen = f"127.0.0.1:{port}"
        cache = cache or self.cache
        host = [str(HOST_BIN)]
        if kind == "native":
            argv = [str(NATIVE_HELLO), listen]
        elif kind == "pure-serve":
            argv = host + ["serve", str(HELLO_WASM), "--listen", listen, "--cache-dir", str(cache)]
        elif kind == "pure-manifest":
            argv = host + ["up", str(HELLO_MANIFEST), "--listen", listen, "--cache-dir", str(cache)]
        elif kind == "compute":
            argv = host + ["up", str(COMPUTE_MANIFEST), "--listen", listen, "--cache-dir", str(cache)]
        elif kind == "http-nebula":
            argv = host + ["serve", str(HTTP_HELLO_WASM), "--listen", listen, "--cache-dir", str(cache)]
        elif kind == "academemes":
            assert self.academemes_data is not None
            # The moderation routes need a token to start; the load is one address, so the
            # routes' per-client rate limits are lifted (`--rate-limits off`).
            os.environ.setdefault("ACADEMEMES_ADMIN_TOKEN", secrets.token_hex(32))
            argv = host + [
                "up", str(ACADEMEMES), "--listen", listen,
                "--data", str(self.academemes_data), "--cache-dir", str(cache),
                "--rate-limits", "off",
            ]
        elif kind == "wasmtime":
            assert self.wasmtime
            argv = [self.wasmtime, "serve", "-S", "cli", "--addr", listen]
            argv += extra or ["-C", f"cache-config={self.wasmtime_cache_config(cache)}"]
            argv.append(str(HTTP_HELLO_WASM))
            extra = None
        else:
            raise ValueError(kind)
        argv += extra or []
        return Server(name or kind, argv, port, self.server_cpu, self.logs)

    def wasmtime_cache_config(self, cache: Path) -> Path:
        cfg = cache / "wasmtime-cache.toml"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text(f'[cache]\ndirectory = "{cache / "wasmtime"}"\n')
        return cfg

    # -- throughput scenarios --

    def throughput(self) -> None:
        groups = []
        if self.section("hello"):
            groups += [
                ("native", [("native hyper hello", "GET", "/hello", None)]),
                ("pure-serve", [("nebula pure hello (serve)", "GET", "/hello", None)]),
                ("pure-manifest", [
                    ("pure no-op route (memo = false)", "GET", "/noop/world", None),
                    ("pure memoized route (hit)", "GET", "/memo/world", None),
                ]),
            ]
        if self.section("http"):
            groups.append(("http-nebula", [("nebula wasi:http hello", "GET", "/hello", None)]))
            if self.wasmtime:
                groups.append(("wasmtime", [("wasmtime serve wasi:http hello", "GET", "/hello", None)]))
            else:
                self.notes.append(
                    "`wasmtime` is not on PATH (nor /opt/wasmtime48/bin): the `wasmtime serve` "
                    "scenario and the targets relative to it were skipped."
                )
        if self.section("academemes") and self.academemes_ready():
            groups.append(("academemes", [
                ("academemes home / (memo hit)", "GET", "/", None),
                ("academemes home / (memo miss)", "GET", "/", LUA / "nonce.lua"),
                ("academemes meme page (memo hit)", "GET", "/memes/{id}", None),
                ("academemes meme page (memo miss)", "GET", "/memes/{id}", LUA / "nonce.lua"),
                ("academemes image", "GET", "/memes/{id}/image", None),
                ("academemes vote", "POST", "/api/memes/{id}/vote", LUA / "post.lua"),
            ]))
        for kind, scenarios in groups:
            self.run_group(kind, scenarios)

    def run_group(self, kind: str, scenarios) -> None:
        server = self.server(kind)
        log(f"{kind}: {shlex.join(server.argv)}")
        server.start()
        try:
            ready_path = {"pure-manifest": "/noop/world", "academemes": "/"}.get(kind, "/hello")
            try:
                server.wait_ready(ready_path, timeout=300 if kind == "academemes" else 120)
            except ServerGone as e:
                for label, *_ in scenarios:
                    self.results["scenarios"].append({"name": label, "server": kind, "skipped": str(e)})
                self.notes.append(f"{kind}: skipped: {e}")
                log(f"  skipped: {e}")
                return
            time.sleep(1.0)
            rss_idle = proc_status_kb(server.pid, "VmRSS")
            if kind == "academemes":
                self.meme_id = self.meme_id or self.first_meme(server.port)
            for label, method, path, script in scenarios:
                path = path.replace("{id}", self.meme_id or "")
                probe = request(server.port, method, path)
                probe2 = request(server.port, method, path)
                row = {
                    "name": label,
                    "server": kind,
                    "request": f"{method} {path}" + (f" ({script.name})" if script else ""),
                    "status": probe[0],
                    "bytes": len(probe[2]),
                    "memo": probe2[1].get("x-nebula-memo", "—"),
                    "rss_idle_kb": rss_idle,
                }
                if script and script.name == "nonce.lua":
                    row["memo"] = "miss (unique header per request)"
                elif method != "GET":
                    row["memo"] = probe2[1].get("x-nebula-memo", "not memoized (writes)")
                log(f"  {label}: {method} {path} -> {probe[0]}, {len(probe[2])} bytes, memo {row['memo']}")
                row.update(self.wrk.measure(server, path, script))
                if not server.alive():
                    row["error"] = f"server died: {server.log_tail()}"
                self.results["scenarios"].append(row)
                log(
                    f"    {row.get('rps', 0):.0f} req/s, p50 {row.get('p50_us', 0):.0f} us, "
                    f"p99 {row.get('p99_us', 0):.0f} us, {row.get('cpu_us_per_req', float('nan')):.1f} "
                    f"us CPU/req, peak RSS {(row.get('rss_peak_kb') or 0) / 1024:.1f} MB, "
                    f"other load {row['other_cpu_pct']:.0f}%"
                )
        finally:
            server.stop()

    def academemes_ready(self) -> bool:
        if not ACADEMEMES.exists():
            self.notes.append("manifests/academemes.toml is not there yet: Academemes scenarios skipped.")
            return False
        if self.academemes_data is None:
            self.academemes_data = self.tmp / "academemes-data"
        return True

    def first_meme(self, port: int) -> str | None:
        status, _, body = request(port, "GET", "/api/memes?limit=5", timeout=30)
        try:
            memes = json.loads(body)
            items = memes.get("memes") if isinstance(memes, dict) else memes
            return items[0]["id"]
        except (ValueError, KeyError, IndexError, TypeError):
            self.notes.append(f"GET /api/memes answered {status} without a meme id: {body[:200]!r}")
            return None

    # -- cold start --

    def cold_start(self) -> None:
        reps = self.args.cold_reps
        targets = [("native hyper hello", "native", "/hello", False)]
        targets += [("nebula pure hello (serve)", "pure-serve", "/hello", True)]
        if self.section("http"):
            targets += [("nebula wasi:http hello", "http-nebula", "/hello", True)]
            if self.wasmtime:
                targets += [("wasmtime serve wasi:http hello", "wasmtime", "/hello", True)]
        if self.section("academemes") and self.academemes_ready():
            targets += [("academemes (seeded data)", "academemes", "/", True)]
        for label, kind, path, has_cache in targets:
            for cache_kind in (["warm", "empty"] if has_cache else ["n/a"]):
                if self.args.wait_quiet > 0:
                    wait_quiet(self.args.wait_quiet)
                times, error = [], None
                warm_dir = self.tmp / f"cold-{kind}-warm"
                if cache_kind == "warm":
                    # One untimed start fills the cache.
                    try:
                        self.cold_once(kind, path, warm_dir, None)
                    except ServerGone as e:
                        error = str(e)
                n = reps
                if kind == "academemes" and cache_kind == "empty":
                    # Compiling every Academemes component takes many seconds.
                    n = 1 if self.args.quick else min(reps, 3)
                for i in range(n if error is None else 0):
                    cache = warm_dir if cache_kind != "empty" else self.tmp / f"cold-{kind}-empty-{i}"
                    extra = ["-C", "cache=n"] if (kind == "wasmtime" and cache_kind == "empty") else None
                    try:
                        times.append(self.cold_once(kind, path, cache, extra))
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
                self.results["cold"].append(row)

    def cold_once(self, kind: str, path: str, cache: Path, extra) -> float:
        server = self.server(kind, name=f"cold-{kind}", cache=cache, extra=extra)
        server.start()
        try:
            return server.wait_ready(path, timeout=300 if kind == "academemes" else 60, poll=0.0005)
        finally:
            server.stop()

    # -- compute --

    def compute(self) -> None:
        sizes = dict(DEFAULT_SIZES)
        for item in (self.args.compute_sizes or "").split(","):
            if "=" in item:
                k, v = item.split("=", 1)
                sizes[k.strip()] = int(v)
        reps = self.args.compute_reps
        server = self.server("compute")
        server.start()
        try:
            server.wait_ready("/compute/nbody/1000", timeout=120)
            for bench, n in sizes.items():
                if self.args.wait_quiet > 0:
                    wait_quiet(self.args.wait_quiet)
                native_times, native_cpu = [], []
                for _ in range(reps):
                    # A fresh process per run, as the guest gets a fresh instance per request.
                    native = run(
                        [str(COMPUTE_NATIVE), bench, str(n), "1"],
                        preexec_fn=pin(self.server_cpu),
                        timeout=600,
                    )
                    native_times += [int(x) / 1e9 for x in re.findall(r"elapsed_ns=(\d+)", native.stderr)]
                    native_cpu += [int(x) / 1e9 for x in re.findall(r"cpu_ns=(\d+)", native.stderr)]
                wasm_times, wasm_cpu, body, status = [], [], b"", 0
                for _ in range(reps):
                    c0, t0 = proc_cpu_seconds(server.pid), time.perf_counter()
                    status, _, body = request(server.port, "GET", f"/compute/{bench}/{n}", timeout=300)
                    wasm_times.append(time.perf_counter() - t0)
                    wasm_cpu.append(proc_cpu_seconds(server.pid) - c0)
                row = {"bench": bench, "n": n, "reps": reps, "status": status}
                if native_times and status == 200:
                    row.update(
                        native_s=statistics.median(native_times),
                        native_cpu_s=statistics.median(native_cpu) if native_cpu else None,
                        wasm_s=statistics.median(wasm_times),
                        wasm_cpu_s=statistics.median(wasm_cpu),
                        same_output=body.decode(errors="replace") == native.stdout,
                        result=native.stdout.strip().splitlines()[-1][:80],
                    )
                    row["wall_ratio"] = row["wasm_s"] / row["native_s"]
                    # The verdict uses CPU time: on a shared machine, wall time also counts the
                    # time other processes held the CPU.
                    row["ratio"] = (
                        row["wasm_cpu_s"] / row["native_cpu_s"] if row["native_cpu_s"] else row["wall_ratio"]
                    )
                    log(
                        f"compute {bench} {n}: native {row['native_s']:.3f}s wall "
                        f"{row['native_cpu_s'] or 0:.3f}s CPU, wasm {row['wasm_s']:.3f}s wall "
                        f"{row['wasm_cpu_s']:.3f}s CPU, ratio (CPU) {row['ratio']:.2f}, "
                        f"same output: {row['same_output']}"
                    )
                else:
                    row["skipped"] = f"native rc {native.returncode} {native.stderr[-200:]}; wasm {status} {body[:200]!r}"
                    log(f"compute {bench}: failed: {row['skipped']}")
                self.results["compute"].append(row)
        except ServerGone as e:
            self.notes.append(f"compute: skipped: {e}")
        finally:
            server.stop()

    # -- idle --

    def idle(self) -> None:
        help_text = run([str(HOST_BIN), "up", "--help"]).stdout
        self.idle_unload_flag = "--idle-unload" in help_text
        unload = self.args.idle_unload
        extra = ["--idle-unload", str(unload)] if self.idle_unload_flag else None
        if not self.idle_unload_flag:
            self.notes.append(
                "`nebula-host up` has no `--idle-unload` flag yet: idle RSS is with every "
                "component loaded."
            )
        plan = [("pure hello (manifest)", "pure-manifest", "/noop/world", ["/noop/world", "/memo/world"])]
        if self.section("academemes") and self.academemes_ready():
            plan.append(("academemes", "academemes", "/", ["/", "/api/memes", "/memes/{id}"]))
        servers = []
        try:
            for label, kind, ready, paths in plan:
                s = self.server(kind, name=f"idle-{kind}", extra=extra)
                s.start()
                try:
                    s.wait_ready(ready, timeout=300)
                except ServerGone as e:
                    self.notes.append(f"idle {label}: skipped: {e}")
                    s.stop()
                    continue
                if kind == "academemes":
                    self.meme_id = self.meme_id or self.first_meme(s.port)
                for p in paths:  # use every component once, then leave it alone
                    request(s.port, "GET", p.replace("{id}", self.meme_id or ""))
                servers.append((label, s))
            settle = (unload + 2.0) if self.idle_unload_flag else 2.0
            time.sleep(settle)
            before = {s.pid: (proc_cpu_seconds(s.pid), proc_stat_cpu_seconds(s.pid)) for _, s in servers}
            window = self.args.idle_window
            log(f"idle: sampling {len(servers)} server(s) for {window:g}s")
            t0 = time.perf_counter()
            time.sleep(window)
            elapsed = time.perf_counter() - t0
            for label, s in servers:
                cpu0, ticks0 = before[s.pid]
                cpu_ms = (proc_cpu_seconds(s.pid) - cpu0) * 1e3
                row = {
                    "name": label,
                    "window_s": elapsed,
                    "cpu_ms": cpu_ms,
                    "cpu_ms_per_min": cpu_ms * 60.0 / elapsed,
                    "stat_ticks_ms": (proc_stat_cpu_seconds(s.pid) - ticks0) * 1e3,
                    "threads": proc_threads(s.pid),
                    "rss_kb": proc_status_kb(s.pid, "VmRSS"),
                    "rss_anon_kb": proc_status_kb(s.pid, "RssAnon"),
                    "rss_file_kb": proc_status_kb(s.pid, "RssFile"),
                    "idle_unload": unload if self.idle_unload_flag else None,
                }
                self.results["idle"].append(row)
                log(
                    f"idle {label}: {row['cpu_ms_per_min']:.3f} ms CPU/min, "
                    f"RSS {row['rss_kb'] / 1024:.1f} MB, {row['threads']} threads"
                )
        finally:
            for _, s in servers:
                s.stop()

    # -- load simulation --

    def load(self) -> None:
        if not self.academemes_ready():
            return
        help_text = run([str(HOST_BIN), "up", "--help"]).stdout
        extra = None
        if "--idle-unload" in help_text:
            # Show the whole cycle: after the peak, idle components are unloaded again.
            extra = ["--idle-unload", str(self.args.idle_unload)]
        server = self.server("academemes", name="load-academemes", extra=extra)
        server.start()
        try:
            server.wait_ready("/", timeout=300)
            self.results["load"] = simulate(
                server, step=self.args.load_step, out=OUT, client_cpu=self.client_cpu,
                low_users=self.args.low_users, peak_users=self.args.peak_users, log=log,
            )
            self.results["load"]["server_command"] = shlex.join(server.argv).replace(str(ROOT) + "/", "")
        except ServerGone as e:
            self.notes.append(f"load simulation: skipped: {e}")
        finally:
            server.stop()


# ---- report -------------------------------------------------------------------------------------


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


def machine() -> dict:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = proc_meminfo_gib()
    return {
        "nproc": NCPU,
        "cpu": model,
        "kernel": os.uname().release,
        "memory": f"{mem:.0f} GiB",
        "loadavg": open("/proc/loadavg").read().split()[:3],
    }


def proc_meminfo_gib() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    return 0.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: short durations, few repetitions")
    p.add_argument("--duration", type=float, help="wrk seconds per scenario (default 10, quick 3)")
    p.add_argument("--warmup", type=float, help="wrk warm-up seconds before each scenario (default 2, quick 1)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    p.add_argument("--cold-reps", type=int, help="cold starts per server and cache state (default 10, quick 3)")
    p.add_argument("--compute-reps", type=int, help="runs per compute benchmark (default 3, quick 1)")
    p.add_argument("--compute-sizes", help="default nbody=25000000,fannkuch-redux=10,mandelbrot=4000,binary-trees=17")
    p.add_argument("--idle-window", type=float, help="idle CPU sampling window in seconds (default 60, quick 10)")
    p.add_argument("--idle-unload", type=int, default=5, help="--idle-unload SECONDS given to nebula-host, if it has the flag (default 5)")
    p.add_argument("--load-step", type=float, help="seconds per load-simulation step (default 20, quick 5)")
    p.add_argument("--low-users", type=int, default=8, help="simulated users in the low step (default 8)")
    p.add_argument("--peak-users", type=int, default=24, help="simulated users in the peak step (default 24)")
    p.add_argument("--wait-quiet", type=float, help="before each measurement, wait up to this many seconds for the machine to be under 15%% busy (default 20, quick 5; 0 = do not wait)")
    p.add_argument("--only", help="comma list of sections: hello,http,academemes,cold,compute,idle,load")
    p.add_argument("--no-build", action="store_true", help="use the binaries already in target/")
    p.add_argument("--no-pin", action="store_true", help="do not pin servers to CPU 1 and clients to CPU 0")
    p.add_argument("--wasmtime", help="wasmtime CLI to compare with (default: PATH, then /opt/wasmtime48/bin)")
    p.add_argument("--results", default=str(BENCH / "RESULTS.md"), help="report path (default bench/RESULTS.md)")
    args = p.parse_args(argv)
    q = args.quick
    args.duration = args.duration or (3.0 if q else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if q else 2.0)
    args.cold_reps = args.cold_reps or (3 if q else 10)
    args.compute_reps = args.compute_reps or (1 if q else 3)
    args.idle_window = args.idle_window or (10.0 if q else 60.0)
    args.load_step = args.load_step or (5.0 if q else 20.0)
    if args.wait_quiet is None:
        args.wait_quiet = 5.0 if q else 20.0
    if args.only:
        args.only = {s.strip() for s in args.only.split(",")}
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
    mach = machine()
    h = Harness(args)
    try:
        ensure_wrk()
        if not args.no_build:
            build(h.notes)
        for binary in (HOST_BIN, NATIVE_HELLO, COMPUTE_NATIVE, HELLO_WASM):
            if not binary.exists():
                raise SystemExit(f"missing {binary.relative_to(ROOT)}: run without --no-build")
        if not HTTP_HELLO_WASM.exists():
            h.notes.append(f"{HTTP_HELLO_WASM.relative_to(ROOT)} is missing: wasi:http scenarios skipped.")
            args.only = (args.only or {"hello", "academemes", "cold", "compute", "idle", "load"}) - {"http"}
        log(f"machine: {mach['nproc']} CPUs ({mach['cpu']}), load average {' '.join(mach['loadavg'])}")
        if h.section("hello") or h.section("http") or h.section("academemes"):
            h.throughput()
        if h.section("cold"):
            h.cold_start()
        if h.section("compute"):
            h.compute()
        if h.section("idle"):
            h.idle()
        if h.section("load"):
            h.load()
    except KeyboardInterrupt:
        log("interrupted: stopping servers")
        cleanup()
        return 130
    finally:
        cleanup()
        shutil.rmtree(h.tmp, ignore_errors=True)
    mach["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    finished = _dt.datetime.now(_dt.timezone.utc)
    report = {
        "command": command,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "machine": mach,
        "versions": versions(h.wasmtime),
        "settings": {
            "wrk": shlex.join(h.wrk.flags(args.duration)) + " --latency",
            "warmup_s": args.warmup,
            "wait_quiet_s": args.wait_quiet,
            "pinning": None if args.no_pin else {"server": h.server_cpu, "client": h.client_cpu},
            "cold_reps": args.cold_reps,
            "compute_reps": args.compute_reps,
            "idle_window_s": args.idle_window,
            "idle_unload_flag": h.idle_unload_flag,
            "load_step_s": args.load_step,
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
