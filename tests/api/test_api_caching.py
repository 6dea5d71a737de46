from collections.abc import Callable, Sequence
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

import helsestat.api.service as service_module
from helsestat.api import create_app
from helsestat.model import ProtectedTable
from helsestat.settings import Settings
from helsestat.store.lake import Lake

URL = "/api/v1/tables/takstbruk/kommune/aar"


def test_data_responses_carry_cache_headers(client: TestClient) -> None:
    response = client.get(URL, params={"format": "csv"})
    etag = response.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["x-helsestat-release"] == "r1"


def test_if_none_match_gives_304_without_a_body(client: TestClient) -> None:
    first = client.get(URL, params={"format": "xlsx"})
    again = client.get(
        URL, params={"format": "xlsx"}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == "public, max-age=300"
    assert again.headers["x-helsestat-release"] == "r1"


def test_304_does_not_read_the_table(client: TestClient) -> None:
    # Answering 304 needs only the release manifest: with the Parquet file gone, a
    # conditional request still succeeds while a plain one cannot.
    etag = client.get(URL, params={"format": "csv"}).headers["etag"]
    lake: Lake = client.app.state.lake  # type: ignore[attr-defined]
    (lake.get("r1").path / "takstbruk__kommune__aar.parquet").unlink()
    headers = {"If-None-Match": f'"other", W/{etag}'}
    assert client.get(URL, params={"format": "csv"}, headers=headers).status_code == 304


def test_etag_differs_by_format_query_and_path(client: TestClient) -> None:
    tags = {
        client.get(URL, params={"format": "csv"}).headers["etag"],
        client.get(URL, params={"format": "json"}).headers["etag"],
        client.get(URL, params={"format": "csv", "kommune": "0301"}).headers["etag"],
        client.get("/api/v1/tables/sob/lan", params={"format": "csv"}).headers["etag"],
    }
    assert len(tags) == 4


def test_etag_ignores_the_order_of_filter_values(client: TestClient) -> None:
    a = client.get(URL, params={"kommune": "0301,1103", "aar": "2023"})
    b = client.get(URL, params={"aar": "2023", "kommune": "1103,0301"})
    assert a.headers["etag"] == b.headers["etag"]
    assert a.content == b.content


def test_etag_changes_when_a_new_release_is_built(
    client: TestClient,
    build: Callable[[str, Sequence[ProtectedTable]], None],
    make_takstbruk: Callable[..., ProtectedTable],
) -> None:
    before = client.get(URL, params={"format": "json"}).headers["etag"]
    build("r2", [make_takstbruk(antall_0301_2024=1600)])
    stale = client.get(URL, params={"format": "json"}, headers={"If-None-Match": before})
    assert stale.status_code == 200
    assert stale.headers["etag"] != before
    assert stale.headers["x-helsestat-release"] == "r2"
    pinned = client.get(
        URL, params={"format": "json", "release": "r1"}, headers={"If-None-Match": before}
    )
    assert pinned.status_code == 304  # r1 as published: the representation tagged before


def test_listings_are_cacheable_too(
    client: TestClient, build: Callable[[str, Sequence[ProtectedTable]], None]
) -> None:
    for path in ("/api/v1/tables", "/api/v1/releases"):
        etag = client.get(path).headers["etag"]
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    old = client.get("/api/v1/releases").headers["etag"]
    build("r2", [])
    assert client.get("/api/v1/releases", headers={"If-None-Match": old}).status_code == 200


def test_a_checked_query_gives_the_same_etag_without_sorting_again() -> None:
    # the compatible routes tag a parsed query with presorted=True (its values are sorted
    # and unique already); the tag must be the one of the canonicalising etag_for
    from helsestat.api.caching import etag_for
    from helsestat.api.parameters import parse_envelope, parse_query
    from helsestat.reference.seed import packaged_reference
    from helsestat.statistics.takstbruk import HELFO_API, code_lists

    codes = code_lists(packaged_reference())
    for route in HELFO_API.routes:
        items = [("fagomraade", "LE,LE"), ("takstkoder", "2ad,1ad, 2ad"), ("takstkoder", "1bd")]
        period = route.period
        if period is not None:
            items += [(period.first, period.example[0]), (period.last, period.example[1])]
        envelope = parse_envelope(route, HELFO_API, items)
        parsed = parse_query(route, envelope.params, codes, HELFO_API)
        canonical = {**parsed.canonical, HELFO_API.suppressed_parameter: ("nei",)}
        assert parsed.canonical["takstkoder"] == ("1ad", "1bd", "2ad")
        assert etag_for("r1", route.path, canonical, "csv", version="1", presorted=True) == (
            etag_for("r1", route.path, canonical, "csv", version="1")
        )


def test_a_new_release_is_served_once_the_refresh_interval_passed(
    published: Settings,
    build: Callable[[str, Sequence[ProtectedTable]], None],
    make_takstbruk: Callable[..., ProtectedTable],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The server's default (release_refresh_seconds 0.1; the suite sets 0): within the
    # interval the release it knows is served without a look at releases/CURRENT, after it
    # the new one.
    clock = [1000.0]
    monkeypatch.setattr(service_module, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    settings = published.model_copy(update={"release_refresh_seconds": 0.1})
    with TestClient(create_app(settings)) as client:
        assert client.get(URL).headers["x-helsestat-release"] == "r1"
        build("r2", [make_takstbruk(antall_0301_2024=1600)])
        clock[0] += 0.05
        assert client.get(URL).headers["x-helsestat-release"] == "r1"
        clock[0] += 0.06
        assert client.get(URL).headers["x-helsestat-release"] == "r2"


def test_the_suite_looks_for_a_new_release_before_every_request(published: Settings) -> None:
    # tests/conftest.py: a release a test builds is served from its next request on
    assert published.release_refresh_seconds == 0
    assert Settings.model_fields["release_refresh_seconds"].default == 0.1
