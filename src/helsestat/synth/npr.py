"""SYNTHETIC NPR-like episodes (``npr_episode``) at the units of the demo unit registry —
SYNTHETIC DATA: no real person, unit below HF or episode is in it.

The units are those of the demo plan of the same seed (:func:`helsestat.synth.units.
generate_unit_plan`, as ``helsestat demo`` and ``helsestat units load-demo`` load it), with
the ids the registry gives them (:func:`~helsestat.reference.units.loader.plan_histories`):
every unit with a sector — the Norwegian behandlingssteder, klinikker and avdelinger of all
HF, the private rehabilitation institutions, the fødestuer and the behandlingssted that
changes HF on 2024-07-01 — reports on days when it is open for the whole month.

Documented parameters (module constants):

- **sector shares** (:data:`SECTOR_SHARES`): somatikk 75 %, phv 10 %, phbu 5 %, tsb 5 %,
  rehab 5 % of the episodes;
- **contact types** (:data:`CONTACT_SHARES`): about 6 outpatient contacts per stay
  (rehabilitation institutions: stays only);
- **lengths of stay** (:data:`STAY_MEDIAN_DAYS`): log-normal, median somatikk 3 days,
  phv 14, phbu 10, tsb 10, rehab 21 (spread :data:`STAY_SIGMA`);
- **volumes**: within a sector, a unit's share is its HF's catchment population
  (the 2024 population of the HF's SKDE area) shared among the HF's units of the sector;
- **patients** (:class:`~helsestat.synth.people.People`, a quarter as many as episodes,
  with skewed activity so patients return): 90 % of a unit's episodes are of patients
  living in its HF's catchment area (:data:`LOCAL_SHARE`; KLASS 629 of 2024, by bydel in the
  four cities, the private ideelle hospitals' areas counted as :data:`PRIVATE_AREA_HF`'s), the
  rest from anywhere (flows between HF areas); phbu's patients are children; a bydel for
  Oslo, Bergen, Stavanger and Trondheim (5 % without, :data:`NO_BYDEL_SHARE`);
- **bad rows**: a share ``bad_share`` (default 1 %), one :data:`DEFECTS` each, in turn —
  every quarantine rule of the kind that one row can break.

Vectorised with numpy and pyarrow: a million rows take a few seconds.

>>> rows = pa.Table.from_batches(generate_npr(2_000, seed=3, labels=True))
>>> rows.num_rows, rows.schema.names[-1]
(2000, 'defect')
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.errors import InputError
from helsestat.reference.geography import packaged_geography
from helsestat.reference.units.loader import plan_histories
from helsestat.reference.units.plan import UnitPlan
from helsestat.reference.units.resh import resh_units
from helsestat.synth.core import BATCH_ROWS
from helsestat.synth.people import People
from helsestat.synth.units import HOSPITAL_TRUST_AREAS, area_kommuner, generate_unit_plan
from helsestat.validate.npr import COLUMNS, _overlap_in_file
from helsestat.validate.npr_place import area_lookup

#: The HF (organisation number) whose patients the residents of the private ideelle
#: hospitals' catchment areas in Oslo are, in the synthetic data: Oslo universitetssykehus.
PRIVATE_AREA_HF = "993467049"
#: The columns written, in order (the kind's columns).
NPR_COLUMNS = tuple(c.name for c in COLUMNS)
SECTOR_SHARES: dict[str, float] = {
    "somatikk": 0.75,
    "phv": 0.10,
    "phbu": 0.05,
    "tsb": 0.05,
    "rehab": 0.05,
}
#: (døgnopphold, dagbehandling, poliklinisk kontakt) shares outside rehabilitation
#: institutions (which have stays only): with those stays, about 6 outpatient contacts per
#: stay, as in Norway (about 6 million contacts and 1 million stays a year).
CONTACT_SHARES = (0.085, 0.09, 0.825)
STAY_MEDIAN_DAYS: dict[str, float] = {
    "somatikk": 3,
    "phv": 14,
    "phbu": 10,
    "tsb": 10,
    "rehab": 21,
}
STAY_SIGMA = 0.8
LOCAL_SHARE = 0.9
NO_BYDEL_SHARE = 0.05
#: Patients per episode in the pool (the rest of the episodes are returns).
PATIENTS_PER_EPISODE = 0.25
FIRST_YEAR, LAST_YEAR = 2023, 2025
#: (condition codes, fagområde codes) per sector.
CODES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "somatikk": (
        ("I21.0", "J18.9", "S72.0", "K35.8", "C50.9", "O80", "Z00.0", "M17.1", "I50.9", "N39"),
        ("MED", "KIR", "ORT", "GYN", "BAR"),
    ),
    "phv": (("F32.1", "F33.1", "F20.0", "F41.1", "F43.1"), ("PSV",)),
    "phbu": (("F90.0", "F32.1", "F84.0", "F41.1", "F50.0"), ("PBU",)),
    "tsb": (("F10.2", "F11.2", "F12.2", "F19.2"), ("TSB",)),
    "rehab": (("Z50.8", "S72.0", "I63.9", "G35"), ("REH",)),
}
_SECTORS = tuple(SECTOR_SHARES)
_KONTAKT = ("dogn", "dag", "poliklinisk")
_MIN = 60  # seconds


@dataclass(frozen=True)
class Defect:
    """A deliberate defect of a bad row and the rules it must be quarantined for."""

    name: str
    rules: tuple[str, ...]


DEFECTS = (
    Defect("episode_missing", ("episode_id.missing",)),
    Defect("resh_invalid", ("resh_id.invalid",)),
    Defect("resh_unknown", ("resh_id.unknown",)),
    Defect("resh_not_open", ("resh_id.not_open",)),
    Defect("resh_no_sector", ("resh_id.no_sector",)),
    Defect("inn_invalid", ("inn.invalid",)),
    Defect("ut_invalid", ("ut.invalid",)),
    Defect("ut_before_inn", ("ut.before_inn",)),
    Defect("kontakttype_invalid", ("kontakttype.invalid",)),
    Defect("spans_days", ("kontakttype.spans_days",)),
    Defect("rehab_not_stay", ("kontakttype.rehab_not_stay",)),
    Defect("pasient_check_digit", ("pasient_id.invalid",)),
    Defect("kommune_invalid", ("bostedskommune.invalid",)),
    Defect("bydel_invalid", ("bydel.invalid",)),
    Defect("kjonn_invalid", ("kjonn.invalid",)),
    Defect("alder_invalid", ("alder.invalid",)),
    Defect("hovedtilstand_invalid", ("hovedtilstand.invalid",)),
    Defect("fagomrade_missing", ("fagomrade.missing",)),
    Defect("finansiering_invalid", ("finansiering.invalid",)),
    Defect("future", ("inn.future", "ut.future")),
    Defect("duplicate", ("row.duplicate",)),
    Defect("overlap", ("opphold.overlap",)),
)


@dataclass(frozen=True)
class _Units:
    """The reporting units' placing pieces: unit id, first and last+1 day, sector, HF id
    (-1: none), and per HF id its catchment population."""

    unit: np.ndarray
    start: np.ndarray
    end: np.ndarray
    sector: np.ndarray
    hf: np.ndarray
    population: dict[int, float]
    rehab_units: np.ndarray
    no_sector_unit: int
    #: a somatic unit that never closes (where the defect dated in the future reports)
    open_unit: int


@cache
def _units(seed: int) -> tuple[UnitPlan, dict[str, int], _Units]:
    plan = generate_unit_plan(seed, institutions=True)
    ids, histories = plan_histories(plan)
    norwegian = {ids[u.key]: histories[ids[u.key]] for u in plan.units if u.country == "NO"}
    placing = resh_units(norwegian).placing
    fields = {u.key: u for u in plan.units}
    kinds = {ids[k]: u.kind for k, u in fields.items()}
    rows = [
        r
        for r in placing.to_pylist()
        if r["sector"] is not None
        and kinds[r["unit_id"]] in ("behandlingssted", "klinikk", "avdeling")
    ]
    epoch = date(1970, 1, 1)

    def day(d: date | None) -> int:
        return (d - epoch).days if d is not None else 1 << 30

    geo = packaged_geography()
    areas = area_kommuner()
    population: dict[int, float] = {}
    for orgnr, area in HOSPITAL_TRUST_AREAS.items():
        if orgnr in ids and area:
            population[ids[orgnr]] = float(
                sum(geo.population(k, 2024) or 0 for k in areas.get(area, ()))
            )
    hf_unit = next(ids[k] for k, u in fields.items() if u.kind == "hf" and u.country == "NO")
    return (
        plan,
        ids,
        _Units(
            unit=np.array([r["unit_id"] for r in rows], np.int64),
            start=np.array([day(r["valid_from"]) for r in rows], np.int64),
            end=np.array([day(r["valid_to"]) for r in rows], np.int64),
            sector=np.array([r["sector"] for r in rows], object),
            hf=np.array([r["hf_id"] if r["hf_id"] is not None else -1 for r in rows], np.int64),
            population=population,
            rehab_units=np.array(
                sorted({r["unit_id"] for r in rows if r["sector"] == "rehab"}), np.int64
            ),
            no_sector_unit=hf_unit,
            open_unit=next(
                r["unit_id"] for r in rows if r["valid_to"] is None and r["sector"] == "somatikk"
            ),
        ),
    )


def _months(first_year: int, last_year: int) -> list[tuple[int, int]]:
    """(first day, last day + 1) of each month, as days after 1970-01-01."""
    out = []
    for y in range(first_year, last_year + 1):
        for m in range(1, 13):
            a = np.datetime64(f"{y}-{m:02d}-01", "D").astype(np.int64)
            b = (np.datetime64(f"{y}-{m:02d}", "M") + 1).astype("datetime64[D]").astype(np.int64)
            out.append((int(a), int(b)))
    return out


def _person_bydel(people: People, home: int, parts: tuple[str, ...]) -> np.ndarray:
    """The bydel of each person living in the city ``people.home[home]`` (positions into
    ``parts``): a person keeps one bydel in every episode."""
    persons = np.flatnonzero(people.home_of == home)
    return (people.pick[persons] * len(parts)).astype(np.int64) % len(parts)


def _person_hf(people: People, ids: dict[str, int]) -> np.ndarray:
    """Per person, the id of the HF whose catchment area (KLASS 629, 2024) they live in, by
    bydel in the four cities; the areas of the private ideelle hospitals (no units in the
    demo registry) count as :data:`PRIVATE_AREA_HF`'s; -1 where no area is known."""
    from helsestat.reference.seed import packaged_reference

    lookup = area_lookup(packaged_reference(), 629, 2024)

    def hf_id(area: str | None) -> int:
        orgnr = lookup.hf.get(area or "", "")
        return ids.get(orgnr, ids.get(PRIVATE_AREA_HF, -1) if orgnr else -1)

    of_home = np.array([hf_id(lookup.area(k, "")) for k in people.home], np.int64)
    out: np.ndarray = of_home[people.home_of]
    for city, parts in _bydeler().items():
        if city in people.home:
            home = people.home.index(city)
            part_hf = np.array([hf_id(lookup.area(city, b)) for b in parts], np.int64)
            out[people.home_of == home] = part_hf[_person_bydel(people, home, parts)]
    return out


@cache
def _bydeler() -> dict[str, tuple[str, ...]]:
    """Kommune (2024 code) → its bydel codes (KLASS 103, as the packaged reference has it)."""
    from helsestat.reference.seed import packaged_reference

    version = packaged_reference().registry.version_at(103, date(2024, 1, 1))
    out: dict[str, list[str]] = {}
    for c in version.codes:
        out.setdefault(c.code[:4], []).append(c.code)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _kommune_codes(year: int) -> dict[str, str]:
    """2024 kommune → the code of the same place valid in ``year``."""
    from helsestat.synth.units import kommune_history

    geo = packaged_geography()
    valid = geo.kommuner_valid_in(year)
    out: dict[str, str] = {}
    for code in geo.kommuner_valid_in(2024):
        if code in valid:
            out[code] = code
            continue
        found = kommune_history(code, year)
        out[code] = found[year] if found else code
    return out


def _text(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values, pa.int64()), pa.string()), width, "0")


def _times(seconds: np.ndarray) -> pa.Array:
    stamps = pa.array(seconds, pa.int64()).cast(pa.timestamp("s"))
    return pc.strftime(stamps, format="%Y-%m-%dT%H:%M")


def generate_npr(
    episodes: int,
    seed: int,
    *,
    first_year: int = FIRST_YEAR,
    last_year: int = LAST_YEAR,
    bad_share: float = 0.01,
    batch_rows: int = BATCH_ROWS,
    labels: bool = False,
) -> Iterator[pa.RecordBatch]:
    """Yield batches of ``episodes`` SYNTHETIC episodes (every column text,
    :data:`NPR_COLUMNS`) from ``first_year`` to ``last_year``, sorted by ``ut``, at the units
    of the demo registry of ``seed``. A share ``bad_share`` is bad, one :data:`DEFECTS` each
    in turn; ``labels`` adds a last column ``defect`` (empty on normal rows). The same
    arguments give the same rows."""
    if episodes < 0 or not 0 <= bad_share < 0.5 or batch_rows < 1 or first_year > last_year:
        raise InputError(
            "input.synthetic_arguments",
            f"cannot generate {episodes} NPR episodes from {first_year} to {last_year} with "
            f"bad_share {bad_share} in batches of {batch_rows}",
            hint="use episodes >= 0, first_year <= last_year, 0 <= bad_share < 0.5 and "
            "batch_rows >= 1",
        )
    if episodes == 0:
        return
    table = _generate(episodes, seed, first_year, last_year, bad_share, labels)
    yield from table.to_batches(max_chunksize=batch_rows)


def _generate(
    n: int, seed: int, first_year: int, last_year: int, bad_share: float, labels: bool
) -> pa.Table:
    _plan, ids, units = _units(seed)
    rng = np.random.default_rng([seed, 0x4E5052])
    months = _months(first_year, last_year)
    # sector, month, then a unit open all month, weighted by its HF's population
    sector_i = rng.choice(len(_SECTORS), size=n, p=list(SECTOR_SHARES.values()))
    month_i = rng.integers(0, len(months), n)
    unit = np.full(n, -1, np.int64)
    hf = np.full(n, -1, np.int64)
    day = np.zeros(n, np.int64)
    for s, sector in enumerate(_SECTORS):
        in_sector = units.sector == sector
        for m, (a, b) in enumerate(months):
            rows = np.flatnonzero((sector_i == s) & (month_i == m))
            if not len(rows):
                continue
            ok = np.flatnonzero(in_sector & (units.start <= a) & (units.end >= b))
            if not len(ok):
                continue
            hfs = units.hf[ok]
            share = np.array([units.population.get(int(h), 0.0) for h in hfs])
            count = {int(h): int((hfs == h).sum()) for h in np.unique(hfs)}
            weight = share / np.array([count[int(h)] for h in hfs])
            weight = np.where(weight > 0, weight, max(weight.max(initial=0.0), 1.0) / 10)
            pick = ok[rng.choice(len(ok), size=len(rows), p=weight / weight.sum())]
            unit[rows], hf[rows] = units.unit[pick], units.hf[pick]
            day[rows] = rng.integers(a, b, len(rows))
    if (unit < 0).any():  # pragma: no cover - every sector has a unit open every month
        raise InputError(
            "input.synthetic_arguments",
            f"the demo registry of seed {seed} has no unit open for some sector and month "
            f"from {first_year} to {last_year}",
            hint="choose years from 2015 on",
        )
    sector_of = np.asarray(_SECTORS, object)[sector_i]
    # contact type and times (whole minutes, 07:00-20:59: never an hour the clocks skip)
    kontakt = rng.choice(3, size=n, p=list(CONTACT_SHARES))
    kontakt[sector_of == "rehab"] = 0
    medians = np.array([STAY_MEDIAN_DAYS[s] for s in _SECTORS])[sector_i]
    stay = np.floor(rng.lognormal(np.log(medians), STAY_SIGMA)).astype(np.int64)
    stay = np.where(kontakt == 0, np.minimum(stay, 365), 0)
    out_min = rng.integers(8 * 60, 20 * 60, n)
    in_min = rng.integers(7 * 60, 15 * 60, n)
    same_day_in = np.minimum(in_min, out_min - 120)
    ut_s = (day * 1440 + out_min) * _MIN
    inn_s = np.where(
        kontakt == 0,
        ((day - stay) * 1440 + np.where(stay == 0, same_day_in, in_min)) * _MIN,
        (day * 1440 + in_min) * _MIN,
    )
    ut_s = np.where(kontakt == 0, ut_s, inn_s + rng.integers(20, 240, n) * _MIN)
    # patients: local to the unit's HF area (90 %), or anyone; phbu: children
    geo = packaged_geography()
    people = People.generate(geo, max(int(n * PATIENTS_PER_EPISODE), 1000), rng)
    person_hf = _person_hf(people, ids)
    kids_row = sector_of == "phbu"
    patient = np.zeros(n, np.int64)
    local = (rng.random(n) < LOCAL_SHARE) & (hf >= 0)
    child = (np.datetime64("2024-01-01") - people.birth).astype(np.int64) < 17 * 365

    def draw(rows: np.ndarray, pool: np.ndarray) -> None:
        if len(rows) and len(pool):
            weight = np.cumsum(people.activity[pool])
            found = np.searchsorted(weight, rng.random(len(rows)) * weight[-1])
            patient[rows] = pool[np.minimum(found, len(pool) - 1)]

    for kids in (False, True):
        everyone = np.flatnonzero(child == kids)
        draw(np.flatnonzero(~local & (kids_row == kids)), everyone)
        for h in np.unique(hf[local]):
            pool = np.flatnonzero((child == kids) & (person_hf == h))
            rows = np.flatnonzero(local & (hf == h) & (kids_row == kids))
            draw(rows, pool if len(pool) else everyone)
    # no two stays of one patient at one unit overlap: a stay that would becomes a day
    # treatment on its discharge day
    # persons are told apart by fødselsnummer (two persons of the pool may share one)
    person = np.unique(people.fnr, return_inverse=True)[1].reshape(-1)
    stays = np.flatnonzero(kontakt == 0)
    group = person[patient[stays]] * (int(unit.max(initial=0)) + 2) + (unit[stays] + 1)
    clash = stays[_overlap_in_file(group, inn_s[stays], ut_s[stays])]
    rehab_row = sector_of == "rehab"
    while len(clash):
        # a rehabilitation institution has stays only: its clash goes to another patient
        again = clash[rehab_row[clash]]
        patient[again] = rng.integers(0, len(people.home_of), len(again))
        shift = clash[~rehab_row[clash]]
        kontakt[shift] = 1
        inn_s[shift] = (day[shift] * 1440 + same_day_in[shift]) * _MIN
        ut_s[shift] = inn_s[shift] + 90 * _MIN
        stays = np.flatnonzero(kontakt == 0)
        group = person[patient[stays]] * (int(unit.max(initial=0)) + 2) + (unit[stays] + 1)
        clash = stays[_overlap_in_file(group, inn_s[stays], ut_s[stays])]
    # kommune of the year of ut, bydel in the cities
    ut_year = (ut_s // 86_400).astype("datetime64[D]").astype("datetime64[Y]").astype(
        np.int64
    ) + 1970
    home = np.asarray(people.home, object)[people.home_of[patient]]
    kommune = home.copy()
    for year in range(first_year, last_year + 1):
        rows = np.flatnonzero(ut_year == year)
        codes = _kommune_codes(year)
        kommune[rows] = np.array([codes.get(k, k) for k in home[rows]], object)
    bydel = np.full(n, "", object)
    for city, parts in _bydeler().items():
        rows = np.flatnonzero(home == city)
        # the person's own bydel (the one their local HF was chosen by)
        drawn = np.asarray(parts, object)[
            (people.pick[patient[rows]] * len(parts)).astype(np.int64) % len(parts)
        ]
        bydel[rows] = np.where(rng.random(len(rows)) < NO_BYDEL_SHARE, "", drawn)
    birth_days = people.birth.astype(np.int64)[patient]
    alder = ((day - birth_days) // 365.25).astype(np.int64).clip(0, 120)
    kjonn = np.where(people.kjonn[patient] == 1, "1", "2")
    tilstand = np.empty(n, object)
    fag = np.empty(n, object)
    for sector, (conditions, fields) in CODES.items():
        rows = np.flatnonzero(sector_of == sector)
        tilstand[rows] = np.asarray(conditions, object)[rng.integers(0, len(conditions), len(rows))]
        fag[rows] = np.asarray(fields, object)[rng.integers(0, len(fields), len(rows))]
    isf = rng.random(n) < np.where(sector_of == "rehab", 0.3, 0.9)
    order = np.argsort(ut_s, kind="stable")
    table = pa.table(
        {
            "episode_id": pc.binary_join_element_wise(
                "E", _text(np.arange(1, n + 1) + seed * 10_000_000_000, 9), ""
            ),
            "resh_id": pc.cast(pa.array(unit, pa.int64()), pa.string()),
            "inn": _times(inn_s),
            "ut": _times(ut_s),
            "kontakttype": pa.array(np.asarray(_KONTAKT, object)[kontakt], pa.string()),
            "pasient_id": _text(people.fnr[patient], 11),
            "bostedskommune": pa.array(kommune, pa.string()),
            "bydel": pa.array(bydel, pa.string()),
            "kjonn": pa.array(kjonn, pa.string()),
            "alder": pc.cast(pa.array(alder, pa.int64()), pa.string()),
            "hovedtilstand": pa.array(tilstand, pa.string()),
            "fagomrade": pa.array(fag, pa.string()),
            "finansiering": pa.array(np.where(isf, "ISF", "annen"), pa.string()),
        }
    ).take(pa.array(order))
    return _with_defects(table, rng, bad_share, labels, units)


def _with_defects(
    table: pa.Table, rng: np.random.Generator, bad_share: float, labels: bool, units: _Units
) -> pa.Table:
    """The table with ``bad_share`` of its rows made bad, one defect each in turn (rows that
    copy another copy one earlier in the file)."""
    n = table.num_rows
    bad = np.zeros(n, bool)
    count = round(n * bad_share)
    label = np.full(n, "", object)
    if count:
        # rows of rehabilitation institutions are left alone: a defect that makes a row an
        # outpatient contact would break their rule too
        resh = np.asarray(pc.cast(table.column("resh_id"), pa.int64()).to_numpy(), np.int64)
        other = np.flatnonzero(~np.isin(resh, units.rehab_units))
        other = other[other > 0]
        chosen = np.sort(rng.choice(other, size=min(count, len(other)), replace=False))
        bad[chosen] = True
        rows = table.take(pa.array(chosen)).to_pylist()
        kontakt = np.asarray(table.column("kontakttype").to_numpy(zero_copy_only=False), object)
        # what a duplicate or an overlap copies: a good row before it
        stays = np.flatnonzero((kontakt == "dogn") & ~bad)
        visits = np.flatnonzero((kontakt == "poliklinisk") & ~bad)
        rehab = int(units.rehab_units[0]) if len(units.rehab_units) else None
        for j, (at, row) in enumerate(zip(chosen, rows, strict=True)):
            defect = DEFECTS[j % len(DEFECTS)].name
            if defect == "rehab_not_stay" and rehab is None:
                defect = "kjonn_invalid"
            rows[j] = _break(defect, row, table, at, stays, visits, rehab, units)
            label[at] = defect
        fixed = pa.Table.from_pylist(rows, schema=table.schema)
        good = table.filter(pa.array(~bad))
        position = np.r_[np.flatnonzero(~bad), chosen]
        table = pa.concat_tables([good, fixed]).take(pa.array(np.argsort(position, kind="stable")))
    if labels:
        table = table.append_column("defect", pa.array(label, pa.string()))
    return table


def _break(
    defect: str,
    row: dict[str, str],
    table: pa.Table,
    at: int,
    stays: np.ndarray,
    visits: np.ndarray,
    rehab: int | None,
    units: _Units,
) -> dict[str, str]:
    """One row made bad by ``defect`` (see :data:`DEFECTS`)."""
    same_day = row["ut"][:10] + "T09:00", row["ut"][:10] + "T10:00"
    if defect == "episode_missing":
        row["episode_id"] = ""
    elif defect == "resh_invalid":
        row["resh_id"] = "12a"
    elif defect == "resh_unknown":
        row["resh_id"] = "999999999"
    elif defect == "resh_not_open":
        # before the unit opened (every demo unit opened after 2002)
        row.update(inn="2001-06-01T09:00", ut="2001-06-01T10:00", kontakttype="poliklinisk")
        row.update(bostedskommune="0301", bydel="")
    elif defect == "resh_no_sector":
        row["resh_id"] = str(units.no_sector_unit)
    elif defect == "inn_invalid":
        row["inn"] = row["ut"][:4] + "-02-30T10:00"
    elif defect == "ut_invalid":
        row["ut"] = f"{row['ut'][8:10]}.{row['ut'][5:7]}.{row['ut'][:4]}"
    elif defect == "ut_before_inn":
        row.update(kontakttype="poliklinisk", inn=same_day[1], ut=same_day[0])
    elif defect == "kontakttype_invalid":
        row["kontakttype"] = "ambulant"
    elif defect == "spans_days":
        row.update(kontakttype="poliklinisk", inn=row["inn"][:10] + "T09:00")
        day = np.datetime64(row["inn"][:10]) - 1
        row["inn"] = f"{day}T15:00"
        row["ut"] = row["ut"][:10] + "T09:30"
    elif defect == "rehab_not_stay":
        row.update(resh_id=str(rehab), kontakttype="poliklinisk", inn=same_day[0], ut=same_day[1])
    elif defect == "pasient_check_digit":
        pid = row["pasient_id"]
        row["pasient_id"] = pid[:10] + str((int(pid[10]) + 1) % 10)
    elif defect == "kommune_invalid":
        row.update(bostedskommune="9999", bydel="")
    elif defect == "bydel_invalid":
        row.update(bostedskommune="0301", bydel="460101")
    elif defect == "kjonn_invalid":
        row["kjonn"] = "K"
    elif defect == "alder_invalid":
        row["alder"] = "abc"
    elif defect == "hovedtilstand_invalid":
        row["hovedtilstand"] = "21I"
    elif defect == "fagomrade_missing":
        row["fagomrade"] = ""
    elif defect == "finansiering_invalid":
        row["finansiering"] = "privat"
    elif defect == "future":
        # a contact after any day of ingest
        row.update(kontakttype="poliklinisk", inn="2099-01-04T09:00", ut="2099-01-04T10:00")
        row.update(bostedskommune="0301", bydel="")
        row["resh_id"] = str(units.open_unit)
    elif defect == "duplicate":
        earlier = visits[visits < at]
        if len(earlier):
            return dict(table.slice(int(earlier[-1]), 1).to_pylist()[0])
        row["kjonn"] = "K"
    elif defect == "overlap":
        earlier = stays[stays < at]
        if len(earlier):
            source = dict(table.slice(int(earlier[-1]), 1).to_pylist()[0])
            inn = np.datetime64(source["inn"]) + np.timedelta64(1, "m")
            source["episode_id"] = row["episode_id"] + "X"
            source["inn"] = str(inn)[:16]
            return source
        row["kjonn"] = "K"
    return row


__all__ = ["CODES", "DEFECTS", "NPR_COLUMNS", "SECTOR_SHARES", "Defect", "generate_npr"]
