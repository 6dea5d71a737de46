"""Shared fixtures: demo-mode settings in a temporary data directory and small synthetic
extracts (SYNTHETIC DATA)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from helsestat.settings import Settings
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv, write_parquet


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(demo_mode=True, data_dir=tmp_path / "var")


@pytest.fixture(scope="session")
def claims_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("extracts") / "claims_small.csv"
    write_csv(generate_claims(6000, seed=7, bad_share=0.02), path)
    return path


@pytest.fixture(scope="session")
def claims_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("extracts") / "claims_small.parquet"
    write_parquet(generate_claims(6000, seed=7, bad_share=0.02), path)
    return path


@pytest.fixture
def serve() -> Callable[[FastAPI], AbstractContextManager[str]]:
    """``with serve(app) as base_url:`` runs ``app`` under uvicorn on a free loopback port in
    a thread (real HTTP for the API, browser and client tests)."""
    return serving


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run ``app`` under uvicorn on a free loopback port in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start within 10 s")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
