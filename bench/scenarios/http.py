"""Hello over HTTP: native hyper (the ceiling), the pure hello (`serve`, a no-op route with memo
off, a memoized route), and one `wasi:http` hello component served by Nebula and by
`wasmtime serve` — the like-for-like comparison."""

from __future__ import annotations

from scenarios.throughput import Scenario, run_group

NATIVE = "native hyper hello"
SERVE = "nebula pure hello (serve)"
NOOP = "pure no-op route (memo = false)"
MEMO = "pure memoized route (hit)"
HTTP = "nebula wasi:http hello"
WASMTIME = "wasmtime serve wasi:http hello"


def run(h) -> None:
    if h.section("hello"):
        run_group(h, "native", [Scenario(NATIVE, "GET", "/hello")])
        run_group(h, "pure-serve", [Scenario(SERVE, "GET", "/hello")])
        run_group(
            h,
            "pure-manifest",
            [Scenario(NOOP, "GET", "/noop/world"), Scenario(MEMO, "GET", "/memo/world")],
            ready_path="/noop/world",
        )
    if h.section("http"):
        run_group(h, "http-nebula", [Scenario(HTTP, "GET", "/hello")])
        if h.wasmtime:
            run_group(h, "wasmtime", [Scenario(WASMTIME, "GET", "/hello")])
