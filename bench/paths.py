"""Where the benchmark finds what it runs, and the machine's constants."""

from __future__ import annotations

import os
from pathlib import Path

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

# Tools the harness installs for itself (the `wasmtime` CLI it compares with), kept between runs.
TOOL_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nebula-bench"

CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
