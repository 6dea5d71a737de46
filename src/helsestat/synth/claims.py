"""Synthetic KUHR-like reimbursement claims (SYNTHETIC DATA — no real person is in it).

One row is one takst line of a bill (regning). A bill has 1–3 distinct takster, one treater
(praksistype, fagområde, practice kommune) and one patient. Volumes follow the population of
each kommune in the structure valid on the date (2015 onward, across the 2020 and 2024
reforms); takster are Zipf-skewed within a fagområde; amounts come from the tariff list valid
on the date; a small share of rows is deliberately bad (one defect each) so that validation and
quarantine are exercised.

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

from helsestat.reference.geography import Geography, load_geography
from helsestat.reference.tariffs import Tariffs, load_tariffs
from helsestat.synth.core import batch_rngs, zipf_weights

FIRST_YEAR = 2015
LAST_YEAR = 2025

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

_DIAGNOSER = np.array(["R74", "A04", "L03", "P76", "K86", "T90", "R05", "L86", "P74", "A97", "Z06"])

_W1 = np.array([3, 7, 6, 1, 8, 9, 4, 5, 2])
_W2 = np.array([5, 4, 3, 2, 7, 6, 5, 4, 3, 2])


def fnr_check_digits(nine: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check digits k1, k2 of fødselsnummer (mod 11) for an (n, 9) digit array, and a mask
    of the rows where a valid number exists (a remainder of 10 makes it impossible)."""
    k1 = (11 - (nine @ _W1) % 11) % 11
    ten = np.concatenate([nine, k1[:, None]], axis=1)
    k2 = (11 - (ten @ _W2) % 11) % 11
    return k1, k2, (k1 != 10) & (k2 != 10)


def make_fnr(rng: np.random.Generator, birth: np.ndarray, d_number: np.ndarray) -> np.ndarray:
    """Valid fødselsnummer (or d-nummer: day + 40) for birth dates given as numpy datetime64[D]."""
    n = len(birth)
    years = birth.astype("datetime64[Y]").astype(int) + 1970
    months = birth.astype("datetime64[M]").astype(int) % 12 + 1
    days = (birth - birth.astype("datetime64[M]")).astype(int) + 1 + np.where(d_number, 40, 0)
    # individnummer 500-749 covers 1854-1899, 000-499 1900-1999, 500-999 2000-2039
    out = np.empty(n, dtype=object)
    todo = np.arange(n)
    while len(todo):
        y = years[todo]
        lo = np.where(y >= 2000, 500, 0)
        hi = np.where(y >= 2000, 999, 499)
        ind = rng.integers(lo, hi + 1)
        digits = np.stack(
            [
                days[todo] // 10,
                days[todo] % 10,
                months[todo] // 10,
                months[todo] % 10,
                (y % 100) // 10,
                y % 10,
                ind // 100,
                (ind // 10) % 10,
                ind % 10,
            ],
            axis=1,
        )
        k1, k2, ok = fnr_check_digits(digits)
        full = np.concatenate([digits, k1[:, None], k2[:, None]], axis=1)[ok]
        out[todo[ok]] = ["".join(map(str, row)) for row in full]
        todo = todo[~ok]
    return out.astype(str)


@dataclass(frozen=True)
class _YearFrame:
    kommuner: np.ndarray
    weights: np.ndarray


def _year_frames(geo: Geography) -> dict[int, _YearFrame]:
    frames = {}
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        codes = sorted(geo.kommuner_valid_in(year))
        pops = np.array(
            [max(geo.population_estimate(k, year), 50) for k in codes], dtype=np.float64
        )
        frames[year] = _YearFrame(np.array(codes), pops / pops.sum())
    return frames


def _price_table(
    tariffs: Tariffs, fag: str
) -> tuple[list[str], dict[str, list[tuple[date, date, float, float]]]]:
    codes = [t.takstkode for t in tariffs.takster if t.fagomraade == fag]
    codes = list(dict.fromkeys(codes))
    periods = {
        c: [
            (t.fradato, t.tildato or date(2100, 1, 1), t.refusjon, t.egenandel)
            for t in tariffs.by_code[c]
        ]
        for c in codes
    }
    return codes, periods


def generate_claims(
    rows: int,
    seed: int,
    *,
    first_year: int = FIRST_YEAR,
    last_year: int = LAST_YEAR,
    bad_share: float = 0.002,
    batch_rows: int = 500_000,
) -> Iterator[pa.RecordBatch]:
    """Yield batches of synthetic claim lines (all columns text, as in an extract file)."""
    geo, tariffs = load_geography(), load_tariffs()
    frames = _year_frames(geo)
    start, end = date(first_year, 1, 1), date(last_year, 12, 31)
    n_days = (end - start).days + 1
    day_strings = np.array([(start + timedelta(d)).isoformat() for d in range(n_days)])
    day_years = np.array([(start + timedelta(d)).year for d in range(n_days)])
    fags = list(FAGOMRADER)
    fag_w = np.array([FAGOMRADER[f][0] for f in fags])
    prices = {f: _price_table(tariffs, f) for f in fags}
    bill_base = 0
    for size, rng in batch_rngs(seed, rows, batch_rows):
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

        # bill-level attributes
        day = rng.integers(0, n_days, n_bills)
        year = day_years[day]
        kommune = np.empty(n_bills, dtype=object)
        for y in np.unique(year):
            sel = year == y
            fr = frames[int(y)]
            kommune[sel] = fr.kommuner[
                rng.choice(len(fr.kommuner), size=int(sel.sum()), p=fr.weights)
            ]
        fag_i = rng.choice(len(fags), size=n_bills, p=fag_w)
        praksis = np.empty(n_bills, dtype=object)
        for i, f in enumerate(fags):
            sel = fag_i == i
            types, w = zip(*FAGOMRADER[f][1], strict=True)
            praksis[sel] = np.array(types)[
                rng.choice(len(types), size=int(sel.sum()), p=np.array(w) / sum(w))
            ]
        alder = np.clip(rng.gamma(4.0, 11.0, n_bills).astype(int), 0, 104)
        birth = (
            np.datetime64(start)
            + day.astype("timedelta64[D]")
            - (alder * 365.25 + rng.integers(0, 365, n_bills)).astype("timedelta64[D]")
        )
        pasient = make_fnr(rng, birth, rng.random(n_bills) < 0.03)
        kjonn = np.where(rng.random(n_bills) < 0.54, "K", "M")
        pas_kommune = np.where(
            rng.random(n_bills) < 0.9, kommune, kommune[rng.permutation(n_bills)]
        )
        fritak = np.where(alder < 16, "B", np.where(rng.random(n_bills) < 0.12, "F", ""))
        godkjent = np.where(rng.random(n_bills) < 0.97, "godkjent", "avvist")
        time = np.char.add(
            np.char.zfill(rng.integers(7, 23, n_bills).astype(str), 2),
            np.char.add(":", np.char.zfill(rng.integers(0, 60, n_bills).astype(str), 2)),
        )
        diagnose = _DIAGNOSER[rng.integers(0, len(_DIAGNOSER), n_bills)]

        # line-level: distinct takster within a bill (Zipf rank offset by the line number)
        takst = np.empty(size, dtype=object)
        refusjon = np.zeros(size)
        egenandel = np.zeros(size)
        antall = np.where(rng.random(size) < 0.9, 1, rng.integers(2, 5, size))
        line_fag = fag_i[bill_of_line]
        line_day = day[bill_of_line]
        for i, f in enumerate(fags):
            sel = np.flatnonzero(line_fag == i)
            codes, periods = prices[f]
            rank = rng.choice(len(codes), size=len(sel), p=zipf_weights(len(codes)))
            rank = (rank + line_in_bill[sel]) % len(codes)
            takst[sel] = np.array(codes)[rank]
            for j, code in enumerate(codes):
                rows_j = sel[rank == j]
                if not len(rows_j):
                    continue
                d = np.datetime64(start) + line_day[rows_j].astype("timedelta64[D]")
                for fra, til, ref, ega in periods[code]:
                    hit = (d >= np.datetime64(fra)) & (d <= np.datetime64(til))
                    refusjon[rows_j[hit]] = ref
                    egenandel[rows_j[hit]] = ega
        refusjon *= antall
        egenandel *= antall
        line_fritak = fritak[bill_of_line]
        ega_pas = np.where(line_fritak == "", egenandel, 0.0)
        ega_ftr = egenandel - ega_pas

        cols: dict[str, np.ndarray] = {
            "regning_id": np.char.add("R", (bill_base + bill_of_line).astype(str)),
            "behandlingsdato": day_strings[line_day],
            "klokkeslett": time[bill_of_line],
            "behandler_praksistype": praksis[bill_of_line].astype(str),
            "behandler_fagomraade": np.array(fags)[line_fag],
            "behandler_kommunenr": kommune[bill_of_line].astype(str),
            "pasient_id": pasient[bill_of_line],
            "pasient_kommunenr": pas_kommune[bill_of_line].astype(str),
            "pasient_kjonn": kjonn[bill_of_line],
            "pasient_alder": alder[bill_of_line].astype(str),
            "diagnose": diagnose[bill_of_line],
            "takstkode": takst.astype(str),
            "antall": antall.astype(str),
            "fritaksgrunn": line_fritak,
            "egenandel_betalt_av_pasient": np.char.mod("%.2f", ega_pas),
            "egenandel_dekket_av_folketrygden": np.char.mod("%.2f", ega_ftr),
            "refusjon": np.char.mod("%.2f", refusjon),
            "resultat": godkjent[bill_of_line],
        }
        _spoil(cols, rng, bad_share)
        bill_base += n_bills
        yield pa.record_batch({c: pa.array(cols[c], pa.string()) for c in CLAIM_COLUMNS})


def _spoil(cols: dict[str, np.ndarray], rng: np.random.Generator, share: float) -> None:
    """Give a share of the rows exactly one defect each (they must end in quarantine)."""
    n = len(cols["regning_id"])
    bad = np.flatnonzero(rng.random(n) < share)
    kinds = rng.integers(0, len(DEFECTS), len(bad))
    for row, kind in zip(bad, kinds, strict=True):
        defect = DEFECTS[kind]
        if defect == "pasient_id":
            pid = cols["pasient_id"][row]
            cols["pasient_id"][row] = pid[:10] + str((int(pid[10]) + 1) % 10)
        elif defect == "takstkode":
            cols["takstkode"][row] = "ZZ9"
        elif defect == "kommune":
            cols["behandler_kommunenr"][row] = "9998"
        elif defect == "refusjon":
            cols["refusjon"][row] = "-" + cols["refusjon"][row].lstrip("-")
        elif defect == "praksistype":
            cols["behandler_praksistype"][row] = (
                "TANN" if cols["behandler_fagomraade"][row] != "TH" else "FALE"
            )
        elif defect == "dato":
            cols["behandlingsdato"][row] = cols["behandlingsdato"][row][:5] + "13-45"
        else:
            cols["antall"][row] = "0"
