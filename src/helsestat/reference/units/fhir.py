"""The registry as of a date as FHIR R4 ``Organization`` resources in a ``collection``
Bundle, each checked by the ``fhir.resources`` models (R4B, FHIR 4.3: the R4 line with the
same Organization) before it is returned.

Identifier systems: organisation numbers use the Norwegian OID of Enhetsregisteret (ENH,
``urn:oid:2.16.578.1.12.4.1.4.101``), HER-ids ``urn:oid:2.16.578.1.12.4.1.2`` and HSA-ids
``urn:oid:1.2.752.29.4.19``, as in HL7 Norway's no-basis and the Swedish base profiles. The
unit id's system is a parameter: helsestat's own by default; a registry that *is* RESH would
pass RESH's OID (``urn:oid:2.16.578.1.12.4.1.4.102``).

>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> with session_factory(engine)() as session:
...     export_bundle(session, date(2024, 1, 1))["entry"]
[]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import orjson
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.organization import Organization
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from helsestat.errors import StoreError
from helsestat.reference.geography import packaged_geography
from helsestat.reference.units.history import current_rows, versions_at
from helsestat.reference.units.model import KIND_LABELS, SECTOR_LABELS, Identifier, Version
from helsestat.reference.units.rules import swedish_lan
from helsestat.reference.units.snapshot import RegistrySnapshot
from helsestat.store.db.units_schema import Unit, UnitIdentifierRow, UnitVersionRow

UNIT_ID_SYSTEM = "https://helsestat.example/fhir/sid/unit-id"
KIND_SYSTEM = "https://helsestat.example/fhir/CodeSystem/unit-kind"
SECTOR_SYSTEM = "https://helsestat.example/fhir/CodeSystem/npr-sector"
IDENTIFIER_SYSTEMS = {
    "orgnr:NO": "urn:oid:2.16.578.1.12.4.1.4.101",
    "orgnr:SE": "https://helsestat.example/fhir/sid/se-organisationsnummer",
    "her": "urn:oid:2.16.578.1.12.4.1.2",
    "hsa": "urn:oid:1.2.752.29.4.19",
}


def _identifiers(
    version: Version, country: str, others: list[Identifier], id_system: str, day: date
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"use": "official", "system": id_system, "value": str(version.unit_id)}
    ]
    if version.fields.orgnr:
        out.append(
            {"system": IDENTIFIER_SYSTEMS[f"orgnr:{country}"], "value": version.fields.orgnr}
        )
    for other in others:
        if other.valid_from <= day and (other.valid_to is None or day < other.valid_to):
            period = {"start": other.valid_from.isoformat()}
            if other.valid_to:
                period["end"] = other.valid_to.isoformat()
            out.append(
                {"system": IDENTIFIER_SYSTEMS[other.scheme], "value": other.value, "period": period}
            )
    return out


def organization(
    version: Version,
    country: str,
    *,
    parent: Version | None,
    identifiers: list[Identifier],
    former_names: list[str],
    day: date,
    id_system: str = UNIT_ID_SYSTEM,
) -> dict[str, Any]:
    """One unit on ``day`` as a validated FHIR R4 Organization (as a JSON-ready dict)."""
    f = version.fields
    codings = [{"system": KIND_SYSTEM, "code": f.kind, "display": KIND_LABELS[f.kind]}]
    types: list[dict[str, Any]] = [{"coding": codings}]
    if f.sector:
        types.append(
            {
                "coding": [
                    {"system": SECTOR_SYSTEM, "code": f.sector, "display": SECTOR_LABELS[f.sector]}
                ]
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": str(version.unit_id),
        "active": True,
        "identifier": _identifiers(version, country, identifiers, id_system, day),
        "type": types,
        "name": f.name,
    }
    if former_names:
        resource["alias"] = former_names
    if parent is not None:
        resource["partOf"] = {
            "reference": f"Organization/{parent.unit_id}",
            "display": parent.fields.name,
        }
    if f.kommune:
        district = packaged_geography().name(f.kommune, day.year)
        resource["address"] = [{"type": "physical", "district": district, "country": "NO"}]
    elif f.lan:
        resource["address"] = [{"state": swedish_lan().get(f.lan, f.lan), "country": "SE"}]
    try:
        checked = Organization.model_validate(resource)
    except ValidationError as exc:  # a bug here, not bad input: the registry's rules hold
        raise StoreError(
            "units.fhir_invalid",
            f"unit {version.unit_id} does not make a valid FHIR Organization: "
            f"{exc.errors()[0]['loc']} {exc.errors()[0]['msg']}",
            hint="report this as a bug",
        ) from None
    out: dict[str, Any] = checked.model_dump(mode="json", exclude_none=True)
    return out


#: Organizations already validated, by everything :func:`organization` reads: a bundle
#: made again from a snapshot validates only what changed (the caller owns the dict).
OrganizationCache = dict[tuple[Any, ...], bytes]


def _organizations(
    snapshot: RegistrySnapshot,
    day: date,
    country: str | None,
    id_system: str,
    cache: OrganizationCache | None,
) -> Iterator[tuple[int, bytes]]:
    """(unit id, its Organization as JSON) of every unit valid on ``day``, by id; each
    validated once per content with ``cache`` (which keeps bytes: nothing for the garbage
    collector to walk)."""
    versions = snapshot.versions_at(day, country=country)
    for uid in sorted(versions):
        version, record = versions[uid], snapshot.units[uid]
        parent_id = version.fields.parent_id
        parent = versions.get(parent_id) if parent_id is not None else None
        names: list[str] = []
        for v in record.versions:
            if v.valid_from <= day and v.fields.name not in names:
                names.append(v.fields.name)
        former = tuple(n for n in names if n != version.fields.name)
        valid = tuple(
            i
            for i in record.identifiers
            if i.valid_from <= day and (i.valid_to is None or day < i.valid_to)
        )
        key = (
            version,
            record.country,
            (parent.unit_id, parent.fields.name) if parent is not None else None,
            valid,
            former,
            # the kommune's name that year, not the year: most names last for decades
            packaged_geography().name(version.fields.kommune, day.year)
            if version.fields.kommune
            else None,
            id_system,
        )
        found = cache.get(key) if cache is not None else None
        if found is None:
            resource = organization(
                version,
                record.country,
                parent=parent,
                identifiers=list(valid),
                former_names=list(former),
                day=day,
                id_system=id_system,
            )
            found = orjson.dumps(resource)
            if cache is not None:
                cache[key] = found
        yield uid, found


def _envelope() -> dict[str, Any]:
    """A validated Bundle without its entries (each Organization is validated on its own,
    and a ``fullUrl`` is the base URL and a unit id)."""
    envelope = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "entry": [],
    }
    Bundle.model_validate(envelope)
    return envelope


def snapshot_bundle_json(
    snapshot: RegistrySnapshot,
    day: date,
    *,
    country: str | None = None,
    id_system: str = UNIT_ID_SYSTEM,
    base_url: str = "https://helsestat.example/fhir",
    cache: OrganizationCache | None = None,
) -> bytes:
    """:func:`export_bundle` from an in-memory snapshot, as JSON, put together from each
    validated Organization's JSON (made once per content, with ``cache``) rather than
    serialised whole: a bundle of a thousand units is a join of bytes.

    >>> from helsestat.reference.units.snapshot import snapshot_of
    >>> orjson.loads(snapshot_bundle_json(snapshot_of(0, {}), date(2024, 1, 1)))["entry"]
    []
    """
    envelope = orjson.dumps(_envelope())
    assert envelope.endswith(b'"entry":[]}')
    prefix = f'{{"fullUrl":"{base_url}/Organization/'.encode()
    entries = b",".join(
        prefix + str(uid).encode() + b'","resource":' + body + b"}"
        for uid, body in _organizations(snapshot, day, country, id_system, cache)
    )
    return envelope[: -len(b"]}")] + entries + b"]}"


def export_bundle(
    session: Session,
    day: date,
    *,
    country: str | None = None,
    id_system: str = UNIT_ID_SYSTEM,
    base_url: str = "https://helsestat.example/fhir",
) -> dict[str, Any]:
    """Every unit valid on ``day`` as a FHIR R4 ``collection`` Bundle (validated)."""
    versions = versions_at(session, day, country=country)
    countries = {r.id: r.country for r in session.execute(select(Unit.id, Unit.country))}
    identifiers: dict[int, list[Identifier]] = defaultdict(list)
    for row in session.execute(
        select(UnitIdentifierRow)
        .where(UnitIdentifierRow.superseded_at.is_(None))
        .order_by(UnitIdentifierRow.valid_from, UnitIdentifierRow.scheme)
    ).scalars():
        identifiers[row.unit_id].append(
            Identifier(row.scheme, row.value, row.valid_from, row.valid_to)
        )
    names: dict[int, list[str]] = defaultdict(list)
    for uid, name in session.execute(
        select(UnitVersionRow.unit_id, UnitVersionRow.name)
        .where(current_rows(), UnitVersionRow.valid_from <= day)
        .order_by(UnitVersionRow.valid_from)
    ):
        if name not in names[uid]:
            names[uid].append(name)
    entries = []
    for uid in sorted(versions):
        version = versions[uid]
        parent_id = version.fields.parent_id
        resource = organization(
            version,
            countries.get(uid, "NO"),
            parent=versions.get(parent_id) if parent_id is not None else None,
            identifiers=identifiers.get(uid, []),
            former_names=[n for n in names.get(uid, []) if n != version.fields.name],
            day=day,
            id_system=id_system,
        )
        entries.append({"fullUrl": f"{base_url}/Organization/{uid}", "resource": resource})
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "entry": entries,
    }
    Bundle.model_validate(bundle)
    return bundle


__all__ = [
    "IDENTIFIER_SYSTEMS",
    "KIND_SYSTEM",
    "SECTOR_SYSTEM",
    "UNIT_ID_SYSTEM",
    "OrganizationCache",
    "export_bundle",
    "organization",
    "snapshot_bundle_json",
]
