"""The plain-engine baselines of the build benchmark: the strongest plans we can write for
the six takstbruk tables in DuckDB and polars, and the cell-for-cell check against
helsestat's tables.

Two inputs, two plans per engine:

- ``*-lake``: the lake helsestat's ingest wrote (the same Parquet files the build reads).
  One fine ``GROUP BY`` on the integer code columns (kommune, måned, takst, fagområde,
  praksistype) of the approved lines, summing ``regning_teller`` and the amounts; the five
  coarser tables rolled up from that fine result (fylke = kommune code // 100, år = måned //
  100); the codes turned back into text on the small results (codebooks joined).
- ``*-csv``: the raw claims CSV, nothing stored: the lines read, approved lines kept, kroner
  parsed to øre, and a true ``COUNT(DISTINCT regning_id)`` per fine cell — no bill counter
  from an ingest. The rollups sum the fine distinct counts, which is exact because a bill
  lies in one kommune and one month (the check against helsestat proves it on the data).

``scan`` is the floor: a bare scan of the lake columns the build reads (sum of each), as
fresh a process as the build.

Every plan yields the six tables in one canonical form (:data:`CANON`): ``geo`` (kommune,
fylke or ``""``), ``periode`` (``YYYYMM`` or ``YYYY``), ``takstkode``, ``fagomraade``,
``praksistype`` and five integer measures (amounts in øre). :func:`compare` checks two sets
of tables cell for cell and raises :class:`Mismatch` on the first difference.

Usage (one run in this process; prints JSON, writes the tables when ``--out`` is given)::

    .venv/bin/python -m benchmarks.baselines duckdb-lake var/bench/home --out /tmp/duckdb
    .venv/bin/python -m benchmarks.baselines polars-csv claims.csv
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

#: The six tables: (name, geography level, period level).
TABLES = tuple(
    (f"{geo}/{period}", geo, period)
    for geo in ("kommune", "fylke", "landet")
    for period in ("maned", "ar")
)
MEASURES = (
    "antall_regninger",
    "sum_antall_takst",
    "sum_refusjon",
    "sum_egenandel_betalt_av_pasient",
    "sum_egenandel_dekket_av_folketrygden",
)
KEYS = ("geo", "periode", "takstkode", "fagomraade", "praksistype")
CANON = pa.schema([*((k, pa.string()) for k in KEYS), *((m, pa.int64()) for m in MEASURES)])
#: Lake columns per measure, in MEASURES order.
LAKE_SUMS = (
    "regning_teller",
    "antall",
    "refusjon_ore",
    "egenandel_pasient_ore",
    "egenandel_folketrygd_ore",
)
LAKE_CODES = ("behandler_kommunenr_kode", "takstkode_kode", "fagomraade_kode", "praksistype_kode")
#: The lake columns a build reads (the floor scans exactly these).
BUILD_COLUMNS = ("resultat", "maned", *LAKE_CODES, *LAKE_SUMS)
#: CSV amount columns per measure (kroner with two decimals).
CSV_AMOUNTS = ("refusjon", "egenandel_betalt_av_pasient", "egenandel_dekket_av_folketrygden")
#: Each coarser table and the finer one it is rolled up from (the smallest that holds it).
ROLLUPS = (
    ("kommune/ar", "kommune/maned"),
    ("fylke/maned", "kommune/maned"),
    ("fylke/ar", "fylke/maned"),
    ("landet/maned", "fylke/maned"),
    ("landet/ar", "landet/maned"),
)
ENGINES = ("duckdb-lake", "polars-lake", "duckdb-csv", "polars-csv", "scan")


class Mismatch(AssertionError):
    """A baseline's table differs from helsestat's (the benchmark stops: a fast wrong
    answer is not a baseline)."""


def canonical(table: pa.Table) -> pa.Table:
    """``table`` with :data:`CANON`'s columns and types."""
    return table.select(list(CANON.names)).cast(CANON)


def compare(expected: Mapping[str, pa.Table], got: Mapping[str, pa.Table], who: str) -> int:
    """Check ``got`` against ``expected`` cell for cell (same tables, same cells, same
    values: equal as multisets of rows, in DuckDB); the number of cells compared. Raises
    :class:`Mismatch` naming a difference.

    >>> t = pa.table({"geo": ["0301"], "periode": ["2024"], "takstkode": ["2ad"],
    ...     "fagomraade": ["LE"], "praksistype": ["FALE"], **{m: [1] for m in MEASURES}})
    >>> compare({"kommune/ar": t}, {"kommune/ar": t}, "self")
    1
    """
    import duckdb

    if set(expected) != set(got):
        raise Mismatch(f"{who}: tables {sorted(got)}, expected {sorted(expected)}")
    cells = 0
    with duckdb.connect(config={"threads": 2}) as con:
        for name in expected:
            a, b = canonical(expected[name]), canonical(got[name])
            if a.num_rows != b.num_rows:
                raise Mismatch(f"{who} {name}: {b.num_rows:,} cells, expected {a.num_rows:,}")
            con.register("a", a)
            con.register("b", b)
            # equal counts and nothing of b missing from a (duplicates counted): equal
            extra = con.sql("SELECT * FROM b EXCEPT ALL SELECT * FROM a LIMIT 1").fetchall()
            if extra:
                raise Mismatch(
                    f"{who} {name}: {dict(zip(CANON.names, extra[0], strict=True))} is not a "
                    "cell of the expected table (or not with these values)"
                )
            con.unregister("a")
            con.unregister("b")
            cells += a.num_rows
    return cells


def write_tables(tables: Mapping[str, pa.Table], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, out / (name.replace("/", "-") + ".parquet"))


def read_tables(out: Path) -> dict[str, pa.Table]:
    return {
        name: pq.read_table(out / (name.replace("/", "-") + ".parquet")) for name, _, _ in TABLES
    }


# -- the lake (helsestat's stored files) ------------------------------------------------------


def lake_files(home: Path) -> list[Path]:
    """The committed claims files of the lake in the data directory ``home``."""
    from helsestat.store.lake import Lake
    from helsestat.store.lake.extracts import committed_files

    return committed_files(Lake(home), "claims")


def codebook(home: Path, column: str) -> pa.Table:
    """The codebook of ``column`` as a two-column table (``kode``, ``tekst``)."""
    data = json.loads((home / "codebooks" / "claims" / f"{column}.json").read_text())
    text, code = zip(*data["codes"], strict=True) if data["codes"] else ((), ())
    return pa.table({"kode": pa.array(code, pa.int32()), "tekst": pa.array(text, pa.string())})


def _paths(files: Sequence[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def kommune_book(home: Path) -> pa.Table:
    """The kommune codebook with each kommune's fylke (its first two characters, as
    helsestat rolls up) as a dense integer id: ``kode``, ``tekst``, ``fylke_id``, ``fylke``."""
    book = codebook(home, "behandler_kommunenr")
    fylke = pc.utf8_slice_codeunits(book["tekst"], 0, 2)
    ids = pc.dictionary_encode(fylke).combine_chunks().indices
    return book.append_column("fylke_id", pc.cast(ids, pa.int32())).append_column("fylke", fylke)


def duckdb_lake(home: Path, threads: int) -> dict[str, pa.Table]:
    import duckdb

    con = duckdb.connect(config={"threads": threads})
    for column in ("takstkode", "fagomraade", "praksistype"):
        con.register(f"cb_{column}", codebook(home, column))
    con.register("kb", kommune_book(home))
    sums = ", ".join(f"SUM({c})::BIGINT AS {m}" for c, m in zip(LAKE_SUMS, MEASURES, strict=True))
    con.execute(
        'CREATE TEMP TABLE "kommune/maned" AS SELECT behandler_kommunenr_kode AS g, '
        "maned AS p, takstkode_kode AS t, fagomraade_kode AS f, praksistype_kode AS s, "
        f"{sums} FROM read_parquet({_paths(lake_files(home))}) WHERE resultat = 'godkjent' "
        "GROUP BY ALL"
    )
    resum = ", ".join(f"SUM({m})::BIGINT AS {m}" for m in MEASURES)
    for name, source in ROLLUPS:
        geo, period = name.split("/")
        if geo == source.split("/")[0]:
            g, join = "r.g", ""
        elif geo == "fylke":  # kommune code → fylke id (a join with the small codebook)
            g, join = "kb.fylke_id", "JOIN kb ON kb.kode = r.g"
        else:
            g, join = "0", ""
        p = "r.p // 100" if period != source.split("/")[1] else "r.p"
        con.execute(
            f'CREATE TEMP TABLE "{name}" AS SELECT {g} AS g, {p} AS p, t, f, s, {resum} '
            f'FROM "{source}" r {join} GROUP BY ALL'
        )
    decode = {
        "kommune": ("k.tekst", "JOIN kb k ON k.kode = r.g"),
        "fylke": (
            "y.fylke",
            "JOIN (SELECT DISTINCT fylke_id, fylke FROM kb) y ON y.fylke_id = r.g",
        ),
        "landet": ("''", ""),
    }
    out = {}
    for name, geo, _ in TABLES:
        text, join = decode[geo]
        out[name] = con.sql(
            f"SELECT {text} AS geo, r.p::VARCHAR AS periode, ct.tekst AS takstkode, "
            f"cf.tekst AS fagomraade, cs.tekst AS praksistype, {', '.join(MEASURES)} "
            f'FROM "{name}" r {join} JOIN cb_takstkode ct ON ct.kode = r.t '
            "JOIN cb_fagomraade cf ON cf.kode = r.f JOIN cb_praksistype cs ON cs.kode = r.s"
        ).to_arrow_table()
    con.close()
    return out


def polars_lake(home: Path, threads: int) -> dict[str, pa.Table]:
    import polars as pl

    keys = ["g", "p", "t", "f", "s"]
    fine = (
        pl.scan_parquet([str(f) for f in lake_files(home)])
        .filter(pl.col("resultat") == "godkjent")
        .select(
            g=pl.col("behandler_kommunenr_kode"),
            p=pl.col("maned"),
            t=pl.col("takstkode_kode"),
            f=pl.col("fagomraade_kode"),
            s=pl.col("praksistype_kode"),
            **{m: pl.col(c).cast(pl.Int64) for c, m in zip(LAKE_SUMS, MEASURES, strict=True)},
        )
        .group_by(keys)
        .agg(pl.col(m).sum() for m in MEASURES)
        .collect()
    )
    kb = pl.DataFrame(pl.from_arrow(kommune_book(home)))
    fylke_of = kb.select(g="kode", fylke_id="fylke_id").lazy()
    tables = {"kommune/maned": fine}
    for name, source in ROLLUPS:
        geo, period = name.split("/")
        frame = tables[source].lazy()
        if geo != source.split("/")[0]:
            if geo == "fylke":
                frame = frame.join(fylke_of, on="g").with_columns(g=pl.col("fylke_id"))
            else:
                frame = frame.with_columns(g=pl.lit(0, pl.Int32))
        if period != source.split("/")[1]:
            frame = frame.with_columns(p=pl.col("p") // 100)
        tables[name] = frame.group_by(keys).agg(pl.col(m).sum() for m in MEASURES).collect()
    books = {
        c: pl.DataFrame(pl.from_arrow(codebook(home, c)))
        for c in ("takstkode", "fagomraade", "praksistype")
    }
    names = {
        "kommune": kb.select(g="kode", geo="tekst").lazy(),
        "fylke": kb.select(g="fylke_id", geo="fylke").unique().lazy(),
    }
    queries = []
    for name, geo, _ in TABLES:
        frame = tables[name].lazy()
        if geo in names:
            frame = frame.join(names[geo], on="g")
        else:
            frame = frame.with_columns(geo=pl.lit("", pl.String))
        for column, code in (("takstkode", "t"), ("fagomraade", "f"), ("praksistype", "s")):
            frame = frame.join(
                books[column].lazy().rename({"kode": code, "tekst": column}), on=code
            )
        periode = pl.col("p").cast(pl.String).alias("periode")
        queries.append(
            frame.select("geo", periode, "takstkode", "fagomraade", "praksistype", *MEASURES)
        )
    frames = pl.collect_all(queries)
    return {name: f.to_arrow() for (name, _, _), f in zip(TABLES, frames, strict=True)}


# -- the raw CSV (nothing stored) -------------------------------------------------------------


def duckdb_csv(csv: Path, threads: int) -> dict[str, pa.Table]:
    import duckdb

    con = duckdb.connect(config={"threads": threads})
    amounts = ", ".join(
        f"SUM(CAST({c} AS DECIMAL(18, 2)) * 100)::BIGINT AS {m}"
        for c, m in zip(CSV_AMOUNTS, MEASURES[2:], strict=True)
    )
    source = f"read_csv('{csv}', delim = ';', header = true, all_varchar = true)"
    con.execute(
        'CREATE TEMP TABLE "kommune/maned" AS SELECT behandler_kommunenr AS g, '
        "replace(substr(behandlingsdato, 1, 7), '-', '') AS p, takstkode AS t, "
        "behandler_fagomraade AS f, behandler_praksistype AS s, "
        "COUNT(DISTINCT regning_id)::BIGINT AS antall_regninger, "
        f"SUM(CAST(antall AS BIGINT))::BIGINT AS sum_antall_takst, {amounts} "
        f"FROM {source} WHERE resultat = 'godkjent' GROUP BY ALL"
    )
    resum = ", ".join(f"SUM({m})::BIGINT AS {m}" for m in MEASURES)
    for name, source in ROLLUPS:
        geo, period = name.split("/")
        g = {"kommune": "g", "fylke": "substr(g, 1, 2)", "landet": "''"}[geo]
        p = "p" if period == source.split("/")[1] else "substr(p, 1, 4)"
        con.execute(
            f'CREATE TEMP TABLE "{name}" AS SELECT {g} AS g, {p} AS p, t, f, s, {resum} '
            f'FROM "{source}" GROUP BY ALL'
        )
    out = {}
    for name, _, _ in TABLES:
        out[name] = con.sql(
            "SELECT g AS geo, p AS periode, t AS takstkode, f AS fagomraade, "
            f's AS praksistype, {", ".join(MEASURES)} FROM "{name}"'
        ).to_arrow_table()
    con.close()
    return out


def polars_csv(csv: Path, threads: int) -> dict[str, pa.Table]:
    import polars as pl

    def ore(column: str) -> pl.Expr:  # kroner text with two decimals → øre, exactly
        return (pl.col(column).cast(pl.Float64) * 100).round(0).cast(pl.Int64)

    keys = ["g", "p", "t", "f", "s"]
    fine = (
        pl.scan_csv(csv, separator=";", infer_schema=False)
        .filter(pl.col("resultat") == "godkjent")
        .group_by(
            g=pl.col("behandler_kommunenr"),
            p=pl.col("behandlingsdato").str.slice(0, 4) + pl.col("behandlingsdato").str.slice(5, 2),
            t=pl.col("takstkode"),
            f=pl.col("behandler_fagomraade"),
            s=pl.col("behandler_praksistype"),
        )
        .agg(
            pl.col("regning_id").n_unique().cast(pl.Int64).alias("antall_regninger"),
            pl.col("antall").cast(pl.Int64).sum().alias("sum_antall_takst"),
            *(ore(c).sum().alias(m) for c, m in zip(CSV_AMOUNTS, MEASURES[2:], strict=True)),
        )
        .collect()
    )
    tables = {"kommune/maned": fine}
    for name, source in ROLLUPS:
        geo, period = name.split("/")
        frame = tables[source].lazy()
        if geo != source.split("/")[0]:
            g = pl.col("g").str.slice(0, 2) if geo == "fylke" else pl.lit("", pl.String)
            frame = frame.with_columns(g=g)
        if period != source.split("/")[1]:
            frame = frame.with_columns(p=pl.col("p").str.slice(0, 4))
        tables[name] = frame.group_by(keys).agg(pl.col(m).sum() for m in MEASURES).collect()
    rename = {"g": "geo", "p": "periode", "t": "takstkode", "f": "fagomraade", "s": "praksistype"}
    return {name: tables[name].rename(rename).to_arrow() for name, _, _ in TABLES}


def scan(home: Path, threads: int) -> dict[str, pa.Table]:
    """The floor: every column the build reads, scanned once (summed, so each is decoded)."""
    import duckdb

    con = duckdb.connect(config={"threads": threads})
    terms = ", ".join(
        f"SUM({c})" if c != "resultat" else "COUNT(*) FILTER (resultat = 'godkjent')"
        for c in BUILD_COLUMNS
    )
    con.sql(f"SELECT {terms} FROM read_parquet({_paths(lake_files(home))})").fetchall()
    con.close()
    return {}


RUNS = {
    "duckdb-lake": duckdb_lake,
    "polars-lake": polars_lake,
    "duckdb-csv": duckdb_csv,
    "polars-csv": polars_csv,
    "scan": scan,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", choices=ENGINES)
    parser.add_argument("source", type=Path, help="the data directory (lake) or the CSV")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs in this process")
    parser.add_argument("--out", type=Path, help="write the tables of the last run here")
    args = parser.parse_args()
    if args.engine.startswith("polars"):
        import os

        os.environ.setdefault("POLARS_MAX_THREADS", str(args.threads))
    runs: list[float] = []
    done = cpu = 0.0
    tables: dict[str, Any] = {}
    for _ in range(args.repeat):
        start = time.perf_counter()
        tables = RUNS[args.engine](args.source, args.threads)
        runs.append(time.perf_counter() - start)
        done, cpu = time.time(), time.process_time()
    if args.out is not None and tables:
        write_tables(tables, args.out)
    print(json.dumps({"seconds": runs, "done": done, "cpu": cpu}))


if __name__ == "__main__":
    main()
