"""The entry points of the aggregate stage and the :class:`Engine` seam.

:func:`aggregate` = :func:`finest` (phase 1, in the engine, over the raw rows) →
:func:`~helsestat.aggregate.lattice.rollup` (phase 2, numpy, on the small finest table) →
the engine's count-distinct pass (only when the spec has ``count_distinct`` measures).

>>> engine_for(Settings(demo_mode=True)).name
'duckdb'
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from helsestat import model
from helsestat.aggregate.duckdb_engine import DuckDBEngine
from helsestat.aggregate.lattice import build_cube
from helsestat.aggregate.plan import Plan, compile_plan, read_schema
from helsestat.model.cube import CubeSpec
from helsestat.settings import Settings


class Engine(Protocol):
    """What an engine does: phase 1 and the count-distinct pass over Parquet files, for a
    compiled :class:`~helsestat.aggregate.plan.Plan`. Phase 2 is shared by every engine.

    ``finest`` returns a table of schema ``plan.finest_schema``: one row per combination of
    the dims' finest values (as text, null a value of its own) with the additive measures.
    ``distinct`` returns, for every grouping set of ``plan.sets``, one row per group: the
    mask ``plan.mask(set)`` in column ``__gid``, every level column of
    ``plan.level_columns`` (null outside the set) and each count-distinct measure under
    its ``internal`` name. Neither returns rows for groups without rows.
    """

    name: str

    def finest(self, files: Sequence[Path], plan: Plan) -> pa.Table:
        """Phase 1 over ``files``."""
        ...

    def distinct(self, files: Sequence[Path], plan: Plan) -> pa.Table:
        """The count-distinct pass over ``files``."""
        ...

    def close(self) -> None:
        """Release the engine's resources; it may be used again after."""
        ...


def finest(
    files: Sequence[Path], spec: CubeSpec, engine: Engine, *, schema: pa.Schema | None = None
) -> pa.Table:
    """Phase 1: aggregate the raw rows once, at the finest level of every hierarchy that
    some grouping needs, computing only the additive measures (count, sum). The result can
    be cached per partition file and merged with
    :func:`~helsestat.aggregate.lattice.merge_finest`. ``schema`` types the empty result
    when ``files`` is empty (sums are float64 otherwise).

    >>> import tempfile, pyarrow.parquet as pq
    >>> from helsestat.model.cube import Hierarchy, Level, Measure
    >>> path = Path(tempfile.mkdtemp()) / "2018-05.parquet"
    >>> pq.write_table(pa.table({"kommunenr": ["0301", "0301"], "belop": [2, 3]}), path)
    >>> spec = CubeSpec("demo", (Hierarchy("geo", (Level("kommune", column="kommunenr"),)),),
    ...                 (Measure("kr", "sum", "belop"),))
    >>> with DuckDBEngine(threads=1) as engine:
    ...     finest([path], spec, engine).to_pydict()
    {'kommune': ['0301'], 'kr': [5]}
    """
    plan = compile_plan(spec, read_schema(files, spec) or schema)
    if not files:
        return plan.finest_schema.empty_table()
    return engine.finest(files, plan)


#: Bump when the meaning of a finest table changes, so cached ones are not reused.
_FINEST_VERSION = 1


def finest_fingerprint(spec: CubeSpec, schema: pa.Schema | None = None) -> str:
    """What a :func:`finest` table of ``spec`` depends on besides the rows: the finest
    level and column of each dimension, the additive measures, the filters, and the types
    of the columns read (from ``schema``). Rollups are not in it: a cached finest table
    stays valid when a lookup grows. Equal fingerprints give equal finest tables.

    >>> from helsestat.model.cube import Hierarchy, Level, Lookup, Measure
    >>> a = CubeSpec("a", (Hierarchy("g", (Level("k", column="k"),)),), (Measure("n", "count"),))
    >>> b = CubeSpec("a", (Hierarchy("g", (Level("k", column="k"),
    ...                                   Level("r", rollup=Lookup((("1", "x"),))))),),
    ...              (Measure("n", "count"),), groupings=(("r",),))
    >>> finest_fingerprint(a) == finest_fingerprint(b)
    True
    """
    plan = compile_plan(spec, schema)
    types = {c: str(schema.field(c).type) for c in spec.source_columns} if schema else {}
    parts = (
        _FINEST_VERSION,
        [(d.key, d.column) for d in plan.dims],
        [(m.name, m.kind, m.column, str(m.dtype)) for m in plan.additive],
        [(f.column, f.op, [repr(v) for v in f.values]) for f in plan.filters],
        sorted(types.items()),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def aggregate(
    files: Sequence[Path], spec: CubeSpec, engine: Engine, *, schema: pa.Schema | None = None
) -> model.Cube:
    """Aggregate Parquet ``files`` (one schema) into a cube: one table per grouping of
    ``spec``. ``schema`` types the empty cube when ``files`` is empty.

    >>> import tempfile, pyarrow.parquet as pq
    >>> from helsestat.model.cube import Hierarchy, Level, Measure, Prefix
    >>> path = Path(tempfile.mkdtemp()) / "claims.parquet"
    >>> pq.write_table(pa.table({"kommunenr": ["0301", "1103", "1108"]}), path)
    >>> geo = Hierarchy("geo", (Level("kommune", column="kommunenr"),
    ...                         Level("fylke", rollup=Prefix(2))))
    >>> spec = CubeSpec("demo", (geo,), (Measure("antall", "count"),), groupings=(("fylke",),))
    >>> with DuckDBEngine(threads=1) as engine:
    ...     aggregate([path], spec, engine).tables[("fylke",)].to_pydict()
    {'fylke': ['03', '11'], 'antall': [1, 2]}
    """
    plan = compile_plan(spec, read_schema(files, spec) or schema)
    if not files:
        return build_cube(plan, plan.finest_schema.empty_table())
    return build_cube(plan, engine.finest(files, plan), lambda: engine.distinct(files, plan))


#: DuckDB's share of ``memory_limit`` (the build's memory): the rest is the process's own
#: (libraries, reference data, the results as Arrow tables, phase 2). A build of ten years
#: of NPR-like episodes measured about 0.4 GB of process beside DuckDB's buffers.
DUCKDB_SHARE = 0.5


def engine_for(settings: Settings) -> Engine:
    """The engine the settings ask for; Spark is imported only when chosen. DuckDB gets
    :data:`DUCKDB_SHARE` of ``memory_limit`` and spills past it to ``<data_dir>/tmp/duckdb``.

    >>> engine = engine_for(Settings(demo_mode=True, threads=2, memory_limit="2GB"))
    >>> engine.threads, engine.duckdb_limit
    (2, '953MiB')
    """
    if settings.engine == "spark":
        from helsestat.aggregate.spark_engine import SparkEngine

        return SparkEngine()
    return DuckDBEngine(
        threads=settings.threads,
        memory_limit=settings.memory_limit,
        share=DUCKDB_SHARE,
        temp_directory=settings.data_dir / "tmp" / "duckdb",
    )


__all__ = ["Engine", "aggregate", "engine_for", "finest", "finest_fingerprint"]
