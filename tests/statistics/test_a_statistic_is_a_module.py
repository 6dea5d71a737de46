"""A statistic defined in one module (``fagbruk.py``, beside this test) gets everything
from its declaration alone: its tables built and protected, an operation per table in the
API, every format through the fast path (answered before FastAPI's router), its catalogue
entries and its dashboard page — used in headless Chromium (SYNTHETIC DATA)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import anyio
import httpx
import openpyxl
import orjson
import pyarrow.parquet as pq
import pytest
from fagbruk import FAGBRUK
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright

from helsestat.aggregate import DuckDBEngine
from helsestat.api import create_app
from helsestat.api.fastpath import DataFastPath
from helsestat.build import build, ingest_file
from helsestat.publish.formats import FORMATS
from helsestat.reference.snapshot import Reference
from helsestat.settings import DEMO_PSEUDONYM_KEY, Settings
from helsestat.statistics.catalog import published_tables
from helsestat.store.lake import Lake
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_parquet

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, reference: Reference) -> Settings:
    """A lake with one release of the fagbruk statistic alone, from 30 000 claim lines."""
    root = tmp_path_factory.mktemp("fagbruk")
    extract = root / "claims.parquet"
    write_parquet(generate_claims(30_000, seed=3), extract)
    lake = Lake(root / "var")
    ingest_file(extract, "claims", DEMO_PSEUDONYM_KEY.encode(), lake, reference)
    with DuckDBEngine(threads=2, memory_limit="1GB") as engine:
        build(lake, engine, mode="compat", threshold=5, reference=reference, statistics=(FAGBRUK,))
    return Settings(demo_mode=True, data_dir=lake.root)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, statistics=(FAGBRUK,))) as client:
        yield client


def test_its_tables_are_built_and_protected(settings: Settings) -> None:
    release = Lake(settings.data_dir).current()
    assert release is not None and set(release.tables) == {t.name for t in FAGBRUK.tables}
    table = Lake(settings.data_dir).read_table(release, "fagbruk/fylke/ar")
    rows = table.table.to_pylist()
    assert {r["status"] for r in rows} == {"published", "primary"}
    assert all(r["regninger"] > 5 for r in rows if r["status"] == "published")
    assert all(r["regninger"] is None for r in rows if r["status"] == "primary")


def test_each_table_is_an_operation_of_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for table in FAGBRUK.tables:
        operation = paths[f"/api/v1/tables/{table.name}"]["get"]
        names = {p["name"] for p in operation["parameters"]}
        assert set(FAGBRUK.dimensions(table)) | {"format", "release"} <= names


def _fast_path_alone(app: FastAPI, path: str, query: bytes) -> tuple[int, dict[str, str], bytes]:
    """Answer one GET through the fast path with nothing behind it: a request it let
    through would fail."""

    async def nothing_behind(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError(f"the fast path let {path} through")

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "app": app,
             "query_string": query, "headers": []}  # fmt: skip
    anyio.run(DataFastPath(nothing_behind), scope, receive, send)
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, sent[1]["body"]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_through_the_fast_path(client: TestClient, fmt: str) -> None:
    app = client.app
    assert isinstance(app, FastAPI)
    status, headers, body = _fast_path_alone(
        app, "/api/v1/tables/fagbruk/fylke/ar", f"fylke=03,46&format={fmt}".encode()
    )
    assert status == 200 and headers["content-type"] == FORMATS[fmt].media_type
    # the fast path answers what the documented route answers, byte for byte
    slow = client.get(f"/api/v1/tables/fagbruk/fylke/ar?fylke=03,46&format={fmt}")
    assert slow.content == body and slow.headers["etag"] == headers["etag"]
    if fmt == "json":
        rows = orjson.loads(body)
        assert rows and {r["fylke"] for r in rows} <= {"03", "46"}
    elif fmt == "csv":
        assert {r["fylke"] for r in csv.DictReader(io.StringIO(body.decode()))} <= {"03", "46"}
    elif fmt == "parquet":
        assert set(pq.read_table(io.BytesIO(body)).column("fylke").to_pylist()) <= {"03", "46"}
    elif fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(body))["data"]
        assert [c.value for c in next(sheet.iter_rows())][:3] == ["fylke", "ar", "fagomraade"]
    elif fmt == "jsonstat":
        assert orjson.loads(body)["id"] == ["fylke", "ar", "fagomraade", "measure"]
    else:
        assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<rows')


def test_its_tables_are_in_the_catalogue(client: TestClient) -> None:
    entries = [t for t in published_tables((FAGBRUK,)) if t.statistic == "fagbruk"]
    assert [t.identifier for t in entries] == [t.name for t in FAGBRUK.tables]
    served = client.get("/api/catalog").json()["tables"]
    assert [t["identifier"] for t in served] == [t.name for t in FAGBRUK.tables]
    assert {t["source"] for t in served} == {"KUHR"}


def test_its_page_lists_its_choices_and_values(client: TestClient) -> None:
    page = client.get("/dashboard/fagbruk")
    assert page.status_code == 200
    assert '<select name="niva" id="niva">' in page.text
    assert '<option value="03">03</option>' in page.text  # the fylker of the release


@pytest.mark.browser
def test_its_dashboard_in_chromium(
    settings: Settings, serve: Callable[[FastAPI], AbstractContextManager[str]]
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("run make system-deps (apt-get install chromium)")
    with (
        serve(create_app(settings, statistics=(FAGBRUK,))) as base_url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1200})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{base_url}/")
            page.get_by_role("link", name="Explore fagbruk").click()
            page.wait_for_url(f"{base_url}/dashboard/fagbruk")
            page.select_option("#niva", "fylke")
            page.select_option("#fylke", ["03"])
            page.get_by_role("button", name="Show").click()
            page.wait_for_selector("table.data tbody tr")
            rows = page.locator("table.data tbody tr")
            assert rows.count() > 0
            assert {rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())} == {
                "03"
            }
            page.wait_for_selector("#chart .plot-container svg.main-svg", timeout=15_000)
            assert page.locator("#chart .barlayer .trace").count() >= 1
            href = page.locator("a.download", has_text="csv").get_attribute("href")
            assert href is not None and href.startswith("/api/v1/tables/fagbruk/fylke/ar?")
            download = httpx.get(base_url + href)
            assert len(list(csv.DictReader(io.StringIO(download.text)))) == rows.count()
            assert errors == []
        finally:
            browser.close()
