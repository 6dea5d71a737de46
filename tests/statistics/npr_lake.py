"""A lake of stored ``npr_episode`` rows for the statistic's tests, written in the stored
schema of the contract (docs: the npr_episode kind) without the ingest: SYNTHETIC episodes
over the real catchment areas and HF of two years, with patients who return, one
behandlingssted that moves to another HF mid-year, one unit outside SSB's selection, a few
patients whose area could not be told, and the SYNTHETIC population by grunnkrets the
rates divide by (ingested as the ``folkemengde`` kind).

:func:`npr_reference` is a reference snapshot whose unit registry names the lake's
behandlingssteder: one renamed mid-series, one renamed and then closed, one left out.

:func:`expected` recomputes a table's cells from the rows in plain Python, as the tests'
reference.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from helsestat.model import CleanExtract, IngestReport
from helsestat.reference.seed import packaged_reference
from helsestat.reference.snapshot import Reference
from helsestat.reference.units.model import Span, UnitFields
from helsestat.reference.units.resh import resh_units
from helsestat.settings import DEMO_PSEUDONYM_KEY
from helsestat.statistics.catchment.population import area_population
from helsestat.store.lake import Lake
from helsestat.store.lake.extracts import store_extract
from helsestat.synth.catchment import generate_population, population_table

YEARS = (2023, 2024)
SECTORS = ("somatikk", "phv", "phbu", "tsb", "rehab")
SERVICE = {"somatikk": "SOM", "rehab": "SOM", "phv": "VOP", "phbu": "BUP", "tsb": "TSB"}
GROUPS = (("0-17", 0, 17), ("18-29", 18, 29), ("30-49", 30, 49), ("50-66", 50, 66),
          ("67-79", 67, 79), ("80+", 80, 99))  # fmt: skip
#: The unit that moves from its first HF to another on 1 July 2024, and the fødestue.
MOVING_UNIT = 1001
FODESTUE = 1002
#: The unit renamed on :data:`RENAMED_ON` (from :data:`OLD_NAME` to :data:`NEW_NAME`); the
#: unit renamed on 1 May 2024 and closed on 1 September 2024 (:data:`CLOSING_NAMES`); the
#: unit the registry of :func:`npr_reference` does not hold.
RENAMED_UNIT = 3001
RENAMED_ON = date(2024, 3, 15)
OLD_NAME, NEW_NAME = "Sykehuset i Vestby", "Vestby sjukehus"
CLOSING_UNIT = 3002
CLOSING_NAMES = ("Klinikk Nord", "Klinikk Nord (avvikles)")
ABSENT_UNIT = 3012


@dataclass(frozen=True)
class Areas:
    """Per service and year: area code → (HF, RHF)."""

    of: Mapping[tuple[str, int], Mapping[str, tuple[str, str]]]


def areas(population_files: list[Path]) -> Areas:
    from helsestat.statistics.catchment import read_population

    result = area_population(read_population(population_files), ("SOM", "BUP", "VOP", "TSB"))
    out: dict[tuple[str, int], dict[str, tuple[str, str]]] = {}
    for (service, year, level), codes in result.codes.items():
        if level == "OMRADE":
            parents = result.parents[(service, year)]
            out[(service, year)] = {c: (parents[c], parents[parents[c]]) for c in codes}
    return Areas(out)


def episodes(rows: int, seed: int, where: Areas) -> pa.Table:
    """``rows`` SYNTHETIC stored episodes."""
    rng = np.random.default_rng(seed)
    hfs = sorted({v for m in where.of.values() for v in m.values()})
    units = {hf: [int(3000 + 10 * i + k) for k in range(3)] for i, hf in enumerate(hfs)}
    first_hf, second_hf = hfs[0], hfs[1]
    units[first_hf][0] = MOVING_UNIT
    units[second_hf][1] = FODESTUE
    patients = rows // 6
    sexes = rng.integers(1, 3, patients)
    ages = rng.integers(0, 95, patients)
    choice = rng.random(patients)
    cols: dict[str, list[Any]] = defaultdict(list)
    for i in range(rows):
        p = int(rng.integers(0, patients))
        year = YEARS[int(rng.integers(0, 2))]
        month = int(rng.integers(1, 13))
        sector = SECTORS[int(rng.integers(0, 5))]
        age = int(ages[p]) if sector != "phbu" else int(ages[p]) % 18
        if sector == "phv" and age < 18:
            age += 18
        service_areas = where.of[(SERVICE[sector], year)]
        codes = sorted(service_areas)
        area: str | None = codes[p % len(codes)]
        home_hf, home_rhf = service_areas[area]
        if choice[p] < 0.02:
            area = None  # the area could not be told (e.g. Oslo without bydel)
        treated = (home_hf, home_rhf) if rng.random() < 0.8 else hfs[int(rng.integers(0, len(hfs)))]
        unit = units[treated][int(rng.integers(0, 3))]
        if unit == MOVING_UNIT and (year, month) >= (2024, 7):
            treated = second_hf
        kind = (
            "poliklinisk"
            if sector != "rehab" and rng.random() < 0.6
            else ("dogn" if sector == "rehab" or rng.random() < 0.7 else "dag")
        )
        out = datetime(year, month, int(rng.integers(1, 28)), int(rng.integers(0, 24)))
        days = int(rng.integers(0, 12)) if kind == "dogn" else 0
        age_group = next(g for g, lo, hi in GROUPS if lo <= age <= hi)
        cols["episode_id"].append(f"E{seed}-{i}")
        cols["resh_id"].append(unit)
        cols["inn"].append(out - timedelta(days=days, hours=2))
        cols["ut"].append(out)
        cols["maned"].append(f"{year}{month:02d}")
        cols["kontakttype"].append(kind)
        cols["pasient_pseudonym"].append(f"P{p:05d}")
        cols["bostedskommune"].append("0301")
        cols["bydel"].append(None)
        cols["kjonn"].append(str(sexes[p]))
        cols["alder"].append(age)
        cols["aldersgruppe"].append(age_group)
        cols["hovedtilstand"].append("J18.9")
        cols["fagomrade"].append("MED")
        cols["finansiering"].append("ISF")
        cols["behandlingssted_id"].append(unit)
        cols["hf_id"].append(hfs.index(treated) + 100)
        cols["rhf_id"].append(10)
        cols["hf_orgnr"].append(treated[0])
        cols["rhf_orgnr"].append(treated[1])
        cols["sektor"].append(sector)
        cols["ssb_utvalg"].append(unit != FODESTUE)
        cols["bo_omrade"].append(area)
        cols["bo_hf_orgnr"].append(home_hf if area is not None else None)
        cols["bo_rhf_orgnr"].append(home_rhf if area is not None else None)
        cols["dogn"].append(int(kind == "dogn"))
        cols["dag"].append(int(kind == "dag"))
        cols["poli"].append(int(kind == "poliklinisk"))
        cols["liggedogn"].append(days)
    types = {"resh_id": pa.int64(), "inn": pa.timestamp("s"), "ut": pa.timestamp("s"),
             "alder": pa.int16(), "behandlingssted_id": pa.int64(), "hf_id": pa.int64(),
             "rhf_id": pa.int64(), "ssb_utvalg": pa.bool_(), "dogn": pa.int8(), "dag": pa.int8(),
             "poli": pa.int8(), "liggedogn": pa.int32()}  # fmt: skip
    return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in cols.items()})


def npr_lake(root: Path, rows: int = 4000, seed: int = 15) -> tuple[Lake, pa.Table]:
    """A lake at ``root/var`` holding the SYNTHETIC population of :data:`YEARS` and
    ``rows`` stored episodes in two batches; returns the lake and the episodes."""
    from helsestat.build import ingest_file

    lake = Lake(root / "var")
    population = root / "befolkning.parquet"
    pq.write_table(population_table(generate_population(YEARS, seed=9)), population)
    ingest_file(population, "folkemengde", DEMO_PSEUDONYM_KEY.encode(), lake, packaged_reference())
    table = episodes(rows, seed, areas([population]))
    half = rows // 2
    for n, part in enumerate((table.slice(0, half), table.slice(half))):
        clean = CleanExtract(
            kind="npr_episode",
            source=f"npr_{n}.parquet",
            checksum=f"{seed:08d}{n:056d}",
            accepted=part,
            quarantined=pa.table({"line": pa.array([], pa.int64())}),
            report=IngestReport(f"npr_{n}.parquet", part.num_rows, part.num_rows, 0),
        )
        store_extract(clean, lake, "maned")
    return lake, table


def unit_name(unit: int) -> str:
    """The name :func:`npr_reference` gives a unit that is never renamed."""
    return f"Behandlingssted {unit}"


def npr_reference(
    table: pa.Table, renamed: Mapping[int, tuple[date, str]] | None = None
) -> Reference:
    """The packaged reference with a unit registry holding one RHF, one HF and every
    behandlingssted of the stored episodes ``table`` but :data:`ABSENT_UNIT`, named by
    :func:`unit_name`, but :data:`RENAMED_UNIT` and :data:`CLOSING_UNIT` (see above);
    ``renamed``: further renames (unit → (from the day, new name))."""
    opened = date(2002, 1, 1)
    histories: dict[int, list[Span]] = {
        1: [Span(opened, None, UnitFields("rhf", "Regionen RHF", orgnr="900000001"))],
        2: [Span(opened, None, UnitFields("hf", "Foretaket HF", parent_id=1, orgnr="900000002"))],
    }

    def site(name: str) -> UnitFields:
        return UnitFields("behandlingssted", name, parent_id=2, sector="somatikk")

    for unit in sorted(set(table.column("behandlingssted_id").to_pylist()) - {ABSENT_UNIT}):
        if unit == RENAMED_UNIT:
            histories[unit] = [
                Span(opened, RENAMED_ON, site(OLD_NAME)),
                Span(RENAMED_ON, None, site(NEW_NAME)),
            ]
        elif unit == CLOSING_UNIT:
            histories[unit] = [
                Span(opened, date(2024, 5, 1), site(CLOSING_NAMES[0])),
                Span(date(2024, 5, 1), date(2024, 9, 1), site(CLOSING_NAMES[1])),
            ]
        else:
            histories[unit] = [Span(opened, None, site(unit_name(unit)))]
    for unit, (day, name) in (renamed or {}).items():
        *before, last = histories[unit]
        histories[unit] = [
            *before,
            Span(last.valid_from, day, last.fields),
            Span(day, last.valid_to, last.fields.replace(name=name)),
        ]
    return dataclasses.replace(packaged_reference(), resh_as_of=resh_units(histories))


Key = tuple[Any, ...]


def expected(
    table: pa.Table, key: Callable[[dict[str, Any]], Key | None]
) -> dict[Key, dict[str, int]]:
    """Per cell (``key`` of a row; None: not counted) the counts of the statistic,
    computed row by row: episodes, stays, days, day treatments, outpatient contacts and
    distinct patients."""
    cells: dict[Key, dict[str, int]] = {}
    patients: dict[Key, set[str]] = defaultdict(set)
    for row in table.to_pylist():
        k = key(row)
        if k is None:
            continue
        c = cells.setdefault(
            k,
            dict.fromkeys(
                ("episoder", "opphold", "liggedogn", "dagbehandlinger", "polikliniske_kontakter"), 0
            ),
        )
        c["episoder"] += 1
        c["opphold"] += row["dogn"]
        c["liggedogn"] += row["liggedogn"]
        c["dagbehandlinger"] += row["dag"]
        c["polikliniske_kontakter"] += row["poli"]
        patients[k].add(row["pasient_pseudonym"])
    for k, c in cells.items():
        c["pasienter"] = len(patients[k])
    return cells
