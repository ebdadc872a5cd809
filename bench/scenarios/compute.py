"""Compute: four Benchmarks Game kernels (components/compute-kernels) as a pure component and
natively (bench/native), same source and settings; the verdict is the CPU-time ratio."""

from __future__ import annotations

import re
import statistics
import time

from harness import OPTIMIZED
from paths import COMPUTE_NATIVE
from procfs import proc_cpu_seconds, wait_quiet
from servers import ServerGone, log, pin, request, run as run_command
from wrk import spread

# Benchmarks Game sizes that take about a second natively on the reference machine (2-core AMD
# EPYC VM): nbody and mandelbrot ~1.0 s. fannkuch-redux 10 takes 0.2 s and 11 ~12x longer, so it
# stays at 10. binary-trees 18 takes ~1.3 s: it must run within the 512 MiB limit of
# bench/manifests/compute.toml, which needs a guest allocator that reuses freed blocks.
DEFAULT_SIZES = {"nbody": 25_000_000, "fannkuch-redux": 10, "mandelbrot": 4000, "binary-trees": 18}


def run(h) -> None:
    sizes = dict(DEFAULT_SIZES)
    for item in (h.args.compute_sizes or "").split(","):
        if "=" in item:
            k, v = item.split("=", 1)
            sizes[k.strip()] = int(v)
    reps = h.args.compute_reps
    server = h.server("compute", env=OPTIMIZED)
    server.start()
    try:
        server.wait_ready("/compute/nbody/1000", timeout=120)
        for bench, n in sizes.items():
            if h.args.wait_quiet > 0:
                wait_quiet(h.args.wait_quiet)
            native_times, native_cpu = [], []
            for _ in range(reps):
                # A fresh process per run, as the guest gets a fresh instance per request.
                native = run_command(
                    [str(COMPUTE_NATIVE), bench, str(n), "1"],
                    preexec_fn=pin(h.server_cpu),
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
                row["spread"] = {"native_cpu_s": spread(native_cpu), "wasm_cpu_s": spread(wasm_cpu)}
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
            h.results["compute"].append(row)
    except ServerGone as e:
        h.notes.append(f"compute: skipped: {e}")
    finally:
        server.stop()

