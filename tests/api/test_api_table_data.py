import io
import json
from collections.abc import Callable, Sequence

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from helsestat.model import ProtectedTable
from helsestat.publish import publish
from helsestat.publish.formats import FORMATS
from helsestat.store.lake import Lake

URL = "/api/v1/tables/takstbruk/kommune/aar"


def published(client: TestClient, release: str, name: str) -> ProtectedTable:
    lake: Lake = client.app.state.lake  # type: ignore[attr-defined]
    return lake.read_table(lake.get(release), name)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_format_by_query_parameter(client: TestClient, fmt: str) -> None:
    response = client.get(URL, params={"format": fmt})
    assert response.status_code == 200
    assert response.headers["content-type"] == FORMATS[fmt].media_type
    assert response.content == publish(published(client, "r1", "takstbruk/kommune/aar"), fmt)
    assert response.headers["content-disposition"] == (
        f'inline; filename="takstbruk_kommune_aar.{FORMATS[fmt].extension}"'
    )


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_format_by_accept_header(client: TestClient, fmt: str) -> None:
    response = client.get(URL, headers={"Accept": FORMATS[fmt].media_type})
    assert response.status_code == 200
    assert response.headers["content-type"] == FORMATS[fmt].media_type
    assert response.headers["vary"] == "Accept"
    assert response.content == publish(published(client, "r1", "takstbruk/kommune/aar"), fmt)


def test_format_parameter_wins_over_accept(client: TestClient) -> None:
    response = client.get(URL, params={"format": "csv"}, headers={"Accept": "application/xml"})
    assert response.headers["content-type"] == FORMATS["csv"].media_type
    assert "vary" not in response.headers


def test_json_by_default(client: TestClient) -> None:
    response = client.get(URL, headers={"Accept": "*/*"})
    assert response.headers["content-type"] == "application/json"
    rows = response.json()
    assert [row["status"] for row in rows] == [
        "published",
        "published",
        "primary",
        "secondary",
        "published",
    ]


def test_an_earlier_release_is_served_as_published(
    client: TestClient,
    build: Callable[[str, Sequence[ProtectedTable]], None],
    make_takstbruk: Callable[..., ProtectedTable],
) -> None:
    build("r2", [make_takstbruk(antall_0301_2024=1600)])
    current = client.get(URL, params={"format": "json"})
    pinned = client.get(URL, params={"format": "json", "release": "r1"})
    assert current.headers["x-helsestat-release"] == "r2"
    assert pinned.headers["x-helsestat-release"] == "r1"
    assert current.json()[1]["antall"] == 1600
    assert pinned.json()[1]["antall"] == 1500


def test_a_table_absent_from_an_earlier_release_is_404(
    client: TestClient, build: Callable[[str, Sequence[ProtectedTable]], None]
) -> None:
    build("r2", [])
    response = client.get("/api/v1/tables/sob/lan")
    assert response.status_code == 404
    assert response.json()["code"] == "table.not_found"
    assert client.get("/api/v1/tables/sob/lan", params={"release": "r1"}).status_code == 200


def test_dimension_filters(client: TestClient) -> None:
    response = client.get(URL, params={"kommune": "0301,4601", "aar": "2024", "format": "json"})
    assert response.status_code == 200
    assert [(r["kommune"], r["aar"], r["antall"]) for r in response.json()] == [
        ("0301", "2024", 1500),
        ("4601", "2024", 880),
    ]


def test_repeated_filter_parameters_add_values(client: TestClient) -> None:
    response = client.get(f"{URL}?kommune=0301&kommune=1103&aar=2023&format=csv")
    assert response.text.splitlines()[1:] == [
        "0301,2023,1234,56789.5,published,",
        "1103,2023,,,primary,antall <= 5",
    ]


def test_filters_apply_to_binary_formats(client: TestClient) -> None:
    response = client.get(URL, params={"kommune": "1103", "format": "parquet"})
    table = pq.read_table(io.BytesIO(response.content))
    assert table.column("kommune").to_pylist() == ["1103", "1103"]
    assert table.column("status").to_pylist() == ["primary", "secondary"]


@pytest.mark.parametrize(
    ("query", "code", "needle"),
    [
        ({"kommun": "0301"}, "query.unknown_dimension", "'kommun'"),
        ({"antall": "5"}, "query.unknown_dimension", "'antall'"),
        ({"kommune": ","}, "query.empty_filter", "'kommune'"),
        ({"format": "pdf"}, "query.unknown_format", "'pdf'"),
        ({"release": "../etc"}, "query.invalid", "'release'"),
    ],
)
def test_bad_queries_are_400_problems(
    client: TestClient, query: dict[str, str], code: str, needle: str
) -> None:
    response = client.get(URL, params=query)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert needle in body["detail"]


def test_no_acceptable_format_is_406(client: TestClient) -> None:
    response = client.get(URL, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.json()["code"] == "format.not_acceptable"


def test_filtered_json_round_trips(client: TestClient) -> None:
    response = client.get(URL, params={"kommune": "1103"})
    assert json.loads(response.content) == [
        {"kommune": "1103", "aar": "2023", "antall": None, "refusjon": None,
         "status": "primary", "status_rule": "antall <= 5"},
        {"kommune": "1103", "aar": "2024", "antall": None, "refusjon": None,
         "status": "secondary", "status_rule": "protects 1103/2023"},
    ]  # fmt: skip
