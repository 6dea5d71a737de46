"""Placing millions of reported rows by unit id and date: one DuckDB interval join against
the as-of table (:func:`~.placing.as_of_table`), not a loop.

The join table is the as-of table plus, for every known unit, the periods before it opened
and after it closed, marked ``not_valid_on_date``; so a row either meets exactly one
interval (placed, or not valid on its date) or none (an unknown id). The join returns, per
row, the index of the interval it met; the placement columns are then gathered from the
small as-of table by that index (Arrow ``take`` and dictionary arrays), and the rows come
back in input order through an inverse permutation — no sort, no per-row Python.

Nothing is guessed: every row carries a ``placement`` status — ``placed``, ``unknown_id``,
``not_valid_on_date``, ``invalid_id`` (empty or not an integer), ``invalid_date`` — and the
:class:`PlacementReport` counts them and lists the ids (never other row values).

>>> import pyarrow as pa
>>> from datetime import date
>>> from helsestat.reference.units.model import Span, UnitFields
>>> from helsestat.reference.units.placing import flatten
>>> flat = flatten({1: [Span(date(2002, 1, 1), None, UnitFields("rhf", "R"))],
...                 2: [Span(date(2002, 1, 1), None, UnitFields("hf", "H", parent_id=1))]},
...                {1: "NO", 2: "NO"})
>>> rows = pa.table({"unit_id": [2, 9, 2], "date": ["2024-01-01", "2024-01-01", "1990-01-01"]})
>>> out = place(rows, flat)
>>> out.table.column("hf_id").to_pylist(), out.table.column("placement").to_pylist()
([2, None, None], ['placed', 'unknown_id', 'not_valid_on_date'])
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from helsestat.errors import ExtractError, InputError
from helsestat.reference.units.placement import OPEN_END, PLACEMENT_COLUMNS

STATUS_COLUMN = "placement"
#: Row statuses, in the order of their codes (0 = placed).
STATUSES = ("placed", "unknown_id", "not_valid_on_date", "invalid_id", "invalid_date")
#: How many ids a report lists per kind of problem (the counts cover all of them).
REPORT_IDS = 20
_FIRST = date(1, 1, 1)


@dataclass(frozen=True)
class PlacementReport:
    """What a bulk placing found: rows per status, and up to :data:`REPORT_IDS` ids per
    problem with their row counts (ids not valid on the date with the unit's lifetime)."""

    rows: int
    by_status: dict[str, int]
    unknown_ids: tuple[tuple[int, int], ...] = ()
    not_valid: tuple[tuple[int, int, date, date | None], ...] = ()

    @property
    def placed(self) -> int:
        """Rows placed on a unit valid on their date."""
        return self.by_status.get("placed", 0)

    def lines(self) -> list[str]:
        """The report as text lines (CLI, logs): counts and ids only, never row values."""
        counts = ", ".join(f"{k} {v:,}" for k, v in self.by_status.items())
        out = [f"{self.rows:,} rows: {counts or 'none'}"]
        for uid, count in self.unknown_ids:
            out.append(f"unknown unit id {uid}: {count:,} rows")
        for uid, count, opened, closed in self.not_valid:
            life = f"{opened} to {closed}" if closed else f"{opened} onwards"
            out.append(f"unit {uid} is not valid on the rows' dates (valid {life}): {count:,} rows")
        return out


@dataclass(frozen=True)
class Placed:
    """The placed rows (input columns, then placement columns and status) and the report."""

    table: pa.Table
    report: PlacementReport


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_columns(columns: list[str], id_column: str, date_column: str) -> None:
    missing = [c for c in (id_column, date_column) if c not in columns]
    if missing:
        raise ExtractError(
            "units.missing_column",
            f"column(s) {', '.join(map(repr, missing))} missing from the rows to place",
            hint=f"columns present: {', '.join(columns[:20])}; choose the unit id and date "
            "columns (--id-column/--date-column)",
        )
    clash = [c for c in (*PLACEMENT_COLUMNS, STATUS_COLUMN) if c in columns]
    if clash:
        raise InputError(
            "units.column_clash",
            f"the rows to place already have column(s) {', '.join(clash)}",
            hint="rename or drop them first: placing adds these columns",
        )


def _connect(flat: pa.Table, threads: int | None) -> duckdb.DuckDBPyConnection:
    """A connection with ``__lookup``: the as-of table plus not-valid periods, indexed."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.register("__flat", flat)
    nulls = ", ".join(f"NULL AS {c}" for c in PLACEMENT_COLUMNS)
    cols = ", ".join(PLACEMENT_COLUMNS)
    con.execute(
        f"""
        CREATE TEMP TABLE __known AS
            SELECT unit_id, min(valid_from) AS opened,
                   max(COALESCE(valid_to, DATE '{OPEN_END}')) AS closed
            FROM __flat GROUP BY unit_id;
        CREATE TEMP TABLE __lookup AS
            SELECT row_number() OVER (ORDER BY unit_id, valid_from) - 1 AS fi, *
            FROM (
                SELECT unit_id, valid_from, COALESCE(valid_to, DATE '{OPEN_END}') AS valid_to,
                       0::TINYINT AS status, {cols}
                FROM __flat
                UNION ALL
                SELECT unit_id, DATE '{_FIRST}', opened, 2::TINYINT, {nulls} FROM __known
                UNION ALL
                SELECT unit_id, closed, DATE '{OPEN_END}', 2::TINYINT, {nulls}
                FROM __known WHERE closed < DATE '{OPEN_END}'
            );
        """
    )
    return con


def _known(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[date, date | None]]:
    rows = con.execute("SELECT unit_id, opened, closed FROM __known").fetchall()
    return {int(u): (o, None if c == OPEN_END else c) for u, o, c in rows}


def _report(
    codes: np.ndarray,
    ids: np.ndarray,
    known: dict[int, tuple[date, date | None]],
) -> PlacementReport:
    counts = np.bincount(codes, minlength=len(STATUSES))
    by_status = {s: int(counts[i]) for i, s in enumerate(STATUSES) if counts[i]}

    def top(code: int) -> list[tuple[int, int]]:
        values, n = np.unique(ids[codes == code], return_counts=True)
        order = np.lexsort((values, -n))[:REPORT_IDS]
        return [(int(values[i]), int(n[i])) for i in order]

    return PlacementReport(
        rows=int(codes.size),
        by_status=by_status,
        unknown_ids=tuple(top(1)),
        not_valid=tuple((uid, n, *known[uid]) for uid, n in top(2)),
    )


def _with_validity(values: np.ndarray, valid: np.ndarray, type_: pa.DataType) -> pa.Array:
    """An Arrow array of ``values``, null where not ``valid`` (built from buffers: many times
    faster than ``pa.array(values, mask=...)`` for millions of rows)."""
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(type_, len(values), [bitmap, pa.py_buffer(values)])


def _gather(lookup: pa.Table, fi: np.ndarray) -> list[pa.Array]:
    """The placement columns for each row's interval ``fi`` (``len(lookup)``: none), by
    numpy indexing into the small lookup table plus one all-null row; strings as dictionary
    arrays over their few distinct values."""
    out: list[pa.Array] = []
    for name in PLACEMENT_COLUMNS:
        column = lookup.column(name).combine_chunks()
        valid = np.append(column.is_valid().to_numpy(zero_copy_only=False), False)
        if pa.types.is_integer(column.type):
            values = np.append(column.fill_null(0).to_numpy(), 0).astype(np.int64)
            out.append(_with_validity(np.take(values, fi), np.take(valid, fi), pa.int64()))
            continue
        texts = column.to_pylist()
        distinct = sorted({v for v in texts if v is not None})
        position = {v: i for i, v in enumerate(distinct)}
        codes = np.array([position.get(v, 0) for v in texts] + [0], dtype=np.int32)
        indices = _with_validity(np.take(codes, fi), np.take(valid, fi), pa.int32())
        out.append(pa.DictionaryArray.from_arrays(indices, pa.array(distinct, pa.string())))
    return out


def place(
    rows: pa.Table,
    flat: pa.Table,
    *,
    id_column: str = "unit_id",
    date_column: str = "date",
    threads: int | None = None,
) -> Placed:
    """Place every row of ``rows`` (an Arrow table with a unit id and a date column; ids may
    be integers or digit strings, dates dates, timestamps or ISO strings) against ``flat``
    (:func:`~.placing.as_of_table`). The output keeps the input's rows, order and columns and
    adds the placement columns and ``placement`` (the row's status)."""
    _check_columns(list(rows.column_names), id_column, date_column)
    n = rows.num_rows
    con = _connect(flat, threads)
    try:
        lookup = con.sql("SELECT * FROM __lookup ORDER BY fi").to_arrow_table()
        known = _known(con)
        con.register(
            "__rows",
            pa.table(
                {
                    "__row": pa.array(np.arange(n, dtype=np.int64)),
                    "__id": rows.column(id_column),
                    "__day": rows.column(date_column),
                }
            ),
        )
        joined = con.sql(
            """
            WITH r AS (
                SELECT __row, TRY_CAST(__id AS BIGINT) AS id, TRY_CAST(__day AS DATE) AS day
                FROM __rows
            )
            SELECT r.__row, r.id, f.fi,
                   CASE WHEN r.id IS NULL THEN 3 WHEN r.day IS NULL THEN 4 ELSE 1 END
                       ::TINYINT AS miss
            FROM r LEFT JOIN __lookup f
                ON f.unit_id = r.id AND r.day >= f.valid_from AND r.day < f.valid_to
            """
        ).to_arrow_table()
    finally:
        con.close()
    order = joined.column("__row").to_numpy()
    fi = joined.column("fi").fill_null(-1).to_numpy()
    by_row_fi = np.empty(n, dtype=np.int64)
    by_row_fi[order] = fi
    by_row_id = np.empty(n, dtype=np.int64)
    by_row_id[order] = joined.column("id").fill_null(-1).to_numpy()
    miss = np.empty(n, dtype=np.int8)
    miss[order] = joined.column("miss").to_numpy()
    status = lookup.column("status").to_numpy().astype(np.int8)
    found = by_row_fi >= 0
    fi = np.where(found, by_row_fi, lookup.num_rows)  # lookup.num_rows: the all-null row
    codes = np.where(found, np.append(status, 0)[fi], miss).astype(np.int8)
    columns = _gather(lookup, fi)
    statuses = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(STATUSES))
    table = rows
    for name, column in zip((*PLACEMENT_COLUMNS, STATUS_COLUMN), (*columns, statuses), strict=True):
        table = table.append_column(name, column)
    return Placed(table, _report(codes, by_row_id, known))


def place_file(
    source: Path,
    target: Path,
    flat: pa.Table,
    *,
    id_column: str = "unit_id",
    date_column: str = "date",
    threads: int | None = None,
) -> PlacementReport:
    """Place a Parquet or CSV file into a new Parquet file, streamed by DuckDB (the rows need
    not fit in memory; their order is not kept)."""
    if not source.is_file():
        raise ExtractError(
            "units.file_not_found", f"{source}: no such file", hint="give a Parquet or CSV file"
        )
    suffix = source.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise ExtractError(
            "units.unsupported_file",
            f"{source.name}: only .parquet and .csv files can be placed",
            hint="convert the file, or place an Arrow table with place()",
        )
    path = str(source).replace("'", "''")
    reader = f"read_parquet('{path}')" if suffix == ".parquet" else f"read_csv('{path}')"
    con = _connect(flat, threads)
    try:
        try:
            columns = [d[0] for d in con.execute(f"SELECT * FROM {reader} LIMIT 0").description]
        except duckdb.Error as exc:
            raise ExtractError(
                "units.unreadable_file",
                f"{source.name}: cannot be read ({str(exc).splitlines()[0]})",
                hint="check the file format",
            ) from None
        _check_columns(columns, id_column, date_column)
        target.parent.mkdir(parents=True, exist_ok=True)
        out = str(target).replace("'", "''")
        ident, day = _quote(id_column), _quote(date_column)
        cases = " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(STATUSES))
        placement = ", ".join(f"f.{c}" for c in PLACEMENT_COLUMNS)
        con.execute(
            f"""
            COPY (
                WITH r AS (
                    SELECT *, TRY_CAST({ident} AS BIGINT) AS __id,
                           TRY_CAST({day} AS DATE) AS __day
                    FROM {reader}
                )
                SELECT r.* EXCLUDE (__id, __day), {placement},
                    CASE CASE WHEN r.__id IS NULL THEN 3 WHEN r.__day IS NULL THEN 4
                              ELSE COALESCE(f.status, 1) END {cases} END AS {STATUS_COLUMN}
                FROM r LEFT JOIN __lookup f
                    ON f.unit_id = r.__id AND r.__day >= f.valid_from AND r.__day < f.valid_to
            ) TO '{out}' (FORMAT parquet, COMPRESSION zstd)
            """
        )
        result = con.execute(
            f"SELECT list_position({list(STATUSES)}, {STATUS_COLUMN}) - 1, "
            f"COALESCE(TRY_CAST({ident} AS BIGINT), -1) FROM read_parquet('{out}')"
        ).fetchnumpy()
        values = list(result.values())
        return _report(np.asarray(values[0], dtype=np.int8), np.asarray(values[1]), _known(con))
    finally:
        con.close()


__all__ = ["STATUSES", "STATUS_COLUMN", "Placed", "PlacementReport", "place", "place_file"]
