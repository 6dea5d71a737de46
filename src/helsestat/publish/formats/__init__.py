"""Publish formats: a registry of media type + render function.

Each format module registers one :class:`Format`; ``render`` takes only a
:class:`~helsestat.model.ProtectedTable` and returns the bytes of the document, carrying each
cell's protection status. Importing this package registers all six formats.

==========  =====================================================================  ============
name        media type                                                             extension
==========  =====================================================================  ============
json        application/json                                                       json
xml         application/xml                                                        xml
csv         text/csv; charset=utf-8                                                csv
xlsx        application/vnd.openxmlformats-officedocument.spreadsheetml.sheet      xlsx
jsonstat    application/vnd.json-stat+json                                         jsonstat.json
parquet     application/vnd.apache.parquet                                         parquet
==========  =====================================================================  ============

Every renderer starts from :func:`publishable`, which selects the published columns (the
declared dimensions and measures in table order, then ``status`` and ``status_rule``),
normalises their types and refuses a table whose suppressed cells still hold a value.

>>> sorted(FORMATS)
['csv', 'json', 'jsonstat', 'parquet', 'xlsx', 'xml']
>>> negotiate("text/csv;q=0.5, application/xml").name
'xml'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from helsestat.errors import HelsestatError, InputError, NotFoundError, ProtectionError
from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable


@dataclass(frozen=True)
class Format:
    """One output format: its short name, media type, file extension and renderer."""

    name: str
    media_type: str
    extension: str
    render: Callable[[ProtectedTable], bytes]


FORMATS: dict[str, Format] = {}

#: What each cell status means. Formats with room for a legend (xlsx, jsonstat) carry it.
STATUS_LEGEND: Final[dict[str, str]] = {
    "published": "the value is published",
    "primary": "suppressed: the cell itself breaks a disclosure rule, named in status_rule",
    "secondary": "suppressed so that a primary suppressed cell cannot be derived from totals",
}


def register(fmt: Format) -> Format:
    """Add a format to the registry (each format module calls this once at import).

    >>> register(FORMATS["json"]).name
    'json'
    """
    FORMATS[fmt.name] = fmt
    return fmt


def get_format(name: str) -> Format:
    """The format called ``name``, or a NotFoundError listing the known ones.

    >>> get_format("csv").media_type
    'text/csv; charset=utf-8'
    """
    try:
        return FORMATS[name]
    except KeyError:
        raise NotFoundError(
            "format.not_found",
            f"unknown format {name!r}",
            hint=f"use one of: {', '.join(sorted(FORMATS))}",
        ) from None


def by_media_type(media_type: str) -> Format | None:
    """The format serving exactly ``media_type``, if any.

    >>> by_media_type("application/vnd.apache.parquet").name
    'parquet'
    """
    for fmt in FORMATS.values():
        if fmt.media_type == media_type:
            return fmt
    return None


# ---------------------------------------------------------------------------------------------
# The published view of a table, shared by every renderer.


def publishable(table: ProtectedTable) -> pa.Table:
    """The columns every format publishes, checked and with normalised types.

    Order: the declared dimensions and measures in the table's column order, then ``status``
    and ``status_rule``. Dimensions become text, integer measures ``int64`` (decimals with
    scale 0 too), other numeric measures ``float64``, and a null ``status_rule`` becomes "".
    Undeclared columns are never published. Raises :class:`ProtectionError` when a status is
    unknown or a suppressed cell still holds a value, and :class:`HelsestatError` when the
    table cannot be published as declared.

    >>> import pyarrow as pa
    >>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({
    ...     "antall": pa.array([7], pa.int32()), "kommune": ["0301"],
    ...     "status": ["published"], "status_rule": [None]}))
    >>> publishable(t).to_pylist()
    [{'antall': 7, 'kommune': '0301', 'status': 'published', 'status_rule': ''}]
    """
    source = table.table
    declared = (*table.dimensions, *table.measures)
    clash = [c for c in declared if c in (STATUS_COLUMN, RULE_COLUMN)]
    if clash:
        raise HelsestatError(
            "publish.reserved_column",
            f"table {table.name!r}: {clash[0]!r} is declared as a dimension or measure",
            hint=f"{STATUS_COLUMN!r} and {RULE_COLUMN!r} are reserved for the cell status",
        )
    missing = [c for c in (*declared, STATUS_COLUMN, RULE_COLUMN) if c not in source.column_names]
    if missing:
        raise HelsestatError(
            "publish.missing_column",
            f"table {table.name!r}: column {missing[0]!r} missing",
            hint="a ProtectedTable holds its dimensions, measures, 'status' and 'status_rule'",
        )
    wanted = set(declared)
    names = [c for c in source.column_names if c in wanted]
    columns = [
        _text(table, name, source.column(name))
        if name in table.dimensions
        else _number(table, name, source.column(name))
        for name in names
    ]
    status = _text(table, STATUS_COLUMN, source.column(STATUS_COLUMN))
    rule = _text(table, RULE_COLUMN, source.column(RULE_COLUMN)).fill_null("")
    for name, column in zip(names, columns, strict=True):
        if name in table.dimensions and column.null_count:
            raise HelsestatError(
                "publish.null_dimension",
                f"table {table.name!r}: dimension {name!r} is empty in {column.null_count} row(s)",
                hint="code unknown values explicitly (e.g. '9999') before protect",
            )
    _check_protected(table, names, columns, status)
    return pa.table([*columns, status, rule], names=[*names, STATUS_COLUMN, RULE_COLUMN])


def _text(table: ProtectedTable, name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise HelsestatError(
            "publish.column_type",
            f"table {table.name!r}: column {name!r} of type {column.type} is not text",
            hint="dimension and status columns are text",
        ) from None


def _number(table: ProtectedTable, name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_null(kind):
        target = pa.int64()
    elif pa.types.is_decimal(kind) and kind.scale == 0:
        target = pa.int64()  # DuckDB's sum(BIGINT) is HUGEINT, which Arrow sees as decimal(38,0)
    elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        target = pa.float64()
    else:
        raise HelsestatError(
            "publish.column_type",
            f"table {table.name!r}: measure {name!r} of type {kind} is not a number",
            hint="measures are integer or floating-point columns",
        )
    try:
        return pc.cast(column, target)
    except pa.ArrowInvalid:
        raise HelsestatError(
            "publish.column_type",
            f"table {table.name!r}: measure {name!r} does not fit in {target}",
            hint="aggregate into BIGINT or DOUBLE",
        ) from None


def _check_protected(
    table: ProtectedTable,
    names: list[str],
    columns: list[pa.ChunkedArray],
    status: pa.ChunkedArray,
) -> None:
    known = pa.array(list(STATUS_LEGEND))
    # is_in is false for a null status, so nulls count as unknown.
    unknown = len(status) - (pc.sum(pc.is_in(status, value_set=known)).as_py() or 0)
    if unknown:
        raise ProtectionError(
            "publish.unknown_status",
            f"table {table.name!r}: {unknown} row(s) have no known status",
            hint=f"status is one of: {', '.join(STATUS_LEGEND)}",
        )
    suppressed = pc.not_equal(status, "published")
    for name, column in zip(names, columns, strict=True):
        if name not in table.measures:
            continue
        leaks = pc.sum(pc.and_(suppressed, pc.is_valid(column))).as_py() or 0
        if leaks:
            # Never publish a value that protect marked as suppressed, whatever made it.
            raise ProtectionError(
                "publish.unsuppressed_value",
                f"table {table.name!r}: measure {name!r} has a value in {leaks} suppressed cell(s)",
                hint="protect must set every measure of a suppressed cell to null",
            )


# ---------------------------------------------------------------------------------------------
# HTTP content negotiation (RFC 9110 §12.5.1).

#: Media types that also select a format: older clients ask for text/xml, and some JSON-stat
#: servers (e.g. ISTAC) use the unregistered application/jsonstat+json.
_ALIASES: Final[dict[str, str]] = {
    "text/xml": "xml",
    "application/jsonstat+json": "jsonstat",
}

_MediaType = tuple[str, str, dict[str, str]]


def negotiate(accept_header: str | None, default: str = "json") -> Format:
    """The format that best satisfies an HTTP ``Accept`` header.

    Each format takes the q-value of the most specific media range matching it
    (``type/subtype;params`` > ``type/subtype`` > ``type/*`` > ``*/*``); a range's parameters
    must match those the format's media type declares and are ignored otherwise
    (``application/json;charset=utf-8`` selects JSON). The highest q wins; ties go to
    ``default``, then to the range listed first, then to registry order (alphabetical).
    Aliases (``text/xml``) match only when named. A missing, empty or unparseable header gives
    ``default``; if every format has q=0 the result is an :class:`InputError` with status 406.

    >>> negotiate(None).name
    'json'
    >>> negotiate("application/json;q=0.5, application/vnd.json-stat+json").name
    'jsonstat'
    >>> negotiate("text/*, */*;q=0.1").name
    'csv'
    >>> negotiate("application/xml; charset=UTF-8").name
    'xml'
    """
    fallback = get_format(default)
    ranges = [r for r in (_parse_range(part) for part in (accept_header or "").split(",")) if r]
    if not ranges:
        return fallback
    best: tuple[float, bool, int] | None = None
    chosen = fallback
    for fmt in FORMATS.values():
        served = [(_parse_media_type(fmt.media_type), 0)]
        # An alias answers only a range that names it, never a wildcard.
        served += [(_parse_media_type(a), 2) for a, name in _ALIASES.items() if name == fmt.name]
        quality, position = _quality(served, ranges)
        if quality <= 0:
            continue
        rank = (quality, fmt.name == default, -position)
        if best is None or rank > best:
            best, chosen = rank, fmt
    if best is None:
        raise InputError(
            "format.not_acceptable",
            f"no format matches Accept: {(accept_header or '')[:200]}",
            hint="accept one of: " + ", ".join(f.media_type for f in FORMATS.values()),
            status=406,
        )
    return chosen


def _parse_media_type(text: str) -> _MediaType:
    kind, _, rest = text.partition(";")
    main, _, sub = kind.strip().lower().partition("/")
    params: dict[str, str] = {}
    for item in rest.split(";") if rest else ():
        key, _, value = item.partition("=")
        params[key.strip().lower()] = value.strip().strip('"').lower()
    return main, sub, params


def _parse_range(part: str) -> tuple[_MediaType, float, int] | None:
    """One media range as ((type, subtype, params), q, specificity), or None if malformed."""
    main, sub, params = _parse_media_type(part)
    if not main or not sub or (main == "*" and sub != "*"):
        return None
    quality = 1.0
    if "q" in params:
        # Parameters after q are accept-extensions, not part of the media range.
        keys = list(params)
        for key in keys[keys.index("q") + 1 :]:
            del params[key]
        try:
            quality = float(params.pop("q"))
        except ValueError:
            return None
        if not 0.0 <= quality <= 1.0:
            return None
    specificity = 0 if main == "*" else 1 if sub == "*" else 2 + len(params)
    return (main, sub, params), quality, specificity


def _quality(
    served: list[tuple[_MediaType, int]], ranges: list[tuple[_MediaType, float, int]]
) -> tuple[float, int]:
    """The q-value of the best-matching range for any of ``served``, and that range's index.

    Each served media type comes with the least specificity a range needs to match it.
    """
    best_quality, best_position = 0.0, len(ranges)
    for (main, sub, params), least in served:
        match: tuple[int, float, int] | None = None
        for position, ((r_main, r_sub, r_params), quality, specificity) in enumerate(ranges):
            if specificity < least or r_main not in ("*", main) or r_sub not in ("*", sub):
                continue
            # A parameter the served type does not declare does not rule it out: clients send
            # application/json;charset=utf-8, and JSON has no charset parameter (RFC 8259 §11).
            # One it declares must match (text/csv;charset=latin-1 is not our CSV).
            if any(key in params and params[key] != value for key, value in r_params.items()):
                continue
            if match is None or specificity > match[0]:
                match = (specificity, quality, position)
        if match and (match[1], -match[2]) > (best_quality, -best_position):
            best_quality, best_position = match[1], match[2]
    return best_quality, best_position


__all__ = [
    "FORMATS",
    "STATUS_LEGEND",
    "Format",
    "by_media_type",
    "get_format",
    "negotiate",
    "publishable",
    "register",
]

# Each module registers its format on import; they import the names above, so they come last.
from helsestat.publish.formats import (  # noqa: E402, F401
    csv_,
    json_,
    jsonstat,
    parquet_,
    xlsx,
    xml_,
)
