"""The claims extract kind (KUHR-like reimbursement claims), its columns and rules.

One row is one takst line of a bill (seed 001: treater, patient, date and time, takster,
exemption reason, copays, refund and the case result). Every row is checked against the
reference registries valid on its treatment date, as the reference snapshot passed to the
check holds them (kommuner, fagområder, praksistyper, takstkoder).

>>> print(CLAIMS.describe().splitlines()[0])  # doctest: +ELLIPSIS
Reimbursement claims (claims): one row per line, ...
"""

from __future__ import annotations

import contextlib
import re
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.reference.snapshot import Reference
from helsestat.validate.spec import (
    Checked,
    Coded,
    Column,
    ExtractSpec,
    as_numpy,
    distinct_codes,
    fodselsnummer_ok,
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

_DATE = re.compile(r"(199\d|20\d\d)-\d\d-\d\d", re.ASCII)
_EPOCH = date(1970, 1, 1).toordinal()
_AMOUNTS = ("egenandel_betalt_av_pasient", "egenandel_dekket_av_folketrygden", "refusjon")
_STORED_AMOUNTS = {
    "egenandel_betalt_av_pasient": "egenandel_pasient_ore",
    "egenandel_dekket_av_folketrygden": "egenandel_folketrygd_ore",
    "refusjon": "refusjon_ore",
}


def _parse_dates(values: list[str]) -> np.ndarray:
    """Days since 1970-01-01 of ISO dates YYYY-MM-DD from 1990 to 2099; -1 where invalid
    (a rolled-over date such as 2024-02-30 is invalid)."""
    out = np.full(len(values), -1, dtype=np.int64)
    for i, value in enumerate(values):
        if _DATE.fullmatch(value):
            with contextlib.suppress(ValueError):  # a rolled-over date such as 02-30
                out[i] = date.fromisoformat(value).toordinal() - _EPOCH
    return out


def _check(t: pa.Table, reference: Reference) -> Checked:
    geo, tariffs = reference.geography, reference.tariffs
    n = t.num_rows
    fail: dict[str, np.ndarray] = {}
    fail["regning_id.missing"] = as_numpy(pc.equal(pc.utf8_trim_whitespace(t["regning_id"]), ""))

    date_code, date_values = distinct_codes(t["behandlingsdato"])
    value_days = _parse_dates(date_values.to_pylist())
    value_ok = value_days >= 0
    value_dates = pa.array(np.where(value_ok, value_days, 0).astype(np.int32), pa.date32())
    value_years = as_numpy(pc.year(value_dates)).astype(np.int64)
    value_months = as_numpy(pc.month(value_dates)).astype(np.int64)
    date_ok = value_ok[date_code]
    fail["behandlingsdato.invalid"] = ~date_ok
    years = value_years[date_code]

    kommune_code, kommune_values = distinct_codes(t["behandler_kommunenr"])
    kommune_text = np.asarray(kommune_values.to_pylist(), dtype=object)
    year_list = np.unique(value_years[value_ok])
    # valid[y, k]: kommune value k is valid in year_list[y]
    valid = np.zeros((max(len(year_list), 1), len(kommune_text)), dtype=bool)
    for y, year in enumerate(year_list):
        valid[y] = np.isin(kommune_text, np.array(sorted(geo.kommuner_valid_in(int(year)))))
    year_pos = np.clip(np.searchsorted(year_list, years), 0, max(len(year_list) - 1, 0))
    kommune_ok = valid[year_pos, kommune_code]
    fail["behandler_kommunenr.invalid"] = date_ok & ~kommune_ok

    fag_code, fag_values = distinct_codes(t["behandler_fagomraade"])
    fag_list = fag_values.to_pylist()
    fag_index = {f: i for i, f in enumerate(fag_list)}
    fail["behandler_fagomraade.unknown"] = ~np.array(
        [f in tariffs.fagomraader for f in fag_list], dtype=bool
    )[fag_code]
    praksis_code, praksis_values = distinct_codes(t["behandler_praksistype"])
    praksis_list = praksis_values.to_pylist()
    known_praksis = np.array([p in tariffs.praksistyper for p in praksis_list], dtype=bool)
    # the fag code of each praksistype's fagområde (-1: not in this extract)
    praksis_fag = np.array(
        [fag_index.get(tariffs.praksistyper.get(p, ""), -1) for p in praksis_list], np.int64
    )
    fail["behandler_praksistype.unknown"] = ~known_praksis[praksis_code]
    fail["behandler_praksistype.fagomraade_mismatch"] = known_praksis[praksis_code] & (
        praksis_fag[praksis_code] != fag_code
    )

    pid_code, pid_values = distinct_codes(t["pasient_id"])
    pid_ok = fodselsnummer_ok(pid_values)
    fail["pasient_id.invalid"] = ~pid_ok[pid_code]

    kjonn_code, kjonn_values = distinct_codes(t["pasient_kjonn"])
    fail["pasient_kjonn.invalid"] = ~np.isin(
        np.asarray(kjonn_values.to_pylist(), dtype=object), ["K", "M"]
    )[kjonn_code]
    alder_code, alder_values = distinct_codes(t["pasient_alder"])
    alder_ok = matches(alder_values, r"\d{1,3}")
    alder_value = parse_int(alder_values, alder_ok)
    alder_ok &= alder_value <= 120
    fail["pasient_alder.out_of_range"] = ~alder_ok[alder_code]

    takst_code, takst_values = distinct_codes(t["takstkode"])
    takst_list = takst_values.to_pylist()
    by_code = tariffs.by_code
    known = np.array([v in by_code for v in takst_list], dtype=bool)
    takst_fag = np.array(
        [fag_index.get(by_code[v][0].fagomraade, -1) if v in by_code else -2 for v in takst_list],
        dtype=np.int64,
    )
    # valid_on[takst value, date value]: a period of the takst covers the date
    valid_on = np.zeros((len(takst_list), len(value_days)), dtype=bool)
    for i in np.flatnonzero(known):
        for period in by_code[takst_list[i]]:
            lo = period.fradato.toordinal() - _EPOCH
            hi = period.tildato.toordinal() - _EPOCH if period.tildato else 1 << 30
            valid_on[i] |= (value_days >= lo) & (value_days <= hi)
    row_known = known[takst_code]
    fail["takstkode.unknown"] = ~row_known
    fail["takstkode.not_valid_on_date"] = row_known & date_ok & ~valid_on[takst_code, date_code]
    fail["takstkode.fagomraade_mismatch"] = row_known & (takst_fag[takst_code] != fag_code)

    antall_code, antall_values = distinct_codes(t["antall"])
    antall_ok = matches(antall_values, r"\d{1,3}")
    antall_value = parse_int(antall_values, antall_ok)
    antall_ok &= (antall_value >= 1) & (antall_value <= MAX_ANTALL)
    fail["antall.out_of_range"] = ~antall_ok[antall_code]

    amounts_ok = np.ones(n, dtype=bool)
    ore: dict[str, np.ndarray] = {}
    for col in _AMOUNTS:
        code, values = distinct_codes(t[col])
        ok = matches(values, r"\d{1,7}([.,]\d{1,2})?")
        value = parse_decimal(values, ok)
        ok &= value <= MAX_AMOUNT_KR
        amounts_ok &= ok[code]
        ore[col] = np.rint(value * 100).astype(np.int64)[code]
    fail["amount.out_of_range"] = ~amounts_ok
    resultat_code, resultat_values = distinct_codes(t["resultat"])
    fail["resultat.invalid"] = ~np.isin(
        np.asarray(resultat_values.to_pylist(), dtype=object), ["godkjent", "avvist"]
    )[resultat_code]

    typed = pa.table(
        {
            "regning_id": t["regning_id"],
            "maned": pa.array((value_years * 100 + value_months).astype(np.int32)[date_code]),
            "behandlingsdato": value_dates.take(pa.array(date_code)),
            "klokkeslett": t["klokkeslett"],
            "behandler_kommunenr": t["behandler_kommunenr"],
            "fagomraade": t["behandler_fagomraade"],
            "praksistype": t["behandler_praksistype"],
            "takstkode": t["takstkode"],
            "antall": pa.array(antall_value.astype(np.int32)[antall_code]),
            **{_STORED_AMOUNTS[c]: pa.array(ore[c]) for c in _AMOUNTS},
            "pasient_id": t["pasient_id"],
            "pasient_kommunenr": t["pasient_kommunenr"],
            "pasient_kjonn": t["pasient_kjonn"],
            "pasient_alder": pa.array(alder_value.astype(np.int16)[alder_code]),
            "diagnose": t["diagnose"],
            "fritaksgrunn": t["fritaksgrunn"],
            "resultat": t["resultat"],
        }
    )
    return Checked(typed=typed, failures=fail)


def _add_bill_counter(accepted: pa.Table) -> pa.Table:
    """Add ``regning_teller``: 1 on the first accepted line of each (bill, takstkode, result)
    in the file, else 0. Summing it counts bills per takst without a COUNT(DISTINCT) at build
    time (a bill lies in one file). It is computed on accepted rows only, so a quarantined
    first line does not make the bill vanish from the count."""
    out = np.zeros(accepted.num_rows, dtype=np.int8)
    if accepted.num_rows:
        key = np.zeros(accepted.num_rows, dtype=np.int64)
        for name in ("regning_id", "takstkode", "resultat"):
            code, values = distinct_codes(accepted[name])
            key = key * len(values) + code
        _, first = np.unique(key, return_index=True)  # first occurrence of each key
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
    # The treater's kommune, takst, fagområde and praksistype are what statistics group by:
    # stored with integer codes too, and each month's file sorted by result (a filter on it
    # then reads whole row groups as "all godkjent") and by those codes.
    coded=(
        Coded("behandler_kommunenr", digits=4),
        Coded("takstkode"),
        Coded("fagomraade"),
        Coded("praksistype"),
    ),
    not_after_today=("behandlingsdato",),
    # a claim line is one takst on one bill: delivered again, it is the same line
    line_key=("regning_id", "takstkode"),
    sort_by=(
        "resultat",
        "behandler_kommunenr_kode",
        "takstkode_kode",
        "fagomraade_kode",
        "praksistype_kode",
    ),
)
