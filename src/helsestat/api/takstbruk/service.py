"""One takstbruk answer, from URL to bytes: the single implementation behind both the
FastAPI routes and the ASGI fast path.

:meth:`TakstbrukService.prepare` checks the request and computes its ETag — from the
release id, the canonical path, the normalised query and the format, without reading any
data — so a matching ``If-None-Match`` is answered 304 at once. Otherwise
:meth:`TakstbrukService.select` picks the rows from the in-memory index and
:meth:`TakstbrukService.respond` renders them.

The current release is found by ``stat`` of ``releases/CURRENT``: the pointer and the
manifest are read again only when the pointer file changed, so a new build is served from
the next request on.

>>> # service = TakstbrukService(Lake(Path("var")), version="0.1.0")
>>> # answer = service.answer(ENDPOINTS["/v1/takstbruk/agtakst/landet/ar"], items, None, None)
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from helsestat.api.caching import cache_headers, if_none_match_matches
from helsestat.api.takstbruk.index import IndexCache, Selection, TableIndex
from helsestat.api.takstbruk.query import Endpoint, TakstbrukQuery, parse_envelope, parse_query
from helsestat.api.takstbruk.render import RENDERERS
from helsestat.errors import NotFoundError
from helsestat.model import ReleaseInfo
from helsestat.publish.formats import FORMATS, negotiate
from helsestat.store.lake import Lake

#: Header naming the number of cells matching the query that were left out as suppressed.
SUPPRESSED_HEADER: Final = "X-Helsestat-Suppressed"
#: Selections larger than this are rendered off the event loop by the fast path.
LARGE: Final = 5_000
_NEGOTIATED_KEEP: Final = 256
#: Seconds between two looks at ``releases/CURRENT``: a new build is served within this.
RECHECK_SECONDS: Final = 1.0
_JA: Final = ("ja",)
_NEI: Final = ("nei",)


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer: status, headers (Content-Type included) and body."""

    status: int
    headers: dict[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class Prepared:
    """A checked request whose answer is not a 304."""

    endpoint: Endpoint
    query: TakstbrukQuery
    fmt: str
    release: ReleaseInfo
    medstatus: bool
    headers: dict[str, str] = field(default_factory=dict)


@functools.cache
def _content_headers(endpoint: Endpoint, fmt_name: str) -> dict[str, str]:
    """Content-Type and Content-Disposition of a route's answers in a format."""
    fmt = FORMATS[fmt_name]
    disposition = "inline" if endpoint.family == "agtakst" else "attachment"
    filename = f"takstbruk_{endpoint.level}_{endpoint.period}.{fmt.extension}"
    return {
        "Content-Type": fmt.media_type,
        "Content-Disposition": f'{disposition}; filename="{filename}"',
    }


class TakstbrukService:
    """Answers takstbruk requests for one app (lives on ``app.state.takstbruk``)."""

    def __init__(self, lake: Lake, *, version: str) -> None:
        self.lake = lake
        self.version = version
        self.indexes = IndexCache(lake)
        self._pointer_path = str(lake.releases_dir / "CURRENT")
        self._pointer: tuple[int, int, int] | None = None
        self.recheck_seconds = RECHECK_SECONDS
        self._checked = -RECHECK_SECONDS
        self._current: ReleaseInfo | None = None
        self._pinned: dict[str, ReleaseInfo] = {}
        self._negotiated: dict[str, str] = {}

    # -- releases ----------------------------------------------------------------------
    def current_release(self) -> ReleaseInfo:
        """The current release, or 404. ``releases/CURRENT`` is looked at (``stat``) at most
        every ``recheck_seconds`` (:data:`RECHECK_SECONDS`) while a release is known, and
        read again only when it changed."""
        now = time.monotonic()
        if self._current is None or now - self._checked >= self.recheck_seconds:
            self._checked = now
            try:
                st = os.stat(self._pointer_path)
                key: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                key = None
            if key != self._pointer or key is None:
                self._current = self.lake.current() if key else None
                self._pointer = key
        if self._current is None:
            raise NotFoundError(
                "release.none",
                "no release has been published yet",
                hint="run 'helsestat demo' (synthetic data) or 'helsestat build'",
            )
        return self._current

    def release(self, release_id: str | None) -> ReleaseInfo:
        """A pinned release (releases are immutable, so kept once read), else the current."""
        if release_id is None:
            return self.current_release()
        found = self._pinned.get(release_id)
        if found is None:
            found = self.lake.get(release_id)
            self._pinned[release_id] = found
        return found

    # -- one request -------------------------------------------------------------------
    def _format(self, endpoint: Endpoint, explicit: str | None, accept: str | None) -> str:
        if endpoint.family == "eksport":
            return "csv"
        if endpoint.family == "msexcel":
            return "xlsx"
        if explicit is not None:
            return explicit
        header = accept or "*/*"
        name = self._negotiated.get(header)
        if name is None:
            name = negotiate(header, default="json").name
            if len(self._negotiated) < _NEGOTIATED_KEEP:
                self._negotiated[header] = name
        return name

    def prepare(
        self,
        endpoint: Endpoint,
        items: Iterable[tuple[str, str]],
        accept: str | None,
        if_none_match: str | None,
    ) -> Prepared | Answer:
        """Check a request; a 304 :class:`Answer` when ``If-None-Match`` matches."""
        envelope = parse_envelope(endpoint, items)
        fmt = self._format(endpoint, envelope.format, accept)
        release = self.release(envelope.release)
        if endpoint.table not in release.tables:
            raise NotFoundError(
                "table.not_found",
                f"release {release.id!r} has no table {endpoint.table!r}",
                hint="GET /api/v1/tables lists the published tables",
            )
        query = parse_query(endpoint, envelope.params)
        etag = self.etag(release.id, endpoint, query, envelope.medstatus, fmt)
        negotiated = endpoint.family == "agtakst" and envelope.format is None
        headers = cache_headers(etag, release.id, vary_accept=negotiated)
        if if_none_match_matches(if_none_match, etag):
            return Answer(304, headers)
        return Prepared(endpoint, query, fmt, release, envelope.medstatus, headers)

    def etag(
        self, release_id: str, endpoint: Endpoint, query: TakstbrukQuery, medstatus: bool, fmt: str
    ) -> str:
        """:func:`~helsestat.api.caching.etag_for` of the request, computed from the checked
        query directly: its code tuples are sorted and unique already, so the canonical text
        is one join in the order of the sorted parameter names (a test checks the equality).

        >>> from pathlib import Path
        >>> from helsestat.api.caching import etag_for
        >>> from helsestat.api.takstbruk.query import ENDPOINTS
        >>> service = TakstbrukService(Lake(Path("var")), version="1")
        >>> ep = ENDPOINTS["/v1/takstbruk/agtakst/landet/ar"]
        >>> q = TakstbrukQuery(("LE",), 2015, 2019)
        >>> canonical = {**q.canonical(ep), "medstatus": ("nei",)}
        >>> service.etag("r1", ep, q, False, "json") == etag_for("r1", ep.path, canonical, "json",
        ...     version="1")
        True
        """
        values = {
            "fagomraade": query.fagomraader,
            "takstkoder": query.takstkoder,
            "praksistyper": query.praksistyper,
            "medstatus": _JA if medstatus else _NEI,
        }
        fra, til = endpoint.period_parameters
        values[fra], values[til] = (str(query.fra),), (str(query.til),)
        if endpoint.geo_parameter:
            values[endpoint.geo_parameter] = query.geografi
        canonical = "&".join(f"{key}={','.join(values[key])}" for key in sorted(values))
        text = "\n".join((self.version, release_id, endpoint.path, canonical, fmt))
        return f'"{hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]}"'

    def index(self, prepared: Prepared) -> TableIndex:
        """The index of the table asked for (loaded from the release on first use)."""
        return self.indexes.get(prepared.release.id, prepared.endpoint.table)

    def select(self, prepared: Prepared, index: TableIndex) -> Selection:
        """The rows of the answer."""
        return index.select(prepared.query, medstatus=prepared.medstatus)

    def respond(self, prepared: Prepared, selection: Selection) -> Answer:
        """Render the rows in the chosen format, with the data headers."""
        body = RENDERERS[prepared.fmt](selection)
        headers = {
            **prepared.headers,
            **_content_headers(prepared.endpoint, prepared.fmt),
            SUPPRESSED_HEADER: str(0 if selection.medstatus else selection.suppressed),
        }
        return Answer(200, headers, body)

    def answer(
        self,
        endpoint: Endpoint,
        items: Iterable[tuple[str, str]],
        accept: str | None,
        if_none_match: str | None,
    ) -> Answer:
        """The whole answer, synchronously (the FastAPI routes run this in a thread)."""
        prepared = self.prepare(endpoint, items, accept, if_none_match)
        if isinstance(prepared, Answer):
            return prepared
        return self.respond(prepared, self.select(prepared, self.index(prepared)))
