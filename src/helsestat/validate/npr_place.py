"""NPR-like episodes placed at ingest: by RESH id (the registry's unit id) on the date of
``ut``, as the unit registry stood then — behandlingssted, HF and RHF, their organisation
numbers, the sector of the unit, and whether SSB's variant counts it — and the patient's
catchment area for the sector's service (issue 15; the contract of the ``npr_episode``
kind).

Placing is one DuckDB interval join of the distinct (RESH id, day) pairs of a file — a few
hundred thousand at most, whatever the rows — against the registry's as-of table
(:func:`helsestat.reference.units.placing_bulk.place`), then one more for the fields of the
placed behandlingssted, HF and RHF on that day; rows get theirs by index, with numpy.

**SSB's variant** (``ssb_utvalg``) leaves out fødestuer and units not defined as hospitals
(seed 000). The registry tells them by the behandlingssted's fields on the day: a service
of :data:`FODESTUE_SERVICES`, or a næringskode (KLASS 6) outside :data:`HOSPITAL_NAERING`.
A behandlingssted without a næringskode is counted (nothing says it is not a hospital).

**Catchment area** (``bo_omrade``): the area of the list of the year of ``ut`` that holds
the patient's bydel, else the bostedskommune (KLASS 629 for somatikk and rehab, 630's VOP
areas for phv and its BUP areas for phbu, 631 for tsb). A kommune that the list splits by
bydel (Oslo) and that comes without one has no area (null). A kommune the list splits by
grunnkrets (Tysfjord before 2020) — an episode carries no grunnkrets — is given the area
that holds most of its grunnkretser (:func:`area_lookup`; the lowest area code on a tie).

>>> from helsestat.reference.seed import packaged_reference
>>> look = area_lookup(packaged_reference(), 629, 2024)
>>> look.area("4601", ""), look.area("0301", ""), look.area("0301", "030101") is not None
('02', None, True)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pyarrow as pa

from helsestat.errors import ReferenceError_
from helsestat.reference.snapshot import Reference
from helsestat.reference.units.placing_bulk import place

#: Services (of the unit registry's service code list; in the demo the SYNTHETIC stand-in
#: for KLASS 610) that make a behandlingssted a fødestue.
FODESTUE_SERVICES = frozenset({"S41"})
#: Næringskoder (KLASS 6, by prefix) of units defined as hospitals: hospital services, and
#: the institutions for substance-abuse treatment that run TSB.
HOSPITAL_NAERING = ("86.1", "87.2")
#: The catchment list and the suffix of its kommune/bydel codes per sector.
SERVICE_LIST: dict[str, tuple[int, str]] = {
    "somatikk": (629, ""),
    "rehab": (629, ""),
    "phv": (630, "-VOP"),
    "phbu": (630, "-BUP"),
    "tsb": (631, ""),
}


@dataclass(frozen=True)
class AreaLookup:
    """The areas of one catchment list (one service) in one year: where each kommune,
    bydel and split kommune lies, and each area's HF and RHF (organisation numbers)."""

    kommuner: dict[str, str]
    bydeler: dict[str, str]
    hf: dict[str, str]
    rhf: dict[str, str]

    def area(self, kommune: str, bydel: str) -> str | None:
        """The area of a patient living in ``kommune`` (and ``bydel``, may be empty)."""
        return (self.bydeler.get(bydel) if bydel else None) or self.kommuner.get(kommune)


def area_lookup(
    reference: Reference, classification: int, year: int, suffix: str = ""
) -> AreaLookup:
    """The :class:`AreaLookup` of a catchment list (629–631) in ``year``; empty when the
    list has no version that year."""
    try:
        version = reference.registry.version_at(classification, date(year, 1, 1))
    except (ReferenceError_, LookupError):
        return AreaLookup({}, {}, {}, {})
    parent = {c.code: c.parent_code for c in version.codes}
    level = {c.code: c.level for c in version.codes}
    kommuner: dict[str, str] = {}
    bydeler: dict[str, str] = {}
    split: dict[str, Counter[str]] = defaultdict(Counter)
    for c in version.codes:
        if c.level != 4 or not c.code.endswith(suffix) or c.parent_code is None:
            continue
        unit = c.code.removesuffix(suffix) if suffix else c.code
        if len(unit) == 4:
            kommuner[unit] = c.parent_code
        elif len(unit) == 6:
            bydeler[unit] = c.parent_code
        elif c.notes.startswith("kommune "):
            split[c.notes.removeprefix("kommune ")][c.parent_code] += 1
    for kommune, votes in split.items():
        # most grunnkretser, then the lowest code
        kommuner.setdefault(kommune, min(votes, key=lambda a: (-votes[a], a)))
    areas = set(kommuner.values()) | set(bydeler.values())
    hf = {a: parent[a] or "" for a in areas if level.get(a) == 3}
    rhf = {h: parent.get(h) or "" for h in set(hf.values())}
    return AreaLookup(kommuner, bydeler, hf, {a: rhf.get(h, "") for a, h in hf.items()})


@dataclass(frozen=True)
class Placed:
    """Per row: the placing status (``placed``, ``unknown_id``, ``not_valid_on_date``,
    ``invalid_id``, ``invalid_date``) and the placed columns of the contract."""

    status: np.ndarray
    columns: dict[str, pa.Array]


_FIELDS_SQL = """
    SELECT k.i,
           b.naeringskode AS bs_naering,
           coalesce(list_has_any(b.services, {services}::VARCHAR[]), false) AS fodestue,
           h.orgnr AS hf_orgnr, r.orgnr AS rhf_orgnr
    FROM k
    LEFT JOIN f b ON b.unit_id = k.behandlingssted_id
         AND k.day >= b.valid_from AND k.day < coalesce(b.valid_to, DATE '9999-12-31')
    LEFT JOIN f h ON h.unit_id = k.hf_id
         AND k.day >= h.valid_from AND k.day < coalesce(h.valid_to, DATE '9999-12-31')
    LEFT JOIN f r ON r.unit_id = k.rhf_id
         AND k.day >= r.valid_from AND k.day < coalesce(r.valid_to, DATE '9999-12-31')
    ORDER BY k.i
"""


def place_units(
    resh: np.ndarray, known: np.ndarray, days: np.ndarray, reference: Reference
) -> Placed:
    """Place rows by RESH id (``resh``, int64, where ``known``) on ``days`` (days after
    1970-01-01, where ``known``) against the Norwegian units of ``reference``."""
    n = len(resh)
    day = np.where(known, days, 0).astype(np.int64)
    ident = np.where(known, resh, -1).astype(np.int64)
    pairs = np.stack([ident, day], axis=1) if n else np.zeros((0, 2), np.int64)
    distinct, inverse = np.unique(pairs, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    keys = pa.table(
        {
            "unit_id": pa.array(distinct[:, 0], pa.int64(), mask=distinct[:, 0] < 0),
            "date": pa.array(distinct[:, 1].astype(np.int32), pa.int32()).cast(pa.date32()),
        }
    )
    units = reference.resh_as_of
    placed = place(keys, units.placing).table
    status = np.asarray(placed.column("placement").cast(pa.string()).to_numpy(zero_copy_only=False))
    with duckdb.connect() as con:
        con.register(
            "k",
            pa.table(
                {
                    "i": pa.array(np.arange(len(distinct), dtype=np.int64)),
                    "day": keys.column("date"),
                    "behandlingssted_id": placed.column("behandlingssted_id"),
                    "hf_id": placed.column("hf_id"),
                    "rhf_id": placed.column("rhf_id"),
                }
            ),
        )
        con.register("f", units.fields)
        services = "[" + ", ".join(f"'{s}'" for s in sorted(FODESTUE_SERVICES)) + "]"
        fields = con.sql(_FIELDS_SQL.format(services=services)).to_arrow_table()
    naering = fields.column("bs_naering").to_pylist()
    hospital = np.array(
        [code is None or code.startswith(HOSPITAL_NAERING) for code in naering], dtype=bool
    )
    fodestue = np.asarray(fields.column("fodestue").to_numpy(zero_copy_only=False)).astype(bool)
    sector = placed.column("sector").cast(pa.string())
    take = pa.array(inverse)
    columns = {
        "behandlingssted_id": placed.column("behandlingssted_id").take(take),
        "hf_id": placed.column("hf_id").take(take),
        "rhf_id": placed.column("rhf_id").take(take),
        "hf_orgnr": fields.column("hf_orgnr").take(take),
        "rhf_orgnr": fields.column("rhf_orgnr").take(take),
        "sektor": sector.take(take),
        "ssb_utvalg": pa.array((hospital & ~fodestue)[inverse]),
    }
    return Placed(status=status[inverse] if n else np.zeros(0, object), columns=columns)


def catchment(
    reference: Reference,
    years: np.ndarray,
    sector: pa.Array,
    kommune: pa.Array,
    bydel: pa.Array,
) -> dict[str, pa.Array]:
    """``bo_omrade``, ``bo_hf_orgnr`` and ``bo_rhf_orgnr`` per row, computed once per
    distinct (year, sector, kommune, bydel)."""
    keys = pa.table({"y": pa.array(years, pa.int32()), "s": sector, "k": kommune, "b": bydel})
    distinct = keys.group_by(["y", "s", "k", "b"]).aggregate([])
    out: dict[str, list[str | None]] = {"bo_omrade": [], "bo_hf_orgnr": [], "bo_rhf_orgnr": []}
    lookups: dict[tuple[int, str], AreaLookup] = {}
    for row in distinct.to_pylist():
        service = SERVICE_LIST.get(row["s"] or "")
        area: str | None = None
        look: AreaLookup | None = None
        if service is not None and row["y"] is not None:
            cid, suffix = service
            look = lookups.get((row["y"], row["s"]))
            if look is None:
                look = lookups[(row["y"], row["s"])] = area_lookup(reference, cid, row["y"], suffix)
            area = look.area(row["k"] or "", row["b"] or "")
        out["bo_omrade"].append(area)
        out["bo_hf_orgnr"].append(look.hf.get(area) if look and area else None)
        out["bo_rhf_orgnr"].append(look.rhf.get(area) if look and area else None)
    # each row → its distinct key, by a join on the key columns
    index = distinct.append_column("__i", pa.array(np.arange(distinct.num_rows), pa.int64()))
    rows = keys.append_column("__r", pa.array(np.arange(keys.num_rows), pa.int64()))
    with duckdb.connect() as con:
        con.register("r", rows)
        con.register("d", index)
        joined = con.execute(
            "SELECT r.__r, d.__i FROM r JOIN d ON r.y IS NOT DISTINCT FROM d.y "
            "AND r.s IS NOT DISTINCT FROM d.s AND r.k IS NOT DISTINCT FROM d.k "
            "AND r.b IS NOT DISTINCT FROM d.b"
        ).fetchnumpy()
    at = np.empty(keys.num_rows, np.int64)
    at[np.asarray(joined["__r"], np.int64)] = np.asarray(joined["__i"], np.int64)
    return {name: pa.array(values, pa.string()).take(pa.array(at)) for name, values in out.items()}


__all__ = [
    "FODESTUE_SERVICES",
    "HOSPITAL_NAERING",
    "SERVICE_LIST",
    "AreaLookup",
    "Placed",
    "area_lookup",
    "catchment",
    "place_units",
]
