"""The tree as FHIR R4 Organization resources: valid by the fhir.resources models, one per
unit valid on the date, parents referenced inside the Bundle, identifiers with their
systems, former names as aliases."""

from __future__ import annotations

from datetime import date

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.organization import Organization
from sqlalchemy.engine import Engine

from helsestat.reference.units import unit_versions, versions_at
from helsestat.reference.units.fhir import IDENTIFIER_SYSTEMS, UNIT_ID_SYSTEM, export_bundle
from helsestat.store.db.database import session_factory

DAY = date(2024, 6, 1)


def test_every_unit_valid_on_the_date_is_a_valid_organization(demo_engine: Engine) -> None:
    with session_factory(demo_engine)() as session:
        bundle = export_bundle(session, DAY)
        valid = versions_at(session, DAY)
        renamed = {
            uid
            for uid in valid
            if len({v.fields.name for v in unit_versions(session, uid) if v.valid_from <= DAY}) > 1
        }
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    resources = [entry["resource"] for entry in bundle["entry"]]
    assert sorted(int(r["id"]) for r in resources) == sorted(valid)
    ids = {r["id"] for r in resources}
    for resource in resources:
        Organization.model_validate(resource)
        assert resource["identifier"][0] == {
            "use": "official",
            "system": UNIT_ID_SYSTEM,
            "value": resource["id"],
        }
        if "partOf" in resource:
            assert resource["partOf"]["reference"].removeprefix("Organization/") in ids
        kind = resource["type"][0]["coding"][0]["code"]
        assert kind == valid[int(resource["id"])].fields.kind
    systems = {i["system"] for r in resources for i in r["identifier"]}
    assert set(IDENTIFIER_SYSTEMS.values()) <= systems
    assert renamed and all("alias" in r for r in resources if int(r["id"]) in renamed)


def test_a_country_and_a_date_before_everything(demo_engine: Engine) -> None:
    with session_factory(demo_engine)() as session:
        swedish = export_bundle(session, DAY, country="SE")
        assert export_bundle(session, date(1990, 1, 1))["entry"] == []
    addresses = {e["resource"]["address"][0]["country"] for e in swedish["entry"]}
    assert addresses == {"SE"}
