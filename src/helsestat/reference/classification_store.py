"""Classifications and correspondences in the reference database: the repository of the one
model of :mod:`helsestat.reference.classifications` (the tables are in
:mod:`helsestat.store.db.schema`).

Write a classification with its versions, levels and codes, or a correspondence table; read
the codes valid on a date, a table's pairs, or everything back as a
:class:`~helsestat.reference.classifications.Registry`. Every write is checked first (no
overlapping versions, codes of the right level, both sides of a correspondence known), is
all or nothing, and bumps the reference version (:func:`~helsestat.reference.state.bump`)
in the same transaction, so readers of a snapshot see the change.

What the core KLASS tables have no column for (type, provenance, short names, notes, version
introductions, table descriptions) is kept in ``classification_meta``.

>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> engine = create_engine_for("sqlite://")
>>> migrate(engine)
>>> kommuner = Classification(131, "Kommuner", versions=(
...     Version(1, "Kommuner 2024", date(2024, 1, 1), None, (Level(1, "Kommune"),),
...             (Code("0301", "Oslo"),)),))
>>> with session_factory(engine).begin() as session:
...     load_classification(session, kommuner)
>>> with session_factory(engine)() as session:
...     [c.code for c in codes_at(session, 131, date(2024, 6, 1))]
['0301']
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from helsestat.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    ReferenceError_,
)
from helsestat.reference import state
from helsestat.reference.classifications import (
    Classification,
    Code,
    CorrespondenceTable,
    Level,
    MapItem,
    Registry,
    Version,
    span_text,
)
from helsestat.store.db.database import atomic
from helsestat.store.db.reference_schema import ClassificationMeta
from helsestat.store.db.schema import (
    CODE_LENGTH,
    ClassificationCode,
    ClassificationLevel,
    core,
)
from helsestat.store.db.schema import Classification as ClassificationRow
from helsestat.store.db.schema import ClassificationVersion as VersionRow
from helsestat.store.db.schema import Correspondence as CorrespondenceRow
from helsestat.store.db.schema import CorrespondenceMap as MapRow

#: ``last_modified`` of a classification whose metadata row is missing.
DEFAULT_LAST_MODIFIED = "2026-01-01T00:00:00.000+0000"

# -- checks ----------------------------------------------------------------------------------


def _check_version(cid: int, version: Version) -> None:
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
    codes = {c.code for c in version.codes}
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
                f"declare the level in Version.levels (it has {sorted(levels)})",
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
                f"code {item.code!r} is valid {span_text(start, end)}, outside the version's "
                f"{span_text(version.valid_from, version.valid_to)}",
                "a code's validity must lie within its version's",
            )


def _check_no_overlap(session: Session, cid: int) -> None:
    rows = session.execute(
        select(VersionRow.id, VersionRow.valid_from, VersionRow.valid_to)
        .where(VersionRow.classification_id == cid)
        .order_by(VersionRow.valid_from)
    ).all()
    for before, after in itertools.pairwise(rows):
        if before.valid_to is None or before.valid_to > after.valid_from:
            raise InputError(
                "input.invalid_classification",
                f"classification {cid}: versions {before.id} "
                f"({span_text(before.valid_from, before.valid_to)}) and {after.id} "
                f"({span_text(after.valid_from, after.valid_to)}) overlap",
                hint="end the older version (valid_to) on the day the newer one starts",
            )


# -- writing ---------------------------------------------------------------------------------


def _replace_version(session: Session, cid: int, version: Version) -> None:
    row = session.get(VersionRow, version.id)
    if row is None:
        row = VersionRow(id=version.id, classification_id=cid)
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
            insert(core(ClassificationLevel)),
            [
                {"version_id": row.id, "level_number": lv.number, "name": lv.name}
                for lv in version.levels
            ],
        )
    if version.codes:
        # Parents sit on a lower level than their children: insert top-down.
        ordered = sorted(version.codes, key=lambda c: c.level)
        session.execute(
            insert(core(ClassificationCode)),
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


def _meta(session: Session, cid: int) -> ClassificationMeta:
    row = session.get(ClassificationMeta, cid)
    if row is None:
        row = ClassificationMeta(
            classification_id=cid,
            classification_type="Klassifikasjon",
            synthetic=False,
            source="",
            attributes={},
        )
        session.add(row)
    return row


def _write_meta(session: Session, cls: Classification) -> None:
    row = _meta(session, cls.id)
    attributes = dict(row.attributes or {})
    kept_codes = {
        key: value
        for key, value in attributes.get("codes", {}).items()
        if int(key.split("/", 1)[0]) not in {v.id for v in cls.versions}
    }
    kept_intros = {
        key: value
        for key, value in attributes.get("introductions", {}).items()
        if int(key) not in {v.id for v in cls.versions}
    }
    row.classification_type = cls.classification_type
    row.synthetic = cls.synthetic
    row.source = cls.source
    row.attributes = attributes | {
        "statisticalUnits": list(cls.statistical_units),
        "lastModified": cls.last_modified,
        "introductions": kept_intros | {str(v.id): v.introduction for v in cls.versions},
        "codes": kept_codes
        | {
            f"{v.id}/{c.code}": {"shortName": c.short_name, "notes": c.notes}
            for v in cls.versions
            for c in v.codes
            if c.short_name or c.notes
        },
    }


def load_classification(session: Session, cls: Classification) -> None:
    """Insert the classification, or update it, and insert or replace each of its versions
    (with their levels and codes); versions not given stay as they are. All or nothing: on
    any error no row is changed.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> fylker = Classification(7, "Fylker", versions=(Version(
    ...     70, "Fylker 2024", date(2024, 1, 1), None, (Level(1, "Fylke"),),
    ...     (Code("03", "Oslo"), Code("46", "Vestland"))),))
    >>> with session_factory(engine).begin() as session:
    ...     load_classification(session, fylker)
    """
    for version in cls.versions:
        _check_version(cls.id, version)
    ids = [v.id for v in cls.versions]
    if len(set(ids)) != len(ids):
        raise InputError(
            "input.invalid_classification",
            f"classification {cls.id}: a version id appears twice",
            hint="give each version its own id",
        )
    with atomic(session, f"loading classification {cls.id}"):
        row = session.get(ClassificationRow, cls.id)
        if row is None:
            row = ClassificationRow(id=cls.id)
            session.add(row)
        row.name, row.description, row.owner = cls.name, cls.description, cls.owning_section
        session.flush()
        for version in cls.versions:
            _replace_version(session, cls.id, version)
        _check_no_overlap(session, cls.id)
        _write_meta(session, cls)
        state.bump(session)


def _version_codes(session: Session, version_id: int, where: str) -> set[str]:
    if session.get(VersionRow, version_id) is None:
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


def _check_pairs(where: str, maps: tuple[MapItem, ...]) -> None:
    seen: set[tuple[str, str]] = set()
    for pair in maps:
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


def load_correspondence(session: Session, table: CorrespondenceTable) -> None:
    """Insert or replace a correspondence table and all its pairs; every code must exist in
    its version. All or nothing.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> table = CorrespondenceTable(1, "Kommuner 2020-2024", 10, 20, maps=())
    >>> with session_factory(engine).begin() as session:
    ...     load_correspondence(session, table)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    helsestat.errors.NotFoundError: correspondence 1: version 10 is not in the reference ...
    """
    where = f"correspondence {table.id}"
    _check_pairs(where, table.maps)
    with atomic(session, f"loading {where}"):
        sides = (
            ("source", table.source_version, [p.source_code for p in table.maps]),
            ("target", table.target_version, [p.target_code for p in table.maps]),
        )
        for side, version_id, wanted in sides:
            known = _version_codes(session, version_id, where)
            for code in wanted:
                if code not in known:
                    raise ReferenceError_(
                        "reference.unknown_code",
                        f"{where}: {side} code {code!r} is not a code of version {version_id}",
                        hint=f"pairs map codes of version {table.source_version} to codes "
                        f"of version {table.target_version}",
                    )
        row = session.get(CorrespondenceRow, table.id)
        if row is None:
            row = CorrespondenceRow(id=table.id)
            session.add(row)
        else:
            session.execute(delete(MapRow).where(MapRow.correspondence_id == table.id))
        row.name = table.name
        row.source_version_id, row.target_version_id = table.source_version, table.target_version
        session.flush()
        if table.maps:
            session.execute(
                insert(core(MapRow)),
                [
                    {
                        "correspondence_id": table.id,
                        "source_code": p.source_code,
                        "target_code": p.target_code,
                        "weight": p.weight,
                    }
                    for p in table.maps
                ],
            )
        # The description has no column: kept with the source classification's metadata.
        owner = session.get(VersionRow, table.source_version)
        assert owner is not None  # checked above
        meta = _meta(session, owner.classification_id)
        attributes = dict(meta.attributes or {})
        tables = dict(attributes.get("correspondenceTables", {}))
        tables[str(table.id)] = {"description": table.description}
        meta.attributes = attributes | {"correspondenceTables": tables}
        state.bump(session)


def save_registry(session: Session, registry: Registry) -> None:
    """Insert or replace every classification of ``registry``, then every correspondence
    table (each checked, in one transaction with the caller's other writes)."""
    for cls in sorted(registry.classifications.values(), key=lambda c: c.id):
        load_classification(session, cls)
    for table in sorted(registry.correspondences.values(), key=lambda t: t.id):
        load_correspondence(session, table)


# -- reading ---------------------------------------------------------------------------------


def _version_at(session: Session, classification_id: int, at: date) -> VersionRow:
    if session.get(ClassificationRow, classification_id) is None:
        raise NotFoundError(
            "classification.not_found",
            f"classification {classification_id} is not in the reference database",
            hint="load it first (load_classification), or check the id against KLASS",
        )
    versions = session.scalars(
        select(VersionRow)
        .where(VersionRow.classification_id == classification_id)
        .order_by(VersionRow.valid_from)
    ).all()
    for version in versions:
        if version.valid_from <= at and (version.valid_to is None or at < version.valid_to):
            return version
    spans = "; ".join(span_text(v.valid_from, v.valid_to) for v in versions) or "none"
    raise NotFoundError(
        "classification_version.not_found",
        f"classification {classification_id} has no version valid on {at}",
        hint=f"its versions cover: {spans}; ask for a date inside one of them, "
        "or load the version that covers this date",
    )


def codes_at(session: Session, classification_id: int, at: date) -> list[Code]:
    """The codes valid on ``at`` in the version of the classification valid on ``at``,
    ordered by level and code, each with its validity spelled out. ``NotFoundError`` when no
    version covers the date.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     codes_at(session, 131, date(2024, 1, 1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    helsestat.errors.NotFoundError: classification 131 is not in the reference database ...
    """
    version = _version_at(session, classification_id, at)
    rows = session.scalars(
        select(ClassificationCode)
        .where(
            ClassificationCode.version_id == version.id,
            ClassificationCode.valid_from <= at,
            or_(ClassificationCode.valid_to.is_(None), ClassificationCode.valid_to > at),
        )
        .order_by(ClassificationCode.level, ClassificationCode.code)
    ).all()
    return [
        Code(r.code, r.name, r.level, r.parent_code, valid_from=r.valid_from, valid_to=r.valid_to)
        for r in rows
    ]


def correspondence_map(session: Session, correspondence_id: int) -> list[MapItem]:
    """The pairs of a correspondence table, ordered by source and target code.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     correspondence_map(session, 1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    helsestat.errors.NotFoundError: correspondence 1 is not in the reference database ...
    """
    if session.get(CorrespondenceRow, correspondence_id) is None:
        raise NotFoundError(
            "correspondence.not_found",
            f"correspondence {correspondence_id} is not in the reference database",
            hint="load it first (load_correspondence)",
        )
    rows = session.scalars(
        select(MapRow)
        .where(MapRow.correspondence_id == correspondence_id)
        .order_by(MapRow.source_code, MapRow.target_code)
    ).all()
    return [MapItem(r.source_code, r.target_code, r.weight) for r in rows]


def read_registry(session: Session) -> Registry:
    """Every classification and correspondence table in the database, as one registry.

    >>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
    >>> engine = create_engine_for("sqlite://"); migrate(engine)
    >>> with session_factory(engine)() as session:
    ...     len(read_registry(session).classifications)
    0
    """
    metas: dict[int, dict[str, Any]] = {}
    flags: dict[int, tuple[str, bool, str]] = {}
    for meta in session.scalars(select(ClassificationMeta)):
        metas[meta.classification_id] = meta.attributes or {}
        flags[meta.classification_id] = (meta.classification_type, meta.synthetic, meta.source)
    levels: dict[int, list[Level]] = defaultdict(list)
    level_columns = (
        ClassificationLevel.version_id,
        ClassificationLevel.level_number,
        ClassificationLevel.name,
    )
    for lv in session.execute(
        select(*level_columns).order_by(
            ClassificationLevel.version_id, ClassificationLevel.level_number
        )
    ):
        levels[lv.version_id].append(Level(lv.level_number, lv.name))
    versions = session.execute(
        select(
            VersionRow.id,
            VersionRow.classification_id,
            VersionRow.name,
            VersionRow.valid_from,
            VersionRow.valid_to,
        )
    ).all()
    starts = {v.id: v.valid_from for v in versions}
    owner_of = {v.id: v.classification_id for v in versions}
    codes: dict[int, list[Code]] = defaultdict(list)
    for c in session.execute(
        select(
            ClassificationCode.version_id,
            ClassificationCode.code,
            ClassificationCode.name,
            ClassificationCode.level,
            ClassificationCode.parent_code,
            ClassificationCode.valid_from,
            ClassificationCode.valid_to,
        ).order_by(ClassificationCode.version_id, ClassificationCode.level, ClassificationCode.code)
    ):
        extra = (
            metas.get(owner_of[c.version_id], {})
            .get("codes", {})
            .get(f"{c.version_id}/{c.code}", {})
        )
        codes[c.version_id].append(
            Code(
                c.code,
                c.name,
                c.level,
                c.parent_code,
                extra.get("shortName", ""),
                extra.get("notes", ""),
                None if c.valid_from == starts[c.version_id] else c.valid_from,
                c.valid_to,
            )
        )
    by_cls: dict[int, list[Version]] = defaultdict(list)
    for v in versions:
        intro = metas.get(v.classification_id, {}).get("introductions", {}).get(str(v.id), "")
        by_cls[v.classification_id].append(
            Version(
                v.id,
                v.name,
                v.valid_from,
                v.valid_to,
                tuple(levels[v.id]),
                tuple(codes[v.id]),
                intro,
            )
        )
    classes = []
    descriptions: dict[str, str] = {}
    for row in session.scalars(select(ClassificationRow)):
        attrs: dict[str, Any] = metas.get(row.id, {})
        kind, synthetic, source = flags.get(row.id, ("Klassifikasjon", False, ""))
        descriptions |= {
            k: v["description"] for k, v in attrs.get("correspondenceTables", {}).items()
        }
        classes.append(
            Classification(
                row.id,
                row.name,
                tuple(by_cls[row.id]),
                description=row.description,
                classification_type=kind,
                owning_section=row.owner,
                statistical_units=tuple(attrs.get("statisticalUnits", ())),
                synthetic=synthetic,
                source=source,
                last_modified=attrs.get("lastModified", DEFAULT_LAST_MODIFIED),
            )
        )
    maps: dict[int, list[MapItem]] = defaultdict(list)
    for m in session.execute(
        select(MapRow.correspondence_id, MapRow.source_code, MapRow.target_code, MapRow.weight)
    ):
        maps[m.correspondence_id].append(MapItem(m.source_code, m.target_code, m.weight))
    tables = [
        CorrespondenceTable(
            t.id,
            t.name,
            t.source_version_id,
            t.target_version_id,
            tuple(maps[t.id]),
            descriptions.get(str(t.id), ""),
        )
        for t in session.scalars(select(CorrespondenceRow))
    ]
    return Registry.of(classes, tables)


__all__ = [
    "codes_at",
    "correspondence_map",
    "load_classification",
    "load_correspondence",
    "read_registry",
    "save_registry",
]
