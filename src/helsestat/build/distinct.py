"""A statistic with count-distinct measures, aggregated period by period.

Distinct counts are not additive, so phase 1 per partition (:mod:`.incremental`) cannot
serve them. But when every table of the statistic is split by the time hierarchy (a table
per month, a table per year: never a total over all years), a cell's rows all lie in one
period of the coarsest time level the tables use: the distinct patients of 2024 need the
rows of 2024 only. :func:`aggregate_by_period` therefore runs both passes (the additive one
and the count-distinct one) over the files of one such period at a time, and joins the
results:

- memory is that of one period, whatever the number of years;
- each period's two results (small: one row per cell) are kept in the lake's cache under a
  key of its files and of the spec, so a build whose periods did not change reads them
  instead of the rows, and a new month costs a scan of its year;
- the periods' results are only joined when no cell of any table was found in two
  periods (a partition holding rows of another period would break that); otherwise, and
  when the tables are not all split by time, the statistic is aggregated in one pass over
  all files, as before.

DuckDB runs one period at a time; an engine that spills and schedules by itself (Spark)
gets all files as one period (one job per pass over everything), still cached.

>>> import tempfile
>>> from helsestat.aggregate import DuckDBEngine
>>> from helsestat.statistics.takstbruk import TAKSTBRUK
>>> lake = Lake(Path(tempfile.mkdtemp()))
>>> with DuckDBEngine(threads=1) as engine:
...     aggregate_by_period(TAKSTBRUK, lake, engine, [], TAKSTBRUK.spec) is None
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa

from helsestat.aggregate import DuckDBEngine, Engine, compile_plan
from helsestat.aggregate.lattice import build_cube
from helsestat.aggregate.pieces import level_index, roll_value
from helsestat.aggregate.plan import GID, Plan, read_schema
from helsestat.model import Cube
from helsestat.model.cube import CubeSpec
from helsestat.statistics import Statistic
from helsestat.store.lake import Lake
from helsestat.store.lake.cache import FinestCache
from helsestat.validate import spec_for

#: Bump when the meaning of a cached period result changes.
_VERSION = 1
#: Suffix of the cache directory of a statistic's period results.
CACHE_SUFFIX = ".by-period"


def periods_of(
    statistic: Statistic, spec: CubeSpec, files: Sequence[Path]
) -> list[tuple[str, list[Path]]] | None:
    """``files`` grouped by the period, at the coarsest time level of the statistic's
    tables, of the partition each lies in (``period=202401`` → ``2024`` when some table is
    per year), in period order; None when a table is not split by time, the spec has no
    hierarchy on the partition column or a partition is not named ``column=value``.

    >>> from helsestat.statistics.takstbruk import TAKSTBRUK
    >>> periods_of(TAKSTBRUK, TAKSTBRUK.spec, [Path("period=201801/a.parquet")])
    [('2018', [PosixPath('period=201801/a.parquet')])]
    """
    column = spec_for(statistic.source_kind).partition_column
    time = next((i for i, h in enumerate(spec.hierarchies) if h.levels[0].column == column), None)
    if time is None:
        return None
    levels = [level_index(spec, time, g) for g in spec.all_groupings()]
    if not levels or any(level is None for level in levels):
        return None
    top = max(level for level in levels if level is not None)
    out: dict[str, list[Path]] = {}
    for file in files:
        _, sep, value = file.parent.name.partition("=")
        period = roll_value(spec.hierarchies[time], top, value) if sep and value else None
        if period is None:
            return None
        out.setdefault(period, []).append(file)
    return sorted(out.items())


def _fingerprint(spec: CubeSpec, schema: pa.Schema | None) -> str:
    """What a period's results depend on besides its files: the whole spec (its rollups
    shape the count-distinct result) and the types of the columns read."""
    types = sorted((c, str(schema.field(c).type)) for c in spec.source_columns) if schema else []
    return hashlib.sha256(repr((_VERSION, repr(spec), types)).encode()).hexdigest()


def _disjoint(plan: Plan, distinct: pa.Table) -> bool:
    """Whether no group of any grouping set occurs twice in the joined count-distinct
    results (each period found its cells alone)."""
    keys = [GID, *plan.level_columns]
    if distinct.num_rows == 0:
        return True
    groups = distinct.select(keys).group_by(keys, use_threads=False).aggregate([])
    return bool(groups.num_rows == distinct.num_rows)


def aggregate_by_period(
    statistic: Statistic,
    lake: Lake,
    engine: Engine,
    files: Sequence[Path],
    spec: CubeSpec,
    *,
    cache: bool = True,
) -> Cube | None:
    """The cube of ``statistic`` (its ``spec`` as stored: :func:`.stored_spec`) from
    ``files``, period by period (see the module docstring), the periods' results read from
    and written to the lake's cache unless ``cache`` is false. None when it cannot be
    computed so: the caller aggregates in one pass."""
    if not files or not any(m.kind == "count_distinct" for m in spec.measures):
        return None
    periods = periods_of(statistic, spec, files)
    if periods is None:
        return None
    if not isinstance(engine, DuckDBEngine):
        periods = [("", list(files))]
    schema = read_schema(files, spec)  # one read of every file's footer
    plan = compile_plan(spec, schema)
    fingerprint = _fingerprint(spec, schema)
    store = FinestCache(lake, statistic.name + CACHE_SUFFIX)
    names = {period: quote(period or "all", safe="") for period, _ in periods}
    if cache:
        store.prune([f"{names[p]}.{part}" for p, _ in periods for part in ("finest", "distinct")])
    finest: list[pa.Table] = []
    distinct: list[pa.Table] = []
    for period, period_files in periods:
        key = FinestCache.key(period_files, fingerprint)
        name = names[period]
        cached = store.get(f"{name}.finest", key) if cache else None
        counted = store.get(f"{name}.distinct", key) if cached is not None else None
        if cached is None or counted is None:
            cached = engine.finest(period_files, plan)
            counted = engine.distinct(period_files, plan)
            if cache:
                store.put(f"{name}.finest", key, cached, periods=[period])
                store.put(f"{name}.distinct", key, counted, periods=[period])
        finest.append(cached.cast(plan.finest_schema))
        distinct.append(counted)
    joined = pa.concat_tables(distinct, promote_options="permissive") if distinct else None
    if joined is None or not _disjoint(plan, joined):
        return None
    return build_cube(plan, pa.concat_tables(finest), lambda: joined)


__all__ = ["CACHE_SUFFIX", "aggregate_by_period", "periods_of"]
