"""The claims extract kind (KUHR-like reimbursement claims), its columns and rules.

One row is one takst line of a bill (seed 001: treater, patient, date and time, takster,
exemption reason, copays, refund and the case result). Every row is checked against the
reference registries valid on its treatment date.

>>> print(CLAIMS.describe().splitlines()[0])  # doctest: +ELLIPSIS
Reimbursement claims (claims): one row per line, ...
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.reference.geography import load_geography
from helsestat.reference.tariffs import load_tariffs
from helsestat.synth.claims import fnr_check_digits
from helsestat.validate.spec import (
    Checked,
    Column,
    ExtractSpec,
    fixed_width_digits,
    matches,
    parse_decimal,
    parse_int,
)

MAX_AMOUNT_KR = 1_000_000
MAX_ANTALL = 99

COLUMNS = (
    Column("regning_id", "bill id; the lines of one bill share it", "R1029384"),
    Column("behandlingsdato", "treatment date, YYYY-MM-DD", "2024-03-18"),
    Column("klokkeslett", "treatment time, HH:MM", "10:15", required=False),
    Column("behandler_praksistype", "treater's praksistype (KUHR code list)", "FALE"),
    Column("behandler_fagomraade", "treater's fagområde", "LE"),
    Column("behandler_kommunenr", "the practice's kommunenummer, valid on the date", "0301"),
    Column(
        "pasient_id",
        "patient's fødselsnummer or d-nummer (11 digits); pseudonymised on ingest",
        "11 digits",
    ),
    Column("pasient_kommunenr", "patient's residence kommunenummer", "0301", required=False),
    Column("pasient_kjonn", "patient's sex, K or M", "K"),
    Column("pasient_alder", "patient's age in whole years, 0-120", "47"),
    Column("diagnose", "diagnosis code (ICPC-2 or ICD-10)", "R74", required=False),
    Column("takstkode", "tariff code valid on the date for the fagområde", "2ad"),
    Column("antall", f"number of times the takst was used, 1-{MAX_ANTALL}", "1"),
    Column("fritaksgrunn", "exemption reason for the copay, empty if none", "F", required=False),
    Column("egenandel_betalt_av_pasient", "copay paid by the patient, kroner", "160.00"),
    Column(
        "egenandel_dekket_av_folketrygden",
        "copay covered by the national insurance, kroner",
        "0.00",
    ),
    Column("refusjon", "refund from the state to the treater, kroner", "194.00"),
    Column("resultat", "case result: godkjent or avvist", "godkjent"),
)

RULES = (
    ("regning_id.missing", "regning_id is empty"),
    ("behandlingsdato.invalid", "behandlingsdato is not a date YYYY-MM-DD from 1990 to 2099"),
    (
        "behandler_kommunenr.invalid",
        "behandler_kommunenr is not a kommune valid in the date's year",
    ),
    ("behandler_fagomraade.unknown", "behandler_fagomraade is not in the fagområde list"),
    ("behandler_praksistype.unknown", "behandler_praksistype is not in the praksistype list"),
    ("behandler_praksistype.fagomraade_mismatch", "the praksistype belongs to another fagområde"),
    ("pasient_id.invalid", "pasient_id is not a fødselsnummer or d-nummer with valid check digits"),
    ("pasient_kjonn.invalid", "pasient_kjonn is not K or M"),
    ("pasient_alder.out_of_range", "pasient_alder is not a whole number 0-120"),
    ("takstkode.unknown", "takstkode is not in the tariff list"),
    ("takstkode.not_valid_on_date", "takstkode has no period covering behandlingsdato"),
    ("takstkode.fagomraade_mismatch", "takstkode belongs to another fagområde"),
    ("antall.out_of_range", f"antall is not a whole number 1-{MAX_ANTALL}"),
    (
        "amount.out_of_range",
        f"an amount is not a number 0-{MAX_AMOUNT_KR} kroner with at most 2 decimals",
    ),
    ("resultat.invalid", "resultat is not godkjent or avvist"),
)

_AMOUNTS = ("egenandel_betalt_av_pasient", "egenandel_dekket_av_folketrygden", "refusjon")
_STORED_AMOUNTS = {
    "egenandel_betalt_av_pasient": "egenandel_pasient_ore",
    "egenandel_dekket_av_folketrygden": "egenandel_folketrygd_ore",
    "refusjon": "refusjon_ore",
}


def _np(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False))


def _check(t: pa.Table) -> Checked:
    geo, tariffs = load_geography(), load_tariffs()
    n = t.num_rows
    fail: dict[str, np.ndarray] = {}
    fail["regning_id.missing"] = _np(pc.equal(pc.utf8_trim_whitespace(t["regning_id"]), ""))

    date_ok = matches(t["behandlingsdato"], r"(19[9]\d|20\d\d)-\d\d-\d\d")
    dates = pc.strptime(
        pc.if_else(pa.array(date_ok), t["behandlingsdato"], "2000-01-01"),
        format="%Y-%m-%d",
        unit="s",
        error_is_null=True,
    )
    date_ok &= ~_np(pc.is_null(dates))
    dates = pc.cast(pc.fill_null(dates, pa.scalar(0, pa.timestamp("s"))), pa.date32())
    # strptime rolls 2024-02-30 over to March: a real date formats back to the same text
    date_ok &= _np(pc.equal(pc.strftime(dates, format="%Y-%m-%d"), t["behandlingsdato"]))
    fail["behandlingsdato.invalid"] = ~date_ok
    years = _np(pc.year(dates)).astype(np.int64)
    months = _np(pc.month(dates)).astype(np.int64)

    kommune = _np(t["behandler_kommunenr"]).astype(str)
    kommune_ok = np.zeros(n, dtype=bool)
    for y in np.unique(years[date_ok]):
        sel = date_ok & (years == y)
        kommune_ok[sel] = np.isin(kommune[sel], np.array(sorted(geo.kommuner_valid_in(int(y)))))
    fail["behandler_kommunenr.invalid"] = date_ok & ~kommune_ok

    fag = _np(t["behandler_fagomraade"]).astype(str)
    fail["behandler_fagomraade.unknown"] = ~np.isin(fag, np.array(sorted(tariffs.fagomraader)))
    praksis = _np(t["behandler_praksistype"]).astype(str)
    known_praksis = np.isin(praksis, np.array(sorted(tariffs.praksistyper)))
    fail["behandler_praksistype.unknown"] = ~known_praksis
    praksis_fag = (
        np.array([tariffs.praksistyper.get(p, "") for p in praksis], dtype=object)
        if n < 64
        else _lookup(praksis, tariffs.praksistyper)
    )
    fail["behandler_praksistype.fagomraade_mismatch"] = known_praksis & (praksis_fag != fag)

    pid_ok = matches(t["pasient_id"], r"\d{11}")
    digits = fixed_width_digits(t["pasient_id"], pid_ok, 11)
    k1, k2, possible = fnr_check_digits(digits[:, :9])
    day = digits[:, 0] * 10 + digits[:, 1]
    month = digits[:, 2] * 10 + digits[:, 3]
    plausible = (
        (((day >= 1) & (day <= 31)) | ((day >= 41) & (day <= 71))) & (month >= 1) & (month <= 12)
    )
    pid_ok &= possible & (k1 == digits[:, 9]) & (k2 == digits[:, 10]) & plausible
    fail["pasient_id.invalid"] = ~pid_ok

    fail["pasient_kjonn.invalid"] = ~np.isin(
        _np(t["pasient_kjonn"]).astype(str), np.array(["K", "M"])
    )
    alder_ok = matches(t["pasient_alder"], r"\d{1,3}")
    alder = parse_int(t["pasient_alder"], alder_ok)
    alder_ok &= alder <= 120
    fail["pasient_alder.out_of_range"] = ~alder_ok

    takst = _np(t["takstkode"]).astype(str)
    by_code = tariffs.by_code
    known = np.isin(takst, np.array(sorted(by_code)))
    valid_date = np.zeros(n, dtype=bool)
    takst_fag = np.full(n, "", dtype=object)
    day_num = _np(pc.cast(dates, pa.int32())).astype(np.int64)
    epoch = date(1970, 1, 1)
    for code in np.unique(takst[known]):
        sel = takst == code
        takst_fag[sel] = by_code[str(code)][0].fagomraade
        for period in by_code[str(code)]:
            lo = (period.fradato - epoch).days
            hi = (period.tildato - epoch).days if period.tildato else 1 << 30
            valid_date[sel & (day_num >= lo) & (day_num <= hi)] = True
    fail["takstkode.unknown"] = ~known
    fail["takstkode.not_valid_on_date"] = known & date_ok & ~valid_date
    fail["takstkode.fagomraade_mismatch"] = known & (takst_fag != fag)

    antall_ok = matches(t["antall"], r"\d{1,3}")
    antall = parse_int(t["antall"], antall_ok)
    antall_ok &= (antall >= 1) & (antall <= MAX_ANTALL)
    fail["antall.out_of_range"] = ~antall_ok

    amounts_ok = np.ones(n, dtype=bool)
    ore: dict[str, np.ndarray] = {}
    for col in _AMOUNTS:
        ok = matches(t[col], r"\d{1,7}([.,]\d{1,2})?")
        value = parse_decimal(t[col], ok)
        ok &= value <= MAX_AMOUNT_KR
        amounts_ok &= ok
        ore[col] = np.rint(value * 100).astype(np.int64)
    fail["amount.out_of_range"] = ~amounts_ok
    fail["resultat.invalid"] = ~np.isin(
        _np(t["resultat"]).astype(str), np.array(["godkjent", "avvist"])
    )

    typed = pa.table(
        {
            "regning_id": t["regning_id"],
            "maned": pa.array((years * 100 + months).astype(np.int32)),
            "behandlingsdato": dates,
            "klokkeslett": t["klokkeslett"],
            "behandler_kommunenr": t["behandler_kommunenr"],
            "fagomraade": t["behandler_fagomraade"],
            "praksistype": t["behandler_praksistype"],
            "takstkode": t["takstkode"],
            "antall": pa.array(antall.astype(np.int32)),
            **{_STORED_AMOUNTS[c]: pa.array(ore[c]) for c in _AMOUNTS},
            "pasient_id": t["pasient_id"],
            "pasient_kommunenr": t["pasient_kommunenr"],
            "pasient_kjonn": t["pasient_kjonn"],
            "pasient_alder": pa.array(alder.astype(np.int16)),
            "diagnose": t["diagnose"],
            "fritaksgrunn": t["fritaksgrunn"],
            "resultat": t["resultat"],
        }
    )
    return Checked(typed=typed, failures=fail)


def _lookup(values: np.ndarray, mapping: dict[str, str]) -> np.ndarray:
    uniq, inv = np.unique(values, return_inverse=True)
    mapped = np.array([mapping.get(str(u), "") for u in uniq], dtype=object)
    return mapped[inv]


def _add_bill_counter(accepted: pa.Table) -> pa.Table:
    """Add ``regning_teller``: 1 on the first accepted line of each (bill, takstkode, result)
    in the file, else 0. Summing it counts bills per takst without a COUNT(DISTINCT) at build
    time (a bill lies in one file). It is computed on accepted rows only, so a quarantined
    first line does not make the bill vanish from the count."""
    key = np.char.add(
        np.char.add(
            np.char.add(_np(accepted["regning_id"]).astype(str), "\x1f"),
            _np(accepted["takstkode"]).astype(str),
        ),
        np.char.add("\x1f", _np(accepted["resultat"]).astype(str)),
    )
    out = np.zeros(accepted.num_rows, dtype=np.int8)
    if accepted.num_rows:
        _, first = np.unique(key, return_index=True)
        out[first] = 1
    return accepted.append_column("regning_teller", pa.array(out))


CLAIMS = ExtractSpec(
    kind="claims",
    title="Reimbursement claims",
    columns=COLUMNS,
    identifiers=("pasient_id",),
    check=_check,
    partition_column="maned",
    rules=RULES,
    finish=_add_bill_counter,
)
