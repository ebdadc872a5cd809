"""The measured HTTP run shared by the throughput scenarios: start a server, probe each request,
then wrk it (warm-up + 3 runs, see wrk.py) and record one row per scenario."""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import NamedTuple

from harness import OPTIMIZED
from procfs import proc_status_kb
from servers import ServerGone, log, request


class Scenario(NamedTuple):
    label: str
    method: str
    path: str  # `{id}` is replaced by a meme id
    script: Path | None = None
    connections: int | None = None  # wrk -c; default --connections


class Hooks:
    """What a scenario module may do around the measurements (default: nothing)."""

    def started(self, server) -> None: ...
    def ready(self, server) -> None: ...
    def done(self, server) -> None: ...


def run_group(h, kind: str, scenarios: list[Scenario], ready_path: str = "/hello",
              ready_timeout: float = 120, hooks: Hooks | None = None) -> None:
    """Starts the `kind` server, waits for its first 200 on `ready_path`, measures every scenario
    against it and stops it, calling `hooks` after the start, when ready and at the end."""
    hooks = hooks or Hooks()
    server = h.server(kind, env=OPTIMIZED)
    log(f"{kind}: {shlex.join(server.argv)}")
    server.start()
    hooks.started(server)
    try:
        try:
            server.wait_ready(ready_path, timeout=ready_timeout)
        except ServerGone as e:
            for s in scenarios:
                h.results["scenarios"].append({"name": s.label, "server": kind, "skipped": str(e)})
            h.notes.append(f"{kind}: skipped: {e}")
            log(f"  skipped: {e}")
            return
        time.sleep(1.0)
        rss_idle = proc_status_kb(server.pid, "VmRSS")
        hooks.ready(server)
        for s in scenarios:
            path = s.path.replace("{id}", h.meme_id or "")
            probe = request(server.port, s.method, path)
            probe2 = request(server.port, s.method, path)
            row = {
                "name": s.label,
                "server": kind,
                "request": f"{s.method} {path}" + (f" ({s.script.name})" if s.script else ""),
                "status": probe[0],
                "bytes": len(probe[2]),
                "memo": probe2[1].get("x-nebula-memo", "—"),
                "rss_idle_kb": rss_idle,
            }
            if s.script and s.script.name == "nonce.lua":
                row["memo"] = "miss (unique header per request)"
            elif s.method != "GET":
                row["memo"] = probe2[1].get("x-nebula-memo", "not memoized (writes)")
            log(f"  {s.label}: {s.method} {path} -> {probe[0]}, {len(probe[2])} bytes, memo {row['memo']}")
            row.update(h.wrk.measure(server, path, s.script, s.connections))
            if not server.alive():
                row["error"] = f"server died: {server.log_tail()}"
            h.results["scenarios"].append(row)
            if not server.alive():
                break
            sp = row.get("spread", {}).get("cpu_us_per_req", {})
            log(
                f"    {row.get('rps', 0):.0f} req/s, p99 {row.get('p99_us', 0):.0f} us, CPU/req "
                f"{sp.get('min', float('nan')):.1f} / {sp.get('median', float('nan')):.1f} / "
                f"{sp.get('max', float('nan')):.1f} us (min/median/max of {row.get('runs')}), peak RSS "
                f"{(row.get('rss_peak_kb') or 0) / 1024:.1f} MB, other load {row['other_cpu_pct']:.0f}%"
            )
        hooks.done(server)
    finally:
        server.stop()
