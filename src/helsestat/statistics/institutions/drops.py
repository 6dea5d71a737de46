"""Drop lists (Dropplister): per reporting foretak, the institutions and units its
respondents choose from in the electronic forms, for a statistics year — from the unit
registry as of 1 January — with the differences from last year's lists flagged.

A *reporting foretak* is the foretak of an institution of the year's institution lists
(:mod:`.lists`). Its entries are the units valid that day below it — institutions,
behandlingssteder, klinikker and avdelinger, not the seksjoner under them — down to, not
into, another foretak (an RHF's list never holds its HFs' units). Each entry is flagged
against last year's list of the same foretak: ``ny`` (not in it), ``nytt navn``,
``flyttet`` (another unit above it), and last year's entries that are gone are kept as rows
flagged ``fjernet``, so a respondent's form can show what disappeared.

>>> e = DropEntry("983974724", "Helse Bergen HF", "01", "Helse Vest RHF", 5, "avdeling",
...               "Ortopedi", "Bergen sykehus", "", "", "somatikk")
>>> renamed = dataclasses.replace(e, navn="Ortopedisk avdeling")
>>> [x.endring for x in flag_changes((e,), (renamed,))]
['nytt navn']
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from helsestat.reference.units.history import versions_at
from helsestat.reference.units.model import Version
from helsestat.statistics.institutions.lists import InstitutionLists, is_foretak

#: The kinds of unit a respondent chooses from.
ENTRY_KINDS = frozenset({"institusjon", "behandlingssted", "klinikk", "avdeling"})


@dataclass(frozen=True)
class DropEntry:
    """One entry of a foretak's drop list (``endring``: the flag against last year)."""

    foretaksorgnr: str
    foretaksnavn: str
    helseregion: str
    helseregion_navn: str
    enhet_id: int
    nivaa: str
    navn: str
    overordnet: str
    bedriftsorgnr: str
    rapporteringsnr: str
    sektor: str
    endring: str = ""


DROP_COLUMNS: tuple[str, ...] = (
    "foretaksorgnr",
    "foretaksnavn",
    "helseregion",
    "helseregion_navn",
    "enhet_id",
    "nivaa",
    "navn",
    "overordnet",
    "bedriftsorgnr",
    "rapporteringsnr",
    "sektor",
    "endring",
)


@dataclass(frozen=True)
class DropLists:
    """The drop lists of ``year``: every entry, foretak by foretak (helseregion order);
    ``warnings`` say when last year's lists could not be compared."""

    year: int
    entries: tuple[DropEntry, ...]
    warnings: tuple[str, ...] = ()

    def foretak(self) -> tuple[tuple[str, str], ...]:
        """(orgnr, name) of each reporting foretak, in list order."""
        return tuple(dict.fromkeys((e.foretaksorgnr, e.foretaksnavn) for e in self.entries))

    def of(self, orgnr: str) -> tuple[DropEntry, ...]:
        """The entries of one foretak (by organisation number)."""
        return tuple(e for e in self.entries if e.foretaksorgnr == orgnr)


def _entries(lists: InstitutionLists, units: Mapping[int, Version]) -> list[DropEntry]:
    children: dict[int, list[Version]] = defaultdict(list)
    for v in units.values():
        if v.fields.parent_id is not None:
            children[v.fields.parent_id].append(v)
    seen: dict[int, None] = {}
    out: list[DropEntry] = []
    for row in lists.rows:  # sorted by helseregion, foretak
        if row.foretak_id in seen:
            continue
        seen[row.foretak_id] = None
        stack = [(units[row.foretak_id], "")]
        found: list[DropEntry] = []
        while stack:
            unit, above = stack.pop()
            f = unit.fields
            if f.kind in ENTRY_KINDS:
                found.append(
                    DropEntry(
                        row.foretaksorgnr,
                        row.foretaksnavn,
                        row.helseregion,
                        row.helseregion_navn,
                        unit.unit_id,
                        f.kind,
                        f.name,
                        above,
                        f.orgnr or "",
                        f.reporting_number or "",
                        f.sector or "",
                    )
                )
            below = sorted(children[unit.unit_id], key=lambda v: (v.fields.name, v.unit_id))
            for child in reversed(below):  # the tree's order: each unit before its own
                if not is_foretak(child):
                    stack.append((child, f.name))
        if not found:  # a foretak that is its own only institution (a support company)
            unit = units[row.foretak_id]
            found.append(
                DropEntry(
                    row.foretaksorgnr,
                    row.foretaksnavn,
                    row.helseregion,
                    row.helseregion_navn,
                    unit.unit_id,
                    unit.fields.kind,
                    unit.fields.name,
                    "",
                    unit.fields.orgnr or "",
                    unit.fields.reporting_number or "",
                    unit.fields.sector or "",
                )
            )
        out += found
    return out


def flag_changes(
    before: tuple[DropEntry, ...], after: tuple[DropEntry, ...]
) -> tuple[DropEntry, ...]:
    """``after`` with each entry flagged against ``before`` (by foretak and unit id), and
    ``before``'s entries that are gone added as ``fjernet``."""
    old = {(e.foretaksorgnr, e.enhet_id): e for e in before}
    keys = {(e.foretaksorgnr, e.enhet_id) for e in after}
    out: list[DropEntry] = []
    for e in after:
        was = old.get((e.foretaksorgnr, e.enhet_id))
        flag = (
            "ny"
            if was is None
            else "nytt navn"
            if was.navn != e.navn
            else "flyttet"
            if was.overordnet != e.overordnet
            else ""
        )
        out.append(dataclasses.replace(e, endring=flag))
    for key, e in old.items():
        if key not in keys:
            out.append(dataclasses.replace(e, endring="fjernet"))
    order = {orgnr: n for n, orgnr in enumerate(dict.fromkeys(e.foretaksorgnr for e in out))}
    out.sort(key=lambda e: order[e.foretaksorgnr])  # stable: each foretak's rows together
    return tuple(out)


def drop_lists_of(session: Session, lists: InstitutionLists) -> tuple[DropEntry, ...]:
    """The unflagged entries of the reporting foretak of ``lists``, as of its day."""
    units = versions_at(session, lists.day, country="NO")
    return tuple(_entries(lists, units))


def drop_lists(
    session: Session,
    this: InstitutionLists,
    last: InstitutionLists | None,
) -> DropLists:
    """The drop lists of ``this`` year's institution lists, flagged against ``last``
    year's (None: last year's lists cannot be made; nothing is flagged, and a warning says
    so)."""
    entries = drop_lists_of(session, this)
    if last is None:
        warning = (
            f"the lists for {this.year - 1} cannot be made from the registry, so the drop "
            f"lists of {this.year} are not compared with last year's"
        )
        return DropLists(this.year, entries, (warning,))
    return DropLists(this.year, flag_changes(drop_lists_of(session, last), entries))


__all__ = [
    "DROP_COLUMNS",
    "ENTRY_KINDS",
    "DropEntry",
    "DropLists",
    "drop_lists",
    "drop_lists_of",
    "flag_changes",
]
