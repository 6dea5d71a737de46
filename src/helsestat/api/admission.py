"""Isolation of expensive requests, so a flood of them cannot slow the cheap ones down.

Most requests cost well under a millisecond of the server: a takstbruk query, a unit, a
placement, a search — all answered from in-memory indexes. A few cost tens of milliseconds
to seconds, because their answer is as large as the registry or a whole table: the tree,
the changes, the FHIR bundle and the units under a unit; the units page; a whole table
(``/api/v1/tables/{name}`` and its page). Those are *expensive* (:func:`is_expensive`), and
in each server worker they go through one lane (:class:`ExpensiveLane`):

- at most :data:`CONCURRENCY` expensive request runs at a time; the others wait their turn
  (first come, first served) without using the CPU;
- one client (by address) has at most :data:`PER_CLIENT` expensive requests running or
  waiting; more is 429 ``server.too_many_requests`` at once;
- at most :data:`QUEUE` wait in all; more is 503 ``server.busy`` at once.

Both refusals carry ``Retry-After`` and cost a few microseconds. So a flood of the slowest
endpoint keeps one thread of each worker busy, never all of them, and the event loop that
answers the cheap requests stays free; workers also hand the interpreter lock over every
:data:`SWITCH_INTERVAL` seconds (:func:`install`), so that one thread delays the loop by at
most about that much at a time.

>>> is_expensive("GET", "/api/v1/units/fhir"), is_expensive("GET", "/api/v1/units/100012")
(True, False)
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from http import HTTPStatus

import anyio
import orjson
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from helsestat.api.problems import PROBLEM_MEDIA_TYPE, problem_body
from helsestat.errors import HelsestatError, InputError

#: Expensive requests running at once in one worker.
CONCURRENCY = 1
#: Expensive requests one client may have running or waiting in one worker.
PER_CLIENT = 4
#: Expensive requests waiting in one worker.
QUEUE = 64
#: Seconds a thread holds the interpreter lock before handing it over (Python's default is
#: 0.005): the event loop waits at most this long for a thread computing an expensive answer.
SWITCH_INTERVAL = 0.001

_EXPENSIVE = re.compile(
    r"/api/v1/units/(?:tree|changes|fhir|[^/]+/subtree)"
    r"|/dashboard/units"
    r"|/api/v1/tables/.+"
    r"|/dashboard/tables/.+"
)


def is_expensive(method: str, path: str) -> bool:
    """True for a request whose answer grows with the registry or a whole table."""
    return method in ("GET", "HEAD") and _EXPENSIVE.fullmatch(path) is not None


class ExpensiveLane:
    """One worker's lane for expensive requests (see the module docstring). Lives on the
    event loop: no locks needed."""

    def __init__(
        self, *, concurrency: int = CONCURRENCY, per_client: int = PER_CLIENT, queue: int = QUEUE
    ) -> None:
        self.concurrency = concurrency
        self.per_client = per_client
        self.queue = queue
        self._slots: anyio.Semaphore | None = None  # made on the loop that uses it
        self._clients: Counter[str] = Counter()
        self._waiting = 0

    def refuse(self, client: str) -> HelsestatError | None:
        """The error to answer a request of ``client`` with now, if it must be refused."""
        if self._clients[client] >= self.per_client:
            return InputError(
                "server.too_many_requests",
                f"this client already has {self.per_client} large answers running or waiting",
                hint="wait for them (Retry-After), then send the next; the large answers are "
                "the tree, changes, FHIR, subtrees, whole tables and their pages",
                status=429,
            )
        if self._waiting >= self.queue:
            return HelsestatError(
                "server.busy",
                f"{self.queue} large answers are waiting already",
                hint="the server is busy: wait for the time in Retry-After, then retry",
                status=503,
            )
        return None

    async def run(
        self, client: str, call: ASGIApp, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run ``call`` when a slot is free, counting it for ``client`` meanwhile."""
        if self._slots is None:
            self._slots = anyio.Semaphore(self.concurrency)
        self._clients[client] += 1
        self._waiting += 1
        started = False
        try:
            async with self._slots:
                self._waiting -= 1
                started = True
                await call(scope, receive, send)
        finally:
            if not started:  # cancelled while waiting (the client went away)
                self._waiting -= 1
            self._clients[client] -= 1
            if not self._clients[client]:
                del self._clients[client]


class Admission:
    """ASGI middleware sending expensive requests through the worker's lane."""

    def __init__(self, app: ASGIApp, lane: ExpensiveLane | None = None) -> None:
        self.app = app
        self.lane = lane or ExpensiveLane()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_expensive(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else ""
        refusal = self.lane.refuse(client)
        if refusal is None:
            await self.lane.run(client, self.app, scope, receive, send)
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


def install(app: FastAPI) -> None:
    """The lane (outside the fast paths, so whole tables go through it too) and, when the
    server starts, the shorter switch interval."""
    app.add_middleware(Admission)
    app.router.on_startup.append(lambda: sys.setswitchinterval(SWITCH_INTERVAL))


__all__ = [
    "CONCURRENCY",
    "PER_CLIENT",
    "QUEUE",
    "SWITCH_INTERVAL",
    "Admission",
    "ExpensiveLane",
    "install",
    "is_expensive",
]
