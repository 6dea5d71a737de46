"""Benchmark: ten years of NPR-like episodes (SYNTHETIC) — helsestat's build of the npr
statistic on DuckDB and on Spark local mode, against the strongest plain DuckDB plan.

**The lake** (:func:`write_lake`): episodes written straight in the stored schema of the
``npr_episode`` kind (docs: the npr_episode contract; placed, pseudonymised, with sector,
catchment area and flags), month by month through the lake's own store code
(``store_extract``: partition ``period=YYYYMM``, codebooks and sort order of the kind's
spec when it has them, the batch record last), with flat memory: one month is generated
(numpy, pyarrow), stored and dropped before the next. Nothing is validated or placed: the
rows are what ingest would have stored. Parameters (:class:`LakeParams`):

- ``episodes`` over ``years`` years from ``first_year`` (default 70 million over 2016–2025,
  Norway's order of magnitude: about 1 million stays and 6 million outpatient contacts a
  year), spread evenly over the months; ``--scale`` / ``HELSESTAT_BENCH_NPR_EPISODES``
  for smaller runs;
- contact types: :data:`CONTACT_SHARES` (about 6 outpatient contacts per stay); sectors:
  :data:`SECTOR_SHARES` (renormalised over the sectors the registry has units of);
- units: the demo unit registry's (``helsestat units load-demo``) behandlingssteder,
  placed as the registry stood mid-month; within a sector and HF the units' weights are
  Zipf (exponent :data:`ZIPF`); :data:`OWN_HF` of the episodes happen in the HF of the
  patient's own catchment area, the rest anywhere in the sector (Zipf);
- patients: a pool of ``patients_per_episode × episodes`` people, drawn with a power skew
  (:data:`RETURN_SKEW`: a few return often, most once or twice); a person's kjønn, year of
  birth and home (a kommune drawn by population, and a bydel in the four cities, 10 %
  without) are functions of their number, so a returning patient is the same person;
  pseudonyms are 32 hex characters, as the real ones;
- the catchment area from the real area tables of the year (KLASS 629–631 by structure):
  null for a kommune split between areas or a city patient without bydel;
- length of stay exponential with a sector's mean (:data:`STAY_DAYS`).

**Contenders**, interleaved round by round, every one a fresh process (time from launch
to result; CPU and peak memory from ``wait4``), figures are medians:

- ``helsestat build`` (``HELSESTAT_ENGINE=duckdb``, its 2 GB memory limit), cold (cache
  removed) and warm;
- the same build with ``HELSESTAT_ENGINE=spark`` (local mode, ``local[2]``), cold;
- ``plain DuckDB`` (:func:`plain_tables`): one fine GROUP BY of the sums on the finest keys
  of each table family, its rollups from it, and an exact ``COUNT(DISTINCT
  pasient_pseudonym)`` per output table — over a pre-deduplicated (keys, patient) set,
  never over summed distinct counts;

plus, in one long-running process, helsestat's steady state (DuckDB engine, builds after a
first untimed one, cache removed before each). In the first round the plain tables are
checked cell for cell against helsestat's (:func:`check`), before suppression; a
difference stops the benchmark.

Usage::

    .venv/bin/python -m benchmarks.bench_npr --scale 7000000 --repeat 3 --work var/bench
    .venv/bin/python -m benchmarks.bench_npr lake var/bench/npr-home --scale 1000000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.bench_build import run_fresh
from benchmarks.bench_e2e import Runs, cli_env, helsestat_command

KIND = "npr_episode"
FIRST_YEAR, YEARS = 2016, 10
EPISODES = 70_000_000
SEED = 2026
THREADS = 2
#: Share of each contact type (about 6 outpatient contacts per stay, Norway's proportion).
CONTACT_SHARES = {"dogn": 0.135, "dag": 0.055, "poliklinisk": 0.81}
#: Share of each sector's episodes (renormalised over the sectors with units).
SECTOR_SHARES = {"somatikk": 0.80, "phv": 0.10, "phbu": 0.04, "tsb": 0.03, "rehab": 0.03}
#: Mean length of a stay in days, per sector.
STAY_DAYS = {"somatikk": 3.5, "phv": 18.0, "phbu": 14.0, "tsb": 22.0, "rehab": 20.0}
#: The catchment list (and area table) of each sector's service.
SERVICE = {"somatikk": "som", "rehab": "som", "phv": "vop", "phbu": "bup", "tsb": "tsb"}
#: Share of episodes at a unit of the HF of the patient's own area.
OWN_HF = 0.85
ZIPF = 1.1
#: A patient's number is ``pool × u ** RETURN_SKEW``: the higher, the more return.
RETURN_SKEW = 2.0
PATIENTS_PER_EPISODE = 0.35
AGE_GROUPS = (("0-17", 18), ("18-29", 30), ("30-49", 50), ("50-66", 67), ("67-79", 80))
FAGOMRADER = {
    "somatikk": ("indremedisin", "kirurgi", "ortopedi", "gynekologi", "pediatri", "onkologi"),
    "rehab": ("fysikalsk medisin",),
    "phv": ("psykiatri",),
    "phbu": ("barne- og ungdomspsykiatri",),
    "tsb": ("rusbehandling",),
}
#: Letters of the hovedtilstand codes per sector (ICD-10 chapters).
ICD_LETTERS = {
    "somatikk": "ABCDEGHIJKLMNOQRST",
    "rehab": "GIMS",
    "phv": "F",
    "phbu": "F",
    "tsb": "F",
}
ROOT = Path(__file__).resolve().parents[1]
#: The code a lake depends on: a lake written by other code (or other parameters) is not
#: reused.
_LAKE_CODE = ("benchmarks/bench_npr.py",)


@dataclass(frozen=True)
class LakeParams:
    """What the synthetic lake is made of (see the module docstring)."""

    episodes: int = EPISODES
    first_year: int = FIRST_YEAR
    years: int = YEARS
    seed: int = SEED

    @property
    def months(self) -> list[tuple[int, int]]:
        return [
            (y, m)
            for y in range(self.first_year, self.first_year + self.years)
            for m in range(1, 13)
        ]

    @property
    def pool(self) -> int:
        return max(100, int(self.episodes * PATIENTS_PER_EPISODE))


# -- the world the episodes happen in ------------------------------------------------------------


@dataclass(frozen=True)
class Units:
    """Units of one month that episodes can happen at (one row per unit, placed mid-month),
    grouped for drawing: by (sector, HF) and by sector, Zipf weights in each group."""

    resh: np.ndarray
    behandlingssted: np.ndarray
    hf: np.ndarray
    rhf: np.ndarray
    hf_orgnr: np.ndarray
    rhf_orgnr: np.ndarray
    sector: np.ndarray
    ssb_utvalg: np.ndarray
    #: (sector, hf orgnr or "") → (global cumulative weights, unit indices) of that group
    groups: Mapping[tuple[str, str], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Homes:
    """Where people live in one year: kommuner by population (cumulative weights), the
    bydeler of the four cities, and each service's area (code, HF orgnr, RHF orgnr) of each
    kommune or bydel."""

    kommuner: np.ndarray
    cumulative: np.ndarray
    bydeler: Mapping[str, np.ndarray]
    areas: Mapping[str, Mapping[str, tuple[str, str, str]]]


def unit_versions(reference_db: Path) -> pa.Table:
    """The demo registry's placed units with sector, HF and RHF (and their orgnr) per
    validity period, from the as-of table and the reference database."""
    from helsestat.reference.units.placing import as_of_table
    from helsestat.store.db.database import create_engine_for, session_factory

    engine = create_engine_for(f"sqlite:///{reference_db}")
    try:
        with session_factory(engine)() as session:
            flat = as_of_table(session)
    finally:
        engine.dispose()
    with sqlite3.connect(reference_db) as con:
        orgnr = dict(
            con.execute(
                "SELECT unit_id, orgnr FROM unit_version WHERE superseded_at IS NULL "
                "AND kind IN ('hf', 'rhf') AND orgnr IS NOT NULL"
            ).fetchall()
        )
    keep = pc.and_(
        pc.equal(flat["country"], "NO"),
        pc.and_(
            pc.is_valid(flat["sector"]),
            pc.and_(pc.is_valid(flat["hf_id"]), pc.is_valid(flat["behandlingssted_id"])),
        ),
    )
    flat = flat.filter(pc.and_(keep, pc.is_valid(flat["rhf_id"])))
    hf = flat["hf_id"].to_pylist()
    rhf = flat["rhf_id"].to_pylist()
    return flat.append_column("hf_orgnr", pa.array([orgnr.get(h) for h in hf])).append_column(
        "rhf_orgnr", pa.array([orgnr.get(r) for r in rhf])
    )


def units_of(versions: pa.Table, day: date) -> Units:
    """The units open on ``day`` and their drawing groups."""
    valid_to = versions["valid_to"].to_pylist()
    valid_from = versions["valid_from"].to_pylist()
    rows = [
        i
        for i, (a, b) in enumerate(zip(valid_from, valid_to, strict=True))
        if a <= day and (b is None or b > day)
    ]
    t = versions.take(pa.array(rows, pa.int64()))
    t = t.filter(pc.and_(pc.is_valid(t["hf_orgnr"]), pc.is_valid(t["rhf_orgnr"])))
    resh = t["unit_id"].to_numpy()
    sector = np.asarray(t["sector"].to_pylist(), dtype=object)
    hf_orgnr = np.asarray(t["hf_orgnr"].to_pylist(), dtype=object)
    # a fixed, unit-specific rank: the same unit is big every month
    rank = (resh * 2654435761) % 1000
    groups: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for s in sorted(set(sector)):
        for hf in [*sorted(set(hf_orgnr[sector == s])), ""]:
            members = np.flatnonzero((sector == s) & ((hf_orgnr == hf) | (hf == "")))
            order = members[np.argsort(rank[members], kind="stable")]
            weights = 1.0 / np.arange(1, len(order) + 1) ** ZIPF
            groups[(s, hf)] = (np.cumsum(weights) / weights.sum(), order)
    return Units(
        resh=resh,
        behandlingssted=t["behandlingssted_id"].to_numpy(),
        hf=t["hf_id"].to_numpy(),
        rhf=t["rhf_id"].to_numpy(),
        hf_orgnr=hf_orgnr,
        rhf_orgnr=np.asarray(t["rhf_orgnr"].to_pylist(), dtype=object),
        sector=sector,
        ssb_utvalg=(resh * 40503) % 31 != 0,  # about 3 %: fødestuer, not hospitals
        groups=groups,
    )


def homes_of(year: int) -> Homes:
    """The kommuner of ``year`` by population, the cities' bydeler and every service's area
    table of the year's kommune structure."""
    from helsestat.reference.grunnkrets import kommune_population, structure_of
    from helsestat.reference.klass_catchment import area_table

    population = kommune_population(year).figures
    kommuner = np.asarray(sorted(population), dtype=object)
    weights = np.asarray([population[k] for k in kommuner], dtype=np.float64)
    structure = structure_of(year)
    areas: dict[str, dict[str, tuple[str, str, str]]] = {}
    bydeler: dict[str, list[str]] = {}
    for service in sorted(set(SERVICE.values())):
        table = area_table(service, structure)
        by_code = {a.code: (a.code, a.hf, a.rhf) for a in table.areas}
        areas[service] = {
            **{k: by_code[c] for k, c in table.kommuner.items() if c in by_code},
            **{b: by_code[c] for b, c in table.bydeler.items() if c in by_code},
        }
        for b in table.bydeler:
            if b[:4] in population and b not in bydeler.setdefault(b[:4], []):
                bydeler[b[:4]].append(b)
    return Homes(
        kommuner=kommuner,
        cumulative=np.cumsum(weights) / weights.sum(),
        bydeler={k: np.asarray(sorted(v), dtype=object) for k, v in bydeler.items()},
        areas=areas,
    )


# -- one month of episodes -------------------------------------------------------------------------


def _hash(x: np.ndarray, salt: int) -> np.ndarray:
    """A fixed pseudo-random 32-bit value per integer (a person's traits)."""
    h = (x.astype(np.uint64) + np.uint64(salt)) * np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(29)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    return (h >> np.uint64(32)).astype(np.uint64)


def _text(values: np.ndarray, index: np.ndarray | None = None) -> pa.Array:
    """Strings from a small set of values (None allowed): a dictionary cast to text."""
    if index is None:
        dictionary, index = np.unique(values.astype(str), return_inverse=True)
        return pa.DictionaryArray.from_arrays(
            pa.array(index, pa.int32()), pa.array(dictionary)
        ).cast(pa.string())
    return pa.DictionaryArray.from_arrays(
        pa.array(index, pa.int32()), pa.array(list(values), pa.string())
    ).cast(pa.string())


def _pseudonyms(ids: np.ndarray, seed: int) -> pa.Array:
    """32 hex characters per person, fixed for the person (the shape of the keyed HMAC
    pseudonyms ingest writes)."""
    parts = [_hash(ids, seed + i) for i in range(4)]
    raw = np.stack(parts, axis=1).astype(">u4").tobytes()
    hexed = np.frombuffer(raw.hex().encode(), dtype=np.uint8)
    offsets = np.arange(0, 32 * (len(ids) + 1), 32, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), len(ids), [None, pa.py_buffer(offsets), pa.py_buffer(hexed.tobytes())]
    )


def _icd_codes(letters: str, rng: np.random.Generator, count: int = 60) -> list[str]:
    codes = set()
    while len(codes) < count:
        letter = letters[int(rng.integers(len(letters)))]
        digits = int(rng.integers(0, 100))
        extra = "" if rng.random() < 0.4 else f".{int(rng.integers(0, 10))}"
        codes.add(f"{letter}{digits:02d}{extra}")
    return sorted(codes)


def _draw(
    units: Units, key: tuple[str, str], at: np.ndarray, u: np.ndarray, out: np.ndarray
) -> None:
    """Units for the rows ``at`` from the group ``key`` (Zipf weights), by ``u``."""
    if len(at):
        cumulative, members = units.groups[key]
        out[at] = members[np.minimum(np.searchsorted(cumulative, u[at]), len(members) - 1)]


def month_table(
    params: LakeParams, year: int, month: int, units: Units, homes: Homes, rows: int
) -> pa.Table:
    """``rows`` episodes ending in ``year``-``month`` in the stored schema."""
    rng = np.random.default_rng([params.seed, year, month])
    n = rows
    # who: a returning population (low numbers often), traits fixed per person
    person = np.minimum(
        (params.pool * rng.random(n) ** RETURN_SKEW).astype(np.int64), params.pool - 1
    )
    kjonn = (_hash(person, 1) & np.uint64(1)).astype(np.int8) + 1
    born = year - (_hash(person, 2) % np.uint64(100)).astype(np.int64)
    age_skew = rng.random(n) < 0.3  # the old are treated more: a share drawn again, older
    born = np.where(age_skew, year - 60 - (_hash(person, 3) % np.uint64(40)).astype(np.int64), born)
    alder = np.clip(year - born, 0, 105).astype(np.int16)
    quantile = (_hash(person, 4) % np.uint64(1 << 30)).astype(np.float64) / (1 << 30)
    k_index = np.minimum(np.searchsorted(homes.cumulative, quantile), len(homes.kommuner) - 1)
    kommune = homes.kommuner[k_index]
    bydel = np.full(n, None, dtype=object)
    for city, names in homes.bydeler.items():
        at = np.flatnonzero(kommune == city)
        pick = (_hash(person[at], 5) % np.uint64(100)).astype(np.int64)
        has = pick >= 10  # 10 % without a bydel
        bydel[at[has]] = names[pick[has] % len(names)]
    # what: sector and contact type
    sectors = [s for s in SECTOR_SHARES if (s, "") in units.groups]
    shares = np.asarray([SECTOR_SHARES[s] for s in sectors])
    s_index = rng.choice(len(sectors), n, p=shares / shares.sum())
    sector = np.asarray(sectors, dtype=object)[s_index]
    kinds = list(CONTACT_SHARES)
    c_index = rng.choice(len(kinds), n, p=list(CONTACT_SHARES.values()))
    if "rehab" in sectors:  # a rehab institution reports only stays
        c_index[sector == "rehab"] = 0
    # the patient's area for the sector's service, then the unit
    area = np.full(n, None, dtype=object)
    bo_hf = np.full(n, None, dtype=object)
    bo_rhf = np.full(n, None, dtype=object)
    home = np.where(bydel == None, kommune, bydel)  # noqa: E711 - elementwise
    places, place = np.unique(home.astype(str), return_inverse=True)
    for s in sectors:
        at = np.flatnonzero(sector == s)
        table = homes.areas[SERVICE[s]]
        found = [table.get(h, (None, None, None)) for h in places]
        for target, j in ((area, 0), (bo_hf, 1), (bo_rhf, 2)):
            target[at] = np.asarray([f[j] for f in found], dtype=object)[place[at]]
    # the unit: in the HF of the patient's own area (OWN_HF), else anywhere in the sector
    own = rng.random(n) < OWN_HF
    hfs, hf_index = np.unique(np.where(bo_hf == None, "", bo_hf).astype(str), return_inverse=True)  # noqa: E711
    unit = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for si, s in enumerate(sectors):
        for hi, hf in enumerate(hfs):
            at = np.flatnonzero((s_index == si) & (hf_index == hi) & own)
            key = (s, hf) if (s, hf) in units.groups else (s, "")
            _draw(units, key, at, u, unit)
        _draw(units, (s, ""), np.flatnonzero((s_index == si) & ~own), u, unit)
    # when: ut in the month, inn before it
    first = np.datetime64(f"{year}-{month:02d}-01T00:00:00", "s")
    last = np.datetime64(f"{year + (month == 12)}-{month % 12 + 1:02d}-01T00:00:00", "s")
    ut = first + (rng.random(n) * (last - first).astype(np.int64)).astype("timedelta64[s]")
    mean_days = np.asarray([STAY_DAYS[s] for s in sectors])[s_index]
    stay = c_index == 0
    seconds = np.where(
        stay,
        rng.exponential(mean_days * 86400.0),
        rng.uniform(1800, 6 * 3600, n),
    ).astype(np.int64)
    inn = ut - seconds.astype("timedelta64[s]")
    days = (ut.astype("datetime64[D]") - inn.astype("datetime64[D]")).astype(np.int64)
    liggedogn = np.where(stay, np.maximum(days, 0), 0).astype(np.int32)
    # diagnosis, fagområde, financing
    hovedtilstand = np.empty(n, dtype=object)
    fagomrade = np.empty(n, dtype=object)
    code_rng = np.random.default_rng([params.seed, 0])
    for s in sectors:
        at = np.flatnonzero(sector == s)
        codes = np.asarray(_icd_codes(ICD_LETTERS[s], code_rng), dtype=object)
        weights = 1.0 / np.arange(1, len(codes) + 1) ** ZIPF
        hovedtilstand[at] = codes[rng.choice(len(codes), len(at), p=weights / weights.sum())]
        fag = np.asarray(FAGOMRADER[s], dtype=object)
        fagomrade[at] = fag[rng.integers(0, len(fag), len(at))]
    finansiering = np.where(rng.random(n) < 0.85, "ISF", "annen")
    bounds = np.asarray([b for _, b in AGE_GROUPS])
    group = np.searchsorted(bounds, alder, side="right")
    maned = f"{year}{month:02d}"
    order = np.argsort(ut, kind="stable")
    episode = pc.binary_join_element_wise(
        f"E{maned}", pc.cast(pa.array(np.arange(n), pa.int64()), pa.string()), ""
    )
    columns: dict[str, pa.Array] = {
        "episode_id": episode,
        "resh_id": pa.array(units.resh[unit]),
        "inn": pa.array(inn, pa.timestamp("s")),
        "ut": pa.array(ut, pa.timestamp("s")),
        "maned": pa.array([maned] * n, pa.string()),
        "kontakttype": _text(np.asarray(kinds, dtype=object), c_index),
        "pasient_pseudonym": _pseudonyms(person, params.seed),
        "bostedskommune": _text(kommune),
        "bydel": pa.array(bydel, pa.string()),
        "kjonn": _text(np.asarray(["1", "2"], dtype=object), kjonn - 1),
        "alder": pa.array(alder, pa.int16()),
        "aldersgruppe": _text(
            np.asarray([g for g, _ in AGE_GROUPS] + ["80+"], dtype=object), group
        ),
        "hovedtilstand": _text(hovedtilstand),
        "fagomrade": _text(fagomrade),
        "finansiering": _text(finansiering.astype(object)),
        "behandlingssted_id": pa.array(units.behandlingssted[unit]),
        "hf_id": pa.array(units.hf[unit]),
        "rhf_id": pa.array(units.rhf[unit]),
        "hf_orgnr": pa.array(units.hf_orgnr[unit], pa.string()),
        "rhf_orgnr": pa.array(units.rhf_orgnr[unit], pa.string()),
        "sektor": _text(sector),
        "ssb_utvalg": pa.array(units.ssb_utvalg[unit]),
        "bo_omrade": pa.array(area, pa.string()),
        "bo_hf_orgnr": pa.array(bo_hf, pa.string()),
        "bo_rhf_orgnr": pa.array(bo_rhf, pa.string()),
        "dogn": pa.array((c_index == 0).astype(np.int8)),
        "dag": pa.array((c_index == 1).astype(np.int8)),
        "poli": pa.array((c_index == 2).astype(np.int8)),
        "liggedogn": pa.array(liggedogn),
    }
    table = pa.table(columns)
    return table.take(pa.array(order))


# -- the lake -------------------------------------------------------------------------------------


def prepare_home(home: Path) -> Path:
    """A data directory with a seeded reference database holding the demo unit registry
    (``helsestat units load-demo``, as a fresh CLI process); its reference.db."""
    db = home / "reference.db"
    if db.exists():
        with sqlite3.connect(db) as con:
            if con.execute("SELECT count(*) FROM unit").fetchone()[0]:
                return db
    home.mkdir(parents=True, exist_ok=True)
    command = [*helsestat_command(), "units", "load-demo"]
    run_fresh(command, "units load-demo", env=cli_env(home), answers=False)
    return db


def _stored(kind_spec: Any) -> tuple[Sequence[Any], Sequence[str]]:
    """The coded columns and sort order of the kind's spec (none before the kind exists)."""
    if kind_spec is None:
        return (), ()
    return tuple(kind_spec.coded), tuple(kind_spec.sort_by)


def kind_spec() -> Any:
    """The extract spec of npr_episode, or None where this version has no such kind."""
    from helsestat.errors import NotFoundError
    from helsestat.validate import spec_for

    try:
        return spec_for(KIND)
    except NotFoundError:
        return None


def _stamp(params: LakeParams) -> dict[str, object]:
    code = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in _LAKE_CODE))
    src = ROOT / "src" / "helsestat"
    for name in ("store/lake/extracts.py", "store/lake/codebooks.py"):
        code.update((src / name).read_bytes())
    spec = kind_spec()
    coded, sort_by = _stored(spec)
    return {
        "episodes": params.episodes,
        "first_year": params.first_year,
        "years": params.years,
        "seed": params.seed,
        "code": code.hexdigest(),
        "layout": [repr(coded), list(sort_by)],
    }


def write_lake(
    home: Path, params: LakeParams, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Write the synthetic lake of ``params`` into the data directory ``home`` (its
    reference database prepared first), one month at a time; returns the episodes stored,
    the seconds and the peak memory of the writer. A lake an earlier run wrote with the same
    parameters and code is reused."""
    import resource

    from helsestat.model import CleanExtract, IngestReport
    from helsestat.store.lake import Lake
    from helsestat.store.lake.extracts import store_extract

    db = prepare_home(home)
    stamp_path = home / ".bench-npr.json"
    stamp = _stamp(params)
    if stamp_path.exists():
        done = json.loads(stamp_path.read_text())
        if {k: done.get(k) for k in stamp} == stamp:
            return dict(done)
    shutil.rmtree(home / "extracts" / KIND, ignore_errors=True)
    shutil.rmtree(home / "batches" / KIND, ignore_errors=True)
    shutil.rmtree(home / "codebooks" / KIND, ignore_errors=True)
    shutil.rmtree(home / "cache", ignore_errors=True)
    start = time.perf_counter()
    versions = unit_versions(db)
    coded, sort_by = _stored(kind_spec())
    lake = Lake(home)
    months = params.months
    stored = 0
    homes: dict[int, Homes] = {}
    for i, (year, month) in enumerate(months):
        rows = params.episodes // len(months) + (1 if i < params.episodes % len(months) else 0)
        if year not in homes:
            homes.clear()
            homes[year] = homes_of(year)
        units = units_of(versions, date(year, month, 15))
        table = month_table(params, year, month, units, homes[year], rows)
        source = f"npr_{year}{month:02d}.synthetic"
        checksum = hashlib.sha256(f"{source} {params}".encode()).hexdigest()
        report = IngestReport(source, table.num_rows, table.num_rows, 0)
        quarantined = pa.table({"arsak": pa.array([], pa.string())})
        clean = CleanExtract(KIND, source, checksum, table, quarantined, report)
        store_extract(clean, lake, "maned", coded=coded, sort_by=sort_by)
        stored += table.num_rows
        del table, clean
        if progress and (month == 12 or i == len(months) - 1):
            progress(f"lake: {year} written, {stored:,} episodes")
    result = {
        **stamp,
        "stored": stored,
        "seconds": time.perf_counter() - start,
        "writer_peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }
    stamp_path.write_text(json.dumps(result))
    return result


def lake_files(home: Path) -> list[Path]:
    """The committed npr_episode files of the lake in ``home``."""
    from helsestat.store.lake import Lake
    from helsestat.store.lake.extracts import committed_files

    return committed_files(Lake(home), KIND)
