"""The app's front door (:mod:`helsestat.api.front`): a data request goes straight to the fast
path, and every answer is the one the whole middleware chain gives."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from helsestat.api import create_app
from helsestat.api.edge import MAX_TARGET_BYTES
from helsestat.settings import Settings

REQUESTS = [
    ("GET", "/api/v1/tables/sob/lan?lan=01,14&format=csv"),
    ("GET", "/api/v1/tables/takstbruk/kommune/aar?kommune=0301"),
    ("GET", "/api/v1/tables/takstbruk/kommune/aar?kommune=0301&format=xlsx"),
    ("GET", "/api/v1/tables/takstbruk/kommune/aar?fylke=03"),  # not a dimension: 400
    ("GET", "/api/v1/tables/no/such?x=1"),  # 404
    ("GET", "/api/v1/tables/sob/lan?lan=01&release=..bad"),  # FastAPI words this one
    ("GET", "/api/v1/tables/sob/lan?format=json"),  # a whole table: through the lane
    ("HEAD", "/api/v1/tables/sob/lan?lan=01"),
    ("GET", "/api/v1/tables/sob/lan?lan=" + "0" * MAX_TARGET_BYTES),  # 414
    ("GET", "/api/v1/tables"),
    ("GET", "/health"),
]


def _answer(client: TestClient, method: str, url: str) -> tuple[int, dict[str, str], bytes]:
    response = client.request(method, url)
    headers = {k: v for k, v in response.headers.items() if k != "date"}
    return response.status_code, headers, response.content


@pytest.mark.parametrize(("method", "url"), REQUESTS)
def test_every_answer_is_the_whole_chains(published: Settings, method: str, url: str) -> None:
    app = create_app(published)

    async def whole_chain(scope: Any, receive: Any, send: Any) -> None:
        scope["app"] = app
        if app.middleware_stack is None:
            app.middleware_stack = app.build_middleware_stack()
        await app.middleware_stack(scope, receive, send)

    with TestClient(app) as front, TestClient(whole_chain) as chain:
        assert _answer(front, method, url) == _answer(chain, method, url)


def test_a_data_request_skips_the_chain(published: Settings) -> None:
    app = create_app(published)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200  # the front is made

        async def chain(scope: Any, receive: Any, send: Any) -> None:
            raise AssertionError(f"{scope['method']} {scope['path']} went through the chain")

        app.middleware_stack = chain
        response = client.get("/api/v1/tables/sob/lan", params={"lan": "01"})
        assert response.status_code == 200 and response.json()[0]["lan"] == "01"
        with pytest.raises(AssertionError, match="HEAD"):
            client.head("/api/v1/tables/sob/lan", params={"lan": "01"})
        with pytest.raises(AssertionError, match="GET /api/v1/tables/sob/lan"):
            client.get("/api/v1/tables/sob/lan")  # a whole table takes the lane


def test_an_unexpected_error_in_the_front_is_the_500_problem(
    published: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(published)

    def broken(*args: object) -> None:
        raise RuntimeError("an internal detail")

    monkeypatch.setattr(app.state.tables, "prepare_table", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/tables/sob/lan", params={"lan": "01"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "internal"
    assert "internal detail" not in response.text
    with TestClient(app) as client, pytest.raises(RuntimeError):  # and the server sees it
        client.get("/api/v1/tables/sob/lan", params={"lan": "01"})
