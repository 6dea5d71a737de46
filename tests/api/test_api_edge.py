"""The edge of the API: over-long requests and requests the HTTP parser refuses are
problem+json like every other error (in-process, and through a real ``helsestat serve``,
whose HTTP parser is the part the app never sees); every problem has a hint; a 405 names
every method of the path."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from helsestat.api import create_app
from helsestat.api.edge import MAX_HEADER_BYTES, MAX_TARGET_BYTES
from helsestat.api.parameters import parse_query
from helsestat.errors import QueryError
from helsestat.reference.seed import packaged_reference
from helsestat.settings import Settings
from helsestat.statistics.takstbruk import HELFO_API, code_lists
from serve_process import helsestat_serve

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "hint", "instance"}


def assert_problem(status: int, headers: dict[str, str], body: bytes, code: str) -> None:
    assert headers["content-type"] == "application/problem+json", body[:200]
    problem: dict[str, Any] = orjson.loads(body)
    assert set(problem) == PROBLEM_KEYS
    assert (problem["status"], problem["code"]) == (status, code)
    assert problem["hint"] and problem["detail"]


@pytest.fixture
def bare(tmp_path: Path) -> TestClient:
    """A client of an app with nothing published (the edge needs no data)."""
    return TestClient(create_app(Settings(demo_mode=True, data_dir=tmp_path)))


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/units?q=" + "a" * MAX_TARGET_BYTES,
        "/v1/takstbruk/agtakst/landet/ar?fagomraade=LE&takstkoder=" + "1," * MAX_TARGET_BYTES,
        "/api/v1/tables/" + "x" * MAX_TARGET_BYTES,
        "/health?" + "x" * (MAX_TARGET_BYTES - 6),
    ],
)
def test_an_over_long_target_is_a_414_problem_before_any_route(bare: TestClient, url: str) -> None:
    response = bare.get(url)
    assert response.status_code == 414
    assert_problem(414, dict(response.headers), response.content, "request.target_too_long")
    assert "x" * 100 not in response.text and "a" * 100 not in response.text  # not echoed


def test_a_target_just_under_the_limit_reaches_the_route(bare: TestClient) -> None:
    response = bare.get("/health?" + "x" * (MAX_TARGET_BYTES - 8 - len("/health")))
    assert response.status_code == 200


def test_too_many_or_too_large_headers_are_a_431_problem(bare: TestClient) -> None:
    big = bare.get("/health", headers={"x-big": "b" * MAX_HEADER_BYTES})
    assert big.status_code == 431
    assert_problem(431, dict(big.headers), big.content, "request.headers_too_large")
    many = bare.get("/health", headers={f"x-{i}": "1" for i in range(200)})
    assert many.status_code == 431


def test_a_405_names_every_method_of_the_path(bare: TestClient) -> None:
    units = bare.options("/api/v1/units")
    assert units.status_code == 405 and units.headers["allow"] == "GET, POST"
    unit = bare.request("PUT", "/api/v1/units/100012")
    assert unit.status_code == 405 and unit.headers["allow"] == "GET, PATCH"
    # a sub-resource is not "unit 100012/path": PATCH is not one of its methods
    path = bare.patch("/api/v1/units/100012/path")
    assert path.status_code == 405 and path.headers["allow"] == "GET"
    close = bare.get("/api/v1/units/100012/close")
    assert close.status_code == 404  # an id with a slash is an unknown unit …
    close = bare.options("/api/v1/units/100012/close")
    assert close.status_code == 405 and close.headers["allow"] == "POST"  # … GET is not
    organisations = bare.patch("/api/v1/units/organisations")
    assert organisations.status_code == 405 and organisations.headers["allow"] == "POST"
    tables = bare.delete("/api/v1/tables/takstbruk/kommune/ar")
    assert tables.status_code == 405 and tables.headers["allow"] == "GET"


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as it is; (status, headers, body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


@pytest.mark.slow
def test_helsestat_serve_answers_what_its_parser_refuses_with_a_problem(tmp_path: Path) -> None:
    with helsestat_serve(tmp_path, workers=1) as (base, _):
        port = int(base.rsplit(":", 1)[1])
        # longer than the parser can hold (httptools: 64 KiB): never reaches the app
        target = b"/api/v1/units?q=" + b"a" * 100_000
        status, headers, body = _raw(port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 414
        assert_problem(414, headers, body, "request.target_too_long")
        # between the app's limit and the parser's: the app refuses it
        target = b"/api/v1/units?q=" + b"a" * (MAX_TARGET_BYTES + 10)
        status, headers, body = _raw(port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 414
        assert_problem(414, headers, body, "request.target_too_long")
        # not HTTP at all
        status, headers, body = _raw(port, b"GET /health HTTP/1.1\r\nHost x\r\n\r\n")
        assert status == 400
        assert_problem(400, headers, body, "request.malformed")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("landet/maned", {"fommaned": ["２０１８０１"], "tommaned": ["201812"]}),
        ("landet/maned", {"fommaned": ["201801"], "tommaned": ["٢٠١٨١٢"]}),
        ("kommune/ar", {"fomar": ["２０１８"], "tomar": ["2019"]}),
    ],
)
def test_a_period_in_other_digits_is_refused(path: str, params: dict[str, list[str]]) -> None:
    route = next(r for r in HELFO_API.routes if r.path == f"/v1/takstbruk/agtakst/{path}")
    with pytest.raises(QueryError) as refused:
        parse_query(route, {"fagomraade": ["LE"], **params}, code_lists(packaged_reference()))
    assert refused.value.code == "query.malformed_period"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/klass/v1/classifications/²", 404),  # '²'.isdigit(), and int() refuses it
        ("/api/klass/v1/classifications/１３１", 404),
        ("/api/klass/v1/classifications/99999999999999999999", 404),
        ("/api/klass/v1/versions/99999999999999999999", 404),
        ("/api/klass/v1/classifications?page=99999999999999999999", 400),
    ],
)
def test_klass_ids_and_pages_out_of_range_are_problems(
    bare: TestClient, url: str, status: int
) -> None:
    response = bare.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
