"""helsestat.aggregate: execute a :class:`CubeSpec` over Parquet files into a
:class:`~helsestat.model.Cube`, on DuckDB (default) or Spark, with identical results.

Semantics (the same on every engine; ``tests/aggregate`` checks both against a pure-Python
reference):

- **Input**: Parquet files of one schema holding at least ``spec.source_columns``; a file
  without one of them is refused (``aggregate.missing_column``). No files: an empty cube
  with the right schemas (pass ``schema=`` to type the sums, float64 otherwise).
- **Dimensions** read text or integer columns and are output as text (``201805`` →
  ``"201805"``, ``"0301"`` keeps its zero). A null value is a group of its own, with a null
  key at every level above it.
- **Filters** apply to the rows before aggregation, comparing in the column's type. A null
  matches no listed value: ``in``, ``ge``, ``le`` drop rows with a null, ``not_in`` keeps
  them.
- **Measures**, in spec order after the dimension columns: ``count`` → int64 rows; ``sum``
  → int64 for integer columns, float64 for floats, nulls ignored, null when every value of
  the group is null; ``count_distinct`` → int64 distinct non-null values.
- **Rollups** chain from the finest level: :class:`Prefix` keeps the first ``n``
  characters, :class:`Lookup` maps through its pairs (unmapped → ``default``, or
  ``aggregate.lookup_missing`` naming the value and the level), :class:`Total` is the
  grand total and has no column.
- **Order**: rows sorted by the dimension columns, ascending by code point, nulls last.
  A grouping with no rows is an empty table, a grand total included.

Execution, designed for speed (see ``benchmarks/bench_aggregate.py``):

1. **Phase 1** (:func:`finest`, in the engine): one ``GROUP BY`` over the raw rows at the
   finest level of each hierarchy, additive measures only, scanning only the columns read.
2. **Phase 2** (:func:`rollup`, numpy, engine-independent): every grouping from that small
   table; rollups map the *dictionaries* of distinct values, not the rows, and each
   grouping is derived from the smallest finer one already computed.
3. **Count distinct** (not additive): one ``GROUPING SETS`` pass over the raw rows, run
   only when the spec has such measures, after phase 2 has checked the lookups.

Incremental refresh: cache :func:`finest` per partition file, combine the cached tables
with :func:`merge_finest`, and :func:`rollup` the result; a changed month costs a scan of
that month only (count-distinct measures still need :func:`aggregate` over all files).
:func:`finest_fingerprint` names what a cached table depends on; ``pipeline.build`` keeps the
cache in the lake (:mod:`helsestat.store.lake.cache`).

Integer codes: :func:`read_codes` rewrites a spec over text columns to read the integer code
columns stored beside them (then a lookup back to the text), giving the same cube; the
DuckDB engine packs integer dimensions with known ranges into one key.

>>> import tempfile, pyarrow as pa, pyarrow.parquet as pq
>>> from pathlib import Path
>>> path = Path(tempfile.mkdtemp()) / "claims.parquet"
>>> pq.write_table(pa.table({"kommunenr": ["0301", "1103", None], "maaned": [201805] * 3}), path)
>>> geo = Hierarchy("geo", (Level("kommune", column="kommunenr"), Level("fylke", rollup=Prefix(2)),
...                         Level("landet", rollup=Total())))
>>> tid = Hierarchy("tid", (Level("maaned", column="maaned"), Level("aar", rollup=Prefix(4))))
>>> spec = CubeSpec("demo", (geo, tid), (Measure("antall", "count"),))
>>> with DuckDBEngine(threads=1) as engine:
...     cube = aggregate([path], spec, engine)
>>> cube.tables[("fylke", "aar")].to_pydict()
{'fylke': ['03', '11', None], 'aar': ['2018', '2018', '2018'], 'antall': [1, 1, 1]}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from helsestat.aggregate.codes import CodeColumn, read_codes
from helsestat.aggregate.duckdb_engine import DuckDBEngine
from helsestat.aggregate.engine import Engine, aggregate, engine_for, finest, finest_fingerprint
from helsestat.aggregate.lattice import merge_finest, rollup
from helsestat.aggregate.plan import Plan, compile_plan
from helsestat.model.cube import (
    CubeSpec,
    Filter,
    Hierarchy,
    Level,
    Lookup,
    Measure,
    Prefix,
    Rollup,
    Total,
)

if TYPE_CHECKING:
    from helsestat.aggregate.spark_engine import SparkEngine


def __getattr__(name: str) -> object:
    # SparkEngine imports pyspark, an optional extra: load it only when asked for.
    if name == "SparkEngine":
        from helsestat.aggregate.spark_engine import SparkEngine

        return SparkEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CodeColumn",
    "CubeSpec",
    "DuckDBEngine",
    "Engine",
    "Filter",
    "Hierarchy",
    "Level",
    "Lookup",
    "Measure",
    "Plan",
    "Prefix",
    "Rollup",
    "SparkEngine",
    "Total",
    "aggregate",
    "compile_plan",
    "engine_for",
    "finest",
    "finest_fingerprint",
    "merge_finest",
    "read_codes",
    "rollup",
]
