"""Reading the unit registry under load: an in-memory snapshot per worker, answers rendered
once per snapshot, and a fast path for the two lookups by id.

- :class:`RegistryReads` holds the worker's :class:`~helsestat.reference.units.snapshot.
  RegistrySnapshot`. It asks the database for the registry's generation at most every
  :data:`MAX_AGE` seconds (one aggregate query) and loads a new snapshot when it changed; a
  write through this worker makes the next read check at once. So a change made through
  another worker is seen within :data:`MAX_AGE` — and a stale read can never lose an update:
  writes check the unit's ``row_version`` in the database (``If-Match``).
- Answers are rendered to bytes once per snapshot and kept (:class:`BytesCache`, bounded by
  size): a unit, a placement, a tree on a day, the changes between two days.
- :class:`UnitsFastPath` answers ``GET /api/v1/units/{id}`` and ``GET /api/v1/units/place``
  before FastAPI's routing, with the same bytes the documented routes return; anything it
  does not recognise (``known_at``, a malformed parameter) goes on to the routes, whose
  validation words the error.

Nothing here blocks the event loop on the database: the fast path checks the generation in a
worker thread.

>>> cache = BytesCache(max_bytes=10)
>>> cache.get_or_make("a", lambda: b"12345"), cache.get_or_make("b", lambda: b"123456")
(b'12345', b'123456')
>>> cache.get("a") is None  # the oldest went to make room
True
"""

from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date
from typing import Any

import anyio.to_thread
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from helsestat.api.fastpath import get_path
from helsestat.api.params import IsoDate, UnitId
from helsestat.api.routers.units_deps import UnitDatabase, today
from helsestat.api.routers.units_schemas import PlacementOut, UnitOut
from helsestat.errors import HelsestatError
from helsestat.reference.units.fhir import OrganizationCache
from helsestat.reference.units.snapshot import (
    RegistrySnapshot,
    load_snapshot,
    registry_generation,
)
from helsestat.store.db.database import session_factory

#: How long a worker trusts its snapshot before asking the database again, in seconds.
MAX_AGE = 0.05
#: Bytes of rendered answers a worker keeps per snapshot.
CACHE_BYTES = 64 * 1024 * 1024
UNITS_PREFIX = "/api/v1/units/"
PLACE_PATH = "/api/v1/units/place"


class BytesCache:
    """A least-recently-used map of keys to bytes, bounded by the bytes it holds."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def get_or_make(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The bytes kept for ``key``, made (outside the lock) and kept if missing."""
        found = self.get(key)
        if found is not None:
            return found
        made = make()
        if len(made) <= self.max_bytes:
            with self._lock:
                if key not in self._items:
                    self._items[key] = made
                    self._size += len(made)
                while self._size > self.max_bytes:
                    _, dropped = self._items.popitem(last=False)
                    self._size -= len(dropped)
        return made

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0


class RegistryReads:
    """The worker's snapshot of the registry and its rendered answers (see the module
    docstring). Does no I/O until asked."""

    def __init__(
        self,
        database: UnitDatabase,
        *,
        max_age: float = MAX_AGE,
        cache_bytes: int = CACHE_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.max_age = max_age
        #: Keep each loaded snapshot out of the garbage collector's sight (a server worker:
        #: :func:`helsestat.api.admission.serving`; tests leave it off).
        self.freeze = False
        self.rendered = BytesCache(cache_bytes)
        self._clock = clock
        self._snapshot: RegistrySnapshot | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self._organizations: tuple[int, OrganizationCache] = (-1, {})

    def fresh(self) -> RegistrySnapshot | None:
        """The snapshot if it was checked within ``max_age`` (no I/O), else None."""
        snapshot = self._snapshot
        if snapshot is not None and self._clock() - self._checked < self.max_age:
            return snapshot
        return None

    def snapshot(self) -> RegistrySnapshot:
        """The current snapshot, checked against the database if it is older than
        ``max_age`` and loaded again if the registry changed (blocking: call it from a worker
        thread, or use :meth:`snapshot_async`)."""
        found = self.fresh()
        if found is not None:
            return found
        with self._lock:
            found = self.fresh()  # another thread checked meanwhile
            if found is not None:
                return found
            now = self._clock()
            snapshot = self._snapshot
            with session_factory(self.database.engine())() as session:
                generation = registry_generation(session)
                if snapshot is None or snapshot.generation != generation:
                    snapshot = load_snapshot(session)
                    self.rendered.clear()
                    if self.freeze:  # tens of thousands of objects, never cyclic garbage
                        gc.collect()
                        gc.freeze()
            self._snapshot, self._checked = snapshot, now
            return snapshot

    async def snapshot_async(self) -> RegistrySnapshot:
        """:meth:`snapshot` without blocking the event loop."""
        found = self.fresh()
        if found is not None:
            return found
        snapshot: RegistrySnapshot = await anyio.to_thread.run_sync(self.snapshot)
        return snapshot

    def invalidate(self) -> None:
        """A write went through this worker: the next read checks the database."""
        self._checked = float("-inf")

    def organizations(self, snapshot: RegistrySnapshot) -> OrganizationCache:
        """The FHIR Organizations validated for ``snapshot`` (a new dict per snapshot)."""
        with self._lock:
            if self._organizations[0] != snapshot.generation:
                self._organizations = (snapshot.generation, {})
            return self._organizations[1]

    def answer(self, snapshot: RegistrySnapshot, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The rendered answer for ``key`` in ``snapshot``, made once."""
        return self.rendered.get_or_make((snapshot.generation, key), make)


# -- the answers both the routes and the fast path give ------------------------------------


def unit_links(unit_id: int) -> dict[str, str]:
    """A unit's links (the paths of its routes and page; a test compares them with the
    app's ``url_path_for``)."""
    base = f"{UNITS_PREFIX}{unit_id}"
    return {
        "self": base,
        "path": f"{base}/path",
        "subtree": f"{base}/subtree",
        "history": f"{base}/history",
        "dashboard": f"/dashboard/units/{unit_id}",
    }


def unit_body(reads: RegistryReads, snapshot: RegistrySnapshot, unit_id: int) -> tuple[str, bytes]:
    """(ETag, JSON) of a unit as ``GET /api/v1/units/{id}`` answers it; 404 unknown."""
    record = snapshot.get_unit(unit_id)
    day = today()
    body = reads.answer(
        snapshot,
        ("unit", unit_id, day),
        lambda: UnitOut.of(record, day, unit_links(unit_id)).model_dump_json().encode(),
    )
    return record.etag, body


def placement_body(
    reads: RegistryReads, snapshot: RegistrySnapshot, unit_id: int, day: date
) -> bytes:
    """The JSON of ``GET /api/v1/units/place?id=&date=``."""

    def make() -> bytes:
        placed = snapshot.place_one(unit_id, day)
        fields: dict[str, Any] = {}
        if placed.placement is not None:
            p = placed.placement
            fields = {
                "rhf_id": p.rhf_id,
                "hf_id": p.hf_id,
                "behandlingssted_id": p.behandlingssted_id,
                "sector": p.sector,
                "vardgivare_id": p.vardgivare_id,
                "vardenhet_id": p.vardenhet_id,
                "lan": p.lan,
                "kommune": p.kommune,
            }
        out = PlacementOut(
            unit_id=unit_id, date=day, status=placed.status, names=placed.names or {}, **fields
        )
        return out.model_dump_json().encode()

    return reads.answer(snapshot, ("place", unit_id, day), make)


# -- the fast path -----------------------------------------------------------------------------

_UNIT_ID: TypeAdapter[int] = TypeAdapter(UnitId)
_DATE: TypeAdapter[date] = TypeAdapter(IsoDate)


def _parse_place(query: bytes) -> tuple[int, date | None] | None:
    """``id`` and ``date`` of a plain placement query, checked as the route checks them;
    None for anything else (the route then answers, and words any error)."""
    items = query.decode("latin-1").split("&") if query else []
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key in values or key not in ("id", "date") or "%" in value or "+" in value:
            return None
        values[key] = value
    if "id" not in values:
        return None
    try:
        unit_id = _UNIT_ID.validate_python(values["id"])
        day = _DATE.validate_python(values["date"]) if "date" in values else None
    except ValidationError:
        return None
    return unit_id, day


class UnitsFastPath:
    """ASGI middleware answering ``GET /api/v1/units/{id}`` and ``…/place`` from the
    snapshot (HEAD arrives as GET: :class:`helsestat.api.head.HeadAsGet`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = get_path(scope)
        if path is None:
            await self.app(scope, receive, send)
            return
        query: bytes = scope["query_string"]
        if path == PLACE_PATH:
            parsed = _parse_place(query)
            if parsed is None:
                await self.app(scope, receive, send)
                return
        elif path.startswith(UNITS_PREFIX) and not query:
            rest = path[len(UNITS_PREFIX) :]
            if not (rest.isascii() and rest.isdigit() and len(rest) <= 18 and rest[0] != "0"):
                await self.app(scope, receive, send)
                return
        else:
            await self.app(scope, receive, send)
            return
        app: Any = scope["app"]
        reads: RegistryReads = app.state.registry
        try:
            snapshot = await reads.snapshot_async()
            if path == PLACE_PATH:
                assert parsed is not None
                unit_id, day = parsed
                body = placement_body(reads, snapshot, unit_id, day or today())
                headers = [(b"content-type", b"application/json")]
                status = 200
            else:
                etag, body = unit_body(reads, snapshot, int(rest))
                headers = [
                    (b"content-type", b"application/json"),
                    (b"etag", etag.encode()),
                    (b"cache-control", b"no-cache"),
                ]
                status = 200
                for name, value in scope["headers"]:
                    if name == b"if-none-match" and value.decode("latin-1") == etag:
                        status, body = 304, b""
                        headers = headers[1:]
        except HelsestatError as exc:
            handler = app.exception_handlers[HelsestatError]
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send)
            return
        if status != 304:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


__all__ = [
    "CACHE_BYTES",
    "MAX_AGE",
    "BytesCache",
    "RegistryReads",
    "UnitsFastPath",
    "placement_body",
    "unit_body",
    "unit_links",
]
