"""What every format publishes of a :class:`~helsestat.model.ProtectedTable`: the declared
dimensions and measures in table order, then ``status`` and ``status_rule``, checked and
with normalised types (:func:`publishable`).

>>> import pyarrow as pa
>>> from helsestat.model import ProtectedTable
>>> t = ProtectedTable("t", "T", ("kommune",), ("antall",), pa.table({"kommune": ["0301"],
...     "antall": [7], "status": ["published"], "status_rule": [None]}))
>>> publishable(t).column("status_rule").to_pylist()
['']
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from helsestat.errors import HelsestatError, ProtectionError
from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable

#: What each cell status means. Formats with room for a legend (xlsx, jsonstat) carry it.
STATUS_LEGEND: Final[dict[str, str]] = {
    "published": "the value is published",
    "primary": "suppressed: the cell itself breaks a disclosure rule, named in status_rule",
    "secondary": "suppressed so that a primary suppressed cell cannot be derived from totals",
}


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
    present = set(source.column_names)
    missing = [c for c in (*declared, STATUS_COLUMN, RULE_COLUMN) if c not in present]
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
    rule = _text(table, RULE_COLUMN, source.column(RULE_COLUMN))
    if rule.null_count:
        rule = rule.fill_null("")
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
    if column.type == pa.string():
        return column
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
    if kind == target:
        return column
    try:
        return pc.cast(column, target)
    except pa.ArrowInvalid:
        raise HelsestatError(
            "publish.column_type",
            f"table {table.name!r}: measure {name!r} does not fit in {target}",
            hint="aggregate into BIGINT or DOUBLE",
        ) from None


#: Tables up to this many rows are checked in Python (a few Arrow kernel calls cost more).
_SHORT = 256
_KNOWN: Final = list(STATUS_LEGEND)


def _check_protected(
    table: ProtectedTable,
    names: list[str],
    columns: list[pa.ChunkedArray],
    status: pa.ChunkedArray,
) -> None:
    hidden: list[int] = []
    if len(status) <= _SHORT:  # a table computed per query: fewer calls in Python
        statuses = status.to_pylist()
        unknown = (
            0
            if STATUS_LEGEND.keys() >= set(statuses)
            else sum(s not in STATUS_LEGEND for s in statuses)
        )
        hidden = [i for i, s in enumerate(statuses) if s != "published"]
    else:
        # is_in is false for a null status, so nulls count as unknown.
        unknown = len(status) - (pc.sum(pc.is_in(status, value_set=pa.array(_KNOWN))).as_py() or 0)
    if unknown:
        raise ProtectionError(
            "publish.unknown_status",
            f"table {table.name!r}: {unknown} row(s) have no known status",
            hint=f"status is one of: {', '.join(STATUS_LEGEND)}",
        )
    guarded = table.suppressible
    short = len(status) <= _SHORT
    suppressed = None if short else pc.not_equal(status, "published")
    for name, column in zip(names, columns, strict=True):
        if name not in guarded:
            continue
        if short:  # only the suppressed rows can leak (none, as a rule)
            leaks = sum(column[i].is_valid for i in hidden) if hidden else 0
        else:
            leaks = pc.sum(pc.and_(suppressed, pc.is_valid(column))).as_py() or 0
        if leaks:
            # Never publish a value that protect marked as suppressed, whatever made it.
            raise ProtectionError(
                "publish.unsuppressed_value",
                f"table {table.name!r}: measure {name!r} has a value in {leaks} suppressed cell(s)",
                hint="protect must set every guarded measure of a suppressed cell to null",
            )


__all__ = ["STATUS_LEGEND", "publishable"]
