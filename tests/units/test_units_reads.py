"""Registry reads under load: answered from the worker's snapshot (no query but the
generation check, at most every ``max_age``), the fast path giving the routes' own bytes,
and a write seen at once by the worker that made it and within ``max_age`` by the others."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import event
from sqlalchemy.engine import Engine

from helsestat.api import create_app
from helsestat.api.registry import RegistryReads, unit_links
from helsestat.api.routers.units_schemas import ChangesOut, SearchOut, TreeOut
from helsestat.reference.units import SYSTEM
from helsestat.reference.units.auth import create_user
from helsestat.reference.units.placing import as_of_table
from helsestat.settings import Settings
from helsestat.store.db.database import session_factory


class Queries:
    """Counts the queries (SELECT statements) an engine runs."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.count += statement.lstrip().upper().startswith("SELECT")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _app(settings: Settings, clock: Clock) -> FastAPI:
    app = create_app(settings)
    app.state.registry = RegistryReads(app.state.units_db, max_age=5.0, clock=clock)
    return app


@pytest.fixture(scope="module")
def reader(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        demo_mode=True, data_dir=tmp_path_factory.mktemp("lake"), database_url=demo_url
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_links_are_the_routes_paths(reader: TestClient) -> None:
    app: Any = reader.app
    uid = "100012"
    assert unit_links(100012) == {
        "self": app.url_path_for("unit", unit_id=uid),
        "path": app.url_path_for("unit_path", unit_id=uid),
        "subtree": app.url_path_for("unit_subtree", unit_id=uid),
        "history": app.url_path_for("unit_history", unit_id=uid),
        "dashboard": app.url_path_for("dashboard_unit", unit_id=uid),
    }


def test_the_fast_path_answers_what_the_routes_answer(reader: TestClient) -> None:
    uid = reader.get("/api/v1/units/tree").json()["nodes"][3]["id"]
    fast = reader.get(f"/api/v1/units/{uid}")
    routed = reader.get(f"/api/v1/units/0{uid}")  # a leading zero: the fast path lets it by
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    assert {k: fast.headers[k] for k in ("etag", "cache-control", "content-type")} == {
        k: routed.headers[k] for k in ("etag", "cache-control", "content-type")
    }
    tag = {"If-None-Match": fast.headers["etag"]}
    fast_304, routed_304 = (
        reader.get(u, headers=tag) for u in (f"/api/v1/units/{uid}", f"/api/v1/units/0{uid}")
    )
    assert fast_304.status_code == routed_304.status_code == 304
    assert fast_304.headers["etag"] == routed_304.headers["etag"]
    head = reader.head(f"/api/v1/units/{uid}")
    assert head.status_code == 200 and head.content == b""
    placed = reader.get("/api/v1/units/place", params={"id": uid, "date": "2015-01-01"})
    also = reader.get(f"/api/v1/units/place?id={uid}&date=%32015-01-01")  # escaped: routed
    assert placed.content == also.content and placed.json()["unit_id"] == uid
    unknown = reader.get("/api/v1/units/123")
    assert unknown.status_code == 404 and unknown.json()["code"] == "unit.not_found"


def test_reads_need_no_query_but_the_generation_check(demo_url: str, tmp_path: Path) -> None:
    clock = Clock()
    settings = Settings(demo_mode=True, data_dir=tmp_path, database_url=demo_url)
    with TestClient(_app(settings, clock)) as client:
        queries = Queries(client.app.state.units_db.engine())  # type: ignore[attr-defined]
        tree = client.get("/api/v1/units/tree", params={"date": "2015-01-01"}).json()["nodes"]
        loaded = queries.count  # the snapshot: the generation and three reads
        assert 0 < loaded <= 5
        reads = [
            *(f"/api/v1/units/{n['id']}" for n in tree[:20]),
            *(f"/api/v1/units/place?id={n['id']}&date=2015-01-01" for n in tree[:20]),
            *(f"/api/v1/units/{n['id']}/path" for n in tree[:5]),
            "/api/v1/units?q=helse",
            "/api/v1/units/tree?date=2016-01-01",
            "/api/v1/units/changes?from=2010-01-01",
            "/api/v1/units/fhir?date=2015-01-01",
        ]
        for url in reads:
            assert client.get(url).status_code == 200, url
        assert queries.count == loaded  # none: within max_age nothing is asked again
        clock.now += 10
        client.get(reads[0])
        assert queries.count == loaded + 1  # the generation only: nothing changed


def test_a_write_is_seen_at_once_here_and_within_max_age_elsewhere(
    engine: Engine, tmp_path: Path
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    with session_factory(engine).begin() as session:
        token = create_user(session, SYSTEM, "nhn-owner", "owner", None, log2_n=10).token
    clock = Clock()
    settings = Settings(demo_mode=True, data_dir=tmp_path, database_url=url)
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(_app(settings, clock)) as here, TestClient(_app(settings, clock)) as there:
        unit = {"country": "NO", "valid_from": "2002-01-01", "fields": {"kind": "rhf", "name": "A"}}
        created = here.post("/api/v1/units", json=unit, headers=auth).json()
        uid = created["id"]
        assert there.get(f"/api/v1/units/{uid}").status_code == 200  # there: first read loads
        rename = {"valid_from": "2010-01-01", "name": "B"}
        headers = {**auth, "If-Match": created["etag"]}
        changed = here.patch(f"/api/v1/units/{uid}", json=rename, headers=headers).json()
        assert here.get(f"/api/v1/units/{uid}").json()["etag"] == changed["etag"]  # at once
        assert there.get(f"/api/v1/units/{uid}").json()["etag"] == created["etag"]  # not yet
        clock.now += 5
        assert there.get(f"/api/v1/units/{uid}").json()["etag"] == changed["etag"]
        # a stale read cannot lose an update: its ETag is refused
        stale = here.patch(
            f"/api/v1/units/{uid}",
            json={"valid_from": "2011-01-01", "name": "C"},
            headers={**auth, "If-Match": created["etag"]},
        )
        assert stale.status_code == 412


@pytest.mark.parametrize(
    ("url", "model"),
    [
        ("/api/v1/units?q=helse&limit=500", SearchOut),
        ("/api/v1/units?q=a&date=2010-01-01", SearchOut),
        ("/api/v1/units/tree?date=2015-01-01", TreeOut),
        ("/api/v1/units/tree?date=2015-01-01&country=SE", TreeOut),
        ("/api/v1/units/changes?from=2000-01-01", ChangesOut),
        ("/api/v1/units/changes?from=2010-01-01&to=2012-01-01", ChangesOut),
    ],
)
def test_answers_built_as_json_values_are_their_models(
    reader: TestClient, url: str, model: type[BaseModel]
) -> None:
    answer = reader.get(url)
    assert answer.status_code == 200
    body = answer.json()
    assert model.model_validate(body).model_dump(mode="json", by_alias=True) == body
    if model is TreeOut:  # and a subtree too
        root = body["nodes"][0]["id"]
        subtree = reader.get(f"/api/v1/units/{root}/subtree?date=2015-01-01").json()
        assert TreeOut.model_validate(subtree).model_dump(mode="json") == subtree


def test_the_benchmark_asks_what_the_api_answers(reader: TestClient, demo_engine: Engine) -> None:
    """``make bench``'s registry loads are real requests (the benchmark itself is not run
    in the suite)."""
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    try:
        from benchmarks.bench_units import HEAVY_READS, registry_paths
    finally:
        sys.path.remove(str(root))
    with session_factory(demo_engine)() as session:
        flat = as_of_table(session)
    loads = registry_paths(flat, count=40)
    hf = next(
        n["id"] for n in reader.get("/api/v1/units/tree").json()["nodes"] if n["kind"] == "hf"
    )
    for name, paths in loads.items():
        assert {reader.get(p).status_code for p in paths[:40]} == {200}, name
    for template in HEAVY_READS:
        assert reader.get(template.format(day="2015-03-01", hf=hf)).status_code == 200, template
