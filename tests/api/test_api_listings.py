from collections.abc import Callable, Sequence

from fastapi.testclient import TestClient

from helsestat.model import ProtectedTable

FORMATS = ("csv", "json", "jsonstat", "parquet", "xlsx", "xml")


def test_releases_are_listed_oldest_first_with_the_current_marked(
    client: TestClient,
    build: Callable[[str, Sequence[ProtectedTable]], None],
    make_takstbruk: Callable[..., ProtectedTable],
) -> None:
    build("r2", [make_takstbruk(antall_0301_2024=1600)])
    body = client.get("/api/v1/releases").json()
    assert body["current"] == "r2"
    assert [(r["id"], r["tables"], r["current"]) for r in body["releases"]] == [
        ("r1", 2, False),
        ("r2", 1, True),
    ]
    assert body["releases"][0]["links"] == {"tables": "/api/v1/tables?release=r1"}


def test_releases_before_the_first_build(empty_client: TestClient) -> None:
    assert empty_client.get("/api/v1/releases").json() == {"current": None, "releases": []}


def test_tables_of_the_current_release(client: TestClient) -> None:
    response = client.get("/api/v1/tables")
    assert response.status_code == 200
    assert response.headers["x-helsestat-release"] == "r1"
    body = response.json()
    assert body["release"] == "r1"
    assert body["tables"][0] == {
        "name": "takstbruk/kommune/aar",
        "title": "Takstbruk by kommune and year",
        "dimensions": ["kommune", "aar"],
        "measures": ["antall", "refusjon"],
        "rows": 5,
        "notes": ["Helfo compatibility rules"],
        "links": {
            "data": "/api/v1/tables/takstbruk/kommune/aar",
            "dashboard": "/dashboard/tables/takstbruk/kommune/aar",
            **{f: f"/api/v1/tables/takstbruk/kommune/aar?format={f}" for f in FORMATS},
        },
    }
    assert [t["name"] for t in body["tables"]] == ["takstbruk/kommune/aar", "sob/lan"]


def test_every_listed_link_answers(client: TestClient) -> None:
    for table in client.get("/api/v1/tables").json()["tables"]:
        for name, link in table["links"].items():
            assert client.get(link).status_code == 200, (name, link)


def test_tables_of_an_earlier_release_link_to_that_release(
    client: TestClient, build: Callable[[str, Sequence[ProtectedTable]], None]
) -> None:
    build("r2", [])
    assert client.get("/api/v1/tables").json() == {"release": "r2", "tables": []}
    body = client.get("/api/v1/tables", params={"release": "r1"}).json()
    assert body["release"] == "r1"
    assert body["tables"][1]["links"]["csv"] == "/api/v1/tables/sob/lan?release=r1&format=csv"


def test_tables_before_the_first_build_is_an_empty_list(empty_client: TestClient) -> None:
    assert empty_client.get("/api/v1/tables").json() == {"release": None, "tables": []}
