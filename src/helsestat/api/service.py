"""One data answer, from URL to bytes: the single implementation behind the FastAPI routes,
the ASGI fast path and the dashboard pages, for every statistic.

Two kinds of request: a published table (``/api/v1/tables/{name}``, filtered by
``?<dimension>=v1,v2``, every cell with its status) and a route of an API a statistic stays
compatible with (:class:`~helsestat.statistics.serving.Route`, e.g. Helfo's takstbruk paths).
:meth:`TableService.prepare_table` and :meth:`TableService.prepare_route` check the request
and compute its ETag — from the release id, the canonical path, the normalised query and the
format, without reading any data — so a matching ``If-None-Match`` is answered 304 at once.
Otherwise the rows come from the table's in-memory index
(:class:`~helsestat.publish.index.TableIndex`) and the answer is rendered by
:mod:`helsestat.publish` through the view the statistic declares.

The current release is found by ``stat`` of ``releases/CURRENT`` at most every
``recheck_seconds`` (the app passes the ``release_refresh_seconds`` setting, a tenth of a
second by default: the ``stat`` costs a few microseconds, a tenth of a typical answer's
checking): the pointer and the manifest are read again only when the pointer file changed,
so a new build is served from the first request after that.

The code lists a route's parameters are checked against come from the reference snapshot
(``reference``, asked on every such request; :func:`helsestat.api.create_app` passes the
holder's snapshot at most :data:`CODE_LISTS_MAX_AGE` seconds old, which costs a clock read).

>>> from pathlib import Path
>>> from helsestat.reference.seed import packaged_reference
>>> from helsestat.statistics import STATISTICS
>>> service = TableService(
...     Lake(Path("var")), STATISTICS, version="0.1.0", reference=packaged_reference)
>>> service.route_for("/api/opne-data/v1/takstbruk/agtakst/landet/ar").table
'takstbruk/landet/ar'
"""

from __future__ import annotations

import functools
import gc
import logging
import math
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from helsestat.api.caching import cache_headers, etag_for, if_none_match_matches
from helsestat.api.parameters import KnownValues, parse_computed, parse_envelope, parse_query
from helsestat.api.queries import TableSummary, choose_format, parse_filters, table_summary
from helsestat.errors import HelsestatError, NotFoundError
from helsestat.model import ProtectedTable, ReleaseInfo
from helsestat.publish.formats import FORMATS, negotiate
from helsestat.publish.index import (
    KEEP_RELEASES,
    IndexCache,
    Key,
    Query,
    Selection,
    TableIndex,
)
from helsestat.publish.views import DEFAULT, View
from helsestat.reference.snapshot import Reference
from helsestat.statistics import Statistic
from helsestat.statistics.serving import CodeLists, CompatibleApi, RangeQuery, Route
from helsestat.store.lake import Lake

logger = logging.getLogger("helsestat.api")

#: Header naming the number of cells matching the query that were left out as suppressed.
SUPPRESSED_HEADER: Final = "X-Helsestat-Suppressed"
#: Answers of computed tables kept (each a small indexed table), per app.
KEEP_ANSWERS: Final = 2_000
#: Bytes of rendered answers of computed tables kept (whole bodies, per format), per app.
KEEP_BODY_BYTES: Final = 32 * 2**20
#: Selections larger than this are rendered off the event loop by the fast path.
LARGE: Final = 5_000
#: Selections larger than this are rendered and sent in parts (never one body of a hundred
#: megabytes); smaller ones whole, which for JSON is several times faster (Arrow kernels).
IN_PARTS: Final = 100_000
#: Seconds the fast path checks codes against one reference snapshot before the holder asks
#: the database again (a loaded code list is accepted at most this much later).
CODE_LISTS_MAX_AGE: Final = 1.0
TABLES_PREFIX: Final = "/api/v1/tables/"
_NEGOTIATED_KEEP: Final = 256


# Answer and Prepared are made per request on the fast path and never leave this stage:
# plain dataclasses with slots (a frozen dataclass's __init__ costs several times as much).
@dataclass(slots=True)
class Answer:
    """A complete HTTP answer: status, headers (Content-Type included) and body — or, for
    a large answer, the body in ``parts`` (sent one after another; ``body`` is empty)."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    parts: tuple[bytes, ...] = ()


@dataclass(slots=True)
class Prepared:
    """A checked request whose answer is not a 304."""

    table: str
    query: Query
    fmt: str
    release: ReleaseInfo
    view: View
    content: dict[str, str]  # Content-Type and Content-Disposition
    headers: dict[str, str] = field(default_factory=dict)
    count_suppressed: bool = False  # the answer says how many suppressed cells it left out
    computed: RangeQuery | None = None  # a table computed per query, for this query
    key: str = ""  # the canonical query: answers of computed tables are kept by it


@functools.cache
def _content_headers(disposition: str, filename: str, fmt_name: str) -> dict[str, str]:
    fmt = FORMATS[fmt_name]
    return {
        "Content-Type": fmt.media_type,
        "Content-Disposition": f'{disposition}; filename="{filename}.{fmt.extension}"',
    }


class TableService:
    """Answers data requests for one app (lives on ``app.state.tables``)."""

    def __init__(
        self,
        lake: Lake,
        statistics: Sequence[Statistic],
        *,
        version: str,
        reference: Callable[[], Reference],
        recheck_seconds: float = 0.0,
    ) -> None:
        self.lake = lake
        self.reference = reference
        self.version = version
        self.statistics = tuple(statistics)
        self._owner = {t.name: s for s in self.statistics for t in s.tables}
        self._routes: dict[str, tuple[Route, CompatibleApi, Statistic]] = {}
        for statistic in self.statistics:
            api = statistic.serving.compatible
            for route in api.routes if api else ():
                for path in (route.path, *route.aliases):
                    assert api is not None
                    self._routes[path] = (route, api, statistic)
        self.indexes = IndexCache(self._load, self._key)
        self._pointer_path = str(lake.releases_dir / "CURRENT")
        self._pointer: tuple[int, int, int] | None = None
        self.recheck_seconds = recheck_seconds
        self._checked = -math.inf
        self._current: ReleaseInfo | None = None
        self._pinned: dict[str, ReleaseInfo] = {}
        self._negotiated: dict[str, str] = {}
        self._codes: dict[str, tuple[int, CodeLists]] = {}
        self._summaries: dict[tuple[str, str], TableSummary] = {}
        self._computed: dict[tuple[str, str], object] = {}
        self._answers: OrderedDict[tuple[str, str, str], TableIndex] = OrderedDict()
        self._bodies: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._known: dict[tuple[object, ...], set[str] | None] = {}
        self._body_bytes = 0

    # -- what is served --------------------------------------------------------------------
    def statistic_of(self, table: str) -> Statistic | None:
        """The statistic that publishes ``table`` (None for a table no statistic declares)."""
        return self._owner.get(table)

    def route_for(self, path: str) -> Route | None:
        """The compatible route answering ``path``, if any."""
        found = self._routes.get(path)
        return found[0] if found else None

    def routes(self) -> list[tuple[str, Route, CompatibleApi]]:
        """Every path of a compatible API: (path, route, api)."""
        return [(path, route, api) for path, (route, api, _) in self._routes.items()]

    def code_lists(self, statistic: Statistic) -> CodeLists:
        """A statistic's public code lists, made once per version of the reference."""
        reference = self.reference()
        found = self._codes.get(statistic.name)
        if found is None or found[0] != reference.version:
            found = (reference.version, statistic.serving.code_lists(reference))
            self._codes[statistic.name] = found
        return found[1]

    def _key(self, table: str) -> Key:
        statistic = self._owner.get(table)
        return statistic.serving.key(table) if statistic else Key()

    def _load(self, release_id: str, table: str) -> ProtectedTable:
        # indexed at once: the lake's in-memory copy would hold the table twice
        return self.lake.read_table(self.lake.get(release_id), table, keep=False)

    # -- releases --------------------------------------------------------------------------
    def current_release(self) -> ReleaseInfo:
        """The current release, or 404. ``releases/CURRENT`` is looked at (``stat``) at most
        every ``recheck_seconds`` (0: every request) while a
        release is known, and read again only when it changed."""
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

    def _negotiate(self, accept: str | None) -> str:
        header = accept or "*/*"
        name = self._negotiated.get(header)
        if name is None:
            name = negotiate(header, default="json").name
            if len(self._negotiated) < _NEGOTIATED_KEEP:
                self._negotiated[header] = name
        return name

    # -- a published table -----------------------------------------------------------------
    def prepare_table(
        self,
        name: str,
        items: Iterable[tuple[str, str]],
        explicit_format: str | None,
        release_id: str | None,
        accept: str | None,
        if_none_match: str | None,
    ) -> Prepared | Answer:
        """Check a request for ``/api/v1/tables/{name}``; a 304 :class:`Answer` when
        ``If-None-Match`` matches. Filters are ``?<dimension>=v1,v2`` on the table's
        dimensions; every matching cell is answered, suppressed ones with their status."""
        if explicit_format is not None:
            fmt = choose_format(explicit_format, None).name
        else:
            fmt = self._negotiate(accept)
        found = self.release(release_id)
        summary = self._summaries.get((found.id, name))
        if summary is None:  # releases are immutable: their manifests are read once
            summary = self._summaries[(found.id, name)] = table_summary(found, name)
        statistic = self._owner.get(name)
        if summary.computed:
            if statistic is None or statistic.serving.ranged is None:
                raise NotFoundError(
                    "table.not_served",
                    f"table {name!r} is computed per query by a statistic this server does "
                    "not serve",
                    hint="GET /api/v1/tables lists what it serves",
                )
            return self._prepare_computed(
                statistic, name, items, fmt, found, explicit_format, if_none_match
            )
        filters = parse_filters(items, summary.dimensions, table=name)
        etag = etag_for(found.id, TABLES_PREFIX + name, filters, fmt, version=self.version)
        headers = cache_headers(etag, found.id, vary_accept=explicit_format is None)
        if if_none_match_matches(if_none_match, etag):
            return Answer(304, headers)
        view = statistic.serving.view if statistic else DEFAULT
        content = _content_headers("inline", name.replace("/", "_"), fmt)
        return Prepared(name, Query(filters), fmt, found, view, content, headers)

    # -- a table computed per query --------------------------------------------------------
    def computed_data(self, release: ReleaseInfo, statistic: Statistic) -> object:
        """The data a release stores for a computed statistic, loaded once per release."""
        key = (release.id, statistic.name)
        found = self._computed.get(key)
        if found is None:
            ranged = statistic.serving.ranged
            assert ranged is not None
            found = ranged.load(self.lake.read_data(release, statistic.name))
            self._computed[key] = found
            # The loaded data are hundreds of thousands of long-lived objects (the cube's
            # node lists and maps): every full collection of the cyclic garbage collector
            # would walk them all again — tenths of a second in which the worker answers
            # nothing, every few hundred requests. Kept out of its reach (still freed by
            # reference counting when the release is dropped).
            gc.freeze()
            while len(self._computed) > KEEP_RELEASES * max(1, len(self.statistics)):
                self._computed.pop(next(iter(self._computed)))
        return found

    def warm(self) -> tuple[str, ...]:
        """Load now the data of the current release of every statistic computed per query
        (:meth:`computed_data`), so that the first request for one does not wait seconds for
        it; returns the statistics loaded (none before a release is published). A server
        worker does this as it starts.

        >>> import tempfile
        >>> from pathlib import Path
        >>> from helsestat.reference.seed import packaged_reference
        >>> lake = Lake(Path(tempfile.mkdtemp()))
        >>> TableService(lake, [], version="1", reference=packaged_reference).warm()
        ()
        """
        try:
            release = self.current_release()
        except NotFoundError:
            return ()
        loaded = []
        for statistic in self.statistics:
            if statistic.serving.ranged is not None and any(
                table.name in release.tables for table in statistic.tables
            ):
                try:
                    self.computed_data(release, statistic)
                except HelsestatError as exc:  # its requests will say so; serve the rest
                    logger.warning("%s: not loaded at start-up: %s", statistic.name, exc)
                    continue
                loaded.append(statistic.name)
        return tuple(loaded)

    def _prepare_computed(
        self,
        statistic: Statistic,
        name: str,
        items: Iterable[tuple[str, str]],
        fmt: str,
        release: ReleaseInfo,
        explicit_format: str | None,
        if_none_match: str | None,
    ) -> Prepared | Answer:
        ranged = statistic.serving.ranged
        assert ranged is not None
        data = self.computed_data(release, statistic)
        query, canonical = parse_computed(
            ranged, items, ranged.months(data), self._known_values(release, statistic, data)
        )
        etag = etag_for(release.id, TABLES_PREFIX + name, canonical, fmt, version=self.version)
        headers = cache_headers(etag, release.id, vary_accept=explicit_format is None)
        if if_none_match_matches(if_none_match, etag):
            return Answer(304, headers)
        content = _content_headers("inline", name.replace("/", "_"), fmt)
        key = "&".join(f"{k}={','.join(v)}" for k, v in sorted(canonical.items()))
        return Prepared(
            name, Query(), fmt, release, DEFAULT, content, headers, computed=query, key=key
        )

    def _known_values(
        self, release: ReleaseInfo, statistic: Statistic, data: object
    ) -> KnownValues | None:
        """The values each filter of a computed statistic can take, where its dashboard's
        lists are complete (``Ranged.options_complete``), worked out once per release and
        filter: without the other filters, and within them where a list needs them (a
        moment within its process)."""
        ranged = statistic.serving.ranged
        if ranged is None or ranged.options is None or not ranged.options_complete:
            return None
        options = ranged.options

        def values(name: str, within: Mapping[str, str]) -> set[str] | None:
            key = (release.id, statistic.name, name, *sorted(within.items()))
            if key not in self._known:
                found = options(data, name, within)
                self._known[key] = None if found is None else {v for v, _ in found}
                while len(self._known) > KEEP_ANSWERS:
                    self._known.pop(next(iter(self._known)))
            return self._known[key]

        def known(name: str, value: str, others: Mapping[str, str]) -> bool:
            alone = values(name, {})
            if alone is not None and value in alone:
                return True
            within = values(name, others) if others else None
            if within is not None:
                return value in within
            return alone is None

        return known

    def _computed_index(self, prepared: Prepared) -> TableIndex:
        """The answer of a computed table, protected and indexed (kept for the next request
        of the same query, in any format)."""
        key = (prepared.release.id, prepared.table, prepared.key)
        found = self._answers.get(key)
        if found is not None:
            self._answers.move_to_end(key)
            return found
        statistic = self._owner[prepared.table]
        ranged = statistic.serving.ranged
        assert ranged is not None and prepared.computed is not None
        data = self.computed_data(prepared.release, statistic)
        short = prepared.table.removeprefix(statistic.name + "/")
        if ranged.columns is not None:  # handed as the index holds it
            made = ranged.columns(data, short, prepared.computed, prepared.release.id)
            index = TableIndex.of_columns(made)
        else:
            table = ranged.answer(data, short, prepared.computed)
            index = TableIndex.of_answer(replace(table, release=prepared.release.id))
        self._answers[key] = index
        while len(self._answers) > KEEP_ANSWERS:
            self._answers.popitem(last=False)
        return index

    # -- a route of a compatible API -------------------------------------------------------
    def prepare_route(
        self,
        path: str,
        items: Iterable[tuple[str, str]],
        accept: str | None,
        if_none_match: str | None,
    ) -> Prepared | Answer:
        """Check a request for a compatible route; a 304 :class:`Answer` when
        ``If-None-Match`` matches."""
        route, api, statistic = self._routes[path]
        envelope = parse_envelope(route, api, items)
        if route.fixed_format is not None:
            fmt = route.fixed_format
        elif envelope.format is not None:
            fmt = envelope.format
        else:
            fmt = self._negotiate(accept)
        release = self.release(envelope.release)
        if route.table not in release.tables:
            raise NotFoundError(
                "table.not_found",
                f"release {release.id!r} has no table {route.table!r}",
                hint="GET /api/v1/tables lists the published tables",
            )
        parsed = parse_query(
            route,
            envelope.params,
            self.code_lists(statistic),
            api,
            with_suppressed=envelope.with_suppressed,
        )
        switch = "ja" if envelope.with_suppressed else "nei"
        canonical = {**parsed.canonical, api.suppressed_parameter: (switch,)}
        # parse_query's values are sorted and unique (a test compares the tags)
        etag = etag_for(
            release.id, route.path, canonical, fmt, version=self.version, presorted=True
        )
        negotiated = route.fixed_format is None and envelope.format is None
        headers = cache_headers(etag, release.id, vary_accept=negotiated)
        if if_none_match_matches(if_none_match, etag):
            return Answer(304, headers)
        content = _content_headers(route.disposition, route.filename, fmt)
        return Prepared(route.table, parsed.query, fmt, release, api.view, content, headers, True)

    # -- the answer ------------------------------------------------------------------------
    def index(self, prepared: Prepared) -> TableIndex:
        """The index of the table asked for (loaded from the release on first use; a
        computed table computed for the query)."""
        if prepared.computed is not None:
            return self._computed_index(prepared)
        return self.indexes.get(prepared.release.id, prepared.table)

    def cached_index(self, prepared: Prepared) -> TableIndex | None:
        """The index if it needs no reading of files (a computed table of loaded data is
        computed here: it takes a fraction of a millisecond)."""
        if prepared.computed is not None:
            statistic = self._owner[prepared.table]
            if (prepared.release.id, statistic.name) in self._computed:
                return self._computed_index(prepared)
            return None
        return self.indexes.cached(prepared.release.id, prepared.table)

    def select(self, prepared: Prepared, index: TableIndex) -> Selection:
        """The rows of the answer."""
        return index.select(prepared.query)

    def respond(self, prepared: Prepared, selection: Selection) -> Answer:
        """Render the rows in the chosen format, with the data headers (the answer of a
        computed table is kept, whole, for the next request of the same query and format)."""
        if prepared.computed is not None:
            body = self._computed_body(prepared, selection)
        else:
            body = FORMATS[prepared.fmt].render_selection(selection, prepared.view)
        return Answer(200, self._data_headers(prepared, selection), body)

    def _computed_body(self, prepared: Prepared, selection: Selection) -> bytes:
        """The rendered answer of a computed table: its rows are rendered in one go and not
        kept (:meth:`TableIndex.of_answer`), so the body is, within
        :data:`KEEP_BODY_BYTES` (least recently used first out)."""
        found = self.kept_body(prepared, selection)
        if found is not None:
            return found
        body = FORMATS[prepared.fmt].render_selection(selection, prepared.view)
        self.keep_body(prepared, selection, (body,))
        return body

    @staticmethod
    def _body_key(prepared: Prepared, selection: Selection) -> tuple[object, ...]:
        return (
            prepared.release.id,
            prepared.table,
            prepared.key,
            prepared.fmt,
            prepared.view.name,
            selection.with_suppressed,
        )

    def kept_body(self, prepared: Prepared, selection: Selection) -> bytes | None:
        """The kept body of a computed table's answer (:meth:`keep_body`), or None."""
        if prepared.computed is None:
            return None
        key = self._body_key(prepared, selection)
        found = self._bodies.get(key)
        if found is not None:
            self._bodies.move_to_end(key)
        return found

    def keep_body(self, prepared: Prepared, selection: Selection, parts: Sequence[bytes]) -> None:
        """Keep the body of a computed table's answer (rendered whole or in parts) for the
        next request of the same query and format, when it is at most an eighth of
        :data:`KEEP_BODY_BYTES` (the least recently used go first)."""
        size = sum(map(len, parts))
        if prepared.computed is None or size > KEEP_BODY_BYTES // 8:
            return
        key = self._body_key(prepared, selection)
        if key in self._bodies:
            return
        self._bodies[key] = parts[0] if len(parts) == 1 else b"".join(parts)
        self._body_bytes += size
        while self._body_bytes > KEEP_BODY_BYTES:
            self._body_bytes -= len(self._bodies.popitem(last=False)[1])

    @staticmethod
    def render(prepared: Prepared, selection: Selection) -> bytes:
        """The rows rendered whole in the chosen format (no headers, nothing kept)."""
        return FORMATS[prepared.fmt].render_selection(selection, prepared.view)

    def respond_with(self, prepared: Prepared, selection: Selection, body: bytes) -> Answer:
        """The answer of a body rendered before (:meth:`kept_body`)."""
        return Answer(200, self._data_headers(prepared, selection), body)

    def respond_in_parts(self, prepared: Prepared, selection: Selection) -> Answer:
        """:meth:`respond` with the body in parts (a large selection: the parts are made a
        piece of rows at a time and sent one after another, never one body of a hundred
        megabytes held by the event loop)."""
        parts = FORMATS[prepared.fmt].render_parts(selection, prepared.view)
        return Answer(200, self._data_headers(prepared, selection), parts=tuple(parts))

    @staticmethod
    def _data_headers(prepared: Prepared, selection: Selection) -> dict[str, str]:
        headers = {**prepared.headers, **prepared.content}
        if prepared.count_suppressed:
            left_out = 0 if selection.with_suppressed else selection.suppressed
            headers[SUPPRESSED_HEADER] = str(left_out)
        return headers

    def answer(self, prepared: Prepared | Answer) -> Answer:
        """The whole answer, synchronously (the FastAPI routes run this in a thread)."""
        if isinstance(prepared, Answer):
            return prepared
        return self.respond(prepared, self.select(prepared, self.index(prepared)))


__all__ = [
    "LARGE",
    "SUPPRESSED_HEADER",
    "TABLES_PREFIX",
    "Answer",
    "Prepared",
    "TableService",
]
