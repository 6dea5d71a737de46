"""The DuckDB engine (the default): phase 1 and the count-distinct pass as SQL over
``read_parquet``, in an in-process database opened on first use.

Phase 1 is one ``GROUP BY`` on the raw typed columns (integers are grouped as integers and
cast to text only in the small result); only the columns the spec reads are scanned, and
filters are pushed into the Parquet scan.

``pack_keys=True`` packs integer dimensions whose ranges the Parquet statistics give into
one BIGINT key, ``(c0 - min0) * step0 + (c1 - min1) * step1 + …``, groups that key and
unpacks the small result (see :func:`key_packing`). It is off by default because it measured
slower: on the benchmark lake's code columns (2024, 50 million lines) phase 1 took 3.96 CPU
seconds packed and 2.85 grouping the five int32 columns directly (DuckDB already compresses
integer group keys from the column statistics, and the packing expression hides them).

The count-distinct pass is one query with ``GROUPING SETS`` whose rollups run on the raw
rows: ``substring`` for a prefix, a hash join against a registered two-column table for a
lookup.

>>> import tempfile, pyarrow as pa, pyarrow.parquet as pq
>>> from pathlib import Path
>>> from helsestat.aggregate.plan import compile_plan
>>> from helsestat.model.cube import CubeSpec, Hierarchy, Level, Measure
>>> path = Path(tempfile.mkdtemp()) / "x.parquet"
>>> pq.write_table(pa.table({"maaned": [201801, 201801, 201802]}), path)
>>> spec = CubeSpec("demo", (Hierarchy("tid", (Level("maaned", column="maaned"),)),),
...                 (Measure("antall", "count"),))
>>> with DuckDBEngine(threads=1) as engine:
...     engine.finest([path], compile_plan(spec)).sort_by("maaned").to_pydict()
{'maaned': ['201801', '201802'], 'antall': [2, 1]}
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from helsestat.aggregate.plan import GID, FilterPlan, Plan, engine_failed
from helsestat.model.cube import Lookup


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str | int | float) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, float):
        return f"CAST('{value!r}' AS DOUBLE)"
    return str(int(value))


def _where(filters: Sequence[FilterPlan]) -> str:
    """SQL of the filters. A null matches no listed value: ``in``, ``ge`` and ``le`` drop
    rows with a null, ``not_in`` keeps them."""
    terms = []
    for f in filters:
        col = _ident(f.column)
        values = ", ".join(_literal(v) for v in f.values)
        if f.op == "in":
            terms.append(f"{col} IN ({values})")
        elif f.op == "not_in":
            terms.append(f"({col} IS NULL OR {col} NOT IN ({values}))")
        else:
            terms.append(f"{col} {'>=' if f.op == 'ge' else '<='} {_literal(f.values[0])}")
    return "WHERE " + " AND ".join(terms) if terms else ""


def _source(files: Sequence[Path]) -> str:
    return "read_parquet([" + ", ".join(_literal(str(f)) for f in files) + "])"


@dataclass(frozen=True)
class PackedColumn:
    """One integer column in a packed key: ``(value - low) * step``; a null takes the slot
    ``card - 1`` when the column has nulls."""

    column: str
    low: int
    card: int
    step: int
    nulls: bool


def key_packing(files: Sequence[Path], columns: Sequence[str]) -> tuple[PackedColumn, ...] | None:
    """How to pack integer ``columns`` into one int64 key, from the min/max statistics of
    every row group of ``files``; None when a column is not an integer, a row group has no
    statistics, or the ranges multiplied do not fit in 62 bits.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.parquet"
    >>> pq.write_table(pa.table({"a": [3, 5], "b": [0, 1]}), path)
    >>> [(c.column, c.low, c.card, c.step) for c in key_packing([path], ["a", "b"])]
    [('a', 3, 3, 2), ('b', 0, 2, 1)]
    """
    if not files or not columns:
        return None
    bounds: dict[str, list[int | bool]] = {}
    for file in files:
        meta = pq.ParquetFile(file).metadata
        schema = meta.schema.to_arrow_schema()
        paths = [meta.schema.column(i).path for i in range(meta.num_columns)]
        for column in columns:
            if column not in paths or not pa.types.is_integer(schema.field(column).type):
                return None
            index = paths.index(column)
            for group in range(meta.num_row_groups):
                rows = meta.row_group(group).num_rows
                stats = meta.row_group(group).column(index).statistics
                if stats is None or not stats.has_null_count:
                    return None
                if stats.null_count == rows:
                    bounds.setdefault(column, [1 << 62, -(1 << 62), False])[2] = True
                    continue
                if not stats.has_min_max:
                    return None
                low, high, nulls = bounds.setdefault(column, [1 << 62, -(1 << 62), False])
                bounds[column] = [
                    min(int(low), int(stats.min)),
                    max(int(high), int(stats.max)),
                    bool(nulls) or stats.null_count > 0,
                ]
    cards = []
    for column in columns:
        low, high, nulls = bounds[column]
        cards.append(max(int(high) - int(low) + 1, 0) + int(bool(nulls)))
    total = 1
    for card in cards:
        total *= max(card, 1)
    if total >= 1 << 62:
        return None
    out = []
    step = total
    for column, card in zip(columns, cards, strict=True):
        step //= max(card, 1)
        low, _, nulls = bounds[column]
        out.append(
            PackedColumn(column, int(low) if card > int(nulls) else 0, card, step, bool(nulls))
        )
    return tuple(out)


def _pack_sql(packing: Sequence[PackedColumn]) -> str:
    terms = []
    for c in packing:
        value = f"(CAST({_ident(c.column)} AS BIGINT) - {c.low})"
        if c.nulls:
            value = f"COALESCE({value}, {c.card - 1})"
        terms.append(f"{value} * {c.step}" if c.step != 1 else value)
    return " + ".join(terms)


def _unpack_sql(c: PackedColumn, key: str) -> str:
    slot = f"({key} // {c.step})" if c.step != 1 else key
    slot = f"({slot} % {c.card})"
    value = f"{slot} + {c.low}"
    if c.nulls:
        value = f"CASE WHEN {slot} = {c.card - 1} THEN NULL ELSE {value} END"
    return value


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*", re.IGNORECASE)


def share_of(limit: str, fraction: float) -> str:
    """``fraction`` of a memory size written as DuckDB reads it (``2GB``: 2·1000³ bytes,
    ``2GiB``: 2·1024³), in MiB; a size it cannot read is returned unchanged (DuckDB then
    says what is wrong with it).

    >>> share_of("2GB", 0.5), share_of("1GiB", 0.5), share_of("80%", 0.5)
    ('953MiB', '512MiB', '80%')
    """
    found = _SIZE.fullmatch(limit)
    if found is None:
        return limit
    number, unit, binary = found.groups()
    base = 1024 if binary else 1000
    size = float(number) * base ** " kmgt".index(unit.lower() or " ")
    return f"{max(int(size * fraction) // 2**20, 1)}MiB"


class DuckDBEngine:
    """Executes plans with DuckDB. ``threads=0`` uses every core. No I/O until first use;
    each call runs on its own cursor, so one engine can serve several threads.

    DuckDB's own memory (its buffers and hash tables) is limited to ``share`` of
    ``memory_limit`` (all of it by default; a build gives the rest to the process); past
    it, DuckDB spills to ``temp_directory`` (default: DuckDB's, ``.tmp`` in the working
    directory).

    >>> DuckDBEngine(threads=2, memory_limit="1GB").name
    'duckdb'
    >>> DuckDBEngine(memory_limit="2GB", share=0.5).duckdb_limit
    '953MiB'
    """

    name = "duckdb"

    def __init__(
        self,
        threads: int = 0,
        memory_limit: str = "2GB",
        *,
        pack_keys: bool = False,
        share: float = 1.0,
        temp_directory: Path | None = None,
    ) -> None:
        self.threads = threads
        self.memory_limit = memory_limit
        self.share = share
        self.pack_keys = pack_keys
        self.temp_directory = temp_directory
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    @property
    def duckdb_limit(self) -> str:
        """DuckDB's memory limit: ``share`` of ``memory_limit``."""
        return self.memory_limit if self.share == 1.0 else share_of(self.memory_limit, self.share)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._connection is None:
                config: dict[str, str | bool | int | float | list[str]] = {
                    "memory_limit": self.duckdb_limit,
                    "preserve_insertion_order": False,
                    # Only built-in features: never download an extension at run time.
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
                }
                if self.threads:
                    config["threads"] = self.threads
                if self.temp_directory is not None:
                    # DuckDB makes the directory itself, not its parents
                    self.temp_directory.parent.mkdir(parents=True, exist_ok=True)
                    config["temp_directory"] = str(self.temp_directory)
                self._connection = duckdb.connect(":memory:", config=config)
            return self._connection.cursor()

    def _run(self, plan: Plan, sql: str, tables: dict[str, pa.Table] | None = None) -> pa.Table:
        cursor = self._cursor()
        try:
            for name, table in (tables or {}).items():
                cursor.register(name, table)
            result: pa.Table = cursor.sql(sql).to_arrow_table()
            return result
        except duckdb.Error as exc:
            raise engine_failed(plan, "DuckDB", exc) from exc
        finally:
            cursor.close()

    def finest(self, files: Sequence[Path], plan: Plan) -> pa.Table:
        """Phase 1: one row per combination of the dims' finest values, additive measures.

        See the module docstring for an example.
        """
        keys = [f"{_ident(d.column)} AS {_ident(f'__k{i}')}" for i, d in enumerate(plan.dims)]
        dims = [
            f"CAST({_ident(f'__k{i}')} AS VARCHAR) AS {_ident(d.key)}"
            for i, d in enumerate(plan.dims)
        ]
        packing = key_packing(files, [d.column for d in plan.dims]) if self.pack_keys else None
        if packing is not None and len(packing) > 1:
            keys = [f"{_pack_sql(packing)} AS __key"]
            dims = [
                f"CAST({_unpack_sql(c, '__key')} AS VARCHAR) AS {_ident(d.key)}"
                for c, d in zip(packing, plan.dims, strict=True)
            ]
        aggs, outer = [], []
        for m in plan.additive:
            if m.kind == "count":
                aggs.append(f"COUNT(*) AS {_ident(m.internal)}")
            else:
                assert m.column is not None
                aggs.append(f"SUM({_ident(m.column)}) AS {_ident(m.internal)}")
            sql_type = "BIGINT" if pa.types.is_integer(m.dtype) else "DOUBLE"
            outer.append(f"CAST({_ident(m.internal)} AS {sql_type}) AS {_ident(m.name)}")
        group = "GROUP BY ALL" if keys else ""
        sql = (
            f"SELECT {', '.join(dims + outer)} FROM ("
            f"SELECT {', '.join(keys + aggs)} FROM {_source(files)} {_where(plan.filters)} "
            f"{group} HAVING COUNT(*) > 0)"
        )
        return self._run(plan, sql).cast(plan.finest_schema)

    def distinct(self, files: Sequence[Path], plan: Plan) -> pa.Table:
        """The count-distinct pass: ``GROUPING SETS`` over the raw rows, one row per group of
        every grouping, tagged with :data:`~helsestat.aggregate.plan.GID`."""
        cols = [f"CAST({_ident(d.column)} AS VARCHAR) AS {_ident(d.key)}" for d in plan.dims]
        cols += [f"{_ident(m.column or '')} AS {_ident(m.internal)}" for m in plan.distinct]
        ctes = [f"s0 AS (SELECT {', '.join(cols)} FROM {_source(files)} {_where(plan.filters)})"]
        tables: dict[str, pa.Table] = {}
        for dim in plan.dims:
            for parent, name, rollup in dim.steps():
                prev, cur = f"s{len(ctes) - 1}", f"s{len(ctes)}"
                if isinstance(rollup, Lookup):
                    lookup = f"__lookup{len(tables)}"
                    keys, values = zip(*rollup.pairs, strict=True) if rollup.pairs else ((), ())
                    tables[lookup] = pa.table(
                        {"k": pa.array(keys, pa.string()), "v": pa.array(values, pa.string())}
                    )
                    default = "NULL" if rollup.default is None else _literal(rollup.default)
                    expr = (
                        f"CASE WHEN p.{_ident(parent)} IS NULL THEN NULL "
                        f"ELSE COALESCE(l.v, {default}) END"
                    )
                    ctes.append(
                        f"{cur} AS (SELECT p.*, {expr} AS {_ident(name)} FROM {prev} p "
                        f"LEFT JOIN {lookup} l ON p.{_ident(parent)} = l.k)"
                    )
                else:
                    expr = f"substring({_ident(parent)}, 1, {rollup.length})"
                    ctes.append(f"{cur} AS (SELECT *, {expr} AS {_ident(name)} FROM {prev})")
        levels = [_ident(c) for c in plan.level_columns]
        sets = ", ".join("(" + ", ".join(_ident(c) for c in s) + ")" for s in plan.sets)
        counts = [
            f"COUNT(DISTINCT {_ident(m.internal)}) AS {_ident(m.internal)}" for m in plan.distinct
        ]
        grouping = f"GROUPING({', '.join(levels)})" if levels else "0"
        sql = (
            f"WITH {', '.join(ctes)} "
            f"SELECT {', '.join([f'{grouping} AS {GID}', *levels, *counts])} "
            f"FROM s{len(ctes) - 1} GROUP BY GROUPING SETS ({sets}) HAVING COUNT(*) > 0"
        )
        return self._run(plan, sql, tables)

    def close(self) -> None:
        """Close the database; the engine opens a new one if used again."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["DuckDBEngine", "share_of"]
