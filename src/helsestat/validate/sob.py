"""The ``sob`` extract kind (1177 Stöd och behandling), its columns and rules.

One row is one status change of an ärende, as SOB's transaction log has it (seed 003): its
type and status, the time in Swedish local time, the process and moment, the vårdgivare and
vårdenhet by HSA-id, the vårdtagare's personnummer or samordningsnummer, kön and age, the
treaters' personal HSA-ids and, from March 2022, the reason for finishing. Every row is
checked against the unit registry's Swedish side on its date, as the reference snapshot
passed to the check holds it (:mod:`helsestat.reference.units.hsa`), and against the other
rows of its ärende: in this file, and the starts earlier batches stored.

``vardtagare_id`` and each ``behandlare_hsaid`` (treaters are persons) become keyed
pseudonyms on ingest; the columns keep their names, so a statistic reads the extract's own
columns. An unknown vårdtagare (empty) stays empty.

>>> print(SOB.describe().splitlines()[0])  # doctest: +ELLIPSIS
1177 Stöd och behandling events (sob): one row per line, ...
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.errors import ExtractError
from helsestat.reference.snapshot import Reference
from helsestat.validate.identifiers import luhn_check_digit
from helsestat.validate.local_time import days_in_month, parse_local_times
from helsestat.validate.sob_units import check_units
from helsestat.validate.spec import (
    Checked,
    Coded,
    Column,
    ExtractSpec,
    StoredRows,
    as_numpy,
    distinct_codes,
    fixed_width_digits,
    matches,
    parse_int,
)

#: Swedish local time: what ``tidpunkt`` is written in, and where "today" is.
ZONE = "Europe/Stockholm"
#: SOB data start here (seed 003: "Data visas för oktober 2015 och framåt").
FIRST_DAY = date(2015, 10, 1)
MAX_ALDER = 130
INPROGRESS, DONE = "Inprogress", "Done"
#: the treaters of an ärende are separated by this
TREATER_SEPARATOR = ";"
#: a personal HSA-id: SE, the issuer's organisation number, '-', then letters A–Z, a–z or
#: digits; 31 characters at most (Inera's rule for HSA-ids)
HSA_ID = r"SE\d{10}-[A-Za-z0-9]{1,18}"

COLUMNS = (
    Column("arende_id", "ärende id; the events of one ärende share it", "7310024"),
    Column("arendetyp", "ärende type: Process (counted) or another, e.g. Meddelande", "Process"),
    Column("status", "Inprogress, Done or another status (e.g. Paused)", "Inprogress"),
    Column(
        "tidpunkt",
        "time of the transaction, ISO 8601 in Swedish local time",
        "2024-03-18T10:15:00",
    ),
    Column("process_namn", "the programme (process)", "Sömnbesvär – KBT"),
    Column("moment_namn", "the step (moment) of the process", "Introduktion"),
    Column("vardgivare_hsaid", "the vårdgivare's HSA-id", "SE2321000016-VG"),
    Column("vardenhet_hsaid", "the vårdenhet's HSA-id, under the vårdgivare", "SE2321000016-E000"),
    Column(
        "vardtagare_id",
        "personnummer or samordningsnummer (12 digits), empty when unknown; "
        "pseudonymised on ingest",
        "12 digits",
    ),
    Column("kon", "kön: K, M or empty", "K"),
    Column("alder", "age in whole years as recorded, may be empty", "34"),
    Column(
        "behandlare_hsaid",
        "the treaters' personal HSA-ids, ';'-separated; pseudonymised on ingest",
        "SE2321000016-ab12;SE2321000016-cd34",
    ),
    Column(
        "avslutningsorsak",
        "reason for finishing, recorded from March 2022; empty before",
        "Genomförd",
        required=False,
    ),
)

RULES = (
    ("arende_id.missing", "arende_id is empty"),
    ("arendetyp.missing", "arendetyp is empty"),
    ("status.missing", "status is empty"),
    (
        "tidpunkt.invalid",
        "tidpunkt is not an ISO 8601 time YYYY-MM-DDTHH:MM[:SS[.f]] (optionally with an "
        "offset), or a Swedish local time skipped when the clocks go forward",
    ),
    ("tidpunkt.before_start", f"tidpunkt is before {FIRST_DAY}, when SOB data start"),
    (
        "tidpunkt.out_of_order",
        "tidpunkt is earlier than an event of the same ärende on an earlier line of the file",
    ),
    (
        "status.done_without_start",
        "a Done with no Inprogress of its ärende at or before its time, in the file or "
        "stored from an earlier file",
    ),
    (
        "vardgivare_hsaid.unknown",
        "no vårdgivare of the unit registry holds the HSA-id on the event's date",
    ),
    (
        "vardenhet_hsaid.unknown",
        "no vårdenhet of the unit registry holds the HSA-id on the event's date",
    ),
    (
        "vardenhet_hsaid.not_under_vardgivare",
        "the vårdenhet is not under vardgivare_hsaid on the event's date",
    ),
    (
        "vardtagare_id.invalid",
        "vardtagare_id is neither empty nor 12 digits YYYYMMDDNNNC of a date (day + 60 for "
        "a samordningsnummer) with a valid Luhn check digit",
    ),
    ("kon.invalid", "kon is not K, M or empty"),
    ("alder.invalid", f"alder is neither empty nor a whole number 0-{MAX_ALDER}"),
    (
        "behandlare_hsaid.invalid",
        "a ';'-separated part of behandlare_hsaid is not a personal HSA-id "
        "(SE, 10 digits, '-', 1-18 letters A-Z, a-z or digits)",
    ),
)

_EPOCH = date(1970, 1, 1)
_US = 1_000_000
_START_US = (FIRST_DAY - _EPOCH).days * 86_400 * _US


def _blank(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return as_numpy(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(col), ""), True)).astype(bool)


def _vardtagare_ok(values: pa.Array) -> np.ndarray:
    """Per distinct value: empty, or a personnummer/samordningsnummer of 12 digits."""
    empty = as_numpy(pc.equal(values, ""))
    shaped = matches(values, r"\d{12}")
    digits = fixed_width_digits(values, shaped, 12)
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month = digits[:, 4] * 10 + digits[:, 5]
    day = digits[:, 6] * 10 + digits[:, 7]
    day = np.where(day > 60, day - 60, day)  # samordningsnummer: day of birth + 60
    dated = (year >= 1870) & (month >= 1) & (month <= 12) & (day >= 1)
    dated &= day <= days_in_month(year, month)
    luhn = luhn_check_digit(digits[:, 2:11]) == digits[:, 11]
    out: np.ndarray = empty | (shaped & dated & luhn)
    return out


def _treaters_ok(values: pa.Array) -> np.ndarray:
    """Per distinct value: empty, or every ';'-separated part a personal HSA-id."""
    empty = as_numpy(pc.equal(pc.utf8_trim_whitespace(values), ""))
    parts = pc.split_pattern(values, TREATER_SEPARATOR)
    each = pc.utf8_trim_whitespace(parts.flatten())
    fits = matches(each, HSA_ID) & (as_numpy(pc.utf8_length(each)) <= 31)
    owner = as_numpy(pc.list_parent_indices(parts))
    bad = np.bincount(owner[~fits], minlength=len(values)) > 0
    out: np.ndarray = empty | ~bad
    return out


def _out_of_order(arende: np.ndarray, micros: np.ndarray, timed: np.ndarray) -> np.ndarray:
    """Rows earlier than an event of the same ärende on an earlier row (both with a time):
    the running maximum of each ärende's times, in file order, one vectorised pass."""
    out = np.zeros(len(arende), bool)
    rows = np.flatnonzero(timed)
    if not len(rows):
        return out
    order = rows[np.argsort(arende[rows], kind="stable")]  # by ärende, then file order
    group = arende[order]
    _, rank = np.unique(micros[order], return_inverse=True)
    # offset each ärende above the previous one so that one running maximum serves all
    base = np.cumsum(np.r_[0, group[1:] != group[:-1]]) * (int(rank.max()) + 2)
    value = base + rank + 1
    running = np.maximum.accumulate(value)
    before = np.r_[0, running[:-1]]
    start = np.r_[True, group[1:] != group[:-1]]
    before[start] = base[start]  # nothing before the first event of an ärende
    out[order] = value < before
    return out


def _check(t: pa.Table, reference: Reference) -> Checked:
    if not reference.hsa_as_of.table.num_rows:
        # every row would be quarantined for its units: refuse the file instead
        raise ExtractError(
            "ingest.no_swedish_units",
            "the unit registry holds no Swedish units (vårdgivare, vårdenheter with HSA-ids) "
            "to check vardgivare_hsaid and vardenhet_hsaid against; nothing was stored",
            hint="load the registry first ('helsestat units load-demo' for the demo tree, "
            "whose seed the synthetic data shares) and ingest again",
        )
    fail: dict[str, np.ndarray] = {}
    for name in ("arende_id", "arendetyp", "status"):
        fail[f"{name}.missing"] = _blank(t[name])

    times = parse_local_times(t["tidpunkt"], ZONE)
    fail["tidpunkt.invalid"] = ~times.ok
    fail["tidpunkt.before_start"] = times.ok & (times.micros < _START_US)
    arende_code, _ = distinct_codes(t["arende_id"])
    fail["tidpunkt.out_of_order"] = _out_of_order(
        arende_code, times.micros, times.ok & ~fail["arende_id.missing"]
    )

    units = check_units(
        times.days(), times.ok, t["vardgivare_hsaid"], t["vardenhet_hsaid"], reference.hsa_as_of
    )
    fail["vardgivare_hsaid.unknown"] = times.ok & ~units.vardgivare_known
    fail["vardenhet_hsaid.unknown"] = times.ok & ~units.vardenhet_known
    fail["vardenhet_hsaid.not_under_vardgivare"] = (
        units.vardgivare_known & units.vardenhet_known & ~units.under
    )

    code, values = distinct_codes(t["vardtagare_id"])
    fail["vardtagare_id.invalid"] = ~_vardtagare_ok(values)[code]
    code, values = distinct_codes(t["kon"])
    fail["kon.invalid"] = ~np.isin(np.asarray(values.to_pylist(), object), ["K", "M", ""])[code]
    alder_code, values = distinct_codes(t["alder"])
    alder_empty = as_numpy(pc.equal(values, ""))
    alder_ok = matches(values, r"\d{1,3}")
    alder_value = parse_int(values, alder_ok)
    alder_ok &= alder_value <= MAX_ALDER
    fail["alder.invalid"] = ~(alder_ok | alder_empty)[alder_code]
    code, values = distinct_codes(t["behandlare_hsaid"])
    fail["behandlare_hsaid.invalid"] = ~_treaters_ok(values)[code]

    stamps = times.timestamps()
    month = pc.add(pc.multiply(pc.year(stamps), 100), pc.month(stamps)).cast(pa.int32())
    alder = pa.array(alder_value.astype(np.int16), mask=~alder_ok).take(pa.array(alder_code))
    typed = pa.table(
        {
            "arende_id": t["arende_id"],
            "maned": month,
            "arendetyp": t["arendetyp"],
            "status": t["status"],
            "tidpunkt": stamps,
            "process_namn": t["process_namn"],
            "moment_namn": t["moment_namn"],
            "vardgivare_hsaid": t["vardgivare_hsaid"],
            "vardenhet_hsaid": t["vardenhet_hsaid"],
            "vardtagare_id": t["vardtagare_id"],
            "kon": t["kon"],
            "alder": alder,
            "behandlare_hsaid": t["behandlare_hsaid"],
            "avslutningsorsak": t["avslutningsorsak"],
        }
    )
    return Checked(typed=typed, failures=fail)


def _micros(stamps: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(stamps.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), np.int64)


def _first_starts(arende: np.ndarray, micros: np.ndarray, size: int) -> np.ndarray:
    """Per ärende code (0 … size - 1): the earliest of the start times given for it (a time
    after every other where it has none)."""
    first = np.full(size, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, arende, micros)
    return first


def _check_stored(typed: pa.Table, stored: StoredRows | None) -> dict[str, np.ndarray]:
    """``status.done_without_start``: a Done whose ärende has no Inprogress at or before its
    time, among the rows of the file (whatever their other reasons: a start quarantined
    for its kön is still a start) or the rows earlier batches stored."""
    arende, values = distinct_codes(typed["arende_id"])
    status = typed["status"]
    micros = _micros(typed["tidpunkt"])
    timed = as_numpy(typed["tidpunkt"].is_valid()) & as_numpy(pc.not_equal(typed["arende_id"], ""))
    done = np.flatnonzero(timed & as_numpy(pc.equal(status, DONE)))
    out = np.zeros(typed.num_rows, bool)
    if not len(done):
        return {"status.done_without_start": out}
    starts = np.flatnonzero(timed & as_numpy(pc.equal(status, INPROGRESS)))
    first = _first_starts(arende[starts], micros[starts], len(values))
    missing = done[first[arende[done]] > micros[done]]
    if len(missing) and stored is not None:
        ids = pc.unique(values.take(pa.array(arende[missing])))
        earlier = stored(
            ["arende_id", "tidpunkt"],
            {"arende_id": ids, "status": pa.array([INPROGRESS])},
        )
        if earlier.num_rows:
            known = as_numpy(pc.fill_null(pc.index_in(earlier["arende_id"], value_set=values), -1))
            have = known >= 0
            stored_micros = _micros(earlier["tidpunkt"])[have]
            first = np.minimum(first, _first_starts(known[have], stored_micros, len(values)))
            missing = done[first[arende[done]] > micros[done]]
    out[missing] = True
    return {"status.done_without_start": out}


SOB = ExtractSpec(
    kind="sob",
    title="1177 Stöd och behandling events",
    columns=COLUMNS,
    identifiers=("vardtagare_id", "behandlare_hsaid"),
    check=_check,
    check_stored=_check_stored,
    partition_column="maned",
    rules=RULES,
    # The units, processes and moments are what the statistic groups by: stored with
    # integer codes too; each month's file sorted so that a filter on the ärende type or
    # status reads whole row groups.
    coded=(
        Coded("vardgivare_hsaid"),
        Coded("vardenhet_hsaid"),
        Coded("process_namn"),
        Coded("moment_namn"),
    ),
    sort_by=("arendetyp", "status", "vardenhet_hsaid_kode"),
    not_after_today=("tidpunkt",),
    time_zone=ZONE,
    # a status change of an ärende at one time: delivered again, it is the same event
    line_key=("arende_id", "status", "tidpunkt"),
    reject_duplicates=True,
    identifier_lists=(("behandlare_hsaid", TREATER_SEPARATOR),),
    keep_identifier_names=True,
)


__all__ = ["COLUMNS", "FIRST_DAY", "HSA_ID", "RULES", "SOB", "ZONE"]
