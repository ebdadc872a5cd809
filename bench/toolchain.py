"""What the benchmark runs on: release builds of the host, the native baselines and the guests;
wrk; the `wasmtime` CLI it compares with (installed into a cache folder); and whether Spin can be
had here."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

from paths import ROOT, TOOL_CACHE
from servers import log

WASMTIME_VERSION = "48.0.8"  # the wasmtime nebula-host embeds (Cargo.lock)

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


def ensure_wasmtime(explicit: str | None, notes: list[str]) -> str | None:
    """The `wasmtime` CLI to compare with: `--wasmtime PATH` if given, else wasmtime-cli
    {WASMTIME_VERSION} installed by `cargo install --locked` into the tool cache (a first run
    compiles it, which takes many minutes; later runs find it there)."""
    if explicit:
        if os.access(explicit, os.X_OK):
            return explicit
        notes.append(f"`--wasmtime {explicit}` is not an executable: `wasmtime serve` skipped.")
        return None
    root = TOOL_CACHE / f"wasmtime-cli-{WASMTIME_VERSION}"
    binary = root / "bin" / "wasmtime"
    if binary.exists():
        return str(binary)
    argv = ["cargo", "install", "--locked", f"wasmtime-cli@{WASMTIME_VERSION}", "--root", str(root)]
    log(f"installing the wasmtime CLI to compare with: {shlex.join(argv)} (takes a while, once)")
    root.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(argv, text=True, capture_output=True, cwd=TOOL_CACHE)
    if done.returncode != 0 or not binary.exists():
        notes.append(
            f"`{shlex.join(argv)}` failed, so the `wasmtime serve` rows are skipped: "
            + done.stderr.strip()[-300:].replace("\n", " ")
        )
        return None
    return str(binary)


# Why there is no Spin column, found out on this machine (crates.io is the only Rust registry it
# reaches): `cargo info spin-cli` shows version 0.0.0, "Placeholder for Spin CLI"; Spin's runtime
# crates (spin-trigger-http, spin-runtime-factors) are not on crates.io at all. `spin up` is built
# from its release source, which is only published on GitHub.
SPIN_UNAVAILABLE = (
    "Spin: not measured. `spin up` must be built from Spin's release source, which is published "
    "only on GitHub; this machine reaches crates.io, where `spin-cli` is a 0.0.0 placeholder "
    "(\"Placeholder for Spin CLI\") and Spin's runtime crates (spin-trigger-http, "
    "spin-runtime-factors) are not published."
)
