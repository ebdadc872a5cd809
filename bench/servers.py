"""Server processes on 127.0.0.1 (pinned, logged, always stopped) and plain HTTP requests."""

from __future__ import annotations

import http.client
import os
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

from paths import ROOT


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


LIVE: set["Server"] = set()


def cleanup() -> None:
    for server in list(LIVE):
        server.stop()


def pin(cpu: int | None):
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerGone(RuntimeError):
    pass


class Server:
    """A server process on 127.0.0.1, pinned to the server CPU, stopped at exit whatever happens."""

    def __init__(self, name: str, argv: list[str], port: int, cpu: int | None, logdir: Path,
                 env: dict | None = None):
        self.name, self.argv, self.port, self.cpu = name, argv, port, cpu
        self.env = None if env is None else {**os.environ, **env}
        self.logpath = logdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> "Server":
        self.logpath.parent.mkdir(parents=True, exist_ok=True)
        logf = open(self.logpath, "ab")
        logf.write(f"\n$ {shlex.join(self.argv)}\n".encode())
        logf.flush()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the harness only; it stops the servers
            preexec_fn=pin(self.cpu),
            cwd=ROOT,
            env=self.env,
        )
        logf.close()
        LIVE.add(self)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 6) -> str:
        try:
            text = self.logpath.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def wait_ready(self, path: str = "/", timeout: float = 60.0, poll: float = 0.001) -> float:
        """Polls (connect + GET) until the first 200; returns seconds since exec."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if not self.alive():
                raise ServerGone(f"{self.name} exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                status, _, _ = request(self.port, "GET", path, timeout=max(1.0, timeout))
                if status == 200:
                    return time.perf_counter() - self.started
                raise ServerGone(f"{self.name}: GET {path} answered {status}: {self.log_tail()}")
            except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
                time.sleep(poll)
            except (TimeoutError, socket.timeout):
                pass
        raise ServerGone(f"{self.name}: no 200 on {path} within {timeout:.0f}s: {self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        LIVE.discard(self)


def request(
    port: int,
    method: str,
    path: str,
    headers: dict | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, text=True, capture_output=True, **kw)
