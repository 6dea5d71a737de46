"""``/api/v1/units`` through ``TestClient(create_app(settings))``: open reads, authenticated
writes (401/403 naming the missing right), ETag/If-Match (428, 412, never a lost update),
the audit trail, and problem+json on every failure."""

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


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) == PROBLEM_KEYS and body["code"] == code
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def reader(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        demo_mode=True, data_dir=tmp_path_factory.mktemp("lake"), database_url=demo_url
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_reads_are_open(reader: TestClient) -> None:
    tree = reader.get("/api/v1/units/tree", params={"date": "2015-01-01", "country": "NO"})
    nodes = tree.json()["nodes"]
    assert tree.status_code == 200 and nodes[0]["kind"] == "rhf" and nodes[0]["depth"] == 0
    hf = next(n for n in nodes if n["kind"] == "hf")
    leaf = next(n for n in nodes if n["kind"] == "avdeling")
    path = reader.get(f"/api/v1/units/{leaf['id']}/path", params={"date": "2015-01-01"}).json()
    assert [p["kind"] for p in path["path"]][-2:] == ["hf", "rhf"]
    subtree = reader.get(f"/api/v1/units/{hf['id']}/subtree", params={"date": "2015-01-01"})
    assert {n["id"] for n in subtree.json()["nodes"]} >= {leaf["id"]} or hf["id"] not in [
        p["id"] for p in path["path"]
    ]
    found = reader.get("/api/v1/units", params={"q": hf["name"][:8]}).json()["hits"]
    assert hf["id"] in [h["id"] for h in found]
    changes = reader.get("/api/v1/units/changes", params={"from": "2015-01-01", "to": "2020-01-01"})
    assert {c["what"] for c in changes.json()["changes"]} >= {
        "moved",
        "renamed",
        "closed",
        "opened",
    }
    placed = reader.get("/api/v1/units/place", params={"id": leaf["id"], "date": "2015-01-01"})
    assert placed.json()["status"] == "placed" and placed.json()["hf_id"] in [
        p["id"] for p in path["path"]
    ]
    assert reader.get("/api/v1/units/place", params={"id": 1}).json()["status"] == "unknown_id"
    fhir = reader.get("/api/v1/units/fhir", params={"date": "2015-01-01", "country": "SE"})
    assert fhir.headers["content-type"] == "application/fhir+json"
    assert fhir.json()["resourceType"] == "Bundle"


def test_a_unit_has_an_etag_and_answers_304(reader: TestClient) -> None:
    unit_id = reader.get("/api/v1/units/tree").json()["nodes"][0]["id"]
    response = reader.get(f"/api/v1/units/{unit_id}")
    body = response.json()
    assert response.headers["etag"] == body["etag"] == f'"unit-{unit_id}-1"'
    assert body["links"]["dashboard"] == f"/dashboard/units/{unit_id}"
    again = reader.get(f"/api/v1/units/{unit_id}", headers={"If-None-Match": body["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == body["etag"]
    history = reader.get(f"/api/v1/units/{unit_id}/history").json()
    assert [e["action"] for e in history["entries"]] == ["import"]


@pytest.mark.parametrize(
    ("method", "url", "params", "status", "code"),
    [
        ("GET", "/api/v1/units/12345678", {}, 404, "unit.not_found"),
        ("GET", "/api/v1/units/not-a-number", {}, 404, "unit.not_found"),
        ("GET", "/api/v1/units/12345678/history", {}, 404, "unit.not_found"),
        ("GET", "/api/v1/units/tree", {"date": "2024-13-01"}, 400, "query.invalid"),
        ("GET", "/api/v1/units/tree", {"root": "99"}, 404, "unit.not_found"),
        ("GET", "/api/v1/units", {}, 400, "query.invalid"),
        ("DELETE", "/api/v1/units/100000", {}, 405, "route.method_not_allowed"),
        ("POST", "/api/v1/units", {}, 401, "auth.missing_token"),
        ("PATCH", "/api/v1/units/100000", {}, 401, "auth.missing_token"),
        ("GET", "/api/v1/unit-users/me", {}, 401, "auth.missing_token"),
    ],
)
def test_failures_are_problems(
    reader: TestClient, method: str, url: str, params: dict[str, str], status: int, code: str
) -> None:
    problem(reader.request(method, url, params=params, json={}), status, code)


@pytest.fixture
def writer(engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """A client on an empty registry of each backend, and the registry owner's token."""
    url = engine.url.render_as_string(hide_password=False)
    with session_factory(engine).begin() as session:
        owner = create_user(session, SYSTEM, "nhn-owner", "owner", None, log2_n=10)
    settings = Settings(demo_mode=True, data_dir=tmp_path, database_url=url)
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, owner.token


def _org(name: str, admin: str, kind: str = "rhf", parent: int | None = None) -> dict[str, Any]:
    return {
        "country": "NO",
        "valid_from": "2002-01-01",
        "fields": {"kind": kind, "name": name, "parent_id": parent},
        "admin": admin,
    }


def test_the_write_flow_with_rights_etags_and_audit(writer: tuple[TestClient, str]) -> None:
    client, owner = writer
    rhf = client.post(
        "/api/v1/units/organisations", json=_org("Helse Vest RHF", "vest"), headers=bearer(owner)
    )
    assert rhf.status_code == 201, rhf.text
    vest = rhf.json()["admin"]["token"]
    rhf_id = rhf.json()["unit"]["id"]
    assert rhf.headers["location"] == f"/api/v1/units/{rhf_id}"
    bergen = client.post(
        "/api/v1/units/organisations",
        json=_org("Helse Bergen HF", "bergen", "hf", rhf_id),
        headers=bearer(owner),
    ).json()
    forde = client.post(
        "/api/v1/units/organisations",
        json=_org("Helse Førde HF", "forde", "hf", rhf_id),
        headers=bearer(owner),
    ).json()
    bergen_token, bergen_id = bergen["admin"]["token"], bergen["unit"]["id"]
    problem(
        client.post("/api/v1/units/organisations", json=_org("X RHF", "x"), headers=bearer(vest)),
        403,
        "auth.owner_only",
    )

    new = {
        "country": "NO",
        "valid_from": "2005-01-01",
        "fields": {
            "kind": "klinikk",
            "name": "Kirurgisk klinikk",
            "parent_id": bergen_id,
            "sector": "somatikk",
        },
    }
    created = client.post("/api/v1/units", json=new, headers=bearer(bergen_token))
    assert created.status_code == 201, created.text
    unit = created.json()
    url = f"/api/v1/units/{unit['id']}"
    assert created.headers["etag"] == unit["etag"]

    forde_child = {**new, "fields": {**new["fields"], "parent_id": forde["unit"]["id"]}}
    refused = problem(
        client.post("/api/v1/units", json=forde_child, headers=bearer(bergen_token)),
        403,
        "auth.out_of_scope",
    )
    assert refused["detail"].startswith(
        f"user 'bergen' (admin) may add units under HF {bergen_id} (Helse Bergen HF), not HF"
    )
    problem(
        client.post("/api/v1/units", json=new, headers=bearer("hsu_0123456789abcdef_" + "x" * 43)),
        401,
        "auth.invalid_token",
    )

    rename = {"valid_from": "2010-01-01", "name": "Kirurgisk divisjon"}
    problem(
        client.patch(url, json=rename, headers=bearer(bergen_token)),
        428,
        "unit.precondition_required",
    )
    problem(
        client.patch(url, json=rename, headers={**bearer(bergen_token), "If-Match": '"unit-1-1"'}),
        412,
        "unit.precondition_failed",
    )
    changed = client.patch(
        url, json=rename, headers={**bearer(bergen_token), "If-Match": unit["etag"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] != unit["etag"]
    assert [v["fields"]["name"] for v in changed.json()["versions"]] == [
        "Kirurgisk klinikk",
        "Kirurgisk divisjon",
    ]
    # A second writer still holding the old ETag is refused: its update is not lost silently.
    stale = client.patch(
        url,
        json={"valid_from": "2011-01-01", "sector": "phv"},
        headers={**bearer(vest), "If-Match": unit["etag"]},
    )
    problem(stale, 412, "unit.precondition_failed")

    move = client.patch(
        url,
        json={"valid_from": "2015-01-01", "parent_id": forde["unit"]["id"]},
        headers={**bearer(vest), "If-Match": changed.json()["etag"]},
    )
    assert move.status_code == 200, move.text
    assert move.json()["id"] == unit["id"]
    closed = client.post(
        f"{url}/close",
        json={"date": "2020-01-01"},
        headers={**bearer(vest), "If-Match": move.json()["etag"]},
    )
    assert closed.json()["closed"] == "2020-01-01"
    problem(client.delete(url, headers=bearer(owner)), 405, "route.method_not_allowed")

    history = client.get(f"{url}/history").json()["entries"]
    assert [(e["actor"], e["action"]) for e in history] == [
        ("bergen", "create"),
        ("bergen", "rename"),
        ("vest", "move"),
        ("vest", "close"),
    ]
    assert history[1]["before"]["versions"][0]["name"] == "Kirurgisk klinikk"
    assert [v["name"] for v in history[1]["after"]["versions"]] == [
        "Kirurgisk klinikk",
        "Kirurgisk divisjon",
    ]

    ident = client.post(
        f"{url}/identifiers",
        json={"scheme": "her", "value": "81234", "valid_from": "2005-01-01"},
        headers={**bearer(vest), "If-Match": closed.json()["etag"]},
    )
    assert ident.json()["identifiers"] == [
        {"scheme": "her", "value": "81234", "valid_from": "2005-01-01", "valid_to": None}
    ]


def test_users_and_tokens_through_the_api(writer: tuple[TestClient, str]) -> None:
    client, owner = writer
    rhf = client.post(
        "/api/v1/units/organisations", json=_org("Helse Nord RHF", "nord"), headers=bearer(owner)
    ).json()
    nord = rhf["admin"]["token"]
    me = client.get("/api/v1/unit-users/me", headers=bearer(nord)).json()
    assert me == {"name": "nord", "role": "admin", "scope_unit_id": rhf["unit"]["id"]}
    made = client.post(
        "/api/v1/unit-users",
        json={"name": "nord-editor", "role": "editor", "scope_unit_id": rhf["unit"]["id"]},
        headers=bearer(nord),
    )
    assert made.status_code == 201 and made.json()["token"].startswith("hsu_")
    editor = made.json()["token"]
    problem(
        client.post(
            "/api/v1/unit-users",
            json={"name": "x-y", "role": "editor", "scope_unit_id": rhf["unit"]["id"]},
            headers=bearer(editor),
        ),
        403,
        "auth.cannot_manage_users",
    )
    assert [u["name"] for u in client.get("/api/v1/unit-users", headers=bearer(nord)).json()] == [
        "nord",
        "nord-editor",
    ]
    again = client.post(
        "/api/v1/unit-users/tokens",
        json={"name": "nord-editor", "label": "ci"},
        headers=bearer(nord),
    )
    assert again.status_code == 201 and again.json()["user"]["tokens"] == 2
    assert client.post(
        "/api/v1/unit-users/revoke", json={"name": "nord-editor"}, headers=bearer(nord)
    ).json() == {"revoked": 2}
    problem(client.get("/api/v1/unit-users/me", headers=bearer(editor)), 401, "auth.invalid_token")
    problem(
        client.post(
            "/api/v1/unit-users",
            json={"name": "nord", "role": "editor", "scope_unit_id": rhf["unit"]["id"]},
            headers=bearer(owner),
        ),
        409,
        "unit_user.exists",
    )
