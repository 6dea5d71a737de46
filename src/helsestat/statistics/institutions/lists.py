"""Institution lists (Institusjonslister) for a statistics year, from the unit registry as
of 1 January of that year — the lists SSB makes for specialist health care.

An *institution* is a unit with a reporting number (rapporteringsnummer): a bedrift that
reports to the forms. Its *foretak* is the nearest unit at or above it that is an RHF, an
HF, or carries a foretakstype (a support company or a private institution); a foretak
without either at the top of the tree is a private institution with a purchase agreement,
as in SSB's script. The foretak decides the list:

- public (Offentlige): RHF, HF and support companies (KLASS 603, 605);
- private (Private): with oppdragsdokument (KLASS 604) or with a purchase agreement.

Each row has the foretak's organisation number, the reporting number, the bedrift's
organisation number, the institution's name, its næringskode with the name KLASS 6 gives it
on the day, postnummer and poststed; the rows are sorted by helseregion (the RHF's number;
jointly owned support companies and private institutions without an RHF last). A name that
appears twice in a list is a warning (:attr:`InstitutionLists.warnings`), not an error.

A registry state that makes a list impossible — an institution without a næringskode, or
with one KLASS 6 does not have on the day; an HF without an RHF — is one error naming every
unit at fault (:class:`~helsestat.errors.InputError` ``lists.incomplete_registry``).

>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> with session_factory(engine)() as session:
...     empty = institution_lists(session, 2024, naering=lambda day: {})
>>> (empty.day.isoformat(), empty.public, empty.private)
('2024-01-01', (), ())
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from helsestat.errors import InputError, NotFoundError, ReferenceError_
from helsestat.reference.classification_store import codes_at
from helsestat.reference.units.history import versions_at
from helsestat.reference.units.model import (
    FORETAKSTYPE_LABELS,
    KIND_LABELS,
    NAERINGSKODE_CLASSIFICATION,
    Version,
)

#: The region label of foretak owned by every RHF together (SSB's wording).
JOINTLY_OWNED = "FELLESEIDE STØTTEFORETAK"
#: How many units an error names in its message (all are in its details).
_NAMED = 10

#: ``naering(day)``: KLASS 6's codes valid on ``day`` with their names.
NaeringLookup = Callable[[date], Mapping[str, str]]


@dataclass(frozen=True)
class Institution:
    """One row of an institution list (SSB's columns, snake-cased)."""

    enhet_id: int
    foretakstype: str
    helseregion: str
    helseregion_navn: str
    foretak_id: int
    foretaksorgnr: str
    foretaksnavn: str
    rapporteringsnr: str
    bedriftsorgnr: str
    institusjonsnavn: str
    naeringskode: str
    naeringsnavn: str
    postnummer: str
    poststed: str
    sektor: str

    @property
    def public(self) -> bool:
        """True for RHF, HF and support companies."""
        return self.foretakstype in ("RHF", "HF", FORETAKSTYPE_LABELS["stotteforetak"])


#: The columns of a list, in SSB's order.
COLUMNS: tuple[str, ...] = (
    "foretakstype",
    "helseregion",
    "helseregion_navn",
    "foretaksorgnr",
    "foretaksnavn",
    "rapporteringsnr",
    "bedriftsorgnr",
    "institusjonsnavn",
    "naeringskode",
    "naeringsnavn",
    "postnummer",
    "poststed",
    "enhet_id",
)


@dataclass(frozen=True)
class InstitutionLists:
    """The public and private lists of ``year`` (as of ``day``, 1 January) and warnings."""

    year: int
    day: date
    public: tuple[Institution, ...]
    private: tuple[Institution, ...]
    warnings: tuple[str, ...] = ()

    @property
    def rows(self) -> tuple[Institution, ...]:
        """Both lists, public first."""
        return self.public + self.private


@dataclass(frozen=True)
class Foretak:
    """The foretak an institution reports under, and its region."""

    id: int
    type: str
    orgnr: str
    name: str
    region: str
    region_name: str


def naering_lookup(session: Session) -> NaeringLookup:
    """KLASS 6 as the reference database holds it: codes → names valid on a day (a
    :class:`~helsestat.errors.ReferenceError_` when no version covers it)."""

    def lookup(day: date) -> Mapping[str, str]:
        try:
            return {c.code: c.name for c in codes_at(session, NAERINGSKODE_CLASSIFICATION, day)}
        except NotFoundError as exc:
            raise ReferenceError_(
                "reference.classification_not_loaded",
                f"the institution list for {day.year} needs KLASS {NAERINGSKODE_CLASSIFICATION}"
                f" (SN2007) valid on {day}: {exc.message}",
                hint="load the reference data ('helsestat reference load') or choose a year "
                "KLASS 6 covers",
            ) from None

    return lookup


def _describe(version: Version) -> str:
    kind = KIND_LABELS.get(version.fields.kind, version.fields.kind)
    return f"{kind} {version.unit_id} ({version.fields.name})"


def is_foretak(version: Version) -> bool:
    """True for units that are foretak of their own: an RHF, an HF, or a unit with a
    foretakstype."""
    return version.fields.kind in ("rhf", "hf") or version.fields.foretakstype is not None


def foretak_of(
    unit: Version, units: Mapping[int, Version], problems: list[tuple[int, str]]
) -> Foretak | None:
    """The foretak of ``unit`` on the day of ``units`` (None, with a problem noted, when
    the tree makes it impossible)."""
    current = unit
    while not is_foretak(current) and current.fields.parent_id in units:
        current = units[current.fields.parent_id]  # type: ignore[index]
    f = current.fields
    if f.kind == "rhf":
        kind = "RHF"
    elif f.foretakstype is not None:
        kind = FORETAKSTYPE_LABELS[f.foretakstype]
    elif f.kind == "hf":
        kind = "HF"
    else:  # a private institution at the top of the tree: a purchase agreement (SSB)
        kind = FORETAKSTYPE_LABELS["kjopsavtale"]
    rhf = current
    while rhf.fields.kind != "rhf" and rhf.fields.parent_id in units:
        rhf = units[rhf.fields.parent_id]  # type: ignore[index]
    if rhf.fields.kind != "rhf":
        if kind == "HF":
            problems.append((current.unit_id, f"{_describe(current)}: an HF without an RHF"))
            return None
        jointly = kind == FORETAKSTYPE_LABELS["stotteforetak"]
        region, region_name = "", JOINTLY_OWNED if jointly else ""
    else:
        region, region_name = rhf.fields.helseregion or "", rhf.fields.name
    return Foretak(current.unit_id, kind, f.orgnr or "", f.name, region, region_name)


def institution_lists(
    session: Session, year: int, *, naering: NaeringLookup | None = None
) -> InstitutionLists:
    """The institution lists of ``year``: the Norwegian units valid on 1 January with a
    reporting number. Raises InputError ``lists.incomplete_registry`` naming every unit that
    makes the list impossible."""
    day = date(year, 1, 1)
    units = versions_at(session, day, country="NO")
    reporting = sorted(
        (v for v in units.values() if v.fields.reporting_number), key=lambda v: v.unit_id
    )
    names = (naering or naering_lookup(session))(day) if reporting else {}
    problems: list[tuple[int, str]] = []
    rows: list[Institution] = []
    for unit in reporting:
        f = unit.fields
        foretak = foretak_of(unit, units, problems)
        if f.naeringskode is None:
            problems.append((unit.unit_id, f"{_describe(unit)}: no næringskode"))
        elif f.naeringskode not in names:
            problems.append(
                (
                    unit.unit_id,
                    f"{_describe(unit)}: næringskode {f.naeringskode} is not in KLASS "
                    f"{NAERINGSKODE_CLASSIFICATION} on {day}",
                )
            )
        code = f.naeringskode
        if foretak is None or code is None or code not in names:
            continue
        rows.append(
            Institution(
                enhet_id=unit.unit_id,
                foretakstype=foretak.type,
                helseregion=foretak.region,
                helseregion_navn=foretak.region_name,
                foretak_id=foretak.id,
                foretaksorgnr=foretak.orgnr,
                foretaksnavn=foretak.name,
                rapporteringsnr=f.reporting_number or "",
                bedriftsorgnr=f.orgnr or "",
                institusjonsnavn=f.name,
                naeringskode=code,
                naeringsnavn=names[code],
                postnummer=f.postnummer or "",
                poststed=f.poststed or "",
                sektor=f.sector or "",
            )
        )
    if problems:
        raise incomplete(year, problems)
    rows.sort(key=lambda r: (r.helseregion or "99", r.foretaksnavn, r.institusjonsnavn, r.enhet_id))
    public = tuple(r for r in rows if r.public)
    private = tuple(r for r in rows if not r.public)
    return InstitutionLists(year, day, public, private, duplicate_names(public, private))


def incomplete(year: int, problems: list[tuple[int, str]]) -> InputError:
    """The error of a list that cannot be made: every unit named (the first few in the
    message, all in ``details``)."""
    seen = sorted(set(problems))
    shown = "; ".join(text for _, text in seen[:_NAMED])
    more = f"; and {len(seen) - _NAMED} more" if len(seen) > _NAMED else ""
    return InputError(
        "lists.incomplete_registry",
        f"the lists for {year} cannot be made from the unit registry as of {year}-01-01: "
        f"{shown}{more}",
        hint="record the missing fields from a date on or before 1 January "
        "(PATCH /api/v1/units/<id>), or place the HF under its RHF; nothing was published",
        status=422,
        details={"units": sorted({unit_id for unit_id, _ in seen}), "year": year},
    )


def duplicate_names(*lists: tuple[Institution, ...]) -> tuple[str, ...]:
    """A warning per institution name that appears more than once in a list (SSB checks
    each list for duplicates; they are reported, not removed).

    >>> row = Institution(1, "HF", "01", "R", 2, "9", "F", "7", "8", "A", "86", "S", "5", "P", "")
    >>> duplicate_names((row, row))
    ("institution name 'A' appears 2 times in the list (units 1, 1)",)
    """
    out = []
    for rows in lists:
        counts = Counter(r.institusjonsnavn for r in rows)
        for name, count in sorted(counts.items()):
            if count > 1:
                ids = ", ".join(str(r.enhet_id) for r in rows if r.institusjonsnavn == name)
                out.append(
                    f"institution name {name!r} appears {count} times in the list (units {ids})"
                )
    return tuple(out)


__all__ = [
    "COLUMNS",
    "JOINTLY_OWNED",
    "Foretak",
    "Institution",
    "InstitutionLists",
    "NaeringLookup",
    "duplicate_names",
    "foretak_of",
    "incomplete",
    "institution_lists",
    "is_foretak",
    "naering_lookup",
]
