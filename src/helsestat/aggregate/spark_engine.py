"""The Spark engine: the same phase 1 and count-distinct pass as the DuckDB engine, with the
DataFrame API, for data that outgrows one machine. Phase 2 (:mod:`.lattice`) runs on the
driver on the collected finest table, exactly as for DuckDB.

Needs the extra ``helsestat[spark]``. The session is created on first use, not at import or
construction: ``local[2]`` by default, no UI, few shuffle partitions, bound to 127.0.0.1.
Pass ``session=`` to run on a cluster session made elsewhere (``close()`` then leaves it).

>>> engine = SparkEngine(master="local[1]")
>>> engine.name
'spark'
>>> engine.close()  # nothing started, nothing to stop
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from functools import reduce
from pathlib import Path
from types import TracebackType

import pyarrow as pa
from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped]
from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812 - the name every Spark user knows

from helsestat.aggregate.plan import GID, FilterPlan, Plan, engine_failed
from helsestat.model.cube import Lookup


def _condition(f: FilterPlan) -> Column:
    """The filter as a Spark condition, with the DuckDB engine's null semantics."""
    col = F.col(f.column)
    if f.op == "in":
        return col.isin(list(f.values))
    if f.op == "not_in":
        return col.isNull() | ~col.isin(list(f.values))
    return col >= f.values[0] if f.op == "ge" else col <= f.values[0]


class SparkEngine:
    """Executes plans with pyspark; call :meth:`close` (or use ``with``) to stop the session.

    >>> SparkEngine(shuffle_partitions=2).shuffle_partitions
    2
    """

    name = "spark"

    def __init__(
        self,
        master: str = "local[2]",
        *,
        shuffle_partitions: int = 4,
        config: Mapping[str, str] | None = None,
        session: SparkSession | None = None,
    ) -> None:
        self.master = master
        self.shuffle_partitions = shuffle_partitions
        self.config = dict(config or {})
        self._session = session
        self._owned = session is None
        self._lock = threading.Lock()

    @property
    def session(self) -> SparkSession:
        """The Spark session, started on first use."""
        with self._lock:
            if self._session is None:
                builder = (
                    SparkSession.builder.master(self.master)
                    .appName("helsestat")
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.shuffle.partitions", str(self.shuffle_partitions))
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.session.timeZone", "UTC")
                    # Integer sums fail on overflow instead of wrapping, as in DuckDB.
                    .config("spark.sql.ansi.enabled", "true")
                )
                for key, value in self.config.items():
                    builder = builder.config(key, value)
                self._session = builder.getOrCreate()
                self._session.sparkContext.setLogLevel("ERROR")
            return self._session

    def _rows(self, files: Sequence[Path], plan: Plan, columns: Sequence[str]) -> DataFrame:
        frame = self.session.read.parquet(*[str(f) for f in files])
        frame = frame.select(*dict.fromkeys([*columns, *(f.column for f in plan.filters)]))
        if plan.filters:
            frame = frame.where(reduce(lambda a, b: a & b, map(_condition, plan.filters)))
        return frame

    def _collect(self, plan: Plan, frame: DataFrame) -> pa.Table:
        try:
            table: pa.Table = frame.toArrow()
            return table
        except (PySparkException, Py4JJavaError) as exc:
            raise engine_failed(plan, "Spark", exc) from exc

    def finest(self, files: Sequence[Path], plan: Plan) -> pa.Table:
        """Phase 1: one row per combination of the dims' finest values, additive measures."""
        columns = [d.column for d in plan.dims]
        columns += [m.column for m in plan.additive if m.column is not None]
        frame = self._rows(files, plan, columns)
        keys = [F.col(d.column).alias(f"__k{i}") for i, d in enumerate(plan.dims)]
        aggs = [F.count(F.lit(1)).alias("__n")]
        for m in plan.additive:
            agg = F.count(F.lit(1)) if m.column is None else F.sum(F.col(m.column))
            aggs.append(agg.alias(m.internal))
        grouped = frame.groupBy(*keys).agg(*aggs)
        out = [F.col(f"__k{i}").cast("string").alias(d.key) for i, d in enumerate(plan.dims)]
        for m in plan.additive:
            spark_type = "bigint" if pa.types.is_integer(m.dtype) else "double"
            out.append(F.col(m.internal).cast(spark_type).alias(m.name))
        table = self._collect(plan, grouped.where(F.col("__n") > 0).select(*out))
        return table.cast(plan.finest_schema)

    def distinct(self, files: Sequence[Path], plan: Plan) -> pa.Table:
        """The count-distinct pass: grouping sets over the raw rows, tagged with ``__gid``."""
        columns = [d.column for d in plan.dims] + [m.column or "" for m in plan.distinct]
        frame = self._rows(files, plan, columns).select(
            *[F.col(d.column).cast("string").alias(d.key) for d in plan.dims],
            *[F.col(m.column or "").alias(m.internal) for m in plan.distinct],
        )
        for dim in plan.dims:
            for parent, name, rollup in dim.steps():
                if isinstance(rollup, Lookup):
                    pairs = self.session.createDataFrame(
                        list(rollup.pairs), schema="__lk string, __lv string"
                    )
                    frame = frame.join(F.broadcast(pairs), F.col(parent) == F.col("__lk"), "left")
                    default = F.lit(rollup.default).cast("string")
                    value = F.when(F.col(parent).isNull(), F.lit(None).cast("string")).otherwise(
                        F.coalesce(F.col("__lv"), default)
                    )
                    frame = frame.withColumn(name, value).drop("__lk", "__lv")
                else:
                    frame = frame.withColumn(name, F.substring(F.col(parent), 1, rollup.length))
        levels = list(plan.level_columns)
        gid = F.grouping_id(*levels) if levels else F.lit(0).cast("bigint")
        grouped = frame.groupingSets([list(s) for s in plan.sets], *levels).agg(
            gid.alias(GID),
            F.count(F.lit(1)).alias("__n"),
            *[F.countDistinct(F.col(m.internal)).alias(m.internal) for m in plan.distinct],
        )
        return self._collect(plan, grouped.where(F.col("__n") > 0).drop("__n"))

    def close(self) -> None:
        """Stop the session if this engine started it."""
        with self._lock:
            if self._session is not None and self._owned:
                self._session.stop()
                self._session = None

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["SparkEngine"]
