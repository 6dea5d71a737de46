"""Isolation: a flood of slow requests cannot slow down the fast ones.

The fast paths answer on the event loop, in well under a millisecond each, from in-memory
indexes: the takstbruk API and every statistic's compatible API
(:mod:`helsestat.api.fastpath`), a unit and a placement (:mod:`helsestat.api.registry`).
Everything else costs more — a search, a tree, the changes, a FHIR bundle, a page, a write,
a KLASS list, and most of all a whole table (``/api/v1/tables/{name}`` without a filter,
seconds as XML or Excel) — and runs in a worker thread. In each server worker all of that
goes through one lane (:class:`Lane`):

- at most :data:`CONCURRENCY` such requests run at a time; the others wait their turn
  without using the CPU, the waiting clients (by address) taking turns, one request each —
  so a client flooding the lane does not hold up another's request, and its own requests
  wait rather than coming back as refusals at once;
- one client has at most :data:`PER_CLIENT` requests running or waiting; more is 429
  ``server.too_many_requests`` at once;
- at most :data:`QUEUE` wait in all; more is 503 ``server.busy`` at once, and so is a
  request that waited :data:`MAX_WAIT` seconds for its turn (its client has most likely
  given up: it is not worth computing any more).

Both refusals carry ``Retry-After`` and cost a few microseconds. ``/health`` and the static
files pass by, so a busy lane never looks like a dead server. So a flood of the slowest
endpoint keeps at most :data:`CONCURRENCY` threads of each worker busy, never the 40 of the
thread pool; and workers hand the interpreter lock over every :data:`SWITCH_INTERVAL`
seconds and keep the objects made at start out of the garbage collector's full collections
(:func:`tune_worker`), so those threads and the garbage they make delay the event loop, and
with it the fast paths, by about a millisecond at a time.

>>> laned("GET", "/api/v1/units/fhir"), laned("GET", "/health")
(True, False)
"""

from __future__ import annotations

import gc
import sys
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from http import HTTPStatus

import anyio
import orjson
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from helsestat.api.problems import PROBLEM_MEDIA_TYPE, problem_body
from helsestat.errors import HelsestatError, InputError

#: Requests running in the lane at once, in one worker.
CONCURRENCY = 1
#: Requests one client may have running or waiting in the lane of one worker.
PER_CLIENT = 32
#: Requests waiting in the lane of one worker.
QUEUE = 128
#: Seconds a request waits for its turn at most; then it is 503 ``server.busy``.
MAX_WAIT = 10.0
#: Seconds a thread holds the interpreter lock before handing it over (Python's default is
#: 0.005): the event loop waits about this long at most for a thread computing an answer.
SWITCH_INTERVAL = 0.001
#: Where a whole table is answered: by the data fast path, but in a thread, for seconds.
WHOLE_TABLES = "/api/v1/tables/"
_ADMITTED = "helsestat.admitted"


def laned(method: str, path: str, query: bytes = b"") -> bool:
    """True for a request that goes through the lane if it reaches the routes (everything
    but ``/health`` and the static files)."""
    return path != "/health" and not path.startswith("/static/")


def whole_table(method: str, path: str, query: bytes = b"") -> bool:
    """True for a whole-table download, which the lane takes before the fast path does: a
    table with no parameter but its format and release. A selection (a filter, a period)
    is answered by the fast path like a compatible API's query.

    >>> whole_table("GET", "/api/v1/tables/t", b"format=xlsx")
    True
    >>> whole_table("GET", "/api/v1/tables/t", b"format=xlsx&kommune=0301")
    False
    """
    if method not in ("GET", "HEAD") or not path.startswith(WHOLE_TABLES):
        return False
    names = {item.partition(b"=")[0] for item in query.split(b"&") if item}
    return names <= {b"format", b"release"}


class Lane:
    """One worker's lane (see the module docstring). Lives on the event loop: no locks."""

    def __init__(
        self,
        *,
        concurrency: int = CONCURRENCY,
        per_client: int = PER_CLIENT,
        queue: int = QUEUE,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self.concurrency = concurrency
        self.per_client = per_client
        self.queue = queue
        self.max_wait = max_wait
        self._running = 0
        self._waiting = 0
        self._turns: OrderedDict[str, deque[anyio.Event]] = OrderedDict()
        self._clients: Counter[str] = Counter()

    def refuse(self, client: str) -> HelsestatError | None:
        """The error to answer a request of ``client`` with now, if it must be refused."""
        if self._clients[client] >= self.per_client:
            return InputError(
                "server.too_many_requests",
                f"this client already has {self.per_client} requests running or waiting",
                hint="wait for them (Retry-After), then send the next",
                status=429,
            )
        if self._waiting >= self.queue:
            return HelsestatError(
                "server.busy",
                f"{self.queue} requests are waiting already",
                hint="the server is busy: wait for the time in Retry-After, then retry",
                status=503,
            )
        return None

    async def run(
        self, client: str, call: ASGIApp, scope: Scope, receive: Receive, send: Send
    ) -> HelsestatError | None:
        """Run ``call`` in its turn, counting it for ``client`` meanwhile; the error to answer
        with instead when its turn did not come within ``max_wait``."""
        self._clients[client] += 1
        try:
            if not await self._turn(client):
                return HelsestatError(
                    "server.busy",
                    f"no turn came within {self.max_wait:g} s: the server is busy",
                    hint="wait for the time in Retry-After, then retry",
                    status=503,
                )
            try:
                await call(scope, receive, send)
            finally:
                self._release()
            return None
        finally:
            self._clients[client] -= 1
            if not self._clients[client]:
                del self._clients[client]

    async def _turn(self, client: str) -> bool:
        """Wait for a slot: at once when one is free and nobody waits, else in turn — the
        clients that wait take turns, one request each, so a flood of one client does not
        hold up the others. False when the turn did not come within ``max_wait``."""
        if self._running < self.concurrency and not self._waiting:
            self._running += 1
            return True
        event = anyio.Event()
        turns = self._turns.setdefault(client, deque())
        turns.append(event)
        self._waiting += 1
        try:
            with anyio.move_on_after(self.max_wait):
                await event.wait()
        except BaseException:  # cancelled: the client went away
            if event.is_set():
                self._release()  # a slot was handed over meanwhile: hand it on
            else:
                self._leave(client, turns, event)
            raise
        if not event.is_set():
            self._leave(client, turns, event)
            return False
        return True

    def _leave(self, client: str, turns: deque[anyio.Event], event: anyio.Event) -> None:
        turns.remove(event)
        self._waiting -= 1
        if not turns and self._turns.get(client) is turns:
            del self._turns[client]

    def _release(self) -> None:
        """A request finished: its slot goes to the next client in turn (or is freed)."""
        if not self._turns:
            self._running -= 1
            return
        client, turns = next(iter(self._turns.items()))
        event = turns.popleft()
        self._waiting -= 1
        if turns:
            self._turns.move_to_end(client)
        else:
            del self._turns[client]
        event.set()


class Admission:
    """ASGI middleware sending the requests ``select`` picks through ``lane``, once: a
    request the outer gate admitted passes the inner one."""

    def __init__(
        self, app: ASGIApp, lane: Lane, select: Callable[[str, str, bytes], bool] = laned
    ) -> None:
        self.app = app
        self.lane = lane
        self.select = select

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get(_ADMITTED)
            or not self.select(scope["method"], scope["path"], scope.get("query_string", b""))
        ):
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else ""
        refusal = self.lane.refuse(client)
        if refusal is None:
            refusal = await self.lane.run(
                client, self.app, {**scope, _ADMITTED: True}, receive, send
            )
            if refusal is None:
                return
        body = orjson.dumps(
            problem_body(
                refusal.status,
                HTTPStatus(refusal.status).phrase,
                refusal.message,
                code=refusal.code,
                hint=refusal.hint,
                instance=scope["path"],
            )
        )
        await send(
            {
                "type": "http.response.start",
                "status": refusal.status,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", b"1"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def install_inner(app: FastAPI) -> Lane:
    """The lane's gate in front of the routes (add it before the fast paths, so it sits
    inside them); returns the lane for :func:`install_outer`."""
    lane = Lane()
    app.add_middleware(Admission, lane=lane, select=laned)
    return lane


def tune_worker() -> None:
    """What a server worker does once it has started (:func:`serving`): the shorter switch
    interval, and the objects made while starting — the app, its routes and schemas, the
    libraries: a quarter of a million — moved out of the garbage collector's sight
    (``gc.freeze``). A full collection walks every object it sees and holds the interpreter
    meanwhile: 250 ms with them, under the event loop's feet, whenever enough objects have
    been made — as a flood makes them."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.collect()
    gc.freeze()


def serving(app: FastAPI) -> FastAPI:
    """``app``, tuned as a server worker when it starts — the current release's data of
    the statistics computed per query loaded first (``TableService.warm``: the first
    dashboard view does not wait for them) — and its registry snapshots kept
    out of the collector's sight too (the entry points that serve call this; tests do not,
    and pay no collection per app)."""
    tables = getattr(app.state, "tables", None)
    if tables is not None:
        app.router.on_startup.append(tables.warm)
    app.router.on_startup.append(tune_worker)
    registry = getattr(app.state, "registry", None)
    if registry is not None:
        registry.freeze = True
    return app


def install_outer(app: FastAPI, lane: Lane) -> None:
    """The same lane's gate in front of the fast paths, for whole tables (add it after
    them)."""
    app.add_middleware(Admission, lane=lane, select=whole_table)


__all__ = [
    "CONCURRENCY",
    "MAX_WAIT",
    "PER_CLIENT",
    "QUEUE",
    "SWITCH_INTERVAL",
    "Admission",
    "Lane",
    "install_inner",
    "install_outer",
    "laned",
    "serving",
    "tune_worker",
    "whole_table",
]
