"""Every route of the app fails with one error shape: RFC 9457 application/problem+json.

The routes are read from the app itself, so a new router is covered without editing this
test; a route for which no failing request can be derived fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount

from helsestat.api import create_app
from helsestat.model import ProtectedTable
from helsestat.settings import Settings
from helsestat.store.lake import Lake

try:  # FastAPI >= 0.13x keeps included routers as one entry; this flattens them
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI lists every route in app.routes
    iter_route_contexts = None

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "hint", "instance"}
WRONG_METHODS = ("DELETE", "PATCH", "PUT", "POST")


def app_routes(app: FastAPI) -> Iterator[Any]:
    yield from iter_route_contexts(app.routes) if iter_route_contexts else app.routes


def failing_requests(route: Any) -> Iterator[tuple[str, str, dict[str, str], int]]:
    """(method, url, query, expected status) of requests to ``route`` that must fail."""
    path: str = route.path
    if isinstance(getattr(route, "original_route", route), Mount):
        yield "GET", f"{path}/no-such-file.css", {}, 404
        yield "DELETE", f"{path}/style.css", {}, 405
        return
    concrete = re.sub(r"\{(\w+)(:\w+)?\}", r"no-such-\1/x", path)
    methods = route.methods or {"GET"}
    wrong = next(m for m in WRONG_METHODS if m not in methods)
    yield wrong, concrete, {}, 405
    if concrete != path:  # unknown ids in the path
        yield "GET", concrete, {}, 404
    dependant = getattr(route, "dependant", None)
    names = {p.alias for p in dependant.query_params} if dependant else set()
    if "release" in names:
        yield "GET", concrete, {"release": "no-such-release"}, 404
        yield "GET", concrete, {"release": "../bad"}, 400
    if "format" in names:
        yield "GET", concrete, {"format": "no-such-format"}, 400


def cases() -> list[Any]:
    app = create_app(Settings(demo_mode=True))
    return [
        pytest.param(method, url, query, status, id=f"{method} {url} {query}")
        for route in app_routes(app)
        for method, url, query, status in failing_requests(route)
    ]


def test_every_route_has_a_failing_request() -> None:
    routes = list(app_routes(create_app(Settings(demo_mode=True))))
    assert [route.path for route in routes if not list(failing_requests(route))] == []
    assert {"/health", "/api/v1/tables/{name:path}", "/docs", "/static"} <= {
        route.path for route in routes
    }


@pytest.fixture(scope="module")
def problem_client(
    tmp_path_factory: pytest.TempPathFactory, make_takstbruk: Callable[..., ProtectedTable]
) -> Iterator[TestClient]:
    """A client of an app with one release, so unknown ids are unknown in a real release."""
    data_dir = tmp_path_factory.mktemp("lake")
    with Lake(data_dir).release("r1") as release:
        release.add(make_takstbruk())
    with TestClient(create_app(Settings(demo_mode=True, data_dir=data_dir))) as client:
        yield client


def assert_problem(response: Any, status: int, path: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["status"] == response.status_code
    assert body["type"] == f"https://helsestat.example/problems/{body['code']}"
    assert body["instance"] == path
    assert all(isinstance(body[k], str) and body[k] for k in ("title", "detail", "code"))
    assert isinstance(body["hint"], str)
    return body


@pytest.mark.parametrize(("method", "url", "query", "status"), cases())
def test_every_route_fails_with_a_problem(
    problem_client: TestClient, method: str, url: str, query: dict[str, str], status: int
) -> None:
    response = problem_client.request(method, url, params=query)
    assert_problem(response, status, url)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/no/such/route", "route.not_found"),
        ("/api/v2/tables", "route.not_found"),
    ],
)
def test_unknown_routes(problem_client: TestClient, url: str, code: str) -> None:
    assert assert_problem(problem_client.get(url), 404, url)["code"] == code


def test_405_keeps_the_allow_header(problem_client: TestClient) -> None:
    response = problem_client.post("/health")
    body = assert_problem(response, 405, "/health")
    assert body["code"] == "route.method_not_allowed"
    assert response.headers["allow"] == "GET"


def test_a_401_has_its_own_title_and_a_bearer_challenge(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(demo_mode=True, data_dir=tmp_path)))
    response = client.post("/api/v1/units", json={})
    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")
