"""What makes a unit's history acceptable, checked before anything is written: kinds and
their parents, a parent valid for as long as the child points at it, no cycles, codes from
the reference registries (kommune, län, services), organisation numbers and identifiers.

The checks read the registry through :class:`RegistryView`, so they run against the database
(:mod:`.repository`) and against plain dicts in the tests alike.

>>> f = UnitFields("avdeling", "Ortopedi", parent_id=None)
>>> check_fields("NO", f, date(2024, 1, 1), codes=lambda cid, day: None)  # doctest: +ELLIPSIS
Traceback (most recent call last):
helsestat.errors.InputError: a avdeling cannot be a root: it must sit under ...
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import cache
from importlib import resources
from typing import Protocol

from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr

from helsestat.errors import InputError, ReferenceError_
from helsestat.reference.geography import packaged_geography
from helsestat.reference.units.model import (
    ALLOWED_PARENTS,
    CLINICAL_KINDS,
    COUNTRY_KINDS,
    FORETAKSTYPE_KINDS,
    FORETAKSTYPE_LABELS,
    IDENTIFIER_SCHEMES,
    KIND_LABELS,
    NAERINGSKODE_CLASSIFICATION,
    SECTOR_LABELS,
    Identifier,
    Span,
    UnitFields,
)

#: ``codes(classification_id, day)``: the codes valid on ``day``, or None when the
#: classification (or a version covering the day) is not loaded.
CodeLookup = Callable[[int, date], frozenset[str] | None]

_HSA_ID = re.compile(r"^SE\d{10}-[0-9A-Za-z]{1,20}$")
_HER_ID = re.compile(r"^\d{1,9}$")
_POSTNUMMER = re.compile(r"^\d{4}$", re.ASCII)
_REPORTING_NUMBER = re.compile(r"^\d{1,20}$", re.ASCII)
_HELSEREGION = re.compile(r"^\d{2}$", re.ASCII)
MAX_POSTSTED = 100
MAX_NAME = 200


class RegistryView(Protocol):
    """Read access to the stored registry that the checks need."""

    def spans(self, unit_id: int) -> list[Span]:
        """The unit's current history (empty for an unknown id)."""

    def country(self, unit_id: int) -> str | None:
        """The unit's country (None for an unknown id)."""

    def children(self, unit_id: int) -> list[tuple[int, Span]]:
        """Versions of other units that name ``unit_id`` as their parent."""

    def identifier_holders(self, scheme: str, value: str) -> list[tuple[int, Identifier]]:
        """Every current (unit id, identifier) with this scheme and value."""


def _bad(code: str, message: str, hint: str = "") -> InputError:
    return InputError(f"unit.{code}", message, hint=hint)


@cache
def _kommuner(year: int) -> frozenset[str]:
    return packaged_geography().kommuner_valid_in(year)


@cache
def swedish_lan() -> dict[str, str]:
    """The 21 Swedish län: code → name (``data/refdata/se_lan.csv``, SCB codes).

    >>> swedish_lan()["01"]
    'Stockholms län'
    """
    path = resources.files("helsestat.data.refdata").joinpath("se_lan.csv")
    with path.open(encoding="utf-8") as fh:
        return {row["lanskod"]: row["lan_namn"] for row in csv.DictReader(fh)}


def check_fields(country: str, fields: UnitFields, on: date, *, codes: CodeLookup) -> None:
    """The fields on their own, as of ``on``: kind for the country, sector only on clinical
    units, kommune/län/orgnr/services valid on that day. Raises InputError/ReferenceError_."""
    kind = fields.kind
    if kind not in COUNTRY_KINDS.get(country, frozenset()):
        raise _bad(
            "invalid_kind",
            f"kind {kind!r} is not a unit kind of country {country!r}",
            hint=f"kinds of {country}: {', '.join(sorted(COUNTRY_KINDS.get(country, ())))}",
        )
    name = fields.name.strip()
    if not name or len(name) > MAX_NAME or name != fields.name:
        raise _bad(
            "invalid_name",
            f"a unit name must be 1–{MAX_NAME} characters without leading or trailing spaces",
        )
    if fields.parent_id is None and None not in ALLOWED_PARENTS[kind]:
        under = ", ".join(sorted(str(k) for k in ALLOWED_PARENTS[kind] if k))
        raise _bad(
            "invalid_parent",
            f"a {kind} cannot be a root: it must sit under a unit of kind {under}",
            hint="give parent_id",
        )
    if fields.sector is not None:
        if fields.sector not in SECTOR_LABELS:
            raise _bad(
                "invalid_sector",
                f"sector {fields.sector!r} is unknown",
                hint=f"sectors: {', '.join(SECTOR_LABELS)}",
            )
        if kind not in CLINICAL_KINDS:
            raise _bad(
                "invalid_sector",
                f"a {kind} has no sector: sectors belong to clinical units "
                f"({', '.join(sorted(CLINICAL_KINDS))})",
            )
    if fields.kommune is not None:
        if country != "NO":
            raise _bad("invalid_kommune", "kommune is for Norwegian units; Swedish units have lan")
        if fields.kommune not in _kommuner(on.year):
            raise ReferenceError_(
                "reference.unknown_kommune",
                f"kommune {fields.kommune!r} is not a kommunenummer valid in {on.year}",
                hint="kommune numbers changed in 2020 and 2024: use the number valid on the "
                "version's start and record the new one from the reform date",
            )
    if fields.lan is not None:
        if country != "SE":
            raise _bad("invalid_lan", "lan is for Swedish units; Norwegian units have kommune")
        if fields.lan not in swedish_lan():
            raise ReferenceError_(
                "reference.unknown_lan",
                f"län {fields.lan!r} is not one of the 21 Swedish län",
                hint="two-digit SCB codes: 01 Stockholms län … 25 Norrbottens län",
            )
    if fields.orgnr is not None:
        valid = no_orgnr.is_valid if country == "NO" else se_orgnr.is_valid
        if not fields.orgnr.isdigit() or not valid(fields.orgnr):
            raise _bad(
                "invalid_orgnr",
                f"organisation number {fields.orgnr!r} is not a valid "
                f"{'Norwegian (9 digits, mod 11)' if country == 'NO' else 'Swedish (10 digits)'} "
                "organisasjonsnummer",
                hint="digits only, no spaces",
            )
    check_services(fields, on, codes)
    check_list_fields(country, fields, on, codes)


def check_list_fields(country: str, fields: UnitFields, on: date, codes: CodeLookup) -> None:
    """The fields the institution and drop lists read: næringskode a code of KLASS 6 valid
    on ``on``, postnummer four digits with a poststed, reporting number digits, foretakstype
    on the kinds that may carry it, helseregion two digits on an RHF (Norwegian units only).

    >>> f = UnitFields("institusjon", "X", postnummer="123")
    >>> check_list_fields("NO", f, date(2024, 1, 1), lambda c, d: None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    helsestat.errors.InputError: postnummer '123' is not four digits ...
    """
    given = [
        name
        for name in ("naeringskode", "postnummer", "poststed", "reporting_number", "foretakstype")
        if getattr(fields, name) is not None
    ] + (["helseregion"] if fields.helseregion is not None else [])
    if given and country != "NO":
        raise _bad(
            "invalid_field",
            f"{', '.join(given)} belong to Norwegian units (SSB's institution lists)",
        )
    if fields.postnummer is not None and not _POSTNUMMER.match(fields.postnummer):
        raise _bad(
            "invalid_postnummer",
            f"postnummer {fields.postnummer!r} is not four digits",
            hint="Norwegian postnumre are four digits, e.g. 0450",
        )
    if fields.poststed is not None:
        place = fields.poststed.strip()
        if not place or len(place) > MAX_POSTSTED or place != fields.poststed:
            raise _bad(
                "invalid_poststed",
                f"a poststed must be 1–{MAX_POSTSTED} characters without leading or trailing "
                "spaces",
            )
    if (fields.postnummer is None) != (fields.poststed is None):
        raise _bad(
            "invalid_postnummer",
            "postnummer and poststed are given together",
            hint="set both (or neither)",
        )
    if fields.reporting_number is not None and not _REPORTING_NUMBER.match(fields.reporting_number):
        raise _bad(
            "invalid_reporting_number",
            "a reporting number is 1–20 digits",
            hint="the rapporteringsnummer SSB's forms are reported under",
        )
    if fields.foretakstype is not None:
        kinds = FORETAKSTYPE_KINDS.get(fields.foretakstype)
        if kinds is None:
            raise _bad(
                "invalid_foretakstype",
                f"foretakstype {fields.foretakstype!r} is unknown",
                hint=f"foretakstyper: {', '.join(FORETAKSTYPE_LABELS)}",
            )
        if fields.kind not in kinds:
            raise _bad(
                "invalid_foretakstype",
                f"a {fields.kind} cannot be {fields.foretakstype!r}: only "
                f"{', '.join(sorted(kinds))}",
            )
    if fields.helseregion is not None and (
        fields.kind != "rhf" or not _HELSEREGION.match(fields.helseregion)
    ):
        raise _bad(
            "invalid_helseregion",
            "helseregion is a two-digit number carried by an RHF",
            hint="e.g. 01; the units under the RHF belong to its region",
        )
    if fields.naeringskode is not None:
        known = codes(NAERINGSKODE_CLASSIFICATION, on)
        if known is None:
            raise ReferenceError_(
                "reference.classification_not_loaded",
                f"næringskode is coded in KLASS {NAERINGSKODE_CLASSIFICATION} (SN2007), which has "
                f"no version in the reference database valid on {on}",
                hint="load the packaged classifications ('helsestat reference load'), or set "
                "the næringskode from a date a version covers",
            )
        if fields.naeringskode not in known:
            raise ReferenceError_(
                "reference.unknown_code",
                f"næringskode {fields.naeringskode!r} is not a code of KLASS "
                f"{NAERINGSKODE_CLASSIFICATION} (SN2007) valid on {on}",
                hint=f"GET /api/klass/v1/classifications/{NAERINGSKODE_CLASSIFICATION}/codesAt"
                f"?date={on} lists them",
            )


def check_services(fields: UnitFields, on: date, codes: CodeLookup) -> None:
    """Every service code must be a code of the unit's service classification valid on
    ``on`` (the classification must be loaded in the reference database)."""
    if not fields.services:
        return
    if len(set(fields.services)) != len(fields.services):
        raise _bad("invalid_services", "a service code appears twice")
    cid = fields.service_classification
    if cid is None:
        raise _bad(
            "invalid_services",
            "services are given but no service_classification says which code list they are from",
        )
    known = codes(cid, on)
    if known is None:
        raise ReferenceError_(
            "reference.classification_not_loaded",
            f"services are coded in classification {cid}, which has no version in the "
            f"reference database valid on {on}",
            hint="load the classification first "
            "(helsestat.reference.classification_store.load_classification)",
        )
    unknown = sorted(set(fields.services) - known)
    if unknown:
        raise ReferenceError_(
            "reference.unknown_code",
            f"service code(s) {', '.join(map(repr, unknown[:5]))} are not codes of "
            f"classification {cid} valid on {on}",
            hint=f"classification {cid} has {len(known)} codes valid on that day",
        )


def _describe(kind: str, unit_id: int) -> str:
    return f"{KIND_LABELS.get(kind, kind)} {unit_id}"


def check_parent(
    view: RegistryView, unit_id: int, country: str, span: Span, *, new: bool = False
) -> None:
    """The parent named by ``span`` exists in the same country, is valid for the whole span,
    is of a kind the unit may sit under, and is not the unit or one of its descendants."""
    parent_id = span.fields.parent_id
    if parent_id is None:
        return
    kind = span.fields.kind
    parent_spans = view.spans(parent_id)
    if not parent_spans:
        raise ReferenceError_(
            "unit.unknown_parent",
            f"parent {parent_id} is not a unit of the registry",
            hint="search the registry for the parent's id (GET /api/v1/units?q=…)",
        )
    if view.country(parent_id) != country:
        raise _bad("invalid_parent", f"parent {parent_id} is in another country than the unit")
    opened, closed = parent_spans[0].valid_from, parent_spans[-1].valid_to
    ends_in_time = closed is None or (span.valid_to is not None and span.valid_to <= closed)
    if opened > span.valid_from or not ends_in_time:
        until = f"until {span.valid_to}" if span.valid_to else "onwards"
        life = f"{opened} to {closed}" if closed else f"{opened} onwards"
        raise _bad(
            "parent_not_valid",
            f"parent {parent_id} is valid {life}, but the unit would sit under it from "
            f"{span.valid_from} {until}",
            hint="choose a parent valid for the whole period, or close/move the unit first",
        )
    days = [span.valid_from] + [
        p.valid_from
        for p in parent_spans
        if span.valid_from < p.valid_from
        and (span.valid_to is None or p.valid_from < span.valid_to)
    ]
    for day in days:
        parent = next(p.fields for p in parent_spans if p.covers(day))
        if parent.kind not in ALLOWED_PARENTS[kind]:
            allowed = ", ".join(sorted(str(k) for k in ALLOWED_PARENTS[kind] if k))
            raise _bad(
                "invalid_parent",
                f"a {kind} cannot sit under {_describe(parent.kind, parent_id)} on {day}",
                hint=f"a {kind} sits under a unit of kind {allowed}",
            )
        if not new:  # a unit created just now has nothing under it
            _check_no_cycle(view, unit_id, parent_id, day)


def _check_no_cycle(view: RegistryView, unit_id: int, parent_id: int, day: date) -> None:
    seen: set[int] = set()
    current: int | None = parent_id
    while current is not None:
        if current == unit_id:
            raise _bad(
                "cycle",
                f"unit {unit_id} cannot sit under {parent_id}: on {day} {parent_id} is "
                f"{'the unit itself' if parent_id == unit_id else 'below the unit'}",
                hint="move the lower unit elsewhere first",
            )
        if current in seen:  # a cycle elsewhere in the stored tree: not ours to report
            return
        seen.add(current)
        found = next((s.fields for s in view.spans(current) if s.covers(day)), None)
        current = found.parent_id if found else None


def check_children(view: RegistryView, unit_id: int, spans: Sequence[Span]) -> None:
    """Units under ``unit_id`` stay inside its lifetime and may sit under its kind."""
    end = spans[-1].valid_to
    for child_id, child in view.children(unit_id):
        if child_id == unit_id:
            continue
        if end is not None and (child.valid_to is None or child.valid_to > end):
            raise InputError(
                "unit.has_children",
                f"unit {unit_id} cannot close on {end}: {child_id} ({child.fields.name}) is "
                f"under it from {child.valid_from}"
                + (f" to {child.valid_to}" if child.valid_to else " onwards"),
                hint="close or move the units under it first (as of the close date)",
            )
        for span in spans:
            overlaps = span.valid_from < (child.valid_to or date.max) and child.valid_from < (
                span.valid_to or date.max
            )
            if overlaps and span.fields.kind not in ALLOWED_PARENTS[child.fields.kind]:
                raise _bad(
                    "invalid_kind",
                    f"unit {unit_id} cannot be a {span.fields.kind} from {span.valid_from}: "
                    f"{child_id} ({child.fields.kind}) sits under it then",
                    hint="move the units under it first",
                )


def check_identifier(
    view: RegistryView, unit_id: int, country: str, identifier: Identifier
) -> None:
    """A known scheme of the unit's country, a well-formed value, and no other unit holding
    the same identifier at an overlapping time."""
    scheme, value = identifier.scheme, identifier.value
    if IDENTIFIER_SCHEMES.get(scheme) != country:
        raise _bad(
            "invalid_identifier",
            f"identifier scheme {scheme!r} is not one of {country}'s",
            hint="schemes: her (Norway, HER-id), hsa (Sweden, HSA-id)",
        )
    pattern = _HER_ID if scheme == "her" else _HSA_ID
    if not pattern.match(value):
        raise _bad(
            "invalid_identifier",
            f"{scheme} identifier {value!r} is malformed",
            hint="HER-id: up to 9 digits; HSA-id: SE + 10-digit orgnr + '-' + a suffix",
        )
    if identifier.valid_to is not None and identifier.valid_to <= identifier.valid_from:
        raise _bad("invalid_identifier", f"{scheme} {value}: valid_to is not after valid_from")
    for holder, other in view.identifier_holders(scheme, value):
        if holder == unit_id and other.valid_from == identifier.valid_from:
            continue  # the row this identifier replaces
        overlaps = identifier.valid_from < (other.valid_to or date.max) and other.valid_from < (
            identifier.valid_to or date.max
        )
        if overlaps:
            raise InputError(
                "unit.identifier_taken",
                f"{scheme} {value} belongs to unit {holder} from {other.valid_from}"
                + (f" to {other.valid_to}" if other.valid_to else " onwards"),
                hint="an identifier names one unit at a time; end it there first",
            )


def check_history(
    view: RegistryView,
    unit_id: int,
    country: str,
    spans: Sequence[Span],
    added: Iterable[Span],
    *,
    codes: CodeLookup,
    new: bool = False,
) -> None:
    """Every newly recorded span is acceptable, and the units under this one still fit
    (``new``: the unit is being created, so nothing is under it yet)."""
    for span in added:
        check_fields(country, span.fields, span.valid_from, codes=codes)
        check_parent(view, unit_id, country, span, new=new)
    if not new:
        check_children(view, unit_id, spans)


__all__ = [
    "CodeLookup",
    "RegistryView",
    "check_children",
    "check_fields",
    "check_history",
    "check_identifier",
    "check_list_fields",
    "check_parent",
    "check_services",
    "swedish_lan",
]
