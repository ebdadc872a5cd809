"""wrk, the one load generator of every HTTP scenario: runs, parsing, and the server's cost."""

from __future__ import annotations

import re
import shlex
import statistics
import subprocess
import time
from pathlib import Path

from paths import NCPU, ROOT
from procfs import (
    children_cpu_seconds,
    proc_cpu_seconds,
    proc_stat_cpu_seconds,
    proc_status_kb,
    reset_peak_rss,
    system_cpu,
    wait_quiet,
)
from servers import Server, pin


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


def spread(values: list[float]) -> dict:
    """min / median / max of the runs' values (the report's three columns)."""
    values = [v for v in values if v == v]  # drop NaN
    if not values:
        return {}
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


class Wrk:
    """Runs wrk against a server: a warm-up, then `runs` measured runs, each read against the
    server's CPU clock and the machine's /proc/stat."""

    def __init__(self, args, cpu: int | None):
        self.threads, self.connections = args.threads, args.connections
        self.duration, self.warmup, self.cpu = args.duration, args.warmup, cpu
        self.quiet = args.wait_quiet
        self.runs = args.runs

    def flags(self, duration: float, connections: int | None = None) -> list[str]:
        c = connections or self.connections
        return ["-t", str(min(self.threads, c)), "-c", str(c), "-d", f"{duration:g}s"]

    def command(self, port: int, path: str, script: Path | None, duration: float,
                connections: int | None = None) -> list[str]:
        argv = ["wrk", *self.flags(duration, connections), "--latency", "--timeout", "10s"]
        if script:
            argv += ["-s", str(script)]
        return argv + [f"http://127.0.0.1:{port}{path}"]

    def _wrk(self, argv: list[str], duration: float) -> subprocess.CompletedProcess:
        return subprocess.run(
            argv, text=True, capture_output=True, timeout=duration + 60, preexec_fn=pin(self.cpu)
        )

    def measure(self, server: Server, path: str, script: Path | None = None,
                connections: int | None = None, pids: list[int] | None = None) -> dict:
        """Warm-up, then `runs` runs. The row is the run with the median server CPU per request,
        plus `spread` (min/median/max over the runs) of req/s, CPU per request, p50 and p99.
        `pids` are the processes whose CPU counts as the server's (default: `server` alone;
        e.g. hosts, etcd members and a proxy that serve together)."""
        waited, busy = wait_quiet(self.quiet) if self.quiet > 0 else (0.0, float("nan"))
        if self.warmup > 0:
            self._wrk(self.command(server.port, path, script, self.warmup, connections), self.warmup)
        pids = pids or [server.pid]
        runs = [self._once(server, path, script, connections, pids) for _ in range(self.runs)]
        done = [r for r in runs if r.get("requests")] or runs
        row = dict(sorted(done, key=lambda r: r.get("cpu_us_per_req", float("inf")))[len(done) // 2])
        row["quiet_wait_s"], row["busy_before_pct"] = waited, busy
        row["runs"] = len(runs)
        row["spread"] = {
            key: spread([r.get(key, float("nan")) for r in runs])
            for key in ("rps", "cpu_us_per_req", "p50_us", "p99_us", "other_cpu_pct")
        }
        row["rss_peak_kb"] = max((r.get("rss_peak_kb") or 0) for r in runs) or None
        errors = [r["error"] for r in runs if "error" in r]
        if errors:
            row["error"] = errors[-1]
        return row

    def _once(self, server: Server, path: str, script: Path | None, connections: int | None,
              pids: list[int]) -> dict:
        reset_peak_rss(server.pid)
        argv = self.command(server.port, path, script, self.duration, connections)
        res: dict = {}
        tick0 = sum(proc_stat_cpu_seconds(p) for p in pids)
        cpu0, sys0, ch0 = sum(proc_cpu_seconds(p) for p in pids), system_cpu(), children_cpu_seconds()
        t0 = time.perf_counter()
        done = self._wrk(argv, self.duration)
        wall = time.perf_counter() - t0
        cpu1, sys1, ch1 = sum(proc_cpu_seconds(p) for p in pids), system_cpu(), children_cpu_seconds()
        res["server_cpu_s_stat"] = sum(proc_stat_cpu_seconds(p) for p in pids) - tick0  # cross-check
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
