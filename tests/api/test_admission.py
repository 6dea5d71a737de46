"""Expensive requests go through one lane per worker: one at a time, a few per client,
a bounded queue — refusals are problems with Retry-After — and cheap requests pass by."""

from __future__ import annotations

from typing import Any

import anyio
import orjson
import pytest
from starlette.types import Receive, Scope, Send

from helsestat.api.admission import Admission, ExpensiveLane, is_expensive


@pytest.mark.parametrize(
    ("method", "path", "expensive"),
    [
        ("GET", "/api/v1/units/tree", True),
        ("GET", "/api/v1/units/changes", True),
        ("GET", "/api/v1/units/fhir", True),
        ("GET", "/api/v1/units/100012/subtree", True),
        ("HEAD", "/dashboard/units", True),
        ("GET", "/api/v1/tables/takstbruk/kommune/ar", True),
        ("GET", "/dashboard/tables/takstbruk/kommune/ar", True),
        ("GET", "/api/v1/tables", False),
        ("GET", "/api/v1/units", False),
        ("GET", "/api/v1/units/100012", False),
        ("GET", "/api/v1/units/place", False),
        ("GET", "/api/v1/units/100012/path", False),
        ("GET", "/dashboard/units/100012", False),
        ("GET", "/v1/takstbruk/agtakst/kommune/ar", False),
        ("POST", "/api/v1/units/100012/close", False),
    ],
)
def test_what_is_expensive(method: str, path: str, expensive: bool) -> None:
    assert is_expensive(method, path) is expensive


class SlowApp:
    """An ASGI app that answers once it is released, recording how many ran at once."""

    def __init__(self) -> None:
        self.release = anyio.Event()
        self.running = 0
        self.most = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        if scope["path"] != "/api/v1/units/100012":  # cheap requests never wait
            await self.release.wait()
        self.running -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _scope(path: str, client: str) -> Scope:
    return {"type": "http", "method": "GET", "path": path, "client": (client, 1), "headers": []}


async def _call(app: Any, path: str, client: str) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(path, client), receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


def test_one_at_a_time_a_few_per_client_and_a_bounded_queue() -> None:
    async def scenario() -> None:
        slow = SlowApp()
        app = Admission(slow, ExpensiveLane(concurrency=1, per_client=2, queue=3))
        results: dict[str, tuple[int, dict[bytes, bytes], bytes]] = {}

        async def go(name: str, path: str, client: str) -> None:
            results[name] = await _call(app, path, client)

        async with anyio.create_task_group() as group:
            for name, client in (("a1", "a"), ("a2", "a"), ("b1", "b"), ("c1", "c")):
                group.start_soon(go, name, "/api/v1/units/fhir", client)
                await anyio.sleep(0.01)
            # the lane holds a1 (running) and a2, b1, c1 (waiting: the queue is full)
            results["a3"] = await _call(app, "/api/v1/units/tree", "a")  # a's third
            results["d1"] = await _call(app, "/api/v1/units/tree", "d")  # the queue is full
            results["cheap"] = await _call(app, "/api/v1/units/100012", "a")  # passes by
            assert slow.running == 1
            slow.release.set()
        assert slow.most == 2  # one expensive request and the cheap one, never two expensive
        assert {n: r[0] for n, r in results.items()} == {
            "a1": 200,
            "a2": 200,
            "b1": 200,
            "c1": 200,
            "a3": 429,
            "d1": 503,
            "cheap": 200,
        }
        for name, code in (("a3", "server.too_many_requests"), ("d1", "server.busy")):
            _, headers, body = results[name]
            problem = orjson.loads(body)
            assert headers[b"content-type"] == b"application/problem+json"
            assert headers[b"retry-after"] == b"1"
            assert problem["code"] == code and problem["hint"]
        # the lane is empty again
        assert (await _call(app, "/api/v1/units/tree", "a"))[0] == 200

    anyio.run(scenario)
