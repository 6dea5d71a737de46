"""``/api/v1/units`` checks every parameter at the edge: ids the database cannot hold,
digits that are not ASCII, dates that are not ``YYYY-MM-DD`` and times without a zone are
400 problems naming the parameter — never a 500, never another unit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from helsestat.api import create_app
from helsestat.reference.units import SYSTEM
from helsestat.reference.units.auth import create_user
from helsestat.settings import Settings
from helsestat.store.db.database import session_factory

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "hint", "instance"}
HUGE = str(2**63)  # one more than SQLite's and PostgreSQL's largest BIGINT
NEGATIVE = "-9999999999999999999"
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) == PROBLEM_KEYS and body["code"] == code and body["hint"]
    return body


@pytest.fixture(scope="module")
def reader(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        demo_mode=True, data_dir=tmp_path_factory.mktemp("lake"), database_url=demo_url
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(
    ("url", "params", "parameter"),
    [
        ("/api/v1/units/place", {"id": NEGATIVE}, "'id'"),
        ("/api/v1/units/place", {"id": HUGE}, "'id'"),
        ("/api/v1/units/place", {"id": "0"}, "'id'"),
        ("/api/v1/units/place", {"id": "+100000"}, "'id'"),
        ("/api/v1/units/place", {"id": "100_000"}, "'id'"),
        ("/api/v1/units/tree", {"root": HUGE}, "'root'"),
        ("/api/v1/units/changes", {"from": "2020-01-01", "root": HUGE}, "'root'"),
        ("/api/v1/units", {"q": "helse", "limit": HUGE}, "'limit'"),
        ("/api/v1/units/tree", {"date": "0"}, "'date'"),
        ("/api/v1/units/tree", {"date": "20240101"}, "'date'"),
        ("/api/v1/units/fhir", {"date": "2024-02-30"}, "'date'"),
        ("/api/v1/units/changes", {"from": "0"}, "'from'"),
        ("/api/v1/units/tree", {"known_at": "0.5"}, "'known_at'"),
        ("/api/v1/units/tree", {"known_at": "2024-01-01T12:00:00"}, "'known_at'"),
        ("/api/v1/units/place", {"id": "100000".translate(FULLWIDTH)}, "'id'"),
        ("/api/v1/units/place", {"id": "100000".translate(ARABIC_INDIC)}, "'id'"),
        ("/api/v1/units/tree", {"date": "2024-01-01".translate(FULLWIDTH)}, "'date'"),
    ],
)
def test_a_malformed_or_out_of_range_parameter_is_a_400(
    reader: TestClient, url: str, params: dict[str, str], parameter: str
) -> None:
    body = problem(reader.get(url, params=params), 400, "query.invalid")
    assert parameter in body["detail"]


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC])
def test_an_id_in_other_digits_is_not_another_name_of_the_unit(
    reader: TestClient, digits: dict[int, str]
) -> None:
    first = reader.get("/api/v1/units/tree").json()["nodes"][0]["id"]
    assert reader.get(f"/api/v1/units/{first}").status_code == 200
    for sub in ("", "/path", "/history"):
        problem(
            reader.get(f"/api/v1/units/{str(first).translate(digits)}{sub}"), 404, "unit.not_found"
        )


def test_valid_parameters_still_work(reader: TestClient) -> None:
    assert reader.get("/api/v1/units/place", params={"id": "1"}).json()["status"] == "unknown_id"
    assert reader.get("/api/v1/units/tree", params={"date": "2024-02-29"}).status_code == 200
    at = reader.get("/api/v1/units/tree", params={"known_at": "2030-01-01T00:00:00Z"})
    assert at.status_code == 200 and at.json()["nodes"]
    offset = reader.get("/api/v1/units/tree", params={"known_at": "2030-01-01T01:00:00+01:00"})
    assert offset.json() == at.json()


@pytest.fixture
def owner_client(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    url = engine.url.render_as_string(hide_password=False)
    with session_factory(engine).begin() as session:
        owner = create_user(session, SYSTEM, "nhn-owner", "owner", None, log2_n=10)
    with TestClient(
        create_app(Settings(demo_mode=True, data_dir=tmp_path, database_url=url))
    ) as client:
        yield client, owner.token


def test_ids_beyond_the_database_in_a_body_are_400s_on_both_backends(
    owner_client: tuple[TestClient, str],
) -> None:
    client, token = owner_client
    auth = {"Authorization": f"Bearer {token}"}
    unit = {
        "country": "NO",
        "valid_from": "2002-01-01",
        "fields": {"kind": "hf", "name": "Helse X HF", "parent_id": int(HUGE)},
    }
    problem(client.post("/api/v1/units", json=unit, headers=auth), 400, "query.invalid")
    classified = {**unit, "fields": {"kind": "rhf", "name": "X", "service_classification": 2**40}}
    problem(client.post("/api/v1/units", json=classified, headers=auth), 400, "query.invalid")
    user = {"name": "kari", "role": "admin", "scope_unit_id": int(HUGE)}
    problem(client.post("/api/v1/unit-users", json=user, headers=auth), 400, "query.invalid")
    as_text = {**unit, "fields": {"kind": "hf", "name": "Helse X HF", "parent_id": "100000"}}
    problem(client.post("/api/v1/units", json=as_text, headers=auth), 400, "query.invalid")
    as_number = {**unit, "valid_from": 0, "fields": {"kind": "rhf", "name": "X"}}
    problem(client.post("/api/v1/units", json=as_number, headers=auth), 400, "query.invalid")
    rhf = client.post(
        "/api/v1/units", json={**unit, "fields": {"kind": "rhf", "name": "Y RHF"}}, headers=auth
    )
    assert rhf.status_code == 201, rhf.text
    move = {"valid_from": "2010-01-01", "parent_id": int(HUGE)}
    headers = {**auth, "If-Match": rhf.json()["etag"]}
    url = f"/api/v1/units/{rhf.json()['id']}"
    problem(client.patch(url, json=move, headers=headers), 400, "query.invalid")
    long_orgnr = {"valid_from": "2010-01-01", "orgnr": "9" * 40}
    problem(client.patch(url, json=long_orgnr, headers=headers), 400, "query.invalid")
