"""Phase 1 per partition, merged, then phase 2 equals aggregating everything at once: the
promise that incremental refresh relies on."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from helsestat.aggregate import (
    CubeSpec,
    DuckDBEngine,
    Hierarchy,
    Level,
    Lookup,
    Measure,
    aggregate,
    finest,
    merge_finest,
    rollup,
)
from helsestat.errors import EngineError

from ._data import claims, spec, write


@pytest.fixture
def partitions(tmp_path: Path) -> list[Path]:
    # Overlapping keys on purpose: the same kommune × måned × takst occurs in both files.
    return [
        write(claims(1500, seed=11), tmp_path / "a.parquet"),
        write(claims(900, seed=12, months=[201806, 201807]), tmp_path / "b.parquet"),
    ]


def test_finest_per_partition_merged_equals_aggregate_of_all(
    partitions: list[Path], duckdb_engine: DuckDBEngine
) -> None:
    cube_spec = spec(distinct=False)
    parts = [finest([p], cube_spec, duckdb_engine) for p in partitions]
    merged = merge_finest(parts, cube_spec)
    at_once = aggregate(partitions, cube_spec, duckdb_engine)
    assert merged.equals(merge_finest([finest(partitions, cube_spec, duckdb_engine)], cube_spec))
    assert merged.num_rows < sum(p.num_rows for p in parts)  # some keys were summed
    assert rollup(merged, cube_spec).tables == at_once.tables
    # Concatenated without merging works too: duplicate keys are summed by rollup.
    assert rollup(pa.concat_tables(parts), cube_spec).tables == at_once.tables


def test_finest_schema_and_merge_of_nothing(
    partitions: list[Path], duckdb_engine: DuckDBEngine
) -> None:
    cube_spec = spec(distinct=False)
    table = finest(partitions, cube_spec, duckdb_engine)
    assert table.schema == pa.schema(
        [
            ("kommune", pa.string()),
            ("maaned", pa.string()),
            ("takstkode", pa.string()),
            ("linjer", pa.int64()),
            ("antall", pa.int64()),
            ("kroner", pa.float64()),
            ("tillegg", pa.float64()),
        ]
    )
    assert merge_finest([], cube_spec).num_rows == 0


def test_rollup_refuses_count_distinct(partitions: list[Path], duckdb_engine: DuckDBEngine) -> None:
    with pytest.raises(EngineError) as caught:
        rollup(finest(partitions, spec(), duckdb_engine), spec())
    assert caught.value.code == "aggregate.not_additive"
    assert "personer" in caught.value.message


def test_merge_needs_no_lookup_but_rollup_does() -> None:
    geo = Hierarchy(
        "geo", (Level("kommune", column="k"), Level("region", rollup=Lookup((("0301", "Øst"),))))
    )
    cube_spec = CubeSpec("x", (geo,), (Measure("n", "count"),))
    parts = [
        pa.table({"kommune": ["0301", "1103"], "n": [1, 2]}),
        pa.table({"kommune": ["1103"], "n": [3]}),
    ]
    merged = merge_finest(parts, cube_spec)
    assert merged.to_pydict() == {"kommune": ["0301", "1103"], "n": [1, 5]}
    with pytest.raises(EngineError) as caught:
        rollup(merged, cube_spec)
    assert caught.value.code == "aggregate.lookup_missing"
    with pytest.raises(EngineError) as caught:
        merge_finest([merged, merged.drop_columns(["n"])], cube_spec)
    assert caught.value.code == "aggregate.bad_finest"
