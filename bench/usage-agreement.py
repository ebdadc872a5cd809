#!/usr/bin/env python3
"""Does `nebula-host usage` agree with the benchmark harness's CPU measurement (issue #12)?

The harness measures a request's CPU as the host process's CPU-time clock before and after it
(procfs.proc_cpu_seconds, as scenarios/compute.py does). `usage` counts the guest's CPU only:
the thread CPU clock around each poll of the wasm call, instantiation included. The two should
agree where the guest's work is the request's cost — the compute kernels, a second each — and
the difference is the host's own work around the call (HTTP, routing, the epoch ticker), which
on the pure hello is most of the request. This script measures both on the same requests:

1. starts `nebula-host up bench/manifests/compute.toml` (optimized code, compiled before the
   ready line, so no compilation falls in the window) on a fresh data folder;
2. reads the process CPU clock, sends the requests, reads it again;
3. stops the host with SIGTERM (the usage log is flushed at shutdown) and reads
   `nebula-host usage --json` for the same data folder;
4. prints, per kernel, process CPU, usage CPU and their ratio; then the same for the pure hello
   (bench/manifests/hello.toml) to show the host's share where the guest does almost nothing.

Usage: python3 bench/usage-agreement.py [--bin target/release/nebula-host] [--reps 3]
Needs the guests built (cd components && cargo build --release).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from procfs import proc_cpu_seconds  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KERNELS = {"nbody": 5_000_000, "fannkuch-redux": 10, "mandelbrot": 2000, "binary-trees": 16}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def measure(binary: str, manifest: Path, paths: list[str], route: str) -> tuple[float, float]:
    """Process CPU seconds over the requests, and the route's CPU seconds from `usage`."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        port = free_port()
        env = dict(os.environ, NEBULA_TIERS="optimized", RUST_LOG="warn")
        host = subprocess.Popen(
            [binary, "up", str(manifest), "--listen", f"127.0.0.1:{port}", "--data", str(data),
             "--cache-dir", str(Path(tmp) / "cache"), "--idle-unload", "0"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        try:
            for line in host.stdout:
                if "serving on" in line:
                    break
            else:
                raise SystemExit(f"{binary} exited before serving")
            time.sleep(0.5)  # background threads settle after start
            before = proc_cpu_seconds(host.pid)
            for path in paths:
                status = get(port, path)
                if status != 200:
                    raise SystemExit(f"GET {path}: {status}")
            process = proc_cpu_seconds(host.pid) - before
        finally:
            host.send_signal(signal.SIGTERM)
            host.wait(timeout=60)
        usage = subprocess.run(
            [binary, "usage", "--data", str(data), "--json"], capture_output=True, text=True,
            check=True,
        )
        routes = {r["name"]: r for r in json.loads(usage.stdout)["routes"]}
        billed = routes[route]
        if billed["requests"] != len(paths):
            raise SystemExit(f"usage counted {billed['requests']} requests, {len(paths)} sent")
        return process, billed["cpu_ms"] / 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=str(ROOT / "target/release/nebula-host"))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--hello-requests", type=int, default=2000)
    args = parser.parse_args()

    print(f"{'route':<32} {'requests':>8} {'process CPU s':>13} {'usage CPU s':>11} {'usage/process':>13}")
    for kernel, n in KERNELS.items():
        paths = [f"/compute/{kernel}/{n}"] * args.reps
        process, usage = measure(args.bin, ROOT / "bench/manifests/compute.toml", paths,
                                 "GET /compute/{bench}/{n}")
        print(f"{'compute ' + kernel + ' ' + str(n):<32} {len(paths):>8} {process:>13.3f} {usage:>11.3f} {usage / process:>13.3f}")
    paths = ["/noop/ada"] * args.hello_requests
    process, usage = measure(args.bin, ROOT / "bench/manifests/hello.toml", paths, "GET /noop/{name}")
    print(f"{'hello (memo = false)':<32} {len(paths):>8} {process:>13.3f} {usage:>11.3f} {usage / process:>13.3f}")


if __name__ == "__main__":
    main()
