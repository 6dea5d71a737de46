"""Names beside codes: HF and RHF by organisation number (the code space of KLASS 603 and of
the catchment lists 629-632), the sectors, and behandlingssteder by RESH id as the unit
registry of the build's reference snapshot named them (:class:`UnitNames`).

>>> hf_name("983974724"), rhf_name("983658725"), SEKTORER["phbu"]
('Helse Bergen HF', 'Helse Vest RHF', 'Psykisk helsevern for barn og unge')
"""

from __future__ import annotations

import calendar
import hashlib
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from helsestat.reference.klass_catchment import RHF, hf_names
from helsestat.reference.resh_units import ReshUnits

#: Sector code (the unit's sector, set at ingest) → name.
SEKTORER: Final[Mapping[str, str]] = {
    "somatikk": "Somatikk",
    "phv": "Psykisk helsevern for voksne",
    "phbu": "Psykisk helsevern for barn og unge",
    "tsb": "Tverrfaglig spesialisert rusbehandling",
    "rehab": "Rehabiliteringsinstitusjoner",
}


#: The code of a value that could not be told (a patient's area without bydel in Oslo …):
#: published dimensions are never empty.
UKJENT: Final = "ukjent"


def known(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """The column with a missing value coded :data:`UKJENT`.

    >>> known(pa.array(["01", None])).to_pylist()
    ['01', 'ukjent']
    """
    return pc.fill_null(column, UKJENT)


def hf_name(code: str | None) -> str:
    """The HF's name, or the code when the list does not hold it."""
    if code is None or code == UKJENT:
        return "Ukjent"
    return hf_names().get(code, code)


def rhf_name(code: str | None) -> str:
    """The RHF's name, or the code when the list does not hold it."""
    if code is None or code == UKJENT:
        return "Ukjent"
    return RHF.get(code, code)


def named(column: pa.ChunkedArray | pa.Array, name: Callable[[str | None], str]) -> pa.Array:
    """A name column for a code column (one lookup per distinct code).

    >>> named(pa.array(["983658725", None]), rhf_name).to_pylist()
    ['Helse Vest RHF', 'Ukjent']
    """
    values = column.to_pylist()
    found = {v: name(v) for v in set(values)}
    return pa.array([found[v] for v in values], pa.string())


def period_end(period: str) -> date:
    """The last day of a period of the tables: a year (``2024``) or a month (``202402``).

    >>> period_end("2024"), period_end("202402")
    (datetime.date(2024, 12, 31), datetime.date(2024, 2, 29))
    """
    year = int(period[:4])
    if len(period) == 4:
        return date(year, 12, 31)
    month = int(period[-2:])
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class UnitNames:
    """The names a unit registry gave the units that episodes can be placed on (every
    ``behandlingssted_id`` of its placing table): per RESH id, the first days of its
    versions and their names, oldest first. ``digest`` changes when any of them does.

    The name of a unit in a period is the name it had on the period's last day, or, when it
    closed before that day, on its last day (the newest version begun by the period's end).
    An id the registry does not hold is named by the id itself (the row is still told
    apart from the others, and the reader sees there is no name to give); the code
    ``ukjent`` (no unit could be placed) is named "Ukjent".

    >>> from helsestat.reference.units.model import Span, UnitFields
    >>> from helsestat.reference.units.resh import resh_units
    >>> hf = [Span(date(2002, 1, 1), None, UnitFields("hf", "Helse Bergen HF"))]
    >>> site = [Span(date(2002, 1, 1), date(2024, 3, 1), UnitFields("behandlingssted",
    ...     "Haukeland", parent_id=1)), Span(date(2024, 3, 1), None, UnitFields(
    ...     "behandlingssted", "Haukeland universitetssjukehus", parent_id=1))]
    >>> names = UnitNames.of(resh_units({1: hf, 2: site}))
    >>> names.name("2", "2023"), names.name("2", "202402"), names.name("2", "2024")
    ('Haukeland', 'Haukeland', 'Haukeland universitetssjukehus')
    >>> names.name("77", "2024"), names.name(UKJENT, "2024")
    ('77', 'Ukjent')
    """

    starts: Mapping[int, tuple[date, ...]]
    names: Mapping[int, tuple[str, ...]]
    digest: str

    @classmethod
    def of(cls, units: ReshUnits) -> UnitNames:
        """The names of the units ``units`` can place episodes on (read once per build)."""
        placed = pc.unique(units.placing.column("behandlingssted_id").drop_null())
        fields = units.fields.filter(pc.is_in(units.fields.column("unit_id"), placed))
        fields = fields.select(["unit_id", "valid_from", "name"]).sort_by(
            [("unit_id", "ascending"), ("valid_from", "ascending")]
        )
        starts: dict[int, list[date]] = {}
        names: dict[int, list[str]] = {}
        digest = hashlib.sha256()
        ids, days, texts = (fields.column(c).to_pylist() for c in fields.column_names)
        for uid, start, name in zip(ids, days, texts, strict=True):
            starts.setdefault(uid, []).append(start)
            names.setdefault(uid, []).append(name)
            digest.update(f"{uid}\0{start}\0{name}\0".encode())
        return cls(
            {u: tuple(v) for u, v in starts.items()},
            {u: tuple(v) for u, v in names.items()},
            digest.hexdigest(),
        )

    def name(self, code: str | None, period: str) -> str:
        """The name of the unit with RESH id ``code`` in ``period`` (see the class)."""
        return self._on(code, period_end(period))

    def _on(self, code: str | None, last: date) -> str:
        if code is None or code == UKJENT:
            return "Ukjent"
        uid = int(code) if code.isdigit() else None
        names = self.names.get(uid) if uid is not None else None
        if uid is None or names is None:
            return code
        if len(names) == 1:
            return names[0]
        # the newest version begun by the period's end (the first if none was: a unit
        # placed before it opened cannot be, but still gets a name)
        return names[max(bisect_right(self.starts[uid], last) - 1, 0)]

    def column(
        self, codes: pa.ChunkedArray | pa.Array, periods: pa.ChunkedArray | pa.Array
    ) -> pa.Array:
        """The name column of a column of RESH ids, per row's period: one lookup per
        distinct id (per distinct id and period for a unit renamed), not per row.

        >>> none = UnitNames({}, {}, "")
        >>> ids, years = pa.array(["5", "ukjent", "5"]), pa.array(["2024", "2024", "2023"])
        >>> none.column(ids, years).to_pylist()
        ['5', 'Ukjent', '5']
        """
        ids = _encoded(pc.fill_null(codes, UKJENT))
        at = _encoded(periods)
        ends = [period_end(p) for p in at.dictionary.to_pylist()]
        # a grid of names, id by period; each row takes its cell
        grid: list[str] = []
        for code in ids.dictionary.to_pylist():
            names = self.names.get(int(code)) if code.isdigit() else None
            if names is not None and len(names) > 1:
                grid.extend(self._on(code, end) for end in ends)
            else:
                grid.extend([self._on(code, ends[0]) if ends else code] * len(ends))
        cell = pc.add(
            pc.multiply(pc.cast(ids.indices, pa.int64()), len(ends)),
            pc.cast(at.indices, pa.int64()),
        )
        return pa.array(grid, pa.string()).take(cell)


def _encoded(column: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    """``column`` dictionary-encoded in one chunk."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks()
    return encoded


__all__ = [
    "SEKTORER",
    "UKJENT",
    "UnitNames",
    "hf_name",
    "known",
    "named",
    "period_end",
    "rhf_name",
]
