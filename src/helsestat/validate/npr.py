"""The ``npr_episode`` extract kind (Norsk pasientregister-like activity), its columns and
rules.

One row is one episode — an opphold (døgnopphold or dagbehandling) or a poliklinisk
kontakt — reported by a unit under its RESH id (the unit registry's id): when the patient
came in and went out, the contact type, the patient's fødselsnummer or d-nummer (a keyed
pseudonym on ingest), bostedskommune and bydel, kjønn, alder, the hovedtilstand (ICD-10),
fagområde and financing. Every row is checked against the unit registry on the date of
``ut`` (the episode date: stays are counted by discharge) and placed there
(:mod:`helsestat.validate.npr_place`): the stored row carries its behandlingssted, HF, RHF,
sector, SSB selection and the patient's catchment area, the columns the statistic groups
by (see docs/extracts/npr_episode.md for the contract).

Overlapping stays of one patient at one unit are quarantined, the later one: in the file,
and against the stays earlier batches stored (compared by pseudonym).

>>> print(NPR_EPISODE.describe().splitlines()[0])  # doctest: +ELLIPSIS
NPR episodes (npr_episode): one row per line, ...
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.errors import ExtractError
from helsestat.reference.snapshot import Reference
from helsestat.validate.local_time import parse_local_times
from helsestat.validate.npr_place import catchment, place_units
from helsestat.validate.spec import (
    Checked,
    Column,
    ExtractSpec,
    StoredRows,
    as_numpy,
    distinct_codes,
    fodselsnummer_ok,
    matches,
    parse_int,
)

#: Norwegian local time: what ``inn`` and ``ut`` are written in, and where "today" is.
ZONE = "Europe/Oslo"
MAX_ALDER = 130
KONTAKTTYPER = ("dogn", "dag", "poliklinisk")
KJONN = ("1", "2")
FINANSIERING = ("ISF", "annen")
#: ICD-10 shape: a letter, two digits, then optionally '.' and up to two more characters.
ICD10 = r"[A-Z][0-9]{2}(\.?[0-9A-Z]{1,2})?"
#: Kommuner with bydeler (2024 codes and earlier: Bergen 1201, Trondheim 5001/1601,
#: Stavanger 1103): a bydel is the kommune's code and two digits.
BYDEL_KOMMUNER = frozenset({"0301", "4601", "1201", "1103", "5001", "1601"})
#: Age groups of the statistic: (first age, label).
ALDERSGRUPPER = (
    (0, "0-17"),
    (18, "18-29"),
    (30, "30-49"),
    (50, "50-66"),
    (67, "67-79"),
    (80, "80+"),
)

COLUMNS = (
    Column("episode_id", "episode id, unique per reporting unit", "E20240318-0001"),
    Column("resh_id", "RESH id of the reporting unit (the unit registry's id)", "100231"),
    Column("inn", "date and time in, ISO 8601 Norwegian local time", "2024-03-18T10:15"),
    Column("ut", "date and time out, ISO 8601 Norwegian local time", "2024-03-21T12:00"),
    Column("kontakttype", "dogn (døgnopphold), dag (dagbehandling) or poliklinisk", "dogn"),
    Column(
        "pasient_id",
        "patient's fødselsnummer or d-nummer (11 digits); pseudonymised on ingest",
        "11 digits",
    ),
    Column("bostedskommune", "patient's kommunenummer, valid in the year of ut", "4601"),
    Column(
        "bydel",
        "patient's bydel (6 digits) in Oslo, Bergen, Stavanger or Trondheim, else empty",
        "460101",
        required=False,
    ),
    Column("kjonn", "1 mann, 2 kvinne", "2"),
    Column("alder", f"age in whole years, 0-{MAX_ALDER}", "47"),
    Column("hovedtilstand", "main condition, ICD-10 (letter, 2 digits, optional .xx)", "I21.0"),
    Column("fagomrade", "fagområde code of the treating unit", "MED"),
    Column("finansiering", "ISF or annen", "ISF"),
)

RULES = (
    ("episode_id.missing", "episode_id is empty"),
    ("resh_id.invalid", "resh_id is not a whole number"),
    ("resh_id.unknown", "no unit of the registry has the RESH id"),
    ("resh_id.not_open", "the unit is not open in the registry on the date of ut"),
    (
        "resh_id.no_sector",
        "the unit has no sector on the date of ut (an RHF, HF or a place whose departments "
        "carry the sector): report under a clinical unit",
    ),
    (
        "inn.invalid",
        "inn is not an ISO 8601 time YYYY-MM-DDTHH:MM[:SS] (or a Norwegian local time "
        "skipped when the clocks go forward)",
    ),
    ("ut.invalid", "ut is not an ISO 8601 time (as inn)"),
    ("ut.before_inn", "ut is before inn"),
    ("kontakttype.invalid", "kontakttype is not dogn, dag or poliklinisk"),
    (
        "kontakttype.spans_days",
        "a dagbehandling or poliklinisk kontakt whose inn and ut lie on different days",
    ),
    (
        "kontakttype.rehab_not_stay",
        "a rehabilitation unit (sector rehab) reports anything but a døgnopphold",
    ),
    (
        "pasient_id.invalid",
        "pasient_id is not a fødselsnummer or d-nummer with valid check digits",
    ),
    ("bostedskommune.invalid", "bostedskommune is not a kommune valid in the year of ut"),
    (
        "bydel.invalid",
        "bydel is neither empty nor 6 digits starting with the bostedskommune of a kommune "
        "with bydeler",
    ),
    ("kjonn.invalid", "kjonn is not 1 or 2"),
    ("alder.invalid", f"alder is not a whole number 0-{MAX_ALDER}"),
    ("hovedtilstand.invalid", "hovedtilstand does not have the shape of an ICD-10 code"),
    ("fagomrade.missing", "fagomrade is empty"),
    ("finansiering.invalid", "finansiering is not ISF or annen"),
    (
        "opphold.overlap",
        "a døgnopphold of the patient at the same unit overlaps an earlier one (in the file, "
        "or stored from an earlier file); the later one is quarantined",
    ),
)

_DAY_US = 86_400 * 1_000_000


def _one_of(col: pa.ChunkedArray, allowed: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the value is one of ``allowed``; and the codes per row."""
    code, values = distinct_codes(col)
    ok = np.isin(np.asarray(values.to_pylist(), object), list(allowed))
    return ok[code], code


def _kommune_valid(
    reference: Reference, years: np.ndarray, dated: np.ndarray, kommune: pa.ChunkedArray
) -> np.ndarray:
    code, values = distinct_codes(kommune)
    text = np.asarray(values.to_pylist(), object)
    year_list = np.unique(years[dated])
    valid = np.zeros((max(len(year_list), 1), len(text)), dtype=bool)
    geo = reference.geography
    for y, year in enumerate(year_list):
        valid[y] = np.isin(text, np.array(sorted(geo.kommuner_valid_in(int(year))), object))
    pos = np.clip(np.searchsorted(year_list, years), 0, max(len(year_list) - 1, 0))
    out: np.ndarray = dated & valid[pos, code]
    return out


def aldersgruppe(alder: np.ndarray) -> pa.Array:
    """The age group label of each age.

    >>> aldersgruppe(np.array([0, 17, 18, 66, 67, 80])).to_pylist()
    ['0-17', '0-17', '18-29', '50-66', '67-79', '80+']
    """
    firsts = np.array([a for a, _ in ALDERSGRUPPER])
    index = np.searchsorted(firsts, alder, side="right") - 1
    labels = pa.array([label for _, label in ALDERSGRUPPER], pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int32)), labels).cast(
        pa.string()
    )


def _check(t: pa.Table, reference: Reference) -> Checked:
    if not reference.resh_as_of.placing.num_rows:
        raise ExtractError(
            "ingest.no_norwegian_units",
            "the unit registry holds no Norwegian units to place the episodes' resh_id "
            "against; nothing was stored",
            hint="load the registry first ('helsestat units load-demo' for the demo tree, "
            "whose seed the synthetic data shares) and ingest again",
        )
    n = t.num_rows
    fail: dict[str, np.ndarray] = {}
    fail["episode_id.missing"] = as_numpy(
        pc.fill_null(pc.equal(pc.utf8_trim_whitespace(t["episode_id"]), ""), True)
    ).astype(bool)

    resh_code, resh_values = distinct_codes(t["resh_id"])
    resh_ok_v = matches(resh_values, r"[0-9]{1,15}")
    resh_v = parse_int(resh_values, resh_ok_v)
    resh_ok, resh = resh_ok_v[resh_code], resh_v[resh_code]
    fail["resh_id.invalid"] = ~resh_ok

    inn = parse_local_times(t["inn"], ZONE)
    ut = parse_local_times(t["ut"], ZONE)
    fail["inn.invalid"] = ~inn.ok
    fail["ut.invalid"] = ~ut.ok
    both = inn.ok & ut.ok
    fail["ut.before_inn"] = both & (ut.micros < inn.micros)

    kontakt_ok, _ = _one_of(t["kontakttype"], KONTAKTTYPER)
    fail["kontakttype.invalid"] = ~kontakt_ok
    kontakt = t["kontakttype"]
    dogn = as_numpy(pc.fill_null(pc.equal(kontakt, "dogn"), False)).astype(bool)
    dag = as_numpy(pc.fill_null(pc.equal(kontakt, "dag"), False)).astype(bool)
    poli = as_numpy(pc.fill_null(pc.equal(kontakt, "poliklinisk"), False)).astype(bool)
    inn_day, ut_day = inn.days(), ut.days()
    fail["kontakttype.spans_days"] = both & (dag | poli) & (inn_day != ut_day)

    placed = place_units(resh, resh_ok & ut.ok, ut_day, reference)
    sector = placed.columns["sektor"]
    has_sector = as_numpy(sector.is_valid()).astype(bool)
    fail["resh_id.unknown"] = placed.status == "unknown_id"
    fail["resh_id.not_open"] = placed.status == "not_valid_on_date"
    fail["resh_id.no_sector"] = (placed.status == "placed") & ~has_sector
    rehab = as_numpy(pc.fill_null(pc.equal(sector, "rehab"), False)).astype(bool)
    fail["kontakttype.rehab_not_stay"] = rehab & kontakt_ok & ~dogn

    pid_code, pid_values = distinct_codes(t["pasient_id"])
    fail["pasient_id.invalid"] = ~fodselsnummer_ok(pid_values)[pid_code]

    stamps_ut = ut.timestamps()
    years = np.where(ut.ok, as_numpy(pc.year(stamps_ut).fill_null(0)), 0).astype(np.int64)
    fail["bostedskommune.invalid"] = ut.ok & ~_kommune_valid(
        reference, years, ut.ok, t["bostedskommune"]
    )
    bydel = pc.fill_null(t["bydel"], "")
    bydel_code, bydel_values = distinct_codes(bydel)
    bydel_empty = as_numpy(pc.equal(bydel_values, ""))[bydel_code]
    bydel_shaped = matches(bydel_values, r"[0-9]{6}")[bydel_code]
    bydel_column = pc.if_else(
        pa.array(bydel_empty), pa.scalar(None, pa.string()), bydel.cast(pa.string())
    )
    kommune_text = pc.fill_null(t["bostedskommune"], "")
    same = as_numpy(
        pc.equal(pc.utf8_slice_codeunits(bydel, 0, 4), kommune_text).fill_null(False)
    ).astype(bool)
    city = as_numpy(pc.is_in(kommune_text, value_set=pa.array(sorted(BYDEL_KOMMUNER)))).astype(bool)
    fail["bydel.invalid"] = ~bydel_empty & ~(bydel_shaped & same & city)

    kjonn_ok, _ = _one_of(t["kjonn"], KJONN)
    fail["kjonn.invalid"] = ~kjonn_ok
    alder_code, alder_values = distinct_codes(t["alder"])
    alder_ok_v = matches(alder_values, r"[0-9]{1,3}")
    alder_v = parse_int(alder_values, alder_ok_v)
    alder_ok_v &= alder_v <= MAX_ALDER
    fail["alder.invalid"] = ~alder_ok_v[alder_code]
    alder = alder_v[alder_code]
    icd_code, icd_values = distinct_codes(t["hovedtilstand"])
    fail["hovedtilstand.invalid"] = ~matches(icd_values, ICD10)[icd_code]
    fail["fagomrade.missing"] = as_numpy(
        pc.fill_null(pc.equal(pc.utf8_trim_whitespace(t["fagomrade"]), ""), True)
    ).astype(bool)
    fin_ok, _ = _one_of(t["finansiering"], FINANSIERING)
    fail["finansiering.invalid"] = ~fin_ok

    areas = catchment(
        reference,
        years,
        sector,
        kommune_text.cast(pa.string()),
        bydel_column,
    )
    months = years * 100 + np.where(ut.ok, as_numpy(pc.month(stamps_ut).fill_null(0)), 0)
    maned = pc.cast(pa.array(months, pa.int64()), pa.string())
    liggedogn = np.where(dogn & both, np.maximum(ut_day - inn_day, 0), 0).astype(np.int32)
    typed = pa.table(
        {
            "episode_id": t["episode_id"],
            "resh_id": pa.array(resh, pa.int64()),
            "inn": pc.cast(inn.timestamps(), pa.timestamp("s")),
            "ut": pc.cast(stamps_ut, pa.timestamp("s")),
            "maned": maned,
            "kontakttype": t["kontakttype"],
            "pasient_id": t["pasient_id"],
            "bostedskommune": t["bostedskommune"],
            "bydel": bydel_column,
            "kjonn": t["kjonn"],
            "alder": pa.array(alder.astype(np.int16)),
            "aldersgruppe": aldersgruppe(alder),
            "hovedtilstand": t["hovedtilstand"],
            "fagomrade": t["fagomrade"],
            "finansiering": t["finansiering"],
            **{k: placed.columns[k] for k in ("behandlingssted_id", "hf_id", "rhf_id")},
            "hf_orgnr": placed.columns["hf_orgnr"],
            "rhf_orgnr": placed.columns["rhf_orgnr"],
            "sektor": sector,
            "ssb_utvalg": placed.columns["ssb_utvalg"],
            **areas,
            "dogn": pa.array(dogn.astype(np.int8)),
            "dag": pa.array(dag.astype(np.int8)),
            "poli": pa.array(poli.astype(np.int8)),
            "liggedogn": pa.array(liggedogn),
        }
    )
    assert typed.num_rows == n
    return Checked(typed=typed, failures=fail)


def _ranks(*arrays: np.ndarray) -> list[np.ndarray]:
    """The arrays' values replaced by their rank among all of them (order kept)."""
    joined = np.concatenate(arrays)
    _, inverse = np.unique(joined, return_inverse=True)
    out, start = [], 0
    for a in arrays:
        out.append(inverse[start : start + len(a)].astype(np.int64))
        start += len(a)
    return out


def _overlap_in_file(group: np.ndarray, inn: np.ndarray, ut: np.ndarray) -> np.ndarray:
    """Rows whose stay starts before an earlier stay of its group ends (earlier: by inn,
    then by row): one sort and one running maximum."""
    n = len(group)
    out = np.zeros(n, bool)
    if n < 2:
        return out
    order = np.lexsort((np.arange(n), inn, group))
    g = group[order]
    inn_r, ut_r = _ranks(inn[order], ut[order])
    span = int(max(inn_r.max(initial=0), ut_r.max(initial=0))) + 2
    _, dense = np.unique(g, return_inverse=True)
    base = dense.astype(np.int64) * span
    running = np.maximum.accumulate(base + ut_r + 1)
    before = np.r_[0, running[:-1]]
    start = np.r_[True, g[1:] != g[:-1]]
    before[start] = 0
    out[order] = (before > 0) & (base + inn_r + 1 < before)
    return out


def _check_stored(typed: pa.Table, stored: StoredRows | None) -> dict[str, np.ndarray]:
    """``opphold.overlap``: døgnopphold of one patient at one unit that overlap, in the
    file (the later one) or with a stay an earlier batch stored."""
    n = typed.num_rows
    out = np.zeros(n, bool)
    stays = np.flatnonzero(
        as_numpy(pc.fill_null(pc.equal(typed["kontakttype"], "dogn"), False)).astype(bool)
        & as_numpy(typed["inn"].is_valid()).astype(bool)
        & as_numpy(typed["ut"].is_valid()).astype(bool)
        & as_numpy(pc.fill_null(pc.not_equal(typed["pasient_pseudonym"], ""), False)).astype(bool)
    )
    if not len(stays):
        return {"opphold.overlap": out}
    person, values = distinct_codes(typed["pasient_pseudonym"])
    resh = as_numpy(typed["resh_id"]).astype(np.int64)
    inn = as_numpy(typed["inn"].cast(pa.int64()).fill_null(0)).astype(np.int64)
    ut = as_numpy(typed["ut"].cast(pa.int64()).fill_null(0)).astype(np.int64)
    stays = stays[ut[stays] >= inn[stays]]  # a stay out of order is no stay to overlap
    if not len(stays):
        return {"opphold.overlap": out}
    _, unit = np.unique(resh[stays], return_inverse=True)
    group = person[stays] * (int(unit.max(initial=0)) + 1) + unit
    out[stays] = _overlap_in_file(group, inn[stays], ut[stays])
    if stored is not None:
        ids = pc.unique(values.take(pa.array(person[stays])))
        earlier = stored(
            ["pasient_pseudonym", "resh_id", "inn", "ut"],
            {"pasient_pseudonym": ids, "kontakttype": pa.array(["dogn"])},
        )
        if earlier.num_rows:
            mine = pa.table(
                {
                    "row": pa.array(stays, pa.int64()),
                    "p": values.take(pa.array(person[stays])),
                    "r": pa.array(resh[stays], pa.int64()),
                    "i": pa.array(inn[stays], pa.int64()),
                    "u": pa.array(ut[stays], pa.int64()),
                }
            )
            with duckdb.connect() as con:
                con.register("m", mine)
                con.register("s", earlier)
                hit = con.execute(
                    "SELECT DISTINCT m.row FROM m JOIN s ON s.pasient_pseudonym = m.p "
                    "AND s.resh_id = m.r AND epoch(s.inn)::BIGINT < m.u "
                    "AND m.i < epoch(s.ut)::BIGINT"
                ).fetchnumpy()
            out[np.asarray(hit["row"], np.int64)] = True
    return {"opphold.overlap": out}


NPR_EPISODE = ExtractSpec(
    kind="npr_episode",
    title="NPR episodes",
    columns=COLUMNS,
    identifiers=("pasient_id",),
    check=_check,
    check_stored=_check_stored,
    partition_column="maned",
    rules=RULES,
    # each month's file sorted so a filter on the sector or contact type reads whole row
    # groups
    sort_by=("sektor", "kontakttype", "hf_id", "behandlingssted_id"),
    not_after_today=("inn", "ut"),
    time_zone=ZONE,
    # an episode is reported once: delivered again (in the same month), it is the same one
    line_key=("resh_id", "episode_id"),
    reject_duplicates=True,
)


__all__ = [
    "ALDERSGRUPPER",
    "COLUMNS",
    "ICD10",
    "KONTAKTTYPER",
    "NPR_EPISODE",
    "RULES",
    "ZONE",
    "aldersgruppe",
]
