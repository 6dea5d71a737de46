"""KLASS's JSON shapes: read classification bundles, write them back, and build the documents
the KLASS-compatible API serves.

A *bundle* (one file per classification in ``data/klass/``) holds the KLASS API's own
documents, unchanged in shape, so a bundle can be assembled from SSB's API and loaded here::

    {"classification": <GET classifications/{id}>,
     "versions": [<GET versions/{id}>, …],                  with classificationItems and levels
     "correspondenceTables": [<GET correspondencetables/{id}>, …],   from this classification
     "helsestat": {"synthetic": false, "source": "…"}}       helsestat's provenance note

Ids are read from ``_links.self.href`` as SSB's client does. helsestat adds one optional
field: ``weight`` on a correspondence map (the share of a split source code; default 1).
Every error names the file and the JSON path of the field (``versions[1].classificationItems
[4].code``).

>>> from helsestat.reference.klass_data import packaged_registry
>>> reg = packaged_registry()
>>> doc = classification_document(reg, reg.classification(131), "http://x/api/klass/v1")
>>> doc["name"], doc["_links"]["self"]["href"]
('Standard for kommuneinndeling', 'http://x/api/klass/v1/classifications/131')
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import date
from typing import Any

from helsestat.errors import NotFoundError, ReferenceError_
from helsestat.reference.classifications import (
    Classification,
    Code,
    CodeChange,
    CodeItem,
    CorrespondenceItem,
    CorrespondenceTable,
    Level,
    MapItem,
    Registry,
    Version,
)

Json = dict[str, Any]

CONTACT = {"name": "helsestat", "email": "helsestat@example.org", "phone": ""}
PUBLISHED = ["nb"]


class _Reader:
    """Reads fields of one bundle file, naming file and JSON path in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str, hint: str = "") -> ReferenceError_:
        return ReferenceError_(
            "reference.invalid_file",
            f"{self.source}: {path}: {problem}",
            hint=hint or "the bundle holds KLASS API documents; see docs/reference.md",
        )

    def obj(self, value: Any, path: str) -> Json:
        if not isinstance(value, dict):
            raise self.fail(path, "expected a JSON object")
        return value

    def list_(self, parent: Json, key: str, path: str) -> list[Any]:
        value = parent.get(key, [])
        if not isinstance(value, list):
            raise self.fail(f"{path}.{key}" if path else key, "expected a JSON list")
        return value

    def text(self, parent: Json, key: str, path: str, *, required: bool = True) -> str:
        where = f"{path}.{key}" if path else key
        value = parent.get(key)
        if value is None:
            if required:
                raise self.fail(where, "missing")
            return ""
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise self.fail(where, "expected text")
        return str(value)

    def day(self, parent: Json, key: str, path: str, *, required: bool = True) -> date | None:
        raw = self.text(parent, key, path, required=required)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            raise self.fail(f"{path}.{key}", "not a date", "write dates as YYYY-MM-DD") from None

    def integer(self, raw: str, where: str) -> int:
        try:
            return int(raw)
        except ValueError:
            raise self.fail(where, "not a whole number") from None

    def self_id(self, doc: Json, path: str) -> int:
        links = self.obj(doc.get("_links", {}), f"{path}._links")
        href = self.text(
            self.obj(links.get("self", {}), f"{path}._links.self"), "href", f"{path}._links.self"
        )
        return self.integer(href.rstrip("/").rsplit("/", 1)[-1], f"{path}._links.self.href")


def parse_bundle(text: str, source: str) -> tuple[Classification, list[CorrespondenceTable]]:
    """A bundle's classification and its correspondence tables; ``ReferenceError_`` naming
    ``source`` and the field for anything malformed.

    >>> parse_bundle("{}", "x.json")
    Traceback (most recent call last):
    helsestat.errors.ReferenceError_: x.json: classification: missing (hint: ...)
    """
    r = _Reader(source)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise r.fail(f"line {exc.lineno} column {exc.colno}", f"not JSON ({exc.msg})") from None
    doc = r.obj(doc, "(top)")
    if "classification" not in doc:
        raise r.fail("classification", "missing")
    cdoc = r.obj(doc["classification"], "classification")
    cid = r.self_id(cdoc, "classification")
    note = r.obj(doc.get("helsestat", {}), "helsestat")
    versions = []
    for i, raw in enumerate(r.list_(doc, "versions", "")):
        versions.append(_parse_version(r, r.obj(raw, f"versions[{i}]"), f"versions[{i}]"))
    tables = []
    for i, raw in enumerate(r.list_(doc, "correspondenceTables", "")):
        path = f"correspondenceTables[{i}]"
        tdoc = r.obj(raw, path)
        maps = []
        for j, m in enumerate(r.list_(tdoc, "correspondenceMaps", path)):
            mpath = f"{path}.correspondenceMaps[{j}]"
            mdoc = r.obj(m, mpath)
            weight = mdoc.get("weight", 1.0)
            if not isinstance(weight, int | float) or not 0 < weight <= 1:
                raise r.fail(f"{mpath}.weight", "must be a number above 0 and at most 1")
            maps.append(
                MapItem(
                    r.text(mdoc, "sourceCode", mpath),
                    r.text(mdoc, "targetCode", mpath),
                    float(weight),
                )
            )
        tables.append(
            CorrespondenceTable(
                id=r.self_id(tdoc, path),
                name=r.text(tdoc, "name", path),
                source_version=r.integer(r.text(tdoc, "sourceId", path), f"{path}.sourceId"),
                target_version=r.integer(r.text(tdoc, "targetId", path), f"{path}.targetId"),
                maps=tuple(maps),
                description=r.text(tdoc, "description", path, required=False),
            )
        )
    units = r.list_(cdoc, "statisticalUnits", "classification")
    cls = Classification(
        id=cid,
        name=r.text(cdoc, "name", "classification"),
        versions=tuple(versions),
        description=r.text(cdoc, "description", "classification", required=False),
        classification_type=r.text(cdoc, "classificationType", "classification", required=False)
        or "Klassifikasjon",
        owning_section=r.text(cdoc, "owningSection", "classification", required=False),
        statistical_units=tuple(str(u) for u in units),
        synthetic=bool(note.get("synthetic", False)),
        source=str(note.get("source", "")),
        last_modified=r.text(cdoc, "lastModified", "classification", required=False)
        or "2026-01-01T00:00:00.000+0000",
    )
    _check_classification(r, cls)
    return cls, tables


def _parse_version(r: _Reader, vdoc: Json, path: str) -> Version:
    levels = []
    for j, raw in enumerate(r.list_(vdoc, "levels", path)):
        lpath = f"{path}.levels[{j}]"
        ldoc = r.obj(raw, lpath)
        levels.append(
            Level(
                r.integer(r.text(ldoc, "levelNumber", lpath), f"{lpath}.levelNumber"),
                r.text(ldoc, "levelName", lpath),
            )
        )
    codes = []
    for j, raw in enumerate(r.list_(vdoc, "classificationItems", path)):
        cpath = f"{path}.classificationItems[{j}]"
        c = r.obj(raw, cpath)
        codes.append(
            Code(
                code=r.text(c, "code", cpath),
                name=r.text(c, "name", cpath),
                level=r.integer(r.text(c, "level", cpath), f"{cpath}.level"),
                parent_code=r.text(c, "parentCode", cpath, required=False) or None,
                short_name=r.text(c, "shortName", cpath, required=False),
                notes=r.text(c, "notes", cpath, required=False),
                valid_from=r.day(c, "validFrom", cpath, required=False),
                valid_to=r.day(c, "validTo", cpath, required=False),
            )
        )
    valid_from = r.day(vdoc, "validFrom", path)
    assert valid_from is not None
    return Version(
        id=r.self_id(vdoc, path),
        name=r.text(vdoc, "name", path),
        valid_from=valid_from,
        valid_to=r.day(vdoc, "validTo", path, required=False),
        levels=tuple(levels),
        codes=tuple(codes),
        introduction=r.text(vdoc, "introduction", path, required=False),
    )


def _check_classification(r: _Reader, cls: Classification) -> None:
    ordered = sorted(enumerate(cls.versions), key=lambda iv: iv[1].valid_from)
    for (_, a), (j, b) in itertools.pairwise(ordered):
        if a.valid_to is None or a.valid_to > b.valid_from:
            raise r.fail(
                f"versions[{j}].validFrom",
                f"version {b.id} starts {b.valid_from}, inside version {a.id}",
                "end the older version (validTo) on the day the newer one starts",
            )
    for i, v in enumerate(cls.versions):
        path = f"versions[{i}]"
        if v.valid_to is not None and v.valid_to <= v.valid_from:
            raise r.fail(f"{path}.validTo", "is not after validFrom")
        levels = {lv.number for lv in v.levels}
        seen: set[str] = set()
        for j, c in enumerate(v.codes):
            cpath = f"{path}.classificationItems[{j}]"
            if c.code in seen:
                raise r.fail(f"{cpath}.code", f"code {c.code!r} appears twice in the version")
            seen.add(c.code)
            if c.level not in levels:
                raise r.fail(f"{cpath}.level", f"level {c.level} is not a level of the version")
        for j, c in enumerate(v.codes):
            if c.parent_code is not None and c.parent_code not in seen:
                raise r.fail(
                    f"{path}.classificationItems[{j}].parentCode",
                    f"parent {c.parent_code!r} is not a code of the version",
                )


def check_tables(reg: Registry, sources: dict[int, tuple[str, int]]) -> None:
    """Every correspondence table refers to known versions and codes; a change table (two
    versions of one classification) maps every code of the older version, with weights that
    add up to 1 per code. ``sources`` gives each table's file and its index in the file's
    ``correspondenceTables``, for the error messages."""
    for t in reg.correspondences.values():
        source, index = sources.get(t.id, (f"correspondence {t.id}", 0))
        r = _Reader(source)
        path = f"correspondenceTables[{index}]"
        try:
            (sc, sv), (tc, tv) = reg.version(t.source_version), reg.version(t.target_version)
        except NotFoundError as exc:  # re-raised as an error of the file
            raise r.fail(path, str(exc)) from None
        scodes, tcodes = sv.by_code, tv.by_code
        shares: dict[str, float] = defaultdict(float)
        for j, m in enumerate(t.maps):
            if m.source_code not in scodes:
                raise r.fail(
                    f"{path}.correspondenceMaps[{j}].sourceCode",
                    f"{m.source_code!r} is not a code of version {sv.id} ({sv.name})",
                )
            if m.target_code not in tcodes:
                raise r.fail(
                    f"{path}.correspondenceMaps[{j}].targetCode",
                    f"{m.target_code!r} is not a code of version {tv.id} ({tv.name})",
                )
            shares[m.source_code] += m.weight
        unmapped = sorted(set(scodes) - set(shares)) if sc.id == tc.id else []
        if unmapped:
            raise r.fail(
                path,
                f"{len(unmapped)} code(s) of version {sv.id} are not mapped: "
                + ", ".join(unmapped[:10])
                + (" …" if len(unmapped) > 10 else ""),
                "map every source code (a code that ends maps to its successor)",
            )
        if sc.id == tc.id:
            bad = sorted(c for c, s in shares.items() if abs(s - 1.0) > 1e-6)
            if bad:
                raise r.fail(
                    path,
                    f"the weights of source code(s) {', '.join(bad[:10])} do not add up to 1",
                    "a split code's shares must add up to 1",
                )


# -- documents the API serves (and bundles are made of) ---------------------------------------


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _link(href: str) -> Json:
    return {"href": href}


def version_summary(v: Version, base: str) -> Json:
    """A version as listed in a classification document."""
    doc: Json = {"name": v.name, "validFrom": v.valid_from.isoformat()}
    if v.valid_to:
        doc["validTo"] = v.valid_to.isoformat()
    doc |= {
        "lastModified": "2026-01-01T00:00:00.000+0000",
        "published": PUBLISHED,
        "_links": {"self": _link(f"{base}/versions/{v.id}")},
    }
    return doc


def classification_links(cid: int, base: str) -> Json:
    """The HAL links of a classification, templated as KLASS's."""
    c = f"{base}/classifications/{cid}"
    return {
        "self": _link(c),
        "codes": {
            "href": f"{c}/codes{{?from,to,csvSeparator,level,selectCodes,presentationNamePattern}}",
            "templated": True,
        },
        "codesAt": {
            "href": f"{c}/codesAt{{?date,csvSeparator,level,selectCodes,presentationNamePattern}}",
            "templated": True,
        },
        "corresponds": {
            "href": f"{c}/corresponds{{?targetClassificationId,from,to,csvSeparator}}",
            "templated": True,
        },
        "correspondsAt": {
            "href": f"{c}/correspondsAt{{?targetClassificationId,date,csvSeparator}}",
            "templated": True,
        },
        "changes": {"href": f"{c}/changes{{?from,to,csvSeparator}}", "templated": True},
    }


def classification_summary(cls: Classification, base: str) -> Json:
    """A classification as listed by ``classifications``."""
    return {
        "name": cls.name,
        "classificationType": cls.classification_type,
        "lastModified": cls.last_modified,
        "_links": {"self": _link(f"{base}/classifications/{cls.id}")},
    }


def classification_document(
    reg: Registry,
    cls: Classification,
    base: str,
    versions: list[Version] | None = None,
    *,
    note: bool = True,
) -> Json:
    """GET ``classifications/{id}``, with helsestat's provenance note (:func:`provenance_note`)
    unless ``note`` is False (a bundle carries the note beside the document)."""
    doc: Json = {
        "name": cls.name,
        "classificationType": cls.classification_type,
        "lastModified": cls.last_modified,
        "description": cls.description,
        "primaryLanguage": "nb",
        "copyrighted": False,
        "includeShortName": any(c.short_name for v in cls.versions for c in v.codes),
        "includeNotes": any(c.notes for v in cls.versions for c in v.codes),
        "contactPerson": CONTACT,
        "owningSection": cls.owning_section,
        "statisticalUnits": list(cls.statistical_units),
        "versions": [
            version_summary(v, base)
            for v in reversed(versions if versions is not None else list(cls.versions))
        ],
        "_links": classification_links(cls.id, base),
    }
    if note:
        doc["helsestat"] = provenance_note(cls)
    return doc


def provenance_note(cls: Classification) -> Json:
    """helsestat's note on what in a classification is real: ``synthetic`` (the codes are
    invented stand-ins), ``source``, and ``inventedCodes`` (codes of an otherwise real list
    that helsestat made up, e.g. where an organisation number was not found).

    >>> provenance_note(Classification(1, "x", (), source="real: S6"))
    {'synthetic': False, 'source': 'real: S6', 'inventedCodes': []}
    """
    invented = {c.code for v in cls.versions for c in v.codes if c.notes.startswith("INVENTED")}
    return {"synthetic": cls.synthetic, "source": cls.source, "inventedCodes": sorted(invented)}


def _table_summary(reg: Registry, t: CorrespondenceTable, base: str) -> Json:
    (sc, sv), (tc, tv) = reg.version(t.source_version), reg.version(t.target_version)
    return {
        "name": t.name,
        "contactPerson": CONTACT,
        "owningSection": sc.owning_section,
        "source": sv.name,
        "sourceId": sv.id,
        "target": tv.name,
        "targetId": tv.id,
        "changeTable": sc.id == tc.id,
        "lastModified": "2026-01-01T00:00:00.000+0000",
        "published": PUBLISHED,
        "sourceLevel": None,
        "targetLevel": None,
        "_links": {
            "self": _link(f"{base}/correspondencetables/{t.id}"),
            "source": _link(f"{base}/versions/{sv.id}"),
            "target": _link(f"{base}/versions/{tv.id}"),
        },
    }


def code_json(code: Code, valid_from: date | None, valid_to: date | None) -> Json:
    """A code as a version document's classificationItems list it."""
    return {
        "code": code.code,
        "parentCode": code.parent_code,
        "level": str(code.level),
        "name": code.name,
        "shortName": code.short_name,
        "presentationName": "",
        "validFrom": _day(valid_from),
        "validTo": _day(valid_to),
        "notes": code.notes,
    }


def version_document(reg: Registry, v: Version, base: str, *, bundle: bool = False) -> Json:
    """GET ``versions/{id}`` (``bundle``: only the tables stored with this version)."""
    tables = [
        t
        for t in reg.correspondences.values()
        if t.source_version == v.id or (not bundle and t.target_version == v.id)
    ]
    doc: Json = {"name": v.name, "validFrom": v.valid_from.isoformat()}
    if v.valid_to:
        doc["validTo"] = v.valid_to.isoformat()
    doc |= {
        "lastModified": "2026-01-01T00:00:00.000+0000",
        "published": PUBLISHED,
        "introduction": v.introduction,
        "contactPerson": CONTACT,
        "owningSection": reg.version(v.id)[0].owning_section,
        "legalBase": "",
        "publications": "",
        "derivedFrom": "",
        "correspondenceTables": [_table_summary(reg, t, base) for t in tables],
        "classificationVariants": [],
        "changelogs": [],
        "levels": [
            {
                "levelNumber": lv.number,
                "levelName": lv.name,
                "_links": {"self": _link(f"{base}/versions/{v.id}/levels/{lv.number}")},
            }
            for lv in v.levels
        ],
        "classificationItems": [
            code_json(c, c.valid_from, c.valid_to)
            for c in sorted(v.codes, key=lambda c: (c.level, c.code))
        ],
        "_links": {"self": _link(f"{base}/versions/{v.id}")},
    }
    return doc


def correspondence_document(reg: Registry, t: CorrespondenceTable, base: str) -> Json:
    """GET ``correspondencetables/{id}`` (with helsestat's ``weight`` where it is not 1)."""
    (_, sv), (_, tv) = reg.version(t.source_version), reg.version(t.target_version)
    scodes, tcodes = sv.by_code, tv.by_code
    maps = []
    for m in t.maps:
        item: Json = {
            "sourceCode": m.source_code,
            "sourceName": scodes[m.source_code].name if m.source_code in scodes else "",
            "targetCode": m.target_code,
            "targetName": tcodes[m.target_code].name if m.target_code in tcodes else "",
        }
        if m.weight != 1.0:
            item["weight"] = m.weight
        maps.append(item)
    doc = _table_summary(reg, t, base)
    doc.pop("_links")
    return doc | {
        "description": t.description,
        "changelogs": [],
        "correspondenceMaps": maps,
        "_links": _table_summary(reg, t, base)["_links"],
    }


def code_item_json(item: CodeItem, *, in_range: bool) -> Json:
    """One element of ``codes`` (``in_range``) or ``codesAt``."""
    doc = code_json(item.code, item.valid_from, item.valid_to)
    doc["presentationName"] = item.presentation_name
    if in_range:
        doc["validFromInRequestedRange"] = _day(item.in_range_from)
        doc["validToInRequestedRange"] = _day(item.in_range_to)
    return doc


def correspondence_item_json(item: CorrespondenceItem) -> Json:
    """One element of ``corresponds``/``correspondsAt``."""
    return {
        "sourceCode": item.source.code,
        "sourceName": item.source.name,
        "sourceShortName": item.source.short_name,
        "targetCode": item.target.code,
        "targetName": item.target.name,
        "targetShortName": item.target.short_name,
        "validFrom": _day(item.valid_from),
        "validTo": _day(item.valid_to),
    }


def change_json(change: CodeChange) -> Json:
    """One element of ``changes``; a started code has no old, an ended code no new."""
    doc: Json = {}
    if change.old is not None:
        doc |= {
            "oldCode": change.old.code,
            "oldName": change.old.name,
            "oldShortName": change.old.short_name,
        }
    if change.new is not None:
        doc |= {
            "newCode": change.new.code,
            "newName": change.new.name,
            "newShortName": change.new.short_name,
        }
    doc["changeOccurred"] = change.occurred.isoformat()
    return doc


def bundle_document(reg: Registry, classification_id: int, base: str) -> Json:
    """The bundle of one classification: what ``helsestat klass export`` writes and
    :func:`parse_bundle` reads."""
    cls = reg.classification(classification_id)
    version_ids = {v.id for v in cls.versions}
    return {
        "classification": classification_document(reg, cls, base, note=False),
        "versions": [version_document(reg, v, base, bundle=True) for v in cls.versions],
        "correspondenceTables": [
            correspondence_document(reg, t, base)
            for t in sorted(reg.correspondences.values(), key=lambda t: t.id)
            if t.source_version in version_ids
        ],
        "helsestat": {"synthetic": cls.synthetic, "source": cls.source},
    }


__all__ = [
    "bundle_document",
    "change_json",
    "check_tables",
    "classification_document",
    "classification_summary",
    "code_item_json",
    "correspondence_document",
    "correspondence_item_json",
    "parse_bundle",
    "provenance_note",
    "version_document",
]
