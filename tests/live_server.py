"""A real uvicorn server in a subprocess, on a free 127.0.0.1 port, for the tests that speak HTTP
over sockets (hostile requests, the web page in a browser).

The server is the production app from ``create_app`` under the settings of ``stance serve`` (h11,
uvloop where installed), with
an address-space limit so that a request which made it balloon fails the test instead of the
machine, and its stderr kept in a file so that a test can look for tracebacks afterwards.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SERVER_CODE = """
import resource, sys
import uvicorn
from stance.api import create_app

model_path, port, api_key, body_timeout, memory = sys.argv[1:6]
resource.setrlimit(resource.RLIMIT_AS, (int(memory), int(memory)))
app = create_app(model_path, api_key=api_key or None, body_timeout=float(body_timeout))
uvicorn.run(
    app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False, http="h11"
)
"""
MEMORY_LIMIT = 4 * 1024**3
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class LiveServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def errors(self) -> str:
        """What the server wrote to stderr (uvicorn logs an unhandled exception there)."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(
    model_path: Path,
    log_dir: Path,
    *,
    api_key: str | None = None,
    body_timeout: float = 30.0,
    memory_limit: int = MEMORY_LIMIT,
) -> Iterator[LiveServer]:
    port = free_port()
    log = log_dir / f"server-{port}.log"
    args = [str(model_path), str(port), api_key or "", str(body_timeout), str(memory_limit)]
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER_CODE, *args], stdout=subprocess.DEVNULL, stderr=stderr
        )
    server = LiveServer(f"http://127.0.0.1:{port}", port, process, log)
    try:
        _wait_until_up(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_up(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited at start-up:\n{server.errors()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer /health within {START_TIMEOUT:g} s")
