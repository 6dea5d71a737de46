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
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.bench_build import run_fresh
from benchmarks.bench_e2e import cli_env, helsestat_command

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
    # a day treatment or outpatient contact begins on the day it ends
    since_midnight = (ut - ut.astype("datetime64[D]")).astype(np.int64)
    seconds = np.where(stay, seconds, np.minimum(seconds, since_midnight))
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


#: The sort order of the kind's stored partitions (its spec's ``sort_by``), used before the
#: kind is in this version.
SORT_BY = ("sektor", "kontakttype", "hf_id", "behandlingssted_id")


def _stored(kind_spec: Any) -> tuple[Sequence[Any], Sequence[str]]:
    """The coded columns and sort order of the kind's spec (:data:`SORT_BY` before the
    kind exists)."""
    if kind_spec is None:
        return (), SORT_BY
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
    import inspect

    writer = (unit_versions, units_of, homes_of, _hash, _text, _pseudonyms, _icd_codes, _draw)
    code = hashlib.sha256("".join(inspect.getsource(f) for f in (*writer, month_table)).encode())
    code.update(repr((CONTACT_SHARES, SECTOR_SHARES, STAY_DAYS, SERVICE, OWN_HF, ZIPF)).encode())
    code.update(repr((RETURN_SKEW, PATIENTS_PER_EPISODE, AGE_GROUPS, FAGOMRADER)).encode())
    code.update(repr((ICD_LETTERS, SORT_BY)).encode())
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
    sectors: dict[str, int] = {}
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
        for item in pc.value_counts(table["sektor"]).to_pylist():
            sectors[item["values"]] = sectors.get(item["values"], 0) + item["counts"]
        del table, clean
        if progress and (month == 12 or i == len(months) - 1):
            progress(f"lake: {year} written, {stored:,} episodes")
    result = {
        **stamp,
        "stored": stored,
        "sectors": sectors,
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


# -- plain DuckDB: the strongest plan we can write ------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _where(spec: Any) -> str:
    terms = []
    for f in spec.filters:
        col, values = _q(f.column), ", ".join(_literal(v) for v in f.values)
        if f.op == "in":
            terms.append(f"{col} IN ({values})")
        elif f.op == "not_in":
            terms.append(f"({col} IS NULL OR {col} NOT IN ({values}))")
        else:
            terms.append(f"{col} {'>=' if f.op == 'ge' else '<='} {_literal(f.values[0])}")
    return " AND ".join(terms) or "true"


@dataclass(frozen=True)
class _Level:
    """One output column of a grouping: its name, SQL over a fine table, and the joins the
    SQL needs (lookups)."""

    name: str
    sql: str
    joins: tuple[str, ...]


def _levels(spec: Any, grouping: Sequence[str], lookups: dict[Any, str]) -> list[_Level]:
    """The grouping's output columns as SQL over the finest columns (aliased ``f``): each
    hierarchy's first column as text, Prefix a substr, Lookup a left join to a small table
    (its default where missing), Total no column."""
    from helsestat.model.cube import Lookup, Prefix, Total

    out = []
    for h, name in zip(spec.hierarchies, grouping, strict=True):
        path = h.path_to(name)
        if isinstance(path[-1].rollup, Total):
            continue
        sql, joins = f"CAST(f.{_q(path[0].column)} AS VARCHAR)", []
        for level in path[1:]:
            if isinstance(level.rollup, Prefix):
                sql = f"substr({sql}, 1, {level.rollup.length})"
            elif isinstance(level.rollup, Lookup):
                table = lookups.setdefault(level.rollup, f"lk{len(lookups)}")
                alias = f"{table}_{len(joins)}_{len(out)}"
                joins.append(f"LEFT JOIN {table} {alias} ON {alias}.k = {sql}")
                default = _literal(level.rollup.default) if level.rollup.default else "NULL"
                sql = f"CASE WHEN {sql} IS NULL THEN NULL ELSE COALESCE({alias}.v, {default}) END"
        out.append(_Level(name, sql, tuple(joins)))
    return out


def _base(spec: Any, grouping: Sequence[str]) -> frozenset[str]:
    """The finest columns a grouping is computed from (its hierarchies that are not total)."""
    from helsestat.model.cube import Total

    return frozenset(
        h.levels[0].column
        for h, name in zip(spec.hierarchies, grouping, strict=True)
        if not isinstance(h.level(name).rollup, Total)
    )


def plain_tables(
    files: Sequence[Path],
    spec: Any,
    threads: int = THREADS,
    memory_limit: str = "2GB",
    *,
    variants: Mapping[str, Any] | None = None,
) -> dict[tuple[str, ...], pa.Table]:
    """Every grouping of ``spec`` computed with plain DuckDB SQL, the strong way:

    1. the sums: per maximal set of finest columns the groupings need (a set no other
       contains), one scan with one GROUP BY of those columns (the fine table); every
       grouping's sums rolled up from the smallest fine table that holds it;
    2. the count-distinct measures (patients), not additive: an exact ``COUNT(DISTINCT
       patient)`` per output table over the rows, reading only its key columns and the
       patient column (measured faster here than deduplicating (keys, patient) once and
       counting from that, or one GROUPING SETS query), joined to the sums.

    ``variants`` (name → spec with the same hierarchies, measures and groupings, other
    filters, e.g. the NPR and the SSB figure) are computed in the same scans, each with its
    filter as a ``FILTER`` clause; the tables are keyed ``(variant, *grouping)`` then, else
    by the grouping. ``spec`` is the statistic's cube spec: only what it says to compute
    is read from it (hierarchies, rollups, filters, groupings, measures); the SQL is
    DuckDB's own."""
    import duckdb

    from helsestat.model.cube import Lookup

    named = dict(variants) if variants else {"": spec}
    wheres = {v: _where(s) for v, s in named.items()}
    tag = {v: f"v{i}_" for i, v in enumerate(named)}
    distinct = [m for m in spec.measures if m.kind == "count_distinct"]
    sums = [m for m in spec.measures if m.kind != "count_distinct"]
    groupings = list(spec.groupings)
    bases = {g: _base(spec, g) for g in groupings}
    maximal = [b for b in set(bases.values()) if not any(b < other for other in bases.values())]
    maximal.sort(key=lambda b: (len(b), sorted(b)))
    source = "read_parquet([" + ", ".join(_literal(str(f)) for f in files) + "])"
    # rows no variant counts are not read (for a single spec: its filter)
    scope = " OR ".join(f"({w})" for w in wheres.values())

    def fil(v: str) -> str:
        return "" if wheres[v] == "true" else f" FILTER (WHERE {wheres[v]})"

    con = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit})
    try:
        lookups: dict[Lookup, str] = {}
        sizes = {}
        for i, base in enumerate(maximal):
            cols = ", ".join(_q(c) for c in sorted(base))
            aggs = ", ".join(
                f"COUNT(*){fil(v)} AS {tag[v]}_n"
                + "".join(
                    f", SUM({_q(m.column)}){fil(v)} AS {_q(tag[v] + m.name)}"
                    for m in sums
                    if m.kind == "sum"
                )
                for v in named
            )
            con.execute(
                f"CREATE TEMP TABLE fine{i} AS SELECT {', '.join(filter(None, [cols, aggs]))} "
                f"FROM {source} WHERE {scope} GROUP BY {cols or '()'}"
            )
            sizes[i] = con.sql(f"SELECT count(*) FROM fine{i}").fetchall()[0][0]
        levels = {g: _levels(spec, g, lookups) for g in groupings}
        for rollup, name in lookups.items():
            pairs = pa.table(
                {
                    "k": pa.array([k for k, _ in rollup.pairs], pa.string()),
                    "v": pa.array([v for _, v in rollup.pairs], pa.string()),
                }
            )
            con.register(f"{name}_arrow", pairs)
            con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        out = {}
        for g in groupings:
            i = min((j for j, b in enumerate(maximal) if bases[g] <= b), key=sizes.__getitem__)
            lv = levels[g]
            keys = ", ".join(f"{x.sql} AS {_q(x.name)}" for x in lv)
            joins = " ".join(j for x in lv for j in x.joins)
            by = ", ".join(x.sql for x in lv) or "()"
            measures = [
                f"SUM(f.{tag[v]}_n)::BIGINT AS {_q(tag[v] + m.name)}"
                if m.kind == "count"
                else f"SUM(f.{_q(tag[v] + m.name)}) AS {_q(tag[v] + m.name)}"
                for v in named
                for m in sums
            ]
            measures += [f"SUM(f.{tag[v]}_n) AS {tag[v]}_n" for v in named]
            sql = f"SELECT {', '.join(filter(None, [keys, *measures]))} FROM fine{i} f {joins} "
            sql += f"GROUP BY {by}"
            picked_d: list[str] = []
            if distinct:
                counts = [
                    f"COUNT(DISTINCT f.{_q(m.column)}){fil(v)}::BIGINT AS {_q(tag[v] + m.name)}"
                    for v in named
                    for m in distinct
                ]
                dsql = (
                    f"SELECT {', '.join(filter(None, [keys, *counts]))} FROM {source} f "
                    f"{joins} WHERE {scope} GROUP BY {by}"
                )
                on = " AND ".join(f"s.{_q(x.name)} IS NOT DISTINCT FROM d.{_q(x.name)}" for x in lv)
                dcols = ", ".join(f"d.{_q(tag[v] + m.name)}" for v in named for m in distinct)
                sql = f"SELECT s.*, {dcols} FROM ({sql}) s JOIN ({dsql}) d ON {on or 'true'}"
                picked_d = [m.name for m in distinct]
            both = con.sql(sql).to_arrow_table()
            for v in named:
                cells = both.filter(pc.greater(both[f"{tag[v]}_n"], 0))
                columns = [x.name for x in lv]
                table = cells.select(
                    columns + [tag[v] + m.name for m in sums] + [tag[v] + m for m in picked_d]
                ).rename_columns(columns + [m.name for m in sums] + picked_d)
                out[(v, *g) if variants else tuple(g)] = table
        return out
    finally:
        con.close()


def compare_tables(
    expected: Mapping[tuple[str, ...], pa.Table], got: Mapping[tuple[str, ...], pa.Table], who: str
) -> int:
    """Check ``got`` against ``expected`` cell for cell (the same groupings; in each the same
    rows as multisets, ``got`` cast to the expected types); the number of cells compared.
    Raises :class:`benchmarks.baselines.Mismatch` naming the first difference."""
    import duckdb

    from benchmarks.baselines import Mismatch

    if set(expected) != set(got):
        raise Mismatch(f"{who}: groupings {sorted(got)}, expected {sorted(expected)}")
    cells = 0
    with duckdb.connect(config={"threads": THREADS}) as con:
        for grouping, a in expected.items():
            b = got[grouping]
            if sorted(a.column_names) != sorted(b.column_names):
                raise Mismatch(
                    f"{who} {grouping}: columns {b.column_names}, expected {a.column_names}"
                )
            b = b.select(a.column_names).cast(a.schema)
            if a.num_rows != b.num_rows:
                raise Mismatch(f"{who} {grouping}: {b.num_rows:,} cells, expected {a.num_rows:,}")
            con.register("a", a)
            con.register("b", b)
            extra = con.sql("SELECT * FROM b EXCEPT ALL SELECT * FROM a LIMIT 1").fetchall()
            con.unregister("a")
            con.unregister("b")
            if extra:
                raise Mismatch(
                    f"{who} {grouping}: {dict(zip(a.column_names, extra[0], strict=True))} is "
                    "not a cell of helsestat's table (or not with these values)"
                )
            cells += a.num_rows
    return cells


# -- processes and their resources ----------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc: each process's parent)."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += parents.get(p, [])
    return out


def _usage(pids: Sequence[int]) -> tuple[int, dict[int, int]]:
    """Resident bytes of ``pids`` together, and each one's CPU ticks so far."""
    rss, ticks = 0, {}
    for p in pids:
        try:
            with open(f"/proc/{p}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        ticks[p] = int(fields[11]) + int(fields[12])  # utime, stime
        rss += int(fields[21]) * _PAGE
    return rss, ticks


@dataclass(frozen=True)
class Ran:
    """One process: wall seconds from launch to exit, CPU seconds and peak resident memory
    of it and every process it started (the JVM of a Spark build included), sampled every
    50 ms, and the JSON of its last output line (if any)."""

    seconds: float
    cpu: float
    peak_gb: float
    answer: Any = None


def run_tree(command: list[str], env: Mapping[str, str] | None = None, what: str = "") -> Ran:
    """Run ``command`` from the repository root and measure its process tree."""
    import subprocess
    import tempfile

    start = time.perf_counter()
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, cwd=ROOT, env=dict(env or os.environ)
        ) as proc,
    ):
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        chunks, peak, cpu = [], 0, {}
        while proc.poll() is None:
            rss, ticks = _usage(_tree(proc.pid))
            peak = max(peak, rss)
            cpu.update(ticks)
            chunk = proc.stdout.read()
            if chunk:
                chunks.append(chunk)
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        chunks.append(proc.stdout.read() or b"")
        if proc.returncode != 0:
            errors.seek(0)
            said = errors.read().decode(errors="replace").strip().splitlines()[-20:]
            raise RuntimeError(
                f"{what or command[0]} failed with exit code {proc.returncode}; the end of "
                "what it wrote to stderr:\n" + "\n".join(said)
            )
    lines = b"".join(chunks).decode().strip().splitlines()
    answer = None
    if lines and lines[-1].startswith("{"):
        answer = json.loads(lines[-1])
    return Ran(seconds, sum(cpu.values()) / _TICK, peak / 1024**3, answer)


# -- the contenders -------------------------------------------------------------------------------


def npr_statistics() -> list[Any]:
    """helsestat's statistics read from npr_episode extracts (none before they exist)."""
    from helsestat.statistics import STATISTICS

    return [s for s in STATISTICS if s.source_kind == KIND]


def npr_statistic() -> Any:
    """The first of them (None before they exist)."""
    found = npr_statistics()
    return found[0] if found else None


def _reference(home: Path) -> Any:
    from benchmarks.bench_build import reference_of

    return reference_of(home)


def helsestat_tables(home: Path) -> dict[tuple[str, ...], pa.Table]:
    """helsestat's tables of the npr statistics before suppression, keyed (statistic,
    *grouping): each one's cube from the phase-1 results the last build cached in ``home``
    (the library's own path, DuckDB engine)."""
    from helsestat.aggregate import DuckDBEngine
    from helsestat.build import aggregate_statistic
    from helsestat.store.lake import Lake

    out = {}
    with DuckDBEngine(threads=THREADS) as engine:
        for declared in npr_statistics():
            statistic = declared.with_reference(_reference(home))
            cube = aggregate_statistic(statistic, Lake(home), engine)
            for t in statistic.tables:
                out[(statistic.name, *t.grouping)] = cube.tables[t.grouping]
    return out


def plain_families(home: Path) -> list[dict[str, Any]]:
    """What plain DuckDB computes: the npr statistics' cube specs (the same question),
    those with the same hierarchies and groupings (the NPR and the SSB variant of a family)
    together, statistic name → spec; without the statistics, :data:`PLAIN_SPEC`."""
    statistics = npr_statistics()
    if not statistics:
        return [{"": PLAIN_SPEC}]
    families: dict[Any, dict[str, Any]] = {}
    for declared in statistics:
        spec = declared.with_reference(_reference(home)).spec
        key = (spec.hierarchies, spec.measures, spec.groupings)
        families.setdefault(key, {})[declared.name] = spec
    return list(families.values())


def _plain_default() -> Any:
    from helsestat.model.cube import CubeSpec, Hierarchy, Level, Measure, Prefix, Total

    period = Hierarchy("periode", (Level("maned", column="maned"), Level("ar", rollup=Prefix(4))))
    sektor = Hierarchy("sektor", (Level("sektor", column="sektor"),))
    place = Hierarchy(
        "sted",
        (
            Level("behandlingssted_id", column="behandlingssted_id"),
            Level("alle_steder", rollup=Total()),
        ),
    )
    hf = Hierarchy("hf", (Level("hf_orgnr", column="hf_orgnr"), Level("alle_hf", rollup=Total())))
    bo = Hierarchy(
        "bo", (Level("bo_hf_orgnr", column="bo_hf_orgnr"), Level("alle_bo", rollup=Total()))
    )
    measures = (
        Measure("episoder", "count"),
        Measure("dogn", "sum", "dogn"),
        Measure("liggedogn", "sum", "liggedogn"),
        Measure("dag", "sum", "dag"),
        Measure("poli", "sum", "poli"),
        Measure("pasienter", "count_distinct", "pasient_pseudonym"),
    )
    return CubeSpec(
        "npr_plain",
        (period, sektor, place, hf, bo),
        measures,
        groupings=(
            ("ar", "sektor", "behandlingssted_id", "hf_orgnr", "alle_bo"),
            ("ar", "sektor", "alle_steder", "hf_orgnr", "alle_bo"),
            ("maned", "sektor", "alle_steder", "hf_orgnr", "alle_bo"),
            ("ar", "sektor", "alle_steder", "hf_orgnr", "bo_hf_orgnr"),
        ),
    )


PLAIN_SPEC = _plain_default()


def by_year(files: Sequence[Path]) -> list[list[Path]]:
    """``files`` grouped by the year of their month partition (``period=YYYYMM``), in order.

    >>> by_year([Path("period=201601/a"), Path("period=201701/b"), Path("period=201602/c")])
    [[PosixPath('period=201601/a'), PosixPath('period=201602/c')], [PosixPath('period=201701/b')]]
    """
    years: dict[str, list[Path]] = {}
    for file in files:
        years.setdefault(file.parent.name.partition("=")[2][:4], []).append(file)
    return [years[y] for y in sorted(years)]


def _plain_here(home: Path, out: Path | None) -> dict[str, Any]:
    """(In a fresh process) plain DuckDB's tables, timed after imports; written to ``out``.

    Every table is per month or year, so a cell's rows lie in one year: the plain plan runs
    one year at a time (the strong way under a memory limit: one pass over ten years of 70
    million episodes runs out of DuckDB's 2 GB in the exact COUNT(DISTINCT)) and
    concatenates the years' tables."""
    files = lake_files(home)
    families = plain_families(home)
    start = time.perf_counter()
    parts: dict[tuple[str, ...], list[pa.Table]] = {}
    for year in by_year(files):
        for family in families:
            first = next(iter(family.values()))
            for key, table in plain_tables(year, first, variants=family).items():
                parts.setdefault(key, []).append(table)
    tables = {key: pa.concat_tables(found) for key, found in parts.items()}
    seconds = time.perf_counter() - start
    if out is not None:
        write_groupings(tables, out)
    return {"seconds": seconds, "cells": sum(t.num_rows for t in tables.values())}


def write_groupings(tables: Mapping[tuple[str, ...], pa.Table], out: Path) -> None:

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    names = {}
    for i, (grouping, table) in enumerate(tables.items()):
        pq.write_table(table, out / f"{i}.parquet")
        names[str(i)] = list(grouping)
    (out / "groupings.json").write_text(json.dumps(names))


def read_groupings(out: Path) -> dict[tuple[str, ...], pa.Table]:

    names = json.loads((out / "groupings.json").read_text())
    return {tuple(g): pq.read_table(out / f"{i}.parquet") for i, g in names.items()}


def check(home: Path, out: Path) -> int:
    """Plain DuckDB's tables (written in ``out``) against helsestat's in ``home``; cells."""
    return compare_tables(helsestat_tables(home), read_groupings(out), "plain DuckDB")


def build_env(home: Path, engine: str) -> dict[str, str]:
    """The environment of ``helsestat build`` on ``home`` with ``engine``."""
    return {**cli_env(home), "HELSESTAT_ENGINE": engine, "HELSESTAT_THREADS": str(THREADS)}


def _steady_here(home: Path, engine_name: str, repeat: int) -> dict[str, list[float]]:
    """Cold builds in one long-running process (the engine and reference held): one untimed,
    then ``repeat`` timed, the cache removed before each."""
    from benchmarks.bench_build import holder_of
    from helsestat.aggregate import engine_for
    from helsestat.build import build
    from helsestat.settings import Settings
    from helsestat.store.lake import Lake

    settings = Settings(demo_mode=True, data_dir=home, engine=engine_name, threads=THREADS)
    holder = holder_of(home)
    engine = engine_for(settings)
    seconds = []
    try:
        for round_ in range(repeat + 1):
            shutil.rmtree(home / "cache", ignore_errors=True)
            start = time.perf_counter()
            build(
                Lake(home),
                engine,
                mode=settings.protection_mode,
                threshold=settings.suppression_threshold,
                reference=holder.get(),
            )
            if round_:
                seconds.append(time.perf_counter() - start)
    finally:
        engine.close()
    return {"seconds": seconds}


def _release_tables(
    home: Path, release_id: str, names: Sequence[str]
) -> dict[tuple[str, ...], pa.Table]:
    from helsestat.store.lake import Lake

    lake = Lake(home)
    release = lake.get(release_id)
    return {(name,): lake.read_table(release, name, keep=False).table for name in names}


def check_spark(home: Path, duckdb_release: str, spark_release: str) -> int:
    """The release the Spark build published against the DuckDB build's, cell for cell (the
    published tables, suppression included); cells compared."""
    names = [t.name for s in npr_statistics() for t in s.tables]
    return compare_tables(
        _release_tables(home, duckdb_release, names),
        _release_tables(home, spark_release, names),
        "the Spark build's release",
    )


def _current(home: Path) -> str:
    return (home / "releases" / "CURRENT").read_text().strip()


#: The contenders, each a fresh process per round: what runs, and how.
CONTENDERS = {
    "helsestat duckdb cold": "`helsestat build`, DuckDB (`HELSESTAT_MEMORY_LIMIT` 2 GB, DuckDB's "
    "share 1 GB), the cache removed first",
    "helsestat duckdb warm": "`helsestat build` again, DuckDB, the cache kept",
    "helsestat spark cold": "`HELSESTAT_ENGINE=spark helsestat build` (local[2]), cache removed",
    "plain duckdb": "plain DuckDB SQL, one year at a time: per family one fine GROUP BY, sums "
    "rolled up from it, an exact COUNT(DISTINCT patient) per table; NPR and SSB variants in "
    "the same scans",
}


def run(
    work: Path,
    params: LakeParams,
    repeat: int,
    *,
    steady_repeat: int = 2,
    spark: bool = True,
    spark_rounds: int | None = None,
    spark_steady: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write (or reuse) the lake, then every contender, interleaved, ``repeat`` rounds; the
    first round's plain tables and Spark release checked against helsestat's; then the
    steady state of each engine. Returns the medians and the lake's description."""
    say = progress or (lambda _: None)
    home = work / f"npr-{params.episodes}"
    lake = write_lake(home, params, say)
    if not npr_statistics():
        raise RuntimeError("no statistic reads npr_episode extracts in this version")
    names = [n for n in CONTENDERS if spark or "spark" not in n]
    runs: dict[str, list[Ran]] = {n: [] for n in names}
    checked: dict[str, int] = {}
    helsestat = helsestat_command()
    me = [sys.executable, "-m", "benchmarks.bench_npr"]
    for round_ in range(repeat):
        present = [
            n for n in names if "spark" not in n or spark_rounds is None or round_ < spark_rounds
        ]
        order = present[round_ % len(present) :] + present[: round_ % len(present)]
        releases = {}
        for name in order:
            if name == "helsestat duckdb warm" and "helsestat duckdb cold" not in releases:
                # warm means after a DuckDB build: one (untimed) when the order needs it
                run_tree([*helsestat, "build"], build_env(home, "duckdb"), "helsestat build")
            if name.endswith("cold"):
                shutil.rmtree(home / "cache", ignore_errors=True)
            if name.startswith("helsestat"):
                engine = name.split()[1]
                ran = run_tree([*helsestat, "build"], build_env(home, engine), name)
                releases[name] = _current(home)
            else:
                out = work / "npr-plain-tables" if round_ == 0 else None
                command = [*me, "plain", str(home)] + (["--out", str(out)] if out else [])
                ran = run_tree(command, what=name)
            runs[name].append(ran)
            say(
                f"round {round_ + 1}: {name} {ran.seconds:.1f} s, CPU {ran.cpu:.1f} s, "
                f"{ran.peak_gb:.2f} GB"
            )
        if round_ == 0:
            command = [*me, "check", str(home), str(work / "npr-plain-tables")]
            if spark:
                command += [releases["helsestat duckdb cold"], releases["helsestat spark cold"]]
            checked = run_tree(command, what="the cell-for-cell check").answer
            say(f"checked: {checked}")
    steady: dict[str, float] = {}
    engines = ("duckdb", "spark") if spark and spark_steady else ("duckdb",)
    for engine in engines if steady_repeat > 0 else ():
        command = [*me, "steady", str(home), engine, "--repeat", str(steady_repeat)]
        ran = run_tree(command, what=f"steady state {engine}")
        steady[engine] = statistics.median(ran.answer["seconds"])
        steady[f"{engine} peak_gb"] = ran.peak_gb
        say(f"steady {engine}: {steady[engine]:.1f} s")
    result = {
        "lake": lake,
        "files_gb": sum(f.stat().st_size for f in lake_files(home)) / 1024**3,
        "checked": checked,
        "medians": {
            name: {
                "seconds": statistics.median(r.seconds for r in rs),
                "cpu": statistics.median(r.cpu for r in rs),
                "peak_gb": max(r.peak_gb for r in rs),
                "runs": len(rs),
            }
            for name, rs in runs.items()
        },
        "plain_inside": statistics.median(r.answer["seconds"] for r in runs["plain duckdb"]),
        "steady": steady,
        "load": os.getloadavg()[0],
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
    }
    (work / f"npr-result-{params.episodes}.json").write_text(json.dumps(result, indent=1))
    return result


HEADING = "## NPR-like episodes: ten years on DuckDB and Spark against plain DuckDB"


def section(r: Mapping[str, Any], command: str) -> list[str]:
    """The section of docs/benchmarks.md (markdown lines) of :func:`run`'s result."""
    lake, m, st = r["lake"], r["medians"], r["steady"]
    years = f"{lake['first_year']}–{lake['first_year'] + lake['years'] - 1}"
    counted = lake.get("sectors") or {}
    shares = (
        ", ".join(
            f"{name} {n / lake['stored']:.0%}"
            for name, n in sorted(counted.items(), key=lambda x: -x[1])
        )
        or "as SECTOR_SHARES"
    )
    out = [
        HEADING,
        "",
        f"Reproduce with `{command}`. Input: a SYNTHETIC lake of {lake['stored']:,} episodes "
        f"({years}, {lake['years'] * 12} monthly partitions, {r['files_gb']:.2f} GB of Parquet) "
        "written straight in the stored `npr_episode` schema by `benchmarks/bench_npr.py` "
        f"(written in {lake['seconds']:.0f} s, writer peak {lake['writer_peak_gb']:.2f} GB: "
        "one month at a time): the demo registry's behandlingssteder, Zipf-skewed within "
        "sector and HF, 85 % of episodes in the HF of the patient's own catchment area, "
        f"sectors {shares}, about 6 outpatient contacts per stay, returning patients.",
        "",
        "Every contender is a fresh process per round, interleaved, medians over the rounds; "
        "*peak GB* is the largest resident memory of the process and everything it started "
        "(the JVM of a Spark build included), sampled every 50 ms. The build builds every "
        "statistic, so its figure includes a few seconds of work for the other (empty) "
        "statistics and of writing a release; the plain query only computes the npr tables. "
        f"Checked in the run: plain DuckDB's tables against helsestat's before suppression, "
        f"{r['checked'].get('plain', 0):,} cells"
        + (
            f", and the Spark build's release against the DuckDB build's, "
            f"{r['checked']['spark']:,} published cells"
            if "spark" in r["checked"]
            else " (Spark not run)"
        )
        + "; any difference stops the benchmark.",
        "",
        "| contender | what runs | process s (runs) | CPU s | peak GB |",
        "|---|---|---:|---:|---:|",
    ]
    for name, what in CONTENDERS.items():
        if name in m:
            x = m[name]
            out.append(
                f"| {name} | {what} | {x['seconds']:.1f} ({x['runs']}) | {x['cpu']:.1f} "
                f"| {x['peak_gb']:.2f} |"
            )
    plain = m["plain duckdb"]["seconds"]
    cold = m["helsestat duckdb cold"]
    steady = (
        f"In one long-running process (steady state, cache removed before each build): "
        f"DuckDB {st['duckdb']:.1f} s (peak {st['duckdb peak_gb']:.2f} GB)"
        + (
            f", Spark {st['spark']:.1f} s (peak {st['spark peak_gb']:.2f} GB)"
            if "spark" in st
            else ", Spark not measured in this run"
        )
        if "duckdb" in st
        else "Steady state (one long-running process) not measured in this run"
    )
    out += [
        "",
        steady + f"; plain DuckDB's query alone, after imports, {r['plain_inside']:.1f} s.",
        "",
        "| ratio (medians of this run) | value |",
        "|---|---:|",
        f"| cold `helsestat build` (DuckDB) / plain DuckDB | {cold['seconds'] / plain:.2f}× |",
        f"| the same in CPU seconds (less affected by the load) "
        f"| {cold['cpu'] / m['plain duckdb']['cpu']:.2f}× |",
    ]
    if "helsestat duckdb warm" in m:
        warm = m["helsestat duckdb warm"]["seconds"]
        out.append(f"| warm `helsestat build` (DuckDB) / plain DuckDB | {warm / plain:.3f}× |")
    if "duckdb" in st:
        out.append(
            f"| steady-state build (DuckDB) / plain DuckDB in-process | "
            f"{st['duckdb'] / r['plain_inside']:.2f}× |"
        )
    behind = []
    if cold["seconds"] > plain:
        behind.append(f"the cold DuckDB build takes {cold['seconds'] / plain:.2f}× plain DuckDB")
    if "helsestat spark cold" in m:
        spark = m["helsestat spark cold"]
        out.append(
            "| cold `helsestat build` (Spark local) / plain DuckDB "
            f"| {spark['seconds'] / plain:.2f}× |"
        )
        out.append(f"| Spark / DuckDB, cold builds | {spark['seconds'] / cold['seconds']:.2f}× |")
        if spark["seconds"] > plain:
            behind.append(f"Spark local mode {spark['seconds'] / plain:.2f}×")
    verdict = "met" if cold["peak_gb"] <= 2.0 else "NOT met"
    ten = lake["years"] == 10 and lake["stored"] >= 70_000_000
    out += [
        "",
        f"Target (issue 15): ten years (about 70 million episodes) on DuckDB within 2 GB: "
        f"peak {cold['peak_gb']:.2f} GB for {lake['stored']:,} episodes — {verdict}"
        + ("" if ten else " at this scale (not the full 70 million; see above)")
        + ".",
        "",
        "**Where helsestat is behind**: "
        + ("; ".join(behind) if behind else "nowhere in this run")
        + f". Load average at the end of the run: {r['load']:.1f} on {os.cpu_count()} cores.",
        "",
    ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    default = int(os.environ.get("HELSESTAT_BENCH_NPR_EPISODES", EPISODES))
    bench = sub.add_parser("run", help="every contender, interleaved; print the section")
    bench.add_argument("--scale", type=int, default=default, help="episodes in ten years")
    bench.add_argument("--repeat", type=int, default=3)
    bench.add_argument("--steady-repeat", type=int, default=2, help="0: no steady state")
    bench.add_argument("--no-spark", action="store_true")
    bench.add_argument("--spark-rounds", type=int, help="Spark in the first N rounds only")
    bench.add_argument("--no-spark-steady", action="store_true")
    bench.add_argument("--work", type=Path, default=Path("var/bench"))
    lake = sub.add_parser("lake", help="write the synthetic lake only")
    lake.add_argument("home", type=Path)
    lake.add_argument("--scale", type=int, default=default)
    plain = sub.add_parser("plain", help="(internal) plain DuckDB, one run")
    plain.add_argument("home", type=Path)
    plain.add_argument("--out", type=Path)
    checking = sub.add_parser("check", help="(internal) the cell-for-cell checks")
    checking.add_argument("home", type=Path)
    checking.add_argument("out", type=Path)
    checking.add_argument("releases", nargs="*")
    shown = sub.add_parser("section", help="the section of a result run wrote (JSON)")
    shown.add_argument("result", type=Path)
    shown.add_argument("--how", default="", help="the command that measured it")
    here = sub.add_parser("steady", help="(internal) the steady-state process")
    here.add_argument("home", type=Path)
    here.add_argument("engine", choices=["duckdb", "spark"])
    here.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if args.command == "lake":
        print(json.dumps(write_lake(args.home, LakeParams(args.scale), print)))
    elif args.command == "plain":
        print(json.dumps(_plain_here(args.home, args.out)))
    elif args.command == "check":
        done = {"plain": check(args.home, args.out)}
        if args.releases:
            done["spark"] = check_spark(args.home, *args.releases)
        print(json.dumps(done))
    elif args.command == "steady":
        print(json.dumps(_steady_here(args.home, args.engine, args.repeat)))
    elif args.command == "section":
        print("\n".join(section(json.loads(args.result.read_text()), args.how)))
    else:
        result = run(
            args.work,
            LakeParams(args.scale),
            args.repeat,
            steady_repeat=args.steady_repeat,
            spark=not args.no_spark,
            spark_rounds=args.spark_rounds,
            spark_steady=not args.no_spark_steady,
            progress=lambda s: print(s, file=sys.stderr),
        )
        command = (
            ".venv/bin/python -m benchmarks.bench_npr run "
            f"--scale {args.scale} --repeat {args.repeat} --steady-repeat {args.steady_repeat}"
            + (" --no-spark" if args.no_spark else "")
        )
        print("\n".join(section(result, command)))


if __name__ == "__main__":
    main()
