"""Synthetic KUHR-like reimbursement claims (SYNTHETIC DATA — no real person is in it).

One row is one takst line of a bill (regning). A bill has 1–3 distinct takster, one treater
(praksistype, fagområde, practice kommune) and one patient. Volumes follow the population of
each kommune in the structure valid on the date (2015 onward, across the 2020 and 2024
reforms); takster are Zipf-skewed within a fagområde; amounts come from the tariff list valid
on the date; a small share of rows is deliberately bad (one defect each) so that validation and
quarantine are exercised.

Everything is drawn as integer codes with numpy and turned into text once per batch with
Arrow compute (no Python loop over rows), so a batch of 500 000 lines takes a fraction of a
second and 100 million lines stream through in flat memory.

>>> batch = next(generate_claims(1000, seed=1))
>>> batch.num_rows, "pasient_id" in batch.schema.names
(1000, True)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.reference.geography import Geography, packaged_geography
from helsestat.reference.tariff_files import packaged_tariffs
from helsestat.reference.tariffs import TariffLists
from helsestat.synth.core import batch_rngs, zipf_weights
from helsestat.synth.people import People

FIRST_YEAR = 2015
LAST_YEAR = 2025
#: Claim lines per person and year: sets the default size of the synthetic population.
LINES_PER_PERSON_YEAR = 12
#: The largest synthetic population (about Norway's).
MAX_PERSONS = 5_600_000

#: Share of claim lines per fagområde, and the praksistyper used in each with their weights.
FAGOMRADER: dict[str, tuple[float, tuple[tuple[str, float], ...]]] = {
    "LE": (
        0.70,
        (
            ("FALE", 0.72),
            ("LEVA", 0.10),
            ("LEKO", 0.05),
            ("SPES", 0.04),
            ("SPIN", 0.03),
            ("SPGY", 0.02),
            ("SPHU", 0.02),
            ("FALO", 0.02),
        ),
    ),
    "FY": (0.15, (("FYNO", 0.75), ("FYMT", 0.15), ("FYPM", 0.05), ("FYKO", 0.05))),
    "PS": (0.05, (("PSNO", 0.85), ("PSNE", 0.15))),
    "KI": (0.04, (("KINO", 1.0),)),
    "TH": (0.03, (("TANN", 0.9), ("TAKJ", 0.1))),
    "JO": (0.02, (("JORD", 1.0),)),
    "LOGO": (0.01, (("LOGO", 1.0),)),
}

#: The defects written into bad rows; validation must quarantine each one.
DEFECTS = ("pasient_id", "takstkode", "kommune", "refusjon", "praksistype", "dato", "antall")

CLAIM_COLUMNS = (
    "regning_id",
    "behandlingsdato",
    "klokkeslett",
    "behandler_praksistype",
    "behandler_fagomraade",
    "behandler_kommunenr",
    "pasient_id",
    "pasient_kommunenr",
    "pasient_kjonn",
    "pasient_alder",
    "diagnose",
    "takstkode",
    "antall",
    "fritaksgrunn",
    "egenandel_betalt_av_pasient",
    "egenandel_dekket_av_folketrygden",
    "refusjon",
    "resultat",
)

_DIAGNOSER = ("R74", "A04", "L03", "P76", "K86", "T90", "R05", "L86", "P74", "A97", "Z06")
_FRITAK = ("", "B", "F")
_RESULTAT = ("godkjent", "avvist")
_KJONN = ("K", "M")
#: Values written by the defects that are not in any code list.
_BAD_TAKST, _BAD_KOMMUNE = "ZZ9", "9998"


@dataclass(frozen=True)
class _YearFrame:
    kommuner: np.ndarray  # indices into _Frame.kommuner
    weights: np.ndarray


@dataclass(frozen=True)
class _Frame:
    """Everything a batch draws from, as code arrays (built once per call)."""

    start: date
    n_days: int
    day_years: np.ndarray
    day_text: pa.Array
    kommuner: pa.Array  # text of every kommune of every year, then the bad code
    years: dict[int, _YearFrame]
    fags: tuple[str, ...]
    fag_weights: np.ndarray
    praksis: pa.Array  # text of every praksistype, in FAGOMRADER order
    praksis_of_fag: tuple[tuple[np.ndarray, np.ndarray], ...]  # (praksis indices, weights)
    takster: pa.Array  # text of every takstkode, then the bad code
    takster_of_fag: tuple[np.ndarray, ...]  # takst indices per fag, Zipf rank order
    refusjon_ore: np.ndarray  # (takst, day) → øre, 0 where no period is valid
    egenandel_ore: np.ndarray


def _frame(geo: Geography, tariffs: TariffLists, start: date, end: date) -> _Frame:
    n_days = (end - start).days + 1
    days = [start + timedelta(d) for d in range(n_days)]
    day_years = np.array([d.year for d in days])
    all_kommuner = sorted({k for y in np.unique(day_years) for k in geo.kommuner_valid_in(int(y))})
    index = {k: i for i, k in enumerate(all_kommuner)}
    years = {}
    for year in np.unique(day_years):
        codes = sorted(geo.kommuner_valid_in(int(year)))
        pops = np.array(
            [max(geo.population_estimate(k, int(year)), 50) for k in codes], dtype=np.float64
        )
        years[int(year)] = _YearFrame(np.array([index[k] for k in codes]), pops / pops.sum())
    fags = tuple(FAGOMRADER)
    praksis_names = [p for f in fags for p, _ in FAGOMRADER[f][1]]
    praksis_of_fag = []
    for f in fags:
        types, w = zip(*FAGOMRADER[f][1], strict=True)
        praksis_of_fag.append(
            (np.array([praksis_names.index(t) for t in types]), np.array(w) / sum(w))
        )
    takst_names: list[str] = []
    takster_of_fag = []
    by_code = tariffs.by_code
    for f in fags:
        codes = list(dict.fromkeys(t.takstkode for t in tariffs.takster if t.fagomraade == f))
        takster_of_fag.append(np.arange(len(takst_names), len(takst_names) + len(codes)))
        takst_names += codes
    refusjon = np.zeros((len(takst_names), n_days), dtype=np.int64)
    egenandel = np.zeros((len(takst_names), n_days), dtype=np.int64)
    for i, code in enumerate(takst_names):
        for t in by_code[code]:
            lo = max((t.fradato - start).days, 0)
            hi = min((t.tildato - start).days if t.tildato else n_days - 1, n_days - 1)
            if lo <= hi:
                refusjon[i, lo : hi + 1] = round(t.refusjon * 100)
                egenandel[i, lo : hi + 1] = round(t.egenandel * 100)
    return _Frame(
        start=start,
        n_days=n_days,
        day_years=day_years,
        day_text=pa.array([d.isoformat() for d in days], pa.string()),
        kommuner=pa.array([*all_kommuner, _BAD_KOMMUNE], pa.string()),
        years=years,
        fags=fags,
        fag_weights=np.array([FAGOMRADER[f][0] for f in fags]),
        praksis=pa.array(praksis_names, pa.string()),
        praksis_of_fag=tuple(praksis_of_fag),
        takster=pa.array([*takst_names, _BAD_TAKST], pa.string()),
        takster_of_fag=tuple(takster_of_fag),
        refusjon_ore=refusjon,
        egenandel_ore=egenandel,
    )


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _kroner(ore: np.ndarray) -> pa.Array:
    """Øre as kroner text with two decimals (``19400`` → ``"194.00"``), exactly. Amounts
    take few distinct values, so only those are formatted."""
    encoded = pc.dictionary_encode(pa.array(ore))
    values = np.asarray(encoded.dictionary.to_numpy())
    text = pc.binary_join_element_wise(
        _text(values // 100), pc.utf8_lpad(_text(values % 100), 2, "0"), "."
    )
    return text.take(encoded.indices)


def _fnr_text(numbers: np.ndarray) -> pa.Array:
    return pc.utf8_lpad(_text(numbers), 11, "0")


def _take(dictionary: pa.Array | tuple[str, ...], codes: np.ndarray) -> pa.Array:
    if isinstance(dictionary, tuple):
        dictionary = pa.array(dictionary, pa.string())
    return dictionary.take(pa.array(codes))


def generate_claims(
    rows: int,
    seed: int,
    *,
    first_year: int = FIRST_YEAR,
    last_year: int = LAST_YEAR,
    start: date | None = None,
    end: date | None = None,
    bad_share: float = 0.002,
    batch_rows: int = 500_000,
    persons: int | None = None,
    tariffs: TariffLists | None = None,
) -> Iterator[pa.RecordBatch]:
    """Yield batches of synthetic claim lines (all columns text, as in an extract file).

    Treatment dates are uniform from 1 January ``first_year`` to 31 December ``last_year``,
    or from ``start`` to ``end`` when given (e.g. one month, for a monthly extract). Patients
    come from a fixed synthetic population (:mod:`helsestat.synth.people`) of ``persons``
    persons, by default one per :data:`LINES_PER_PERSON_YEAR` lines a year; the same seed and
    ``persons`` give the same population, so separately generated extracts (one per month)
    share their patients. The takstkoder are those of ``tariffs`` (default: the packaged
    list; a list of the real one's size for benchmarks, e.g. from
    :func:`helsestat.synth.tariffs.generate_takstkoder`), Zipf-skewed within each fagområde.
    The same seed and arguments give the same rows."""
    geo = packaged_geography()
    first, last = start or date(first_year, 1, 1), end or date(last_year, 12, 31)
    frame = _frame(geo, tariffs or packaged_tariffs(), first, last)
    if persons is None:
        years = max((last - first).days + 1, 1) / 365.25
        persons = int(min(max(rows / (LINES_PER_PERSON_YEAR * years), 1), MAX_PERSONS))
    people = People.generate(geo, persons, np.random.default_rng([seed, persons, 0x9E09]))
    codes = frame.kommuner.to_pylist()[:-1]
    bill_base = 0
    for size, rng in batch_rngs(seed, rows, batch_rows):
        batch, n_bills = _batch(frame, size, rng, bill_base, bad_share, (geo, people, codes))
        bill_base += n_bills
        yield batch


def _batch(
    fr: _Frame,
    size: int,
    rng: np.random.Generator,
    bill_base: int,
    bad_share: float,
    population: tuple[Geography, People, list[str]],
) -> tuple[pa.RecordBatch, int]:
    # bills of 1-3 lines: draw bills until the batch is full
    lines_per_bill = rng.choice([1, 2, 3], size=size, p=[0.55, 0.3, 0.15])
    ends = np.cumsum(lines_per_bill)
    n_bills = int(np.searchsorted(ends, size) + 1)
    lines_per_bill = lines_per_bill[:n_bills]
    lines_per_bill[-1] -= int(ends[n_bills - 1] - size)
    bill_of_line = np.repeat(np.arange(n_bills), lines_per_bill)
    line_in_bill = np.arange(size) - np.repeat(
        np.cumsum(lines_per_bill) - lines_per_bill, lines_per_bill
    )

    # bill-level attributes, as codes
    day = rng.integers(0, fr.n_days, n_bills)
    year = fr.day_years[day]
    kommune = np.empty(n_bills, dtype=np.int64)
    for y in np.unique(year):
        sel = year == y
        yf = fr.years[int(y)]
        kommune[sel] = yf.kommuner[rng.choice(len(yf.kommuner), size=int(sel.sum()), p=yf.weights)]
    fag = rng.choice(len(fr.fags), size=n_bills, p=fr.fag_weights)
    praksis = np.empty(n_bills, dtype=np.int64)
    for i, (types, w) in enumerate(fr.praksis_of_fag):
        sel = fag == i
        praksis[sel] = types[rng.choice(len(types), size=int(sel.sum()), p=w)]
    geo, people, kommune_codes = population
    person = np.empty(n_bills, dtype=np.int64)
    pas_kommune = np.empty(n_bills, dtype=np.int64)
    for y in np.unique(year):
        sel = year == y
        person[sel] = people.draw(geo, int(y), kommune[sel], kommune_codes, rng)
        pas_kommune[sel] = people.residence(geo, int(y), kommune_codes)[person[sel]]
    pas_kommune = np.where(pas_kommune >= 0, pas_kommune, kommune)
    treated = np.datetime64(fr.start) + day.astype("timedelta64[D]")
    age_days = (treated - people.birth[person]).astype(np.int64)
    alder = np.clip((age_days / 365.25).astype(np.int64), 0, 104)
    pasient = people.fnr[person]
    kjonn = people.kjonn[person]
    fritak = np.where(alder < 16, 1, np.where(rng.random(n_bills) < 0.12, 2, 0))
    avvist = (rng.random(n_bills) >= 0.97).astype(np.int64)
    minute = rng.integers(7, 23, n_bills) * 60 + rng.integers(0, 60, n_bills)
    diagnose = rng.integers(0, len(_DIAGNOSER), n_bills)

    # line-level: distinct takster within a bill (Zipf rank offset by the line number)
    takst = np.empty(size, dtype=np.int64)
    antall = np.where(rng.random(size) < 0.9, 1, rng.integers(2, 5, size))
    line_fag = fag[bill_of_line]
    line_day = day[bill_of_line]
    for i, codes in enumerate(fr.takster_of_fag):
        sel = np.flatnonzero(line_fag == i)
        rank = rng.choice(len(codes), size=len(sel), p=zipf_weights(len(codes)))
        takst[sel] = codes[(rank + line_in_bill[sel]) % len(codes)]
    refusjon = fr.refusjon_ore[takst, line_day] * antall
    egenandel = fr.egenandel_ore[takst, line_day] * antall
    line_fritak = fritak[bill_of_line]
    ega_pas = np.where(line_fritak == 0, egenandel, 0)
    ega_ftr = egenandel - ega_pas

    # one defect in a share of the rows (they must end in quarantine)
    bad = np.flatnonzero(rng.random(size) < bad_share)
    kind = rng.integers(0, len(DEFECTS), len(bad))

    def rows_with(defect: str) -> np.ndarray:
        out = np.zeros(size, dtype=bool)
        out[bad[kind == DEFECTS.index(defect)]] = True
        return out

    line_kommune = kommune[bill_of_line]
    line_praksis = praksis[bill_of_line]
    spoil = rows_with("pasient_id")
    wrong_digit = pasient[bill_of_line[spoil]] % 10
    pasient_text = _take(_fnr_text(pasient), bill_of_line)
    if spoil.any():
        spoiled = pasient[bill_of_line[spoil]] - wrong_digit + (wrong_digit + 1) % 10
        pasient_text = pc.replace_with_mask(pasient_text, pa.array(spoil), _fnr_text(spoiled))
    takst = np.where(rows_with("takstkode"), len(fr.takster) - 1, takst)
    line_kommune = np.where(rows_with("kommune"), len(fr.kommuner) - 1, line_kommune)
    tann, fale = (fr.praksis.index(p).as_py() for p in ("TANN", "FALE"))
    wrong = np.where(line_fag == fr.fags.index("TH"), fale, tann)
    line_praksis = np.where(rows_with("praksistype"), wrong, line_praksis)
    antall = np.where(rows_with("antall"), 0, antall)
    dato = _take(fr.day_text, line_day)
    bad_date = pa.array(rows_with("dato"))
    dato = pc.if_else(
        bad_date,
        pc.binary_join_element_wise(pc.utf8_slice_codeunits(dato, 0, 5), "13-45", ""),
        dato,
    )
    refusjon_text = _kroner(refusjon)
    refusjon_text = pc.if_else(
        pa.array(rows_with("refusjon")),
        pc.binary_join_element_wise("-", refusjon_text, ""),
        refusjon_text,
    )

    cols: dict[str, pa.Array] = {
        "regning_id": _take(
            pc.binary_join_element_wise("R", _text(bill_base + np.arange(n_bills)), ""),
            bill_of_line,
        ),
        "behandlingsdato": dato,
        "klokkeslett": _clock(minute[bill_of_line]),
        "behandler_praksistype": _take(fr.praksis, line_praksis),
        "behandler_fagomraade": _take(fr.fags, line_fag),
        "behandler_kommunenr": _take(fr.kommuner, line_kommune),
        "pasient_id": pasient_text,
        "pasient_kommunenr": _take(fr.kommuner, pas_kommune[bill_of_line]),
        "pasient_kjonn": _take(_KJONN, kjonn[bill_of_line]),
        "pasient_alder": _take(_text(np.arange(105)), alder[bill_of_line]),
        "diagnose": _take(_DIAGNOSER, diagnose[bill_of_line]),
        "takstkode": _take(fr.takster, takst),
        "antall": _take(_text(np.arange(5)), antall),
        "fritaksgrunn": _take(_FRITAK, line_fritak),
        "egenandel_betalt_av_pasient": _kroner(ega_pas),
        "egenandel_dekket_av_folketrygden": _kroner(ega_ftr),
        "refusjon": refusjon_text,
        "resultat": _take(_RESULTAT, avvist[bill_of_line]),
    }
    return pa.record_batch([cols[c] for c in CLAIM_COLUMNS], names=list(CLAIM_COLUMNS)), n_bills


def _clock(minute: np.ndarray) -> pa.Array:
    """Minutes after midnight as ``HH:MM``."""
    table = pa.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)], pa.string())
    return table.take(pa.array(minute))
