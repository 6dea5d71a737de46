"""The lake layout for speed (integer code columns, append-only codebooks, sorted partition
files) and the per-partition phase-1 cache: published tables stay identical, codes stay
stable, the cache is invalidated by a new batch and a refresh recomputes only the new month
(SYNTHETIC DATA)."""

from __future__ import annotations

import calendar
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helsestat.aggregate import DuckDBEngine
from helsestat.aggregate.plan import Plan
from helsestat.build import aggregate_statistic, build, ingest_file, protect_statistic
from helsestat.reference.seed import packaged_reference
from helsestat.statistics.takstbruk import TAKSTBRUK
from helsestat.store.lake import Lake
from helsestat.store.lake.codebooks import read_codebook
from helsestat.store.lake.extracts import committed_files
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_csv

KEY = b"test-key-" + b"x" * 32
#: The reference data claims are checked against and rules read: the packaged files.
REFERENCE = packaged_reference()


class CountingEngine:
    """A DuckDB engine that records the files of every phase-1 call."""

    name = "duckdb"

    def __init__(self) -> None:
        self.inner = DuckDBEngine(threads=2, memory_limit="1GB")
        self.calls: list[list[Path]] = []

    def finest(self, files: Sequence[Path], plan: Plan) -> pa.Table:
        self.calls.append(list(files))
        return self.inner.finest(files, plan)

    def distinct(self, files: Sequence[Path], plan: Plan) -> pa.Table:
        return self.inner.distinct(files, plan)

    def close(self) -> None:
        self.inner.close()


def month_extract(tmp_path: Path, year: int, month: int, rows: int, seed: int) -> Path:
    """A synthetic extract of one month's claims, as CSV."""
    end = date(year, month, calendar.monthrange(year, month)[1])
    path = tmp_path / f"claims_{year}{month:02d}_{seed}.csv"
    write_csv(
        generate_claims(rows, seed, start=date(year, month, 1), end=end, bad_share=0.01), path
    )
    return path


def sql_table(files: Sequence[Path], geo: str, period: str) -> list[dict[str, object]]:
    """One published table recomputed with plain SQL from the stored text columns."""
    source = "read_parquet([" + ", ".join(f"'{f}'" for f in files) + "])"
    year = "substr(CAST(maned AS VARCHAR), 1, 4)"
    keys = [f"{year} AS ar"]
    if period == "maned":
        keys.append("substr(CAST(maned AS VARCHAR), 5, 2) AS maned")
    keys += ["takstkode", "fagomraade", "praksistype AS praksis_type_kode"]
    if geo == "kommune":
        keys += ["behandler_kommunenr", "substr(behandler_kommunenr, 1, 2) AS behandler_fylke"]
    elif geo == "fylke":
        keys.append("substr(behandler_kommunenr, 1, 2) AS behandler_fylke")
    names = [k.split(" AS ")[-1] for k in keys]
    kroner = {
        "sum_refusjon": "refusjon_ore",
        "sum_egenandel_betalt_av_pasient": "egenandel_pasient_ore",
        "sum_egenandel_dekket_av_folketrygden": "egenandel_folketrygd_ore",
    }
    sums = [
        "CAST(SUM(regning_teller) AS BIGINT) AS antall_regninger",
        "CAST(SUM(antall) AS BIGINT) AS sum_antall_takst",
        *(f"CAST(SUM({c}) AS DOUBLE) / 100 AS {name}" for name, c in kroner.items()),
    ]
    sql = f"SELECT {', '.join(keys + sums)} FROM {source} WHERE resultat = 'godkjent' GROUP BY ALL"
    rows: list[dict[str, object]] = duckdb.sql(sql).to_arrow_table().to_pylist()
    return sorted(rows, key=lambda r: [str(r[n]) for n in names])


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, claims_csv: Path) -> Lake:
    """The shared 6 000-line extract (2015–2025) and a second one for 2024, ingested."""
    root = tmp_path_factory.mktemp("layout")
    lake = Lake(root / "var")
    ingest_file(claims_csv, "claims", KEY, lake, REFERENCE)
    ingest_file(month_extract(root, 2024, 3, 3000, seed=31), "claims", KEY, lake, REFERENCE)
    return lake


def test_every_published_cell_equals_sql_over_the_text_columns(lake: Lake) -> None:
    with DuckDBEngine(threads=2, memory_limit="1GB") as engine:
        release = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
    files = committed_files(lake, "claims")
    measures = TAKSTBRUK.measures
    for name in (t.name for t in TAKSTBRUK.tables):  # the tables over the claims
        _, geo, period = name.split("/")
        expected = sql_table(files, geo, period)
        dims = [k for k in expected[0] if k not in measures]
        published = sorted(
            lake.read_table(release, name).table.to_pylist(),
            key=lambda r: [str(r[n]) for n in dims],
        )
        assert len(published) == len(expected) > 0, name
        suppressed = 0
        for got, want in zip(published, expected, strict=True):
            dims = {k: v for k, v in want.items() if k not in measures}
            assert {k: got[k] for k in dims} == dims, name
            if got["status"] == "published":
                assert {m: got[m] for m in measures} == {m: want[m] for m in measures}, name
            else:
                suppressed += 1
                assert all(got[m] is None for m in measures), name
        if name == "takstbruk/kommune/ar":
            assert 0 < suppressed < len(published)  # the > 5 rule is exercised


def test_code_columns_give_the_same_tables_as_the_text_columns(lake: Lake) -> None:
    files = committed_files(lake, "claims")
    schema = pq.read_schema(files[0])
    for column in ("behandler_kommunenr", "takstkode", "fagomraade", "praksistype"):
        assert schema.field(f"{column}_kode").type == pa.int32()
    with DuckDBEngine(threads=2, memory_limit="1GB") as engine:
        coded = aggregate_statistic(TAKSTBRUK, lake, engine, cache=False)
        text = protect_statistic(TAKSTBRUK.with_reference(REFERENCE), files, engine, "compat", 5)
        from_codes = protect_statistic(
            TAKSTBRUK.with_reference(REFERENCE), files, engine, "compat", 5, cube=coded
        )
    for a, b in zip(text, from_codes, strict=True):
        assert a.name == b.name and a.table.equals(b.table), a.name


def test_partition_files_are_sorted_by_result_then_codes(lake: Lake) -> None:
    for file in committed_files(lake, "claims"):
        t = pq.read_table(file).to_pydict()
        keys = list(
            zip(
                t["resultat"],
                t["behandler_kommunenr_kode"],
                t["takstkode_kode"],
                t["fagomraade_kode"],
                t["praksistype_kode"],
                strict=True,
            )
        )
        assert keys == sorted(keys)
        assert [int(k) for k in t["behandler_kommunenr"]] == t["behandler_kommunenr_kode"]


def _rows(takst: str, regning: str) -> str:
    header = (
        "regning_id;behandlingsdato;behandler_praksistype;behandler_fagomraade;"
        "behandler_kommunenr;pasient_id;pasient_kjonn;pasient_alder;takstkode;antall;"
        "egenandel_betalt_av_pasient;egenandel_dekket_av_folketrygden;refusjon;resultat"
    )
    line = (
        f"{regning};2024-03-18;FALE;LE;0301;01018010018;K;47;{takst};1;160.00;0.00;194.00;godkjent"
    )
    return header + "\n" + line + "\n"


def test_codebook_is_append_only_across_batches(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    first = tmp_path / "a.csv"
    first.write_text(_rows("2ad", "R1") + _rows("H1", "R2").split("\n", 1)[1])
    ingest_file(first, "claims", KEY, lake, REFERENCE)
    before = read_codebook(lake, "claims", "takstkode").codes
    assert before == {"2ad": 0, "H1": 1}
    second = tmp_path / "b.csv"
    second.write_text(_rows("2dd", "R3") + _rows("H1", "R4").split("\n", 1)[1])
    ingest_file(second, "claims", KEY, lake, REFERENCE)
    after = read_codebook(lake, "claims", "takstkode").codes
    assert after == {"2ad": 0, "H1": 1, "2dd": 2}  # old ids unchanged, the new one appended
    kommune = read_codebook(lake, "claims", "behandler_kommunenr")
    assert kommune.digits == 4 and kommune.codes == {"0301": 301}
    stored = pa.concat_tables([pq.read_table(f) for f in committed_files(lake, "claims")])
    pairs = zip(stored["takstkode"].to_pylist(), stored["takstkode_kode"].to_pylist(), strict=True)
    decoded = set(pairs)
    assert decoded == {("2ad", 0), ("H1", 1), ("2dd", 2)}
    # the codebook is on disk before the partition files (a commit never lacks a code)
    record = json.loads((tmp_path / "var/codebooks/claims/takstkode.json").read_text())
    assert record["codes"] == [["2ad", 0], ["H1", 1], ["2dd", 2]]


def test_cache_is_invalidated_when_a_partition_gains_a_batch(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    ingest_file(month_extract(tmp_path, 2024, 1, 1500, seed=1), "claims", KEY, lake, REFERENCE)
    ingest_file(month_extract(tmp_path, 2024, 2, 1500, seed=2), "claims", KEY, lake, REFERENCE)
    engine = CountingEngine()
    try:
        build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
        assert len(engine.calls) == 2
        cached = sorted(p.parent.name for p in (lake.root / "cache").glob("*/period=*/*.arrow"))
        assert cached == ["period=202401", "period=202402"]
        engine.calls.clear()
        # late claims for January arrive in a new extract: only January is recomputed
        ingest_file(month_extract(tmp_path, 2024, 1, 700, seed=3), "claims", KEY, lake, REFERENCE)
        release = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
        assert [sorted(f.parent.name for f in call) for call in engine.calls] == [
            ["period=202401", "period=202401"]
        ]
        assert len(list((lake.root / "cache/takstbruk/period=202401").glob("*"))) == 1
        uncached = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE, cache=False)
        for name in release.tables:
            a = lake.read_table(release, name).table
            assert a.equals(lake.read_table(uncached, name).table), name
    finally:
        engine.close()


def test_refresh_recomputes_only_the_new_month(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "var")
    for month in (1, 2, 3):
        ingest_file(
            month_extract(tmp_path, 2024, month, 1200, seed=month), "claims", KEY, lake, REFERENCE
        )
    engine = CountingEngine()
    try:
        build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
        engine.calls.clear()
        ingest_file(month_extract(tmp_path, 2024, 4, 1200, seed=4), "claims", KEY, lake, REFERENCE)
        refreshed = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
        assert [[f.parent.name for f in call] for call in engine.calls] == [["period=202404"]]
        engine.calls.clear()
        cold = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE, cache=False)
        assert len(engine.calls) == 1 and len(engine.calls[0]) == 4  # one pass over all
        for name in refreshed.tables:
            a = lake.read_table(refreshed, name).table
            assert a.equals(lake.read_table(cold, name).table), name
    finally:
        engine.close()


def test_monthly_synthetic_extract_stays_in_its_month() -> None:
    batch = next(generate_claims(2000, 9, start=date(2024, 2, 1), end=date(2024, 2, 29)))
    days = set(batch.column("behandlingsdato").to_pylist())
    assert {d[:7] for d in days if not d.endswith("13-45")} == {"2024-02"}
    again = next(generate_claims(2000, 9, start=date(2024, 2, 1), end=date(2024, 2, 29)))
    assert batch.equals(again)


def test_a_lake_stored_before_the_code_columns_is_read_as_text(tmp_path: Path) -> None:
    from helsestat.ingest.readers import read_extract
    from helsestat.store.lake.extracts import store_extract
    from helsestat.validate import validate
    from helsestat.validate.claims import CLAIMS

    lake = Lake(tmp_path / "var")
    old = month_extract(tmp_path, 2024, 1, 800, seed=5)
    store_extract(validate(read_extract(old, "claims"), CLAIMS, KEY, REFERENCE), lake, "maned")
    ingest_file(month_extract(tmp_path, 2024, 2, 800, seed=6), "claims", KEY, lake, REFERENCE)
    with DuckDBEngine(threads=1) as engine:
        release = build(lake, engine, mode="compat", threshold=5, reference=REFERENCE)
        files = committed_files(lake, "claims")
        text = protect_statistic(TAKSTBRUK.with_reference(REFERENCE), files, engine, "compat", 5)
    for table in text:
        assert lake.read_table(release, table.name).table.equals(table.table), table.name


def test_number_codes_keep_their_value_and_other_values_never_collide() -> None:
    from helsestat.store.lake.codebooks import Codebook

    book = Codebook("behandler_kommunenr", digits=4).extended(["0301", "missing9999", "301"])
    assert book.codes == {"0301": 301, "missing9999": 10000, "301": 10001}
    later = book.extended(["4601", "ukjent"])
    assert later.codes == {**book.codes, "4601": 4601, "ukjent": 10002}
    assert len(set(later.codes.values())) == len(later.codes)
