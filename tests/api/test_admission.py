"""What the fast paths pass on goes through one lane per worker: a few at a time, a few per
client, a bounded queue — refusals are problems with Retry-After — and /health passes by;
whole tables are taken into the lane before the fast path answers them, once."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from helsestat.api import create_app
from helsestat.api.admission import SWITCH_INTERVAL, Admission, Lane, laned, serving, whole_table
from helsestat.settings import Settings


@pytest.mark.parametrize(
    ("method", "target", "lane", "outer"),
    [
        ("GET", "/api/v1/units/fhir", True, False),
        ("POST", "/api/v1/units/100012/close", True, False),
        ("GET", "/api/klass/v1/classifications", True, False),
        ("GET", "/api/v1/tables/takstbruk/kommune/ar", True, True),
        ("HEAD", "/api/v1/tables/takstbruk/kommune/ar", True, True),
        ("GET", "/api/v1/tables/takstbruk/kommune/ar?format=xlsx&release=r1", True, True),
        ("GET", "/api/v1/tables/takstbruk/kommune/ar?format=csv&kommune=0301", True, False),
        ("GET", "/api/v1/tables", True, False),
        ("GET", "/health", False, False),
        ("GET", "/static/style.css", False, False),
    ],
)
def test_what_goes_through_the_lane(method: str, target: str, lane: bool, outer: bool) -> None:
    path, _, query = target.partition("?")
    assert (laned(method, path), whole_table(method, path, query.encode())) == (lane, outer)


class SlowApp:
    """An ASGI app that answers once it is released, recording how many ran at once."""

    def __init__(self) -> None:
        self.release = anyio.Event()
        self.running = 0
        self.most = 0
        self.order: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        self.order.append(scope["client"][0])
        if scope["path"] != "/health":  # never laned: never waits
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
        lane = Lane(concurrency=1, per_client=2, queue=3)
        app = Admission(slow, lane)
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
            results["cheap"] = await _call(app, "/health", "a")  # passes by
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


def test_a_request_admitted_by_the_outer_gate_passes_the_inner_one() -> None:
    async def scenario() -> None:
        slow = SlowApp()
        slow.release.set()
        lane = Lane(concurrency=1, per_client=1, queue=1)
        inner = Admission(slow, lane)
        outer = Admission(inner, lane, select=whole_table)
        # one slot and one per client: a second admission would wait for itself forever
        with anyio.fail_after(5):
            status, _, _ = await _call(outer, "/api/v1/tables/takstbruk/kommune/ar", "a")
        assert status == 200

    anyio.run(scenario)


def test_a_request_that_waited_too_long_is_refused_not_computed() -> None:
    async def scenario() -> None:
        slow = SlowApp()
        app = Admission(slow, Lane(concurrency=1, per_client=4, queue=4, max_wait=0.05))
        results: list[tuple[int, dict[bytes, bytes], bytes]] = []

        async def first() -> None:
            results.append(await _call(app, "/api/v1/units/fhir", "a"))

        async with anyio.create_task_group() as group:
            group.start_soon(first)
            await anyio.sleep(0.01)
            status, headers, body = await _call(app, "/api/v1/units/tree", "b")
            assert (status, headers[b"retry-after"]) == (503, b"1")
            assert orjson.loads(body)["code"] == "server.busy"
            assert slow.most == 1  # the second never ran
            slow.release.set()
        assert results[0][0] == 200
        assert (await _call(app, "/api/v1/units/tree", "b"))[0] == 200  # the lane is free

    anyio.run(scenario)


def test_waiting_clients_take_turns() -> None:
    async def scenario() -> None:
        slow = SlowApp()
        app = Admission(slow, Lane(concurrency=1, per_client=8, queue=8))

        async def go(client: str) -> None:
            await _call(app, "/api/v1/units/fhir", client)

        async with anyio.create_task_group() as group:
            for client in ("a", "a", "a", "a", "b", "c"):  # a floods, b and c come later
                group.start_soon(go, client)
                await anyio.sleep(0.01)
            slow.release.set()
        assert slow.order == ["a", "a", "b", "c", "a", "a"]
        assert slow.most == 1

    anyio.run(scenario)


def test_a_serving_worker_hands_the_lock_over_often_and_freezes_what_it_made(
    tmp_path: Path,
) -> None:
    app = serving(create_app(Settings(demo_mode=True, data_dir=tmp_path)))
    assert app.state.registry.freeze
    interval = sys.getswitchinterval()
    try:
        with TestClient(app):
            assert sys.getswitchinterval() == SWITCH_INTERVAL
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        sys.setswitchinterval(interval)
    plain = create_app(Settings(demo_mode=True, data_dir=tmp_path))
    assert not plain.state.registry.freeze  # tests and other callers are left alone
