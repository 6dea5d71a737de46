"""Year-over-year differences of the institution lists, as their own table: institutions
that are new, closed (gone from the list), renamed, moved to another HF (another foretak),
or whose næringskode changed — each row with both years' values.

An institution is the same unit in both years when it has the same permanent unit id, so a
rename or a move is never mistaken for a closure and a new unit.

>>> from datetime import date
>>> from helsestat.statistics.institutions.lists import Institution, InstitutionLists
>>> a = Institution(1, "HF", "01", "R", 2, "9", "Helse A HF", "7", "8", "Sted", "86.1", "S",
...                 "5000", "Bergen", "")
>>> b = InstitutionLists(2025, date(2025, 1, 1), (a.__class__(**{**a.__dict__,
...     "institusjonsnavn": "Nytt sted"}),), ())
>>> [c.endring for c in list_changes(InstitutionLists(2024, date(2024, 1, 1), (a,), ()), b)]
['nytt navn']
"""

from __future__ import annotations

from dataclasses import dataclass

from helsestat.statistics.institutions.lists import Institution, InstitutionLists

#: The kinds of change, in the order a table lists them.
KINDS: tuple[str, ...] = ("ny", "nedlagt", "nytt navn", "nytt HF", "ny næringskode")


@dataclass(frozen=True)
class ListChange:
    """One difference: the change, the unit, and each compared value in both years (empty
    where the unit is not in that year's list)."""

    endring: str
    enhet_id: int
    aar_for: int
    aar: int
    institusjonsnavn_for: str
    institusjonsnavn: str
    foretaksnavn_for: str
    foretaksnavn: str
    foretaksorgnr_for: str
    foretaksorgnr: str
    naeringskode_for: str
    naeringskode: str


#: The columns of the table.
CHANGE_COLUMNS: tuple[str, ...] = (
    "endring",
    "enhet_id",
    "aar_for",
    "aar",
    "institusjonsnavn_for",
    "institusjonsnavn",
    "foretaksnavn_for",
    "foretaksnavn",
    "foretaksorgnr_for",
    "foretaksorgnr",
    "naeringskode_for",
    "naeringskode",
)


def _row(
    kind: str, before: Institution | None, after: Institution | None, years: tuple[int, int]
) -> ListChange:
    b, a = before, after
    return ListChange(
        kind,
        (a or b).enhet_id,  # type: ignore[union-attr]
        years[0],
        years[1],
        b.institusjonsnavn if b else "",
        a.institusjonsnavn if a else "",
        b.foretaksnavn if b else "",
        a.foretaksnavn if a else "",
        b.foretaksorgnr if b else "",
        a.foretaksorgnr if a else "",
        b.naeringskode if b else "",
        a.naeringskode if a else "",
    )


def list_changes(before: InstitutionLists, after: InstitutionLists) -> tuple[ListChange, ...]:
    """What changed from ``before`` (last year's lists) to ``after``, by kind of change,
    then institution name and unit id. One unit may have several changes (renamed and
    moved)."""
    old = {r.enhet_id: r for r in before.rows}
    new = {r.enhet_id: r for r in after.rows}
    years = (before.year, after.year)
    out: list[ListChange] = []
    for unit_id in sorted(new.keys() - old.keys()):
        out.append(_row("ny", None, new[unit_id], years))
    for unit_id in sorted(old.keys() - new.keys()):
        out.append(_row("nedlagt", old[unit_id], None, years))
    for unit_id in sorted(old.keys() & new.keys()):
        b, a = old[unit_id], new[unit_id]
        if b.institusjonsnavn != a.institusjonsnavn:
            out.append(_row("nytt navn", b, a, years))
        if b.foretak_id != a.foretak_id:
            out.append(_row("nytt HF", b, a, years))
        if b.naeringskode != a.naeringskode:
            out.append(_row("ny næringskode", b, a, years))
    order = {kind: n for n, kind in enumerate(KINDS)}
    out.sort(
        key=lambda c: (order[c.endring], c.institusjonsnavn or c.institusjonsnavn_for, c.enhet_id)
    )
    return tuple(out)


__all__ = ["CHANGE_COLUMNS", "KINDS", "ListChange", "list_changes"]
