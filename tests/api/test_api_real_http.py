from collections.abc import Callable
from contextlib import AbstractContextManager

import httpx
import pytest
from fastapi import FastAPI

from helsestat.api import create_app
from helsestat.settings import Settings


@pytest.mark.slow
def test_uvicorn_serves_health_and_a_table(
    published: Settings, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> None:
    with serve(create_app(published)) as base_url, httpx.Client(base_url=base_url) as http:
        health = http.get("/health")
        assert health.json() == {"status": "ok", "ready": True, "release": "r1"}
        table = http.get("/api/v1/tables/sob/lan", params={"format": "csv"})
        assert table.status_code == 200
        assert table.headers["content-type"] == "text/csv; charset=utf-8"
        assert table.text.splitlines() == [
            "lan,personer,status,status_rule",
            "01,420,published,",
            "12,,primary,personer <= 10",
            "14,77,published,",
        ]
        again = http.get(
            "/api/v1/tables/sob/lan",
            params={"format": "csv"},
            headers={"If-None-Match": table.headers["etag"]},
        )
        assert again.status_code == 304
