"""The state the scenarios share: settings, notes, results, a temp folder, and how each kind of
server is started."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from pathlib import Path

from paths import (
    ACADEMEMES,
    COMPUTE_MANIFEST,
    HELLO_MANIFEST,
    HELLO_WASM,
    HOST_BIN,
    HTTP_HELLO_WASM,
    NATIVE_HELLO,
    NCPU,
    OUT,
)
from servers import Server, free_port, request, run
from wrk import Wrk

# Every server but the cold starts' runs optimized code only: with an empty compile cache a
# tiered host would serve Winch's code for its first seconds, and the throughput, compute, idle
# and load numbers are about the steady state (which a warm cache gives at once).
OPTIMIZED = {"NEBULA_TIERS": "optimized"}


class Harness:
    def __init__(self, args, wasmtime: str | None):
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
            "academemes_rss": {},
        }
        self.wasmtime = wasmtime
        self.academemes_data: Path | None = None
        self.meme_id: str | None = None
        self.warmed: set[tuple[Path, Path]] = set()  # (manifest, cache) pairs compiled by `check`
        self.idle_unload_flag = "--idle-unload" in run([str(HOST_BIN), "up", "--help"]).stdout

    def section(self, name: str) -> bool:
        return self.args.only is None or name in self.args.only

    def server(self, kind: str, name: str | None = None, cache: Path | None = None,
               extra: list[str] | None = None, env: dict | None = None) -> Server:
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
            if self.academemes_data is None:
                self.academemes_data = self.tmp / "academemes-data"
            # The moderation routes need a token to start; the load is one address, so the
            # routes' per-client rate limits are lifted (`--rate-limits off`).
            os.environ.setdefault("ACADEMEMES_ADMIN_TOKEN", secrets.token_hex(32))
            if cache == self.cache:  # the cold starts bring their own, empty or warm
                self.warm_cache(ACADEMEMES, cache)
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
        return Server(name or kind, argv, port, self.server_cpu, self.logs, env=env)

    def warm_cache(self, manifest: Path, cache: Path) -> None:
        """Compiles a manifest's components into `cache` (`nebula-host check`), once per cache:
        the memory measured from a server's start (Academemes' seeding) is then the app's, not
        Cranelift's. Compiling is measured on its own, by the cold starts."""
        if (manifest, cache) in self.warmed:
            return
        out = run([str(HOST_BIN), "check", str(manifest), "--cache-dir", str(cache)])
        if out.returncode != 0:
            raise RuntimeError(f"nebula-host check {manifest} failed:\n{out.stdout}{out.stderr}")
        self.warmed.add((manifest, cache))

    def wasmtime_cache_config(self, cache: Path) -> Path:
        cfg = cache / "wasmtime-cache.toml"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text(f'[cache]\ndirectory = "{cache / "wasmtime"}"\n')
        return cfg

    def academemes_ready(self) -> bool:
        if not ACADEMEMES.exists():
            self.notes.append("manifests/academemes.toml is not there: Academemes scenarios skipped.")
            return False
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
