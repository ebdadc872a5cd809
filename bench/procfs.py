"""Readings from /proc: a process's CPU time and memory, the machine's CPU use and load."""

from __future__ import annotations

import os
import resource
import threading
import time

from paths import CLK_TCK, NCPU


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
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def rss_kb(pid: int) -> dict[str, int | None]:
    """VmRSS and its anonymous and file-backed parts (RssShmem, wasm memory images, counts as
    file here: it is backed by memfd pages the kernel may drop), in kB."""
    total = proc_status_kb(pid, "VmRSS")
    anon = proc_status_kb(pid, "RssAnon")
    return {"rss_kb": total, "rss_anon_kb": anon, "rss_file_kb": None if total is None or anon is None else total - anon}


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




class RssSampler:
    """Samples a process's RSS (total and anonymous) every `every` seconds in a thread and keeps
    the maxima; `mark(name)` records the maxima so far under a name (e.g. the end of seeding)."""

    def __init__(self, pid: int, every: float = 0.1):
        self.pid, self.every = pid, every
        self.max_kb = 0
        self.max_anon_kb = 0
        self.marks: dict[str, dict[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> "RssSampler":
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            r = rss_kb(self.pid)
            if r["rss_kb"] is None:
                return
            self.max_kb = max(self.max_kb, r["rss_kb"])
            self.max_anon_kb = max(self.max_anon_kb, r["rss_anon_kb"] or 0)
            self._stop.wait(self.every)

    def mark(self, name: str) -> None:
        self.marks[name] = {"max_rss_kb": self.max_kb, "max_anon_kb": self.max_anon_kb}

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
