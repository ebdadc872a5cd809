#!/usr/bin/env python3
"""Flood scenario (issue #10): a well-behaved neighbour's latency while 300 looping requests hit
another component of the same host — the measure of admission control and the slow lane.

    python3 bench/flood.py [--host PATH] [--baseline-host PATH] [--duration S] [--rounds N]

It needs what `bench/run.py` needs (a release `nebula-host`, the guests, `wrk`); it does not build.
One host serves two components: `hello` (components/hello) at `GET /hello/{name}` with the memo
off, so every request is a fresh instance and a call, and `hostile-nostd` at `GET /loop/{x}`,
which loops until its 2 s deadline. Per round, `wrk` measures the neighbour alone, then again
while 300 client threads keep a looping request each in flight: a 504 is followed at once by
the next request, a 503 after the `Retry-After` it carries, as HTTP clients and proxies do. With
`--ignore-retry-after` the 503s are followed at once too: the flood is then one of request
*rate* as well (all 300 threads spinning on instant 503s), which a route's `rate_limit`, not
admission, is there to stop; on this 2-core machine the Python flooders then take most of a core
from the neighbour's load generator. Reported: the neighbour's p50/p99/throughput in both phases, and the
ratio flood/alone; the flood's status counts (never a 500). With `--baseline-host` (e.g. main's
binary) it also measures the no-op `hello` route alone on both binaries, for the fast path's
cost. Results go to bench/out/flood.json; `--markdown` prints the table for RESULTS.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from paths import GUESTS, RELEASE  # noqa: E402
from servers import Server, free_port, request  # noqa: E402
from wrk import parse_wrk  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
FLOODERS = 300

MANIFEST = """version = 1

[components.hello]
path = "{hello}"

[components.loop]
path = "{nostd}"
limits = {{ timeout = "2s", memory = "16 MiB" }}

[[routes]]
route = "GET /hello/{{name}}"
component = "hello"
memo = false

[[routes]]
route = "GET /loop/{{what}}"
component = "loop"
memo = false
"""


def wrk(port: int, duration: float) -> dict:
    argv = ["wrk", "-t", "2", "-c", "16", "-d", f"{duration:g}s", "--latency", "--timeout", "10s",
            f"http://127.0.0.1:{port}/hello/bench"]
    done = subprocess.run(argv, text=True, capture_output=True, timeout=duration + 60)
    return parse_wrk(done.stdout)


class Flood:
    """FLOODERS threads, each keeping one `GET /loop/...` in flight until stopped."""

    def __init__(self, port: int, ignore_retry_after: bool):
        self.port, self.stop = port, threading.Event()
        self.ignore_retry_after = ignore_retry_after
        self.statuses: collections.Counter = collections.Counter()
        self.retry_after_missing = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.one, args=(i,), daemon=True)
                        for i in range(FLOODERS)]

    def one(self, i: int) -> None:
        while not self.stop.is_set():
            try:
                status, headers, _ = request(self.port, "GET", f"/loop/loop?{i}", timeout=30)
            except OSError as e:
                status, headers = f"error: {type(e).__name__}", {}
            with self.lock:
                self.statuses[status] += 1
                if status == 503 and headers.get("retry-after") != "1":
                    self.retry_after_missing += 1
            if status == 503 and not self.ignore_retry_after:
                self.stop.wait(float(headers.get("retry-after", "1")))

    def __enter__(self) -> "Flood":
        for t in self.threads:
            t.start()
        time.sleep(3)  # every flooder has a request in flight, and the first deadlines passed
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=40)


def serve(host: str, manifest: Path, data: Path, name: str) -> Server:
    port = free_port()
    argv = [host, "up", str(manifest), "--listen", f"127.0.0.1:{port}", "--data", str(data),
            "--idle-unload", "0"]
    server = Server(f"flood-{name}", argv, port, None, OUT / "logs")
    server.start()
    server.wait_ready("/hello/ready")
    return server


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default=str(RELEASE / "nebula-host"))
    p.add_argument("--baseline-host", help="another nebula-host binary for the no-op comparison")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--ignore-retry-after", action="store_true",
                   help="flooders send the next request at once after a 503")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="nebula-flood-"))
    manifest = tmp / "flood.toml"
    manifest.write_text(MANIFEST.format(hello=GUESTS / "hello.wasm",
                                        nostd=GUESTS / "hostile_nostd.wasm"))
    result: dict = {"flooders": FLOODERS, "duration_s": args.duration, "rounds": [],
                    "ignore_retry_after": args.ignore_retry_after}
    server = serve(args.host, manifest, tmp / "data", "this")
    try:
        wrk(server.port, 2)  # warm-up
        flood_statuses: collections.Counter = collections.Counter()
        missing = 0
        for r in range(args.rounds):
            alone = wrk(server.port, args.duration)
            with Flood(server.port, args.ignore_retry_after) as flood:
                flooded = wrk(server.port, args.duration)
            flood_statuses.update(flood.statuses)
            missing += flood.retry_after_missing
            result["rounds"].append({"alone": alone, "flooded": flooded})
            print(f"round {r + 1}: alone p99 {alone['p99_us']:.0f} µs, {alone['rps']:.0f} req/s; "
                  f"flooded p99 {flooded['p99_us']:.0f} µs, {flooded['rps']:.0f} req/s; "
                  f"flood statuses {dict(flood.statuses)}", flush=True)
        result["flood_statuses"] = {str(k): v for k, v in flood_statuses.items()}
        result["retry_after_missing"] = missing
        result["host_alive"] = server.alive()
    finally:
        server.stop()

    if args.baseline_host:
        result["noop"] = {}
        for name, host in (("this", args.host), ("baseline", args.baseline_host)):
            runs = []
            for _ in range(args.rounds):
                s = serve(host, manifest, tmp / f"data-{name}", name)
                try:
                    wrk(s.port, 2)
                    runs.append(wrk(s.port, args.duration))
                finally:
                    s.stop()
            result["noop"][name] = runs
            rps = [x["rps"] for x in runs]
            print(f"no-op hello, {name}: req/s min {min(rps):.0f} median "
                  f"{statistics.median(rps):.0f} max {max(rps):.0f}", flush=True)

    OUT.mkdir(exist_ok=True)
    (OUT / "flood.json").write_text(json.dumps(result, indent=2))
    if args.markdown:
        print(markdown(result))
    return 0


def markdown(result: dict) -> str:
    def stats(phase: str, key: str) -> str:
        values = [r[phase][key] for r in result["rounds"]]
        unit = 1e3 if key.endswith("_us") else 1
        fmt = "{:.2f}" if key.endswith("_us") else "{:.0f}"
        return " / ".join(fmt.format(v / unit) for v in (min(values), statistics.median(values), max(values)))

    med = lambda phase, key: statistics.median(r[phase][key] for r in result["rounds"])  # noqa: E731
    lines = [
        "| neighbour `GET /hello/{name}` (memo off), wrk -t2 -c16 | alone | 300 loopers on another component | ratio (median) |",
        "|---|---|---|---|",
        f"| p50 ms (min / median / max) | {stats('alone', 'p50_us')} | {stats('flooded', 'p50_us')} | {med('flooded', 'p50_us') / med('alone', 'p50_us'):.2f} |",
        f"| p99 ms (min / median / max) | {stats('alone', 'p99_us')} | {stats('flooded', 'p99_us')} | {med('flooded', 'p99_us') / med('alone', 'p99_us'):.2f} |",
        f"| req/s (min / median / max) | {stats('alone', 'rps')} | {stats('flooded', 'rps')} | {med('flooded', 'rps') / med('alone', 'rps'):.2f} |",
        f"| non-2xx on the neighbour | {sum(r['alone']['non2xx'] for r in result['rounds'])} | {sum(r['flooded']['non2xx'] for r in result['rounds'])} | |",
        "",
        f"Flooders {'ignore' if result['ignore_retry_after'] else 'wait out'} `Retry-After` after a 503. "
        f"Flood statuses: {result['flood_statuses']}; 503s without `Retry-After: 1`: "
        f"{result['retry_after_missing']}; host alive after: {result['host_alive']}.",
    ]
    if "noop" in result:
        this = [x["rps"] for x in result["noop"]["this"]]
        base = [x["rps"] for x in result["noop"]["baseline"]]
        lines += ["", f"No-op hello alone, req/s (min / median / max): this build "
                  f"{min(this):.0f} / {statistics.median(this):.0f} / {max(this):.0f}, baseline "
                  f"{min(base):.0f} / {statistics.median(base):.0f} / {max(base):.0f}; ratio "
                  f"{statistics.median(this) / statistics.median(base):.2f}."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
