"""HEAD on every kind of GET route, over real HTTP: same status and headers as GET, no body."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import httpx
import pytest
from fastapi import FastAPI

from helsestat.api import create_app
from helsestat.settings import Settings


@pytest.mark.parametrize(
    "path",
    [
        "/health",
        "/api/v1/releases",
        "/api/v1/tables",
        "/api/v1/tables/sob/lan?format=csv",
        "/api/v1/tables/sob/lan?format=parquet",
        "/api/klass/v1/classifications",
        "/",
    ],
)
def test_head_answers_as_get_without_a_body(
    published: Settings, serve: Callable[[FastAPI], AbstractContextManager[str]], path: str
) -> None:
    # a new data directory: the first code-list request seeds its reference database (seconds
    # on a busy machine), which is not what this test is about
    with (
        serve(create_app(published)) as base_url,
        httpx.Client(base_url=base_url, timeout=60) as http,
    ):
        get = http.get(path)
        head = http.head(path)
    assert get.status_code == head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "etag", "cache-control"):
        assert head.headers.get(name) == get.headers.get(name), name


def test_head_of_a_missing_table_is_404_and_other_methods_still_405(
    published: Settings, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> None:
    with serve(create_app(published)) as base_url, httpx.Client(base_url=base_url) as http:
        assert http.head("/api/v1/tables/no/such").status_code == 404
        assert http.delete("/api/v1/tables/sob/lan").status_code == 405
