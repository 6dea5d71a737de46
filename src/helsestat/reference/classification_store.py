"""Versioned classifications and their correspondences in the reference database (the
KLASS model): load a classification's versions with their levels and codes, read the codes
valid on a date, load and read correspondence tables. Every load is checked first (no
overlapping versions, codes of the right level, both sides of a correspondence known) and
written all or nothing.

>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> engine = create_engine_for("sqlite://")
>>> migrate(engine)
>>> data = ClassificationData(131, "Kommuner", versions=(
...     VersionData(1, "Kommuner 2024", date(2024, 1, 1), None,
...                 levels=(LevelData(1, "Kommune"),), codes=(CodeData("0301", "Oslo"),)),))
>>> with session_factory(engine).begin() as session:
...     load_classification(session, data)
>>> with session_factory(engine)() as session:
...     [c.code for c in codes_at(session, 131, date(2024, 6, 1))]
['0301']
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from helsestat.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    ReferenceError_,
)
from helsestat.store.db.database import atomic
from helsestat.store.db.schema import (
    CODE_LENGTH,
    Classification,
    ClassificationCode,
    ClassificationLevel,
    ClassificationVersion,
    Correspondence,
    CorrespondenceMap,
)

# -- classifications -------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelData:
    """A level of a classification version: 1 is the top."""

    number: int
    name: str


@dataclass(frozen=True)
class CodeData:
    """A code to load. ``valid_from`` None: valid from the start of its version."""

    code: str
    name: str
    level: int = 1
    parent_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class VersionData:
    """A version to load, valid on ``[valid_from, valid_to)``; ``valid_to`` None: still valid."""

    id: int
    name: str
    valid_from: date
    valid_to: date | None
    levels: tuple[LevelData, ...]
    codes: tuple[CodeData, ...]


@dataclass(frozen=True)
class ClassificationData:
    """A classification with the versions to insert or replace (others stay as they are)."""

    id: int
    name: str
    versions: tuple[VersionData, ...]
    description: str = ""
    owner: str = ""


@dataclass(frozen=True)
class CodeRow:
    """A code as read back from the database."""

    code: str
    name: str
    level: int
    parent_code: str | None
    valid_from: date
    valid_to: date | None


def _span(valid_from: date, valid_to: date | None) -> str:
    return f"{valid_from} to {valid_to}" if valid_to else f"{valid_from} onwards"


def _check_version(cid: int, version: VersionData) -> None:
    where = f"classification {cid} version {version.id}"

    def bad(problem: str, hint: str) -> InputError:
        return InputError("input.invalid_classification", f"{where}: {problem}", hint=hint)

    if version.valid_to is not None and version.valid_to <= version.valid_from:
        raise bad(
            f"valid_to {version.valid_to} is not after valid_from {version.valid_from}",
            "valid_to is the first day the version no longer applies (as in KLASS)",
        )
    levels = [level.number for level in version.levels]
    if len(set(levels)) != len(levels):
        raise bad("a level number appears twice", "number the levels 1, 2, 3 … once each")
    codes = [c.code for c in version.codes]
    seen: set[str] = set()
    for item in version.codes:
        if item.code in seen:
            raise bad(f"code {item.code!r} appears twice", "a code is unique within a version")
        seen.add(item.code)
        if not item.code or len(item.code) > CODE_LENGTH:
            raise bad(f"code {item.code[:20]!r} is empty or longer than {CODE_LENGTH}", "")
        if item.level not in levels:
            raise bad(
                f"code {item.code!r} is on level {item.level}, which the version does not have",
                f"declare the level in VersionData.levels (it has {sorted(levels)})",
            )
        if item.parent_code is not None and (
            item.parent_code == item.code or item.parent_code not in codes
        ):
            raise bad(
                f"code {item.code!r} has parent {item.parent_code!r}, which is not another "
                "code of this version",
                "a parent must be a code of the same version",
            )
        start = item.valid_from or version.valid_from
        end = item.valid_to
        if (
            start < version.valid_from
            or (end is not None and end <= start)
            or (end is not None and version.valid_to is not None and end > version.valid_to)
        ):
            raise bad(
                f"code {item.code!r} is valid {_span(start, end)}, outside the version's "
                f"{_span(version.valid_from, version.valid_to)}",
                "a code's validity must lie within its version's",
            )


def _replace_version(session: Session, cid: int, version: VersionData) -> None:
    row = session.get(ClassificationVersion, version.id)
    if row is None:
        row = ClassificationVersion(id=version.id, classification_id=cid)
        session.add(row)
    elif row.classification_id != cid:
        raise ConflictError(
            "classification.conflict",
            f"classification {cid}: version {version.id} already belongs to "
            f"classification {row.classification_id}",
            hint="version ids are unique across all classifications (as in KLASS); "
            "use the publisher's own version id",
        )
    else:
        session.execute(delete(ClassificationCode).where(ClassificationCode.version_id == row.id))
        session.execute(delete(ClassificationLevel).where(ClassificationLevel.version_id == row.id))
    row.name, row.valid_from, row.valid_to = version.name, version.valid_from, version.valid_to
    session.flush()
    if version.levels:
        session.execute(
            insert(ClassificationLevel),
            [
                {"version_id": row.id, "level_number": lv.number, "name": lv.name}
                for lv in version.levels
            ],
        )
    if version.codes:
        # Parents sit on a lower level than their children: insert top-down.
        ordered = sorted(version.codes, key=lambda c: c.level)
        session.execute(
            insert(ClassificationCode),
            [
                {
                    "version_id": row.id,
                    "code": c.code,
                    "parent_code": c.parent_code,
                    "level": c.level,
                    "name": c.name,
                    "valid_from": c.valid_from or version.valid_from,
                    "valid_to": c.valid_to,
                }
                for c in ordered
            ],
        )
    session.flush()


def _check_no_overlap(session: Session, cid: int) -> None:
    rows = session.execute(
        select(
            ClassificationVersion.id,
            ClassificationVersion.valid_from,
            ClassificationVersion.valid_to,
        )
        .where(ClassificationVersion.classification_id == cid)
        .order_by(ClassificationVersion.valid_from)
    ).all()
    for before, after in itertools.pairwise(rows):
        if before.valid_to is None or before.valid_to > after.valid_from:
            raise InputError(
                "input.invalid_classification",
                f"classification {cid}: versions {before.id} "
                f"({_span(before.valid_from, before.valid_to)}) and {after.id} "
                f"({_span(after.valid_from, after.valid_to)}) overlap",
                hint="end the older version (valid_to) on the day the newer one starts",
            )


def load_classification(session: Session, data: ClassificationData) -> None:
    """Insert the classification, or update it, and insert or replace each of its versions
    (with their levels and codes). All or nothing: on any error no row is changed.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> data = ClassificationData(7, "Fylker", versions=(VersionData(
    ...     70, "Fylker 2024", date(2024, 1, 1), None, levels=(LevelData(1, "Fylke"),),
    ...     codes=(CodeData("03", "Oslo"), CodeData("46", "Vestland"))),))
    >>> with session_factory(engine).begin() as session:
    ...     load_classification(session, data)
    """
    for version in data.versions:
        _check_version(data.id, version)
    ids = [v.id for v in data.versions]
    if len(set(ids)) != len(ids):
        raise InputError(
            "input.invalid_classification",
            f"classification {data.id}: a version id appears twice",
            hint="give each version its own id",
        )
    with atomic(session, f"loading classification {data.id}"):
        row = session.get(Classification, data.id)
        if row is None:
            row = Classification(id=data.id)
            session.add(row)
        row.name, row.description, row.owner = data.name, data.description, data.owner
        session.flush()
        for version in data.versions:
            _replace_version(session, data.id, version)
        _check_no_overlap(session, data.id)


def _version_at(session: Session, classification_id: int, at: date) -> ClassificationVersion:
    if session.get(Classification, classification_id) is None:
        raise NotFoundError(
            "classification.not_found",
            f"classification {classification_id} is not in the reference database",
            hint="load it first (load_classification), or check the id against KLASS",
        )
    versions = session.scalars(
        select(ClassificationVersion)
        .where(ClassificationVersion.classification_id == classification_id)
        .order_by(ClassificationVersion.valid_from)
    ).all()
    for version in versions:
        if version.valid_from <= at and (version.valid_to is None or at < version.valid_to):
            return version
    spans = "; ".join(_span(v.valid_from, v.valid_to) for v in versions) or "none"
    raise NotFoundError(
        "classification_version.not_found",
        f"classification {classification_id} has no version valid on {at}",
        hint=f"its versions cover: {spans}; ask for a date inside one of them, "
        "or load the version that covers this date",
    )


def codes_at(session: Session, classification_id: int, at: date) -> list[CodeRow]:
    """The codes valid on ``at`` in the version of the classification valid on ``at``,
    ordered by level and code. ``NotFoundError`` when no version covers the date.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     codes_at(session, 131, date(2024, 1, 1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    helsestat.errors.NotFoundError: classification 131 is not in the reference database ...
    """
    day = at.date() if isinstance(at, datetime) else at
    version = _version_at(session, classification_id, day)
    rows = session.scalars(
        select(ClassificationCode)
        .where(
            ClassificationCode.version_id == version.id,
            ClassificationCode.valid_from <= day,
            or_(ClassificationCode.valid_to.is_(None), ClassificationCode.valid_to > day),
        )
        .order_by(ClassificationCode.level, ClassificationCode.code)
    ).all()
    return [CodeRow(r.code, r.name, r.level, r.parent_code, r.valid_from, r.valid_to) for r in rows]


# -- correspondences -------------------------------------------------------------------------


@dataclass(frozen=True)
class MapRow:
    """One pair of a correspondence; ``weight`` is the share of the source code that goes to
    the target (1 unless the code is split)."""

    source_code: str
    target_code: str
    weight: float = 1.0


@dataclass(frozen=True)
class CorrespondenceData:
    """A correspondence table from one version to another, to insert or replace."""

    id: int
    name: str
    source_version_id: int
    target_version_id: int
    pairs: tuple[MapRow, ...]


def _version_codes(session: Session, version_id: int, where: str) -> set[str]:
    if session.get(ClassificationVersion, version_id) is None:
        raise NotFoundError(
            "classification_version.not_found",
            f"{where}: version {version_id} is not in the reference database",
            hint="load the classification with that version first (load_classification)",
        )
    return set(
        session.scalars(
            select(ClassificationCode.code).where(ClassificationCode.version_id == version_id)
        )
    )


def load_correspondence(session: Session, data: CorrespondenceData) -> None:
    """Insert or replace a correspondence and all its pairs; every code must exist in its
    version. All or nothing.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> data = CorrespondenceData(1, "Kommuner 2020-2024", 10, 20, pairs=())
    >>> with session_factory(engine).begin() as session:
    ...     load_correspondence(session, data)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    helsestat.errors.NotFoundError: correspondence 1: version 10 is not in the reference ...
    """
    where = f"correspondence {data.id}"
    seen: set[tuple[str, str]] = set()
    for pair in data.pairs:
        key = (pair.source_code, pair.target_code)
        if key in seen:
            raise InputError(
                "input.invalid_correspondence",
                f"{where}: pair {key[0]!r} → {key[1]!r} appears twice",
                hint="list each pair once; split codes carry a weight below 1",
            )
        seen.add(key)
        if not 0 < pair.weight <= 1:
            raise InputError(
                "input.invalid_correspondence",
                f"{where}: pair {key[0]!r} → {key[1]!r} has weight {pair.weight}",
                hint="a weight is the share of the source code, above 0 and at most 1",
            )
    with atomic(session, f"loading {where}"):
        sides = (
            ("source", data.source_version_id, [p.source_code for p in data.pairs]),
            ("target", data.target_version_id, [p.target_code for p in data.pairs]),
        )
        for side, version_id, wanted in sides:
            known = _version_codes(session, version_id, where)
            for code in wanted:
                if code not in known:
                    raise ReferenceError_(
                        "reference.unknown_code",
                        f"{where}: {side} code {code!r} is not a code of version {version_id}",
                        hint=f"pairs map codes of version {data.source_version_id} to codes "
                        f"of version {data.target_version_id}",
                    )
        row = session.get(Correspondence, data.id)
        if row is None:
            row = Correspondence(id=data.id)
            session.add(row)
        else:
            session.execute(
                delete(CorrespondenceMap).where(CorrespondenceMap.correspondence_id == data.id)
            )
        row.name = data.name
        row.source_version_id, row.target_version_id = (
            data.source_version_id,
            data.target_version_id,
        )
        session.flush()
        if data.pairs:
            session.execute(
                insert(CorrespondenceMap),
                [
                    {
                        "correspondence_id": data.id,
                        "source_code": p.source_code,
                        "target_code": p.target_code,
                        "weight": p.weight,
                    }
                    for p in data.pairs
                ],
            )


def correspondence_map(session: Session, correspondence_id: int) -> list[MapRow]:
    """The pairs of a correspondence, ordered by source and target code.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     correspondence_map(session, 1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    helsestat.errors.NotFoundError: correspondence 1 is not in the reference database ...
    """
    if session.get(Correspondence, correspondence_id) is None:
        raise NotFoundError(
            "correspondence.not_found",
            f"correspondence {correspondence_id} is not in the reference database",
            hint="load it first (load_correspondence)",
        )
    rows = session.scalars(
        select(CorrespondenceMap)
        .where(CorrespondenceMap.correspondence_id == correspondence_id)
        .order_by(CorrespondenceMap.source_code, CorrespondenceMap.target_code)
    ).all()
    return [MapRow(r.source_code, r.target_code, r.weight) for r in rows]


__all__ = [
    "ClassificationData",
    "CodeData",
    "CodeRow",
    "CorrespondenceData",
    "LevelData",
    "MapRow",
    "VersionData",
    "codes_at",
    "correspondence_map",
    "load_classification",
    "load_correspondence",
]
