"""``helsestat serve`` as a real server process for tests: started on a free port with demo
settings, waited for until /health answers, stopped with its workers at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def helsestat_serve(
    data_dir: Path, *, workers: int, log_level: str = "WARNING", output: IO[bytes] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``(base_url, process)`` of a running ``helsestat serve``; its output goes to
    ``output`` (default: the test's own)."""
    port = free_port()
    env = {
        **os.environ,
        "HELSESTAT_DEMO_MODE": "1",
        "HELSESTAT_DATA_DIR": str(data_dir),
        "HELSESTAT_WORKERS": str(workers),
        "HELSESTAT_PORT": str(port),
        "HELSESTAT_LOG_LEVEL": log_level,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "helsestat.cli", "serve"],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            assert server.poll() is None, "server exited"
            time.sleep(0.2)
        yield base, server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
