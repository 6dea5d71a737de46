"""Integer code columns: a spec rewritten by ``read_codes`` gives the text spec's cube, and the
DuckDB engine's packed key (ranges from Parquet statistics, nulls included) changes nothing."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from helsestat.aggregate import (
    CodeColumn,
    CubeSpec,
    DuckDBEngine,
    aggregate,
    finest,
    finest_fingerprint,
    read_codes,
)
from helsestat.aggregate.duckdb_engine import key_packing

from ._data import KOMMUNER, TAKSTER, claims, reference, spec, write

TAKST_CODES = {t: i for i, t in enumerate(reversed(TAKSTER))}  # not in text order on purpose
CODES = {
    "kommunenr": CodeColumn("kommune_kode", tuple((str(int(k)), k) for k in KOMMUNER)),
    "takstkode": CodeColumn("takst_kode", tuple((str(c), t) for t, c in TAKST_CODES.items())),
}


def with_codes(table: pa.Table) -> pa.Table:
    """The extract with integer code columns beside the text (nulls stay null)."""
    kommune = pc.cast(table.column("kommunenr"), pa.int32())
    takst = pa.array(
        [None if t is None else TAKST_CODES[t] for t in table.column("takstkode").to_pylist()],
        pa.int32(),
    )
    return table.append_column("kommune_kode", kommune).append_column("takst_kode", takst)


@pytest.fixture(scope="module")
def coded_extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[pa.Table]]:
    root = tmp_path_factory.mktemp("coded")
    tables = [with_codes(claims(1500, seed=21)), with_codes(claims(1800, seed=22))]
    return [write(t, root / f"part-{i}.parquet") for i, t in enumerate(tables)], tables


def coded_spec(*, distinct: bool) -> tuple[CubeSpec, CubeSpec]:
    text = spec(distinct=distinct)
    return text, read_codes(text, CODES)


@pytest.mark.parametrize("distinct", [False, True], ids=["additive", "distinct"])
def test_codes_packed_and_unpacked_give_the_text_cube(
    coded_extract: tuple[list[Path], list[pa.Table]], distinct: bool
) -> None:
    files, tables = coded_extract
    text, coded = coded_spec(distinct=distinct)
    assert "kommune_kode" in coded.source_columns and "kommunenr" not in coded.source_columns
    expected = reference(tables, text)
    for pack in (True, False):
        with DuckDBEngine(threads=2, memory_limit="1GB", pack_keys=pack) as engine:
            cube = aggregate(files, coded, engine)
        assert list(cube.tables) == list(text.all_groupings())
        for grouping, table in cube.tables.items():
            assert table.to_pylist() == expected[grouping].to_pylist(), (pack, grouping)


def test_packing_reads_ranges_and_nulls_from_the_statistics(
    coded_extract: tuple[list[Path], list[pa.Table]],
) -> None:
    files, _ = coded_extract
    packing = key_packing(files, ["kommune_kode", "maaned", "takst_kode"])
    assert packing is not None
    kommune, maaned, takst = packing
    assert (kommune.low, kommune.nulls) == (301, True)  # kommunenr has nulls
    assert kommune.card == 5001 - 301 + 1 + 1
    assert (takst.low, takst.card, takst.step) == (0, len(TAKSTER) + 1, 1)
    assert maaned.step == takst.card and kommune.step == maaned.card * takst.card
    assert key_packing(files, ["kommunenr", "maaned"]) is None  # text is not packed


def test_no_packing_without_statistics_or_beyond_62_bits(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"a": [1, 2], "b": [0, 1]}), path, write_statistics=False)
    assert key_packing([path], ["a", "b"]) is None
    wide = tmp_path / "wide.parquet"
    pq.write_table(pa.table({"a": [0, 2**40], "b": [0, 2**40]}), wide)
    assert key_packing([wide], ["a", "b"]) is None
    allnull = tmp_path / "null.parquet"
    pq.write_table(pa.table({"a": pa.array([None, None], pa.int32()), "b": [5, 6]}), allnull)
    packing = key_packing([allnull], ["a", "b"])
    assert packing is not None and packing[0].card == 1 and packing[0].nulls


def test_finest_fingerprint_ignores_rollups_but_not_columns(
    coded_extract: tuple[list[Path], list[pa.Table]],
) -> None:
    files, _ = coded_extract
    schema = pq.read_schema(files[0])
    text, coded = coded_spec(distinct=False)
    grown = read_codes(
        text, {**CODES, "kommunenr": CodeColumn("kommune_kode", (*CODES["kommunenr"].pairs,))}
    )
    assert finest_fingerprint(coded, schema) == finest_fingerprint(grown, schema)
    assert finest_fingerprint(coded, schema) != finest_fingerprint(text, schema)
    with DuckDBEngine(threads=1) as engine:
        table = finest(files, coded, engine)
    assert table.column_names[:3] == ["kommune_kode", "maaned", "takstkode_kode"]


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_spark_gives_the_same_cube_from_codes(
    coded_extract: tuple[list[Path], list[pa.Table]], spark_engine: object
) -> None:
    from helsestat.aggregate import SparkEngine

    assert isinstance(spark_engine, SparkEngine)
    files, _ = coded_extract
    _, coded = coded_spec(distinct=True)
    with DuckDBEngine(threads=2) as duck:
        expected = aggregate(files, coded, duck)
    got = aggregate(files, coded, spark_engine)
    for grouping, table in expected.tables.items():
        assert got.tables[grouping].equals(table), grouping
