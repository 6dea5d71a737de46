"""Classifications and code lists modelled on SSB's KLASS, and the queries KLASS answers.

::

    Classification 1──* Version (valid_from, valid_to) 1──* Level
                                                      1──* Code (code, parent, level, name)
    Version (source) ──* CorrespondenceTable ──* MapItem (source code → target code, weight)
                                                 a table between two versions of the same
                                                 classification is a *change table*

Validity is half-open as in KLASS: ``valid_to`` is the first day a version no longer
applies; None means still valid. Ids are the publisher's own (KLASS ids); ids from
:data:`LOCAL_ID_BASE` upwards are assigned by helsestat where KLASS's id is not known.

>>> reg = Registry.of([Classification(1, "Demo", versions=(Version(10, "Demo 2024",
...     date(2024, 1, 1), None, (Level(1, "Kode"),), (Code("A", "Alfa"), Code("B", "Beta"))),))])
>>> [i.code.code for i in reg.codes_at(1, date(2025, 6, 1))]
['A', 'B']
>>> [i.code.code for i in reg.codes_at(1, date(2025, 6, 1), select_codes="B*")]
['B']
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from helsestat.errors import NotFoundError, QueryError, ReferenceError_

#: Ids from here on are helsestat's own (KLASS ids are far below).
LOCAL_ID_BASE = 9_000_000


def local_version_id(classification_id: int, year: int) -> int:
    """helsestat's id of the version of ``classification_id`` starting in ``year`` (a version
    whose KLASS id is not known).

    >>> local_version_id(629, 2015), local_version_id(131, 2024)
    (9062915, 9013124)
    """
    return LOCAL_ID_BASE + classification_id * 100 + year % 100


@dataclass(frozen=True)
class Level:
    """A level of a version's hierarchy; 1 is the top."""

    number: int
    name: str


@dataclass(frozen=True)
class Code:
    """A code of a version. ``valid_from``/``valid_to`` None: the version's own."""

    code: str
    name: str
    level: int = 1
    parent_code: str | None = None
    short_name: str = ""
    notes: str = ""
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class Version:
    """One version of a classification, valid on ``[valid_from, valid_to)``."""

    id: int
    name: str
    valid_from: date
    valid_to: date | None
    levels: tuple[Level, ...]
    codes: tuple[Code, ...]
    introduction: str = ""

    def overlaps(self, start: date, end: date | None) -> bool:
        """True when the version is valid on some day of ``[start, end)``."""
        return (end is None or self.valid_from < end) and (
            self.valid_to is None or start < self.valid_to
        )

    def covers(self, day: date) -> bool:
        """True when the version is valid on ``day``."""
        return self.overlaps(day, day + timedelta(days=1))

    def code_span(self, code: Code) -> tuple[date, date | None]:
        """The validity of ``code`` (its own, else the version's)."""
        return code.valid_from or self.valid_from, code.valid_to or self.valid_to

    @property
    def by_code(self) -> dict[str, Code]:
        """The codes keyed by code."""
        return {c.code: c for c in self.codes}


@dataclass(frozen=True)
class Classification:
    """A classification (``Klassifikasjon``) or code list (``Kodeliste``) and its versions.

    ``synthetic`` marks a stand-in whose codes are invented; ``source`` says where the
    codes come from."""

    id: int
    name: str
    versions: tuple[Version, ...]
    description: str = ""
    classification_type: str = "Klassifikasjon"
    owning_section: str = ""
    statistical_units: tuple[str, ...] = ()
    synthetic: bool = False
    source: str = ""
    last_modified: str = "2026-01-01T00:00:00.000+0000"


@dataclass(frozen=True)
class MapItem:
    """One pair of a correspondence; ``weight`` is the share of the source code that goes to
    the target (1 unless the source code is split)."""

    source_code: str
    target_code: str
    weight: float = 1.0


@dataclass(frozen=True)
class CorrespondenceTable:
    """A correspondence from one version to another."""

    id: int
    name: str
    source_version: int
    target_version: int
    maps: tuple[MapItem, ...]
    description: str = ""


@dataclass(frozen=True)
class CodeItem:
    """A code as KLASS's codes/codesAt return it: validity, and for a range the part of it
    inside the requested range."""

    code: Code
    valid_from: date
    valid_to: date | None
    in_range_from: date | None = None
    in_range_to: date | None = None
    presentation_name: str = ""


@dataclass(frozen=True)
class CorrespondenceItem:
    """One row of corresponds/correspondsAt."""

    source: Code
    target: Code
    valid_from: date
    valid_to: date | None
    weight: float = 1.0


@dataclass(frozen=True)
class CodeChange:
    """One row of changes: a code replaced, renamed, started (no old) or ended (no new)."""

    old: Code | None
    new: Code | None
    occurred: date


def span_text(start: date, end: date | None) -> str:
    """``2020-01-01 to 2024-01-01`` or ``2024-01-01 onwards``.

    >>> span_text(date(2024, 1, 1), None)
    '2024-01-01 onwards'
    """
    return f"{start} to {end}" if end else f"{start} onwards"


# -- selectCodes and presentationNamePattern -------------------------------------------------


def code_selector(select_codes: str | None) -> Callable[[str], bool]:
    """A predicate over codes for KLASS's ``selectCodes``: a comma-separated list of codes,
    ``11*`` prefixes and ranges ``3004-3400`` (``3004-34*``: up to the highest code starting
    with 34).

    >>> pick = code_selector("0301, 11*, 4601-4640")
    >>> [c for c in ("0301", "1103", "4602", "5001") if pick(c)]
    ['0301', '1103', '4602']
    """
    if not select_codes:
        return lambda code: True
    tests: list[tuple[str, str, str]] = []
    for raw in select_codes.split(","):
        part = raw.strip()
        if not part:
            continue
        if "-" in part:
            low, high = (p.strip() for p in part.split("-", 1))
            if not low or not high:
                raise QueryError(
                    "query.invalid_select_codes",
                    f"selectCodes: {part!r} is not a range",
                    hint="write a range as 3004-3400 or 3004-34*",
                )
            tests.append(("range", low.rstrip("*"), high))
        elif part.endswith("*"):
            tests.append(("prefix", part[:-1], ""))
        else:
            tests.append(("exact", part, ""))

    def matches(code: str) -> bool:
        for kind, a, b in tests:
            if kind == "exact" and code == a:
                return True
            if kind == "prefix" and code.startswith(a):
                return True
            if kind == "range":
                if b.endswith("*"):
                    upper_ok = code.startswith(b[:-1]) or code <= b[:-1]
                else:
                    upper_ok = code <= b
                if code >= a and upper_ok:
                    return True
        return False

    return matches


_PATTERN = re.compile(r"\{(?:(lowercase|uppercase|capitalize)\()?(code|name|shortName)\)?\}")


def presentation_name(pattern: str | None, code: Code) -> str:
    """KLASS's ``presentationNamePattern``: ``{code}``, ``{name}``, ``{shortName}``, each
    optionally in ``lowercase(…)``, ``uppercase(…)`` or ``capitalize(…)``.

    >>> presentation_name("{code} - {uppercase(name)}", Code("0101", "Halden"))
    '0101 - HALDEN'
    """
    if not pattern:
        return ""

    def sub(match: re.Match[str]) -> str:
        fn, fld = match.group(1), match.group(2)
        value = {"code": code.code, "name": code.name, "shortName": code.short_name}[fld]
        if fn == "lowercase":
            return value.lower()
        if fn == "uppercase":
            return value.upper()
        if fn == "capitalize":
            return value.capitalize()
        return value

    return _PATTERN.sub(sub, pattern)


# -- the registry ----------------------------------------------------------------------------


def _registry_of(payload: bytes) -> Registry:
    """A registry whose content is ``payload`` (see :meth:`Registry.__reduce__`), read at
    its first use."""
    registry = Registry.__new__(Registry)
    object.__setattr__(registry, "_payload", payload)
    return registry


@dataclass(frozen=True, eq=False)
class Registry:
    """Classifications and correspondences, indexed; answers the KLASS queries."""

    classifications: dict[int, Classification]
    correspondences: dict[int, CorrespondenceTable]
    _versions: dict[int, tuple[Classification, Version]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        classifications: Iterable[Classification],
        correspondences: Iterable[CorrespondenceTable] = (),
    ) -> Registry:
        """Index classifications and correspondences; ids must be unique."""
        by_id: dict[int, Classification] = {}
        versions: dict[int, tuple[Classification, Version]] = {}
        for c in classifications:
            if c.id in by_id:
                raise ReferenceError_(
                    "reference.duplicate_id", f"classification {c.id} is given twice"
                )
            ordered = tuple(sorted(c.versions, key=lambda v: v.valid_from))
            c = replace(c, versions=ordered)
            by_id[c.id] = c
            for v in ordered:
                if v.id in versions:
                    raise ReferenceError_(
                        "reference.duplicate_id",
                        f"version {v.id} is given twice (classifications "
                        f"{versions[v.id][0].id} and {c.id})",
                        hint="version ids are unique across all classifications, as in KLASS",
                    )
                versions[v.id] = (c, v)
        corr: dict[int, CorrespondenceTable] = {}
        for t in correspondences:
            if t.id in corr:
                raise ReferenceError_(
                    "reference.duplicate_id", f"correspondence table {t.id} is given twice"
                )
            corr[t.id] = replace(
                t, maps=tuple(sorted(t.maps, key=lambda m: (m.source_code, m.target_code)))
            )
        return cls(by_id, corr, versions)

    # pickling (a kept reference snapshot): the content is unpickled at its first use

    def __reduce__(self) -> tuple[Callable[[bytes], Registry], tuple[bytes]]:
        """Pickled as the pickle of its content, which :func:`_registry_of` reads only when
        a classification is first asked for: unpickling the classifications is most of the
        cost of reading a kept snapshot (0.18 of 0.24 s), and a command such as a build that
        changed nothing never asks for one.

        >>> import pickle
        >>> v = Version(10, "A 2024", date(2024, 1, 1), None, (Level(1, "c"),), (Code("x", "X"),))
        >>> again = pickle.loads(pickle.dumps(Registry.of([Classification(1, "A", (v,))])))
        >>> "classifications" in vars(again)
        False
        >>> again.classification(1).name, again.version(10)[1].name, len(again.correspondences)
        ('A', 'A 2024', 0)
        >>> "_payload" in vars(again)
        False
        """
        content = (self.classifications, self.correspondences, self._versions)
        return _registry_of, (pickle.dumps(content, protocol=pickle.HIGHEST_PROTOCOL),)

    def __getattr__(self, name: str) -> object:
        # only called for an attribute not set: the content of a registry unpickled lazily
        payload = self.__dict__.get("_payload")
        if payload is None or name not in ("classifications", "correspondences", "_versions"):
            raise AttributeError(name)
        classifications, correspondences, versions = pickle.loads(payload)
        object.__setattr__(self, "classifications", classifications)
        object.__setattr__(self, "correspondences", correspondences)
        object.__setattr__(self, "_versions", versions)
        self.__dict__.pop("_payload", None)  # read: its bytes are not kept beside it
        return self.__dict__[name]

    # lookups

    def classification(self, classification_id: int) -> Classification:
        """The classification, or ``classification.not_found``."""
        found = self.classifications.get(classification_id)
        if found is None:
            raise NotFoundError(
                "classification.not_found",
                f"classification {classification_id} is not in the reference registry",
                hint="GET /api/klass/v1/classifications lists the classifications",
            )
        return found

    def version(self, version_id: int) -> tuple[Classification, Version]:
        """The version and its classification, or ``classification_version.not_found``."""
        found = self._versions.get(version_id)
        if found is None:
            raise NotFoundError(
                "classification_version.not_found",
                f"version {version_id} is not in the reference registry",
                hint="the versions of a classification are listed under "
                "/api/klass/v1/classifications/{id}",
            )
        return found

    def correspondence(self, correspondence_id: int) -> CorrespondenceTable:
        """The correspondence table, or ``correspondence.not_found``."""
        found = self.correspondences.get(correspondence_id)
        if found is None:
            raise NotFoundError(
                "correspondence.not_found",
                f"correspondence table {correspondence_id} is not in the reference registry",
                hint="the tables of a version are listed under /api/klass/v1/versions/{id}",
            )
        return found

    def visible_versions(
        self, cls: Classification, today: date | None, future: bool
    ) -> list[Version]:
        """The versions a client sees: future ones only with ``includeFuture``."""
        if future or today is None:
            return list(cls.versions)
        return [v for v in cls.versions if v.valid_from <= today]

    def version_at(
        self, classification_id: int, day: date, *, include_future: bool = True
    ) -> Version:
        """The version valid on ``day``; ``ReferenceError_`` naming the covered spans."""
        cls = self.classification(classification_id)
        for v in cls.versions:
            if v.covers(day):
                return v
        spans = "; ".join(span_text(v.valid_from, v.valid_to) for v in cls.versions) or "none"
        raise ReferenceError_(
            "reference.no_version",
            f"classification {classification_id} ({cls.name}) has no version valid on {day}",
            hint=f"its versions cover: {spans}",
        )

    # codes

    def codes_at(
        self,
        classification_id: int,
        day: date,
        *,
        select_codes: str | None = None,
        select_level: int | None = None,
        pattern: str | None = None,
    ) -> list[CodeItem]:
        """KLASS ``codesAt``: the codes valid on ``day``."""
        version = self.version_at(classification_id, day)
        pick = code_selector(select_codes)
        out = []
        for c in version.codes:
            start, end = version.code_span(c)
            if not (start <= day and (end is None or day < end)):
                continue
            if select_level is not None and c.level != select_level:
                continue
            if not pick(c.code):
                continue
            out.append(CodeItem(c, start, end, presentation_name=presentation_name(pattern, c)))
        return out

    def codes(
        self,
        classification_id: int,
        start: date,
        end: date | None,
        *,
        select_codes: str | None = None,
        select_level: int | None = None,
        pattern: str | None = None,
        today: date | None = None,
        include_future: bool = False,
    ) -> list[CodeItem]:
        """KLASS ``codes``: every code valid in ``[start, end)``, with its validity and the part
        inside the range; a code that goes on unchanged in the next version is one item."""
        if end is not None and end <= start:
            raise QueryError(
                "query.invalid_range",
                f"the range from {start} to {end} is empty",
                hint="'to' is exclusive and must be after 'from'",
            )
        cls = self.classification(classification_id)
        versions = [
            v for v in self.visible_versions(cls, today, include_future) if v.overlaps(start, end)
        ]
        if not versions:
            spans = "; ".join(span_text(v.valid_from, v.valid_to) for v in cls.versions)
            raise ReferenceError_(
                "reference.no_version",
                f"classification {classification_id} ({cls.name}) has no version valid "
                f"from {start}" + (f" to {end}" if end else ""),
                hint=f"its versions cover: {spans or 'none'}",
            )
        pick = code_selector(select_codes)
        merged: dict[tuple[str, str | None, int, str], list[date | None]] = {}
        order: list[tuple[tuple[str, str | None, int, str], Code]] = []
        for v in versions:
            for c in v.codes:
                if select_level is not None and c.level != select_level:
                    continue
                if not pick(c.code):
                    continue
                span_from, span_to = v.code_span(c)
                key = (c.code, c.parent_code, c.level, c.name)
                span = merged.get(key)
                if span is not None and span[1] == span_from:
                    span[1] = span_to
                else:
                    merged[key] = [span_from, span_to]
                    order.append((key, c))
        out = []
        seen: set[tuple[str, str | None, int, str]] = set()
        for key, c in order:
            if key in seen:
                continue
            seen.add(key)
            first, cend = merged[key]
            assert first is not None
            cstart: date = first
            if not ((end is None or cstart < end) and (cend is None or start < cend)):
                continue
            lo = max(cstart, start)
            hi = cend if end is None else (end if cend is None else min(cend, end))
            out.append(
                CodeItem(c, cstart, cend, lo, hi, presentation_name=presentation_name(pattern, c))
            )
        out.sort(key=lambda i: (i.code.level, i.code.code, i.valid_from))
        return out

    # correspondences

    def tables_between(
        self, source_id: int, target_id: int
    ) -> Iterator[tuple[CorrespondenceTable, Version, Version, bool]]:
        """Correspondence tables from a version of ``source_id`` to one of ``target_id``
        (``inverted`` True: the table is stored the other way round)."""
        for t in self.correspondences.values():
            (sc, sv), (tc, tv) = self.version(t.source_version), self.version(t.target_version)
            if sc.id == source_id and tc.id == target_id:
                yield t, sv, tv, False
            elif sc.id == target_id and tc.id == source_id and source_id != target_id:
                yield t, tv, sv, True

    def corresponds(
        self,
        source_id: int,
        target_id: int,
        start: date,
        end: date | None,
    ) -> list[CorrespondenceItem]:
        """KLASS ``corresponds``: the pairs valid in ``[start, end)``. ``NotFoundError`` when
        no table covers part of the range (as KLASS answers 404)."""
        self.classification(source_id)
        self.classification(target_id)
        items: list[CorrespondenceItem] = []
        covered: list[tuple[date, date | None]] = []
        for table, sv, tv, inverted in self.tables_between(source_id, target_id):
            lo = max(sv.valid_from, tv.valid_from, start)
            ends = [d for d in (sv.valid_to, tv.valid_to, end) if d is not None]
            hi = min(ends) if ends else None
            if hi is not None and hi <= lo:
                continue
            covered.append((lo, hi))
            # Each pair carries the validity of the table (both versions), as KLASS's do.
            vfrom = max(sv.valid_from, tv.valid_from)
            vends = [d for d in (sv.valid_to, tv.valid_to) if d is not None]
            vto = min(vends) if vends else None
            scodes, tcodes = sv.by_code, tv.by_code
            for m in table.maps:
                s, t = (
                    (m.target_code, m.source_code) if inverted else (m.source_code, m.target_code)
                )
                if s in scodes and t in tcodes:
                    items.append(CorrespondenceItem(scodes[s], tcodes[t], vfrom, vto, m.weight))
        versions = self.classification(source_id).versions
        needed_end = end if end is not None else (versions[-1].valid_to if versions else None)
        if not _covers(covered, start, needed_end):
            raise NotFoundError(
                "correspondence.not_found",
                f"no correspondence from classification {source_id} to {target_id} covers "
                f"all of {span_text(start, end)}",
                hint="ask for a range inside the validity of a correspondence table "
                "(GET /api/klass/v1/versions/{id} lists a version's tables)",
            )
        items.sort(key=lambda i: (i.valid_from, i.source.code, i.target.code))
        return items

    # changes

    def changes(self, classification_id: int, start: date, end: date | None) -> list[CodeChange]:
        """KLASS ``changes``: what changed between consecutive versions whose change falls in
        ``[start, end)`` — from a change table where there is one, else by comparing codes."""
        cls = self.classification(classification_id)
        out: list[CodeChange] = []
        for before, after in zip(cls.versions, cls.versions[1:], strict=False):
            when = after.valid_from
            if when < start or (end is not None and when >= end):
                continue
            table = next(
                (
                    t
                    for t in self.correspondences.values()
                    if t.source_version == before.id and t.target_version == after.id
                ),
                None,
            )
            out.extend(_changes_between(before, after, table))
        return out


def _changes_between(
    before: Version, after: Version, table: CorrespondenceTable | None
) -> list[CodeChange]:
    old, new = before.by_code, after.by_code
    when = after.valid_from
    out: list[CodeChange] = []
    if table is not None:
        mapped_old = {m.source_code for m in table.maps}
        mapped_new = {m.target_code for m in table.maps}
        for m in sorted(table.maps, key=lambda m: (m.source_code, m.target_code)):
            o, n = old.get(m.source_code), new.get(m.target_code)
            if o is None or n is None or (o.code == n.code and o.name == n.name):
                continue
            out.append(CodeChange(o, n, when))
    else:
        mapped_old = mapped_new = set(old) & set(new)
        for code in sorted(mapped_old):
            if old[code].name != new[code].name:
                out.append(CodeChange(old[code], new[code], when))
    out.extend(CodeChange(old[c], None, when) for c in sorted(set(old) - mapped_old))
    out.extend(CodeChange(None, new[c], when) for c in sorted(set(new) - mapped_new))
    return out


def _covers(spans: list[tuple[date, date | None]], start: date, end: date | None) -> bool:
    """True when the union of ``spans`` covers ``[start, end)`` (end None: onwards)."""
    at: date | None = start
    for lo, hi in sorted(spans, key=lambda s: s[0]):
        if at is None:
            return True
        if lo > at:
            break
        if hi is None:
            at = None
        elif hi > at:
            at = hi
    return at is None or (end is not None and at >= end)


__all__ = [
    "LOCAL_ID_BASE",
    "Classification",
    "Code",
    "CodeChange",
    "CodeItem",
    "CorrespondenceItem",
    "CorrespondenceTable",
    "Level",
    "MapItem",
    "Registry",
    "Version",
    "code_selector",
    "local_version_id",
    "presentation_name",
    "span_text",
]
