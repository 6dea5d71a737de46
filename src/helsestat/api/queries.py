"""What the API and the dashboard ask of the published releases: small functions the
routes call, so no query logic sits inside a route.

Releases are immutable, so every answer here depends only on the release id and the
request; reading table metadata never touches the Parquet data (only the release manifest).

>>> parse_filters([("kommune", "0301,1103")], ("kommune", "aar"), table="t")
{'kommune': ('0301', '1103')}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import pyarrow as pa
import pyarrow.compute as pc

from helsestat.errors import NotFoundError, QueryError
from helsestat.model import ProtectedTable, ReleaseInfo
from helsestat.publish.formats import FORMATS, Format, negotiate
from helsestat.store.lake import Lake

#: Query parameters of the table route that are not dimension filters.
RESERVED_PARAMETERS = frozenset({"format", "release"})

# The manifest's name is part of the documented lake layout (store/lake.py).
_MANIFEST = "release.json"


@dataclass(frozen=True)
class TableSummary:
    """Metadata of one published table, read from its release's manifest."""

    name: str
    title: str
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    rows: int
    notes: tuple[str, ...]
    computed: bool = False  # answered per query by its statistic, not stored


def current_release_id(lake: Lake) -> str | None:
    """The id of the current release, or None before the first build (or when the pointer
    names a release that is gone — the service is then not ready, rather than broken).

    >>> import tempfile, pathlib
    >>> current_release_id(Lake(pathlib.Path(tempfile.mkdtemp()))) is None
    True
    """
    try:
        release = lake.current()
    except NotFoundError:
        return None
    return release.id if release else None


def find_release(lake: Lake, release_id: str | None) -> ReleaseInfo | None:
    """The release ``release_id`` (any kept release), or the current one when None;
    None only when nothing was ever published and no id was asked for.

    >>> import tempfile, pathlib
    >>> find_release(Lake(pathlib.Path(tempfile.mkdtemp())), None) is None
    True
    """
    if release_id is not None:
        return lake.get(release_id)
    return lake.current()


def resolve_release(lake: Lake, release_id: str | None) -> ReleaseInfo:
    """Like :func:`find_release`, but a missing release is a 404 ``release.none``.

    >>> import tempfile, pathlib
    >>> resolve_release(Lake(pathlib.Path(tempfile.mkdtemp())), None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    helsestat.errors.NotFoundError: no release has been published yet (hint: ...)
    """
    release = find_release(lake, release_id)
    if release is None:
        raise NotFoundError(
            "release.none",
            "no release has been published yet",
            hint="run 'helsestat demo' (synthetic data) or 'helsestat build'",
        )
    return release


def _summary(name: str, meta: Mapping[str, object]) -> TableSummary:
    def strings(key: str) -> tuple[str, ...]:
        value = meta.get(key, ())
        return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()

    rows = meta.get("rows", 0)
    return TableSummary(
        name=name,
        title=str(meta.get("title", name)),
        dimensions=strings("dimensions"),
        measures=strings("measures"),
        rows=rows if isinstance(rows, int) else 0,
        notes=strings("notes"),
        computed=meta.get("computed") is True,
    )


def table_summaries(release: ReleaseInfo) -> list[TableSummary]:
    """Every table of a release, in the order it was published.

    >>> import tempfile, pathlib
    >>> lake = Lake(pathlib.Path(tempfile.mkdtemp()))
    >>> with lake.release("r1"):
    ...     pass
    >>> table_summaries(lake.get("r1"))
    []
    """
    manifest = json.loads((release.path / _MANIFEST).read_text(encoding="utf-8"))
    tables: dict[str, Mapping[str, object]] = manifest.get("tables", {})
    return [_summary(name, meta) for name, meta in tables.items()]


def table_summary(release: ReleaseInfo, name: str) -> TableSummary:
    """One table of a release, or a 404 ``table.not_found``.

    >>> import tempfile, pathlib
    >>> lake = Lake(pathlib.Path(tempfile.mkdtemp()))
    >>> with lake.release("r1"):
    ...     pass
    >>> table_summary(lake.get("r1"), "nope")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    helsestat.errors.NotFoundError: release 'r1' has no table 'nope' (hint: ...)
    """
    for summary in table_summaries(release):
        if summary.name == name:
            return summary
    raise NotFoundError(
        "table.not_found",
        f"release {release.id!r} has no table {name!r}",
        hint="GET /api/v1/tables lists the published tables",
    )


def parse_filters(
    params: Iterable[tuple[str, str]], dimensions: tuple[str, ...], *, table: str
) -> dict[str, tuple[str, ...]]:
    """Dimension filters from query parameters ``?<dimension>=v1,v2`` (repeating a
    parameter adds values). Any other parameter than ``format``/``release`` must be a
    dimension of the table: a typo must not silently return the whole table.

    >>> parse_filters([("aar", "2024"), ("aar", "2023")], ("aar",), table="t")
    {'aar': ('2024', '2023')}
    >>> parse_filters([("kommun", "0301")], ("kommune",), table="t")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    helsestat.errors.QueryError: unknown query parameter 'kommun'... (hint: ...)
    """
    filters: dict[str, list[str]] = {}
    for key, raw in params:
        if key in RESERVED_PARAMETERS:
            continue
        if key not in dimensions:
            raise QueryError(
                "query.unknown_dimension",
                f"unknown query parameter {key!r}: table {table!r} has dimensions "
                f"{', '.join(dimensions) or '(none)'}",
                hint="filter with ?<dimension>=value1,value2; other parameters: "
                + ", ".join(sorted(RESERVED_PARAMETERS)),
            )
        values = [v.strip() for v in raw.split(",") if v.strip()]
        if not values:
            raise QueryError(
                "query.empty_filter",
                f"query parameter {key!r} has no value",
                hint=f"give one or more comma-separated values: ?{key}=a,b",
            )
        filters.setdefault(key, []).extend(values)
    return {key: tuple(values) for key, values in filters.items()}


def select_rows(table: ProtectedTable, filters: Mapping[str, tuple[str, ...]]) -> ProtectedTable:
    """The rows of ``table`` whose dimension values are among the filter values.

    A subset of a protected table's rows reveals nothing the whole table does not, so the
    result is still a :class:`ProtectedTable`.

    >>> t = ProtectedTable("t", "T", ("k",), ("n",), pa.table({"k": ["a", "b"], "n": [1, 2]}))
    >>> select_rows(t, {"k": ("b",)}).table.to_pydict()
    {'k': ['b'], 'n': [2]}
    """
    if not filters:
        return table
    data = table.table
    mask = None
    for dimension, values in filters.items():
        column = data[dimension]
        if not pa.types.is_string(column.type):
            column = pc.cast(column, pa.string())
        keep = pc.is_in(column, value_set=pa.array(values, pa.string()))
        mask = keep if mask is None else pc.and_(mask, keep)
    return replace(table, table=data.filter(mask))


def choose_format(format_param: str | None, accept: str | None) -> Format:
    """The format asked for by ``?format=``, else negotiated from the ``Accept`` header
    (JSON when the client accepts anything).

    >>> choose_format("csv", "application/json").name
    'csv'
    """
    if format_param is not None:
        try:
            return FORMATS[format_param]
        except KeyError:
            raise QueryError(
                "query.unknown_format",
                f"query parameter 'format': unknown format {format_param!r}",
                hint=f"use one of: {', '.join(sorted(FORMATS))}",
            ) from None
    return negotiate(accept or "*/*", default="json")
