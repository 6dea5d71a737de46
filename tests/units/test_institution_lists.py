"""Institution lists, their year-over-year changes and drop lists, from the unit registry as
of 1 January (statistics.institutions), on SQLite and PostgreSQL; the list fields' rules; the
demo tree's lists; the year's files read back."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import openpyxl
import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from stdnum.no import orgnr as no_orgnr

from helsestat.errors import InputError, ReferenceError_
from helsestat.reference.klass_data import packaged_registry
from helsestat.reference.units import SYSTEM, NewUnit, UnitFields, change_unit, close_unit
from helsestat.reference.units import create_unit as _create
from helsestat.reference.units.loader import ensure_naering_classification
from helsestat.statistics.institutions import (
    bundle_files,
    drop_lists,
    institution_lists,
    list_changes,
    year_bundle,
)
from helsestat.statistics.institutions.files import COLUMNS, write_bundle
from helsestat.store.db.database import session_factory
from helsestat.synth.unit_lists import role_codes
from helsestat.synth.units import load_demo

D2002, D2023, D2024, D2025 = date(2002, 1, 1), date(2023, 1, 1), date(2024, 1, 1), date(2025, 1, 1)
#: Changes during 2024: the 2024 lists (as of 1 January) have not seen them, 2025's have.
MID = date(2024, 6, 1)


def _codes() -> list[str]:
    """Two næringskoder of the packaged KLASS 6 valid in both 2024 and 2025."""
    reg = packaged_registry()
    both = set(reg.version_at(6, D2024).by_code) & set(reg.version_at(6, D2025).by_code)
    return sorted(both)[:2]


def _create_unit(session: Session, fields: UnitFields, opened: date = D2002) -> int:
    return _create(session, SYSTEM, NewUnit("NO", fields, opened)).id


def _site(
    parent: int, name: str, number: str, code: str | None, opened: date = D2023
) -> UnitFields:
    return UnitFields(
        "behandlingssted",
        name,
        parent_id=parent,
        orgnr="974054299" if code else None,
        naeringskode=code,
        postnummer="5021",
        poststed="Bergen",
        reporting_number=number,
    )


@pytest.fixture
def small(session: Session) -> dict[str, int]:
    """Two RHFs with an HF each, a support company, two private foretak and their sites."""
    ensure_naering_classification(session)
    a, b = _codes()
    ids: dict[str, int] = {}
    ids["vest"] = _create_unit(session, UnitFields("rhf", "Helse Vest RHF", helseregion="01"))
    ids["nord"] = _create_unit(session, UnitFields("rhf", "Helse Nord RHF", helseregion="04"))
    ids["bergen"] = _create_unit(
        session, UnitFields("hf", "Helse Bergen HF", parent_id=ids["vest"], orgnr="983974724")
    )
    ids["unn"] = _create_unit(
        session, UnitFields("hf", "UNN HF", parent_id=ids["nord"], orgnr="983974899")
    )
    ids["inst"] = _create_unit(
        session, UnitFields("institusjon", "Bergen somatikk", parent_id=ids["bergen"]), D2023
    )
    ids["haukeland"] = _create_unit(session, _site(ids["inst"], "Haukeland", "1001", a), D2023)
    ids["voss"] = _create_unit(session, _site(ids["inst"], "Voss", "1002", a), D2023)
    ids["dept"] = _create_unit(
        session, UnitFields("avdeling", "Ortopedi", parent_id=ids["haukeland"]), D2023
    )
    ids["tromso"] = _create_unit(session, _site(ids["unn"], "Tromsø", "1003", b), D2023)
    ids["support"] = _create_unit(
        session,
        UnitFields(
            "hf",
            "Sykehusinnkjøp HF",
            orgnr="916879067",
            foretakstype="stotteforetak",
            naeringskode=a,
            postnummer="9800",
            poststed="Vadsø",
            reporting_number="1004",
        ),
        D2023,
    )
    ids["oppdrag"] = _create_unit(
        session,
        UnitFields(
            "institusjon", "Fjordly AS", parent_id=ids["vest"], foretakstype="oppdragsdokument"
        ),
        D2023,
    )
    ids["fjordly"] = _create_unit(session, _site(ids["oppdrag"], "Fjordly", "1005", b), D2023)
    ids["kjop"] = _create_unit(session, UnitFields("institusjon", "Vesterli AS"), D2023)
    ids["vesterli"] = _create_unit(session, _site(ids["kjop"], "Vesterli", "1006", a), D2023)
    return ids


def test_the_lists_of_a_year_as_ssb_makes_them(small: dict[str, int], session: Session) -> None:
    a, b = _codes()
    names = packaged_registry().version_at(6, D2024).by_code
    lists = institution_lists(session, 2024)
    assert lists.day == D2024 and lists.warnings == ()
    public = [
        (
            r.foretakstype,
            r.helseregion,
            r.helseregion_navn,
            r.foretaksnavn,
            r.institusjonsnavn,
            r.rapporteringsnr,
            r.naeringskode,
        )
        for r in lists.public
    ]
    assert public == [
        ("HF", "01", "Helse Vest RHF", "Helse Bergen HF", "Haukeland", "1001", a),
        ("HF", "01", "Helse Vest RHF", "Helse Bergen HF", "Voss", "1002", a),
        ("HF", "04", "Helse Nord RHF", "UNN HF", "Tromsø", "1003", b),
        (
            "Støtteforetak",
            "",
            "FELLESEIDE STØTTEFORETAK",
            "Sykehusinnkjøp HF",
            "Sykehusinnkjøp HF",
            "1004",
            a,
        ),
    ]
    private = [
        (r.foretakstype, r.helseregion, r.foretaksnavn, r.institusjonsnavn) for r in lists.private
    ]
    assert private == [
        ("Private med oppdragsdokument", "01", "Fjordly AS", "Fjordly"),
        ("Private med kjøpsavtale", "", "Vesterli AS", "Vesterli"),
    ]
    first = lists.public[0]
    assert (first.foretaksorgnr, first.bedriftsorgnr, first.postnummer, first.poststed) == (
        "983974724",
        "974054299",
        "5021",
        "Bergen",
    )
    assert {r.naeringsnavn for r in lists.rows} == {names[a].name, names[b].name}
    # The registry as of 1 January: the sites opened on 2023-01-01, so 2022 has none.
    assert institution_lists(session, 2022).rows == ()


def test_a_registry_that_makes_a_list_impossible_names_every_unit(
    small: dict[str, int], session: Session
) -> None:
    change_unit(session, SYSTEM, small["voss"], D2024, {"naeringskode": None})
    orphan = _create_unit(session, UnitFields("hf", "Helse Uten RHF HF"), D2023)
    site = _create_unit(session, _site(orphan, "Ensom", "1009", _codes()[0]), D2023)
    with pytest.raises(InputError) as caught:
        institution_lists(session, 2024)
    err = caught.value
    assert err.code == "lists.incomplete_registry" and err.status == 422
    assert f"Behandlingssted {small['voss']} (Voss): no næringskode" in err.message
    assert f"HF {orphan} (Helse Uten RHF HF): an HF without an RHF" in err.message
    assert err.details["units"] == sorted([small["voss"], orphan])
    assert "1 January" in err.hint and site not in err.details["units"]


def test_duplicate_names_warn(small: dict[str, int], session: Session) -> None:
    change_unit(session, SYSTEM, small["voss"], MID, {"name": "Haukeland"})
    lists = institution_lists(session, 2025)
    assert lists.warnings == (
        f"institution name 'Haukeland' appears 2 times in the list (units "
        f"{small['haukeland']}, {small['voss']})",
    )
    assert len(lists.public) == 4


def test_changes_from_last_year_with_both_years_values(
    small: dict[str, int], session: Session
) -> None:
    a, b = _codes()
    change_unit(
        session, SYSTEM, small["haukeland"], MID, {"name": "Haukeland universitetssjukehus"}
    )
    change_unit(session, SYSTEM, small["tromso"], MID, {"naeringskode": a})
    change_unit(session, SYSTEM, small["voss"], MID, {"parent_id": small["unn"]})
    close_unit(session, SYSTEM, small["vesterli"], MID)
    new = _create_unit(session, _site(small["inst"], "Kysthospitalet", "1007", b), MID)
    before, after = institution_lists(session, 2024), institution_lists(session, 2025)
    got = [
        (
            c.endring,
            c.enhet_id,
            c.aar_for,
            c.aar,
            c.institusjonsnavn_for,
            c.institusjonsnavn,
            c.foretaksnavn_for,
            c.foretaksnavn,
            c.naeringskode_for,
            c.naeringskode,
        )
        for c in list_changes(before, after)
    ]
    assert got == [
        ("ny", new, 2024, 2025, "", "Kysthospitalet", "", "Helse Bergen HF", "", b),
        ("nedlagt", small["vesterli"], 2024, 2025, "Vesterli", "", "Vesterli AS", "", a, ""),
        (
            "nytt navn",
            small["haukeland"],
            2024,
            2025,
            "Haukeland",
            "Haukeland universitetssjukehus",
            "Helse Bergen HF",
            "Helse Bergen HF",
            a,
            a,
        ),
        ("nytt HF", small["voss"], 2024, 2025, "Voss", "Voss", "Helse Bergen HF", "UNN HF", a, a),
        (
            "ny næringskode",
            small["tromso"],
            2024,
            2025,
            "Tromsø",
            "Tromsø",
            "UNN HF",
            "UNN HF",
            b,
            a,
        ),
    ]


def test_drop_lists_per_foretak_flag_last_years_differences(
    small: dict[str, int], session: Session
) -> None:
    change_unit(session, SYSTEM, small["dept"], MID, {"name": "Ortopedisk avdeling"})
    close_unit(session, SYSTEM, small["voss"], MID)
    this, last = institution_lists(session, 2025), institution_lists(session, 2024)
    drops = drop_lists(session, this, last)
    assert drops.foretak() == (
        ("983974724", "Helse Bergen HF"),
        ("983974899", "UNN HF"),
        ("916879067", "Sykehusinnkjøp HF"),
        ("", "Fjordly AS"),
        ("", "Vesterli AS"),
    )
    bergen = [(e.nivaa, e.navn, e.overordnet, e.endring) for e in drops.of("983974724")]
    assert bergen == [
        ("institusjon", "Bergen somatikk", "Helse Bergen HF", ""),
        ("behandlingssted", "Haukeland", "Bergen somatikk", ""),
        ("avdeling", "Ortopedisk avdeling", "Haukeland", "nytt navn"),
        ("behandlingssted", "Voss", "Bergen somatikk", "fjernet"),
    ]
    # A support company is its own only entry; an RHF's list never holds its HFs' units.
    assert [e.navn for e in drops.of("916879067")] == ["Sykehusinnkjøp HF"]
    assert drop_lists(session, this, None).warnings == (
        "the lists for 2024 cannot be made from the registry, so the drop lists of 2025 are "
        "not compared with last year's",
    )


def test_the_files_of_a_year_read_back(small: dict[str, int], session: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bundle = year_bundle(session, 2025)
    files = bundle_files(bundle, date(2025, 2, 3))
    book = openpyxl.load_workbook(
        io.BytesIO(files["2025 Institusjoner spesialisthelsetjenesten (030225).xlsx"])
    )
    assert book.sheetnames == ["Offentlige", "Private"]
    rows = [[c.value for c in row] for row in book["Offentlige"].iter_rows()]
    assert rows[0][:4] == ["Foretakstype", "Helseregion", "Helseregion_navn", "Foretaksorgnr"]
    assert rows[1][COLUMNS.index("foretaksorgnr")] == "983974724"
    assert len(rows) == 1 + len(bundle.lists.public)
    text = files["2025 Private institusjoner spesialisthelsetjenesten (030225).csv"].decode()
    read = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [r["institusjonsnavn"] for r in read] == [
        r.institusjonsnavn for r in bundle.lists.private
    ]
    drops = json.loads(files["2025 Dropplister (030225).json"])
    assert len(drops) == len(bundle.drops.entries) and drops[0]["foretaksorgnr"] == "983974724"
    assert "dropplister/2025 Droppliste 983974724 (030225).csv" in files
    assert "2025 Endringer institusjoner (030225).csv" in files
    target = write_bundle(files, tmp_path / "2025")
    assert sorted(p.name for p in target.iterdir() if p.is_file()) == sorted(
        n for n in files if "/" not in n
    )


def test_list_fields_are_checked(session: Session) -> None:
    ensure_naering_classification(session)
    rhf = _create_unit(session, UnitFields("rhf", "Helse Vest RHF"))
    with pytest.raises(InputError, match="postnummer '50210' is not four digits"):
        _create_unit(
            session,
            UnitFields("institusjon", "X", parent_id=rhf, postnummer="50210", poststed="Bergen"),
        )
    with pytest.raises(InputError, match="postnummer and poststed are given together"):
        _create_unit(session, UnitFields("institusjon", "X", parent_id=rhf, postnummer="5021"))
    with pytest.raises(ReferenceError_, match=r"næringskode '99\.999' is not a code of KLASS 6"):
        _create_unit(
            session, UnitFields("institusjon", "X", parent_id=rhf, naeringskode="99.999"), D2024
        )
    with pytest.raises(ReferenceError_, match="no version in the reference database valid on"):
        _create_unit(
            session,
            UnitFields("institusjon", "X", parent_id=rhf, naeringskode=_codes()[0]),
            date(2003, 1, 1),
        )
    with pytest.raises(InputError, match="a avdeling cannot be 'kjopsavtale'"):
        _create_unit(
            session, UnitFields("avdeling", "X", parent_id=rhf, foretakstype="kjopsavtale")
        )
    with pytest.raises(InputError, match="helseregion is a two-digit number carried by an RHF"):
        _create_unit(session, UnitFields("hf", "X", parent_id=rhf, helseregion="01"))
    with pytest.raises(InputError, match="a reporting number is 1–20 digits"):
        _create_unit(session, UnitFields("hf", "X", parent_id=rhf, reporting_number="A1"))


def test_the_demo_registry_makes_the_lists_of_every_year_klass_6_covers(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        load_demo(session, seed=11, hf_limit=5, lan_limit=1, institutions=True)
    first = role_codes()[0][0].year
    with session_factory(engine)() as session:
        for year in range(first, 2027):
            bundle = year_bundle(session, year)
            lists = bundle.lists
            kinds = {r.foretakstype for r in lists.rows}
            assert {"HF", "Støtteforetak", "Private med oppdragsdokument"} <= kinds, year
            assert all(no_orgnr.is_valid(r.bedriftsorgnr) for r in lists.rows)
            regions = [r.helseregion or "99" for r in lists.public]
            assert regions == sorted(regions)
            assert (bundle.changes is None) == (year == first)
        changes = {c.endring for c in year_bundle(session, 2025).changes or ()}
        assert "nedlagt" in changes
        # Before KLASS 6's first version no list can name its næringskoder.
        with pytest.raises(ReferenceError_, match="needs KLASS 6"):
            institution_lists(session, first - 1)


def test_the_migration_keeps_every_recorded_version(database_url: str) -> None:
    """A registry recorded before revision 0005 keeps its versions (the new fields empty),
    and versions still cannot be deleted; the downgrade drops only the new columns."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from helsestat.reference.units import get_unit
    from helsestat.store.db.database import create_engine_for, downgrade, migrate

    engine = create_engine_for(database_url)
    try:
        migrate(engine, "0004_reference_snapshot")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO unit (id, country, row_version, created_at, created_by) "
                    "VALUES (100000, 'NO', 1, :t, 'x')"
                ),
                {"t": "2026-01-01 00:00:00+00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO unit_version (unit_id, valid_from, recorded_at, recorded_by, "
                    "kind, name, services) VALUES (100000, :d, :t, 'x', 'rhf', 'Helse Vest RHF', "
                    "'[]')"
                ),
                {"d": D2002, "t": "2026-01-01 00:00:00+00:00"},
            )
        migrate(engine)
        with session_factory(engine)() as session:
            fields = get_unit(session, 100000).versions[0].fields
        assert fields == UnitFields("rhf", "Helse Vest RHF")
        with pytest.raises(DBAPIError, match="never deleted"), engine.begin() as conn:
            conn.execute(text("DELETE FROM unit_version"))
        downgrade(engine, "0004_reference_snapshot")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT name FROM unit_version")).scalar() == "Helse Vest RHF"
    finally:
        engine.dispose()


def test_the_demo_with_institutions_loads_in_bulk_as_edit_by_edit(engine: Engine) -> None:
    """Support companies, private institutions and næringskoder from KLASS 6's first
    version: the bulk import and a replay of every edit end in the same histories."""
    from helsestat.reference.units import get_unit
    from helsestat.reference.units.loader import load_plan, replay_plan
    from helsestat.store.db.database import create_engine_for, migrate
    from helsestat.synth.units import generate_unit_plan

    plan = generate_unit_plan(seed=5, hf_limit=2, lan_limit=1, institutions=True)
    assert {u.foretakstype for u in plan.units} == {
        None,
        "stotteforetak",
        "oppdragsdokument",
        "kjopsavtale",
    }
    other = create_engine_for("sqlite://")
    migrate(other)
    with session_factory(engine).begin() as session:
        bulk = load_plan(session, plan)
    with session_factory(other).begin() as session:
        replayed = replay_plan(session, plan)

    def fields(e: Engine, ids: dict[str, int]) -> dict[str, list[object]]:
        keys = {uid: key for key, uid in ids.items()}
        with session_factory(e)() as session:
            return {
                key: [
                    (
                        v.valid_from,
                        v.valid_to,
                        v.fields.replace(parent_id=keys.get(v.fields.parent_id or 0)),
                    )
                    for v in get_unit(session, uid).versions
                ]
                for key, uid in ids.items()
            }

    assert fields(engine, bulk.ids) == fields(other, replayed.ids)
    other.dispose()
