"""Scoped administrators as seed 002 describes RESH, on SQLite and PostgreSQL: the owner
registers an organisation and its first administrator; an RHF administrator edits every unit
under the RHF, an HF administrator only that HF's subtree, as the tree was on the edit's
date; administrators create users within their scope; tokens are stored hashed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from helsestat.errors import InputError, PermissionDenied
from helsestat.reference.units import (
    SYSTEM,
    NewUnit,
    Principal,
    UnitFields,
    change_unit,
    close_unit,
    create_unit,
)
from helsestat.reference.units.auth import (
    authenticate,
    create_user,
    issue_token,
    list_users,
    revoke_tokens,
)
from helsestat.store.db.database import session_factory
from helsestat.store.db.units_schema import UnitApiToken

D = date.fromisoformat
Clock = Callable[[], datetime]


def _new(kind: str, name: str, parent: int | None, on: str = "2003-01-01") -> NewUnit:
    return NewUnit("NO", UnitFields(kind, name, parent_id=parent), D(on))


@pytest.fixture
def tree(engine: Engine, clock: Clock) -> dict[str, int]:
    """Helse Vest RHF with Helse Bergen HF and Helse Førde HF, a klinikk under each; the
    Bergen klinikk's avdeling moves to Førde in 2015."""
    with session_factory(engine).begin() as s:
        ids = {"rhf": create_unit(s, SYSTEM, _new("rhf", "Helse Vest RHF", None, "2002-01-01")).id}
        ids["bergen"] = create_unit(s, SYSTEM, _new("hf", "Helse Bergen HF", ids["rhf"])).id
        ids["forde"] = create_unit(s, SYSTEM, _new("hf", "Helse Førde HF", ids["rhf"])).id
        ids["kl_b"] = create_unit(s, SYSTEM, _new("klinikk", "Medisinsk klinikk", ids["bergen"])).id
        ids["kl_f"] = create_unit(s, SYSTEM, _new("klinikk", "Kirurgisk klinikk", ids["forde"])).id
        ids["avd"] = create_unit(s, SYSTEM, _new("avdeling", "Hjerteavdelingen", ids["kl_b"])).id
        change_unit(s, SYSTEM, ids["avd"], D("2015-01-01"), {"parent_id": ids["kl_f"]}, clock=clock)
    return ids


def _user(engine: Engine, actor: Principal, name: str, role: str, scope: int | None) -> Principal:
    with session_factory(engine).begin() as s:
        issued = create_user(s, actor, name, role, scope)
        principal = authenticate(s, issued.token)
    assert principal == issued.user.principal
    return principal


def test_owner_registers_an_organisation_and_its_first_administrator(
    engine: Engine, tree: dict[str, int]
) -> None:
    with session_factory(engine).begin() as s:
        org = create_unit(s, SYSTEM, _new("institusjon", "Privat klinikk AS", None, "2020-01-01"))
        issued = create_user(s, SYSTEM, "privat-admin", "admin", org.id)
    admin = issued.user.principal
    with session_factory(engine).begin() as s:
        create_unit(
            s, admin, _new("behandlingssted", "Privat klinikk, Bergen", org.id, "2020-02-01")
        )
        with pytest.raises(PermissionDenied, match="only the registry owner may"):
            create_unit(s, admin, _new("institusjon", "Another AS", None, "2020-01-01"))


def test_regional_admin_edits_every_hf_hf_admin_only_its_own(
    engine: Engine, tree: dict[str, int], clock: Clock
) -> None:
    regional = _user(engine, SYSTEM, "vest-admin", "admin", tree["rhf"])
    bergen = _user(engine, SYSTEM, "bergen-admin", "admin", tree["bergen"])
    with session_factory(engine).begin() as s:
        for unit in (tree["kl_b"], tree["kl_f"]):
            change_unit(s, regional, unit, D("2016-01-01"), {"sector": "somatikk"}, clock=clock)
        change_unit(
            s, bergen, tree["kl_b"], D("2017-01-01"), {"name": "Medisinsk avdeling"}, clock=clock
        )
    with session_factory(engine)() as s, pytest.raises(PermissionDenied) as caught:
        change_unit(s, bergen, tree["kl_f"], D("2017-01-01"), {"name": "X"}, clock=clock)
    error = caught.value
    assert (error.status, error.code) == (403, "auth.out_of_scope")
    assert error.message == (
        f"user 'bergen-admin' (admin) may edit units under HF {tree['bergen']} (Helse Bergen HF), "
        f"not Klinikk {tree['kl_f']} (Kirurgisk klinikk) under HF {tree['forde']} "
        "(Helse Førde HF) on 2017-01-01"
    )
    assert f"RHF {tree['rhf']} (Helse Vest RHF)" in error.hint


def test_scope_follows_the_tree_on_the_date_the_edit_takes_effect(
    engine: Engine, tree: dict[str, int], clock: Clock
) -> None:
    bergen = _user(engine, SYSTEM, "bergen-admin", "admin", tree["bergen"])
    forde = _user(engine, SYSTEM, "forde-admin", "editor", tree["forde"])
    avd = tree["avd"]
    with session_factory(engine).begin() as s:
        # Under Bergen until 2015: Bergen may correct 2010, Førde may edit 2016 …
        change_unit(
            s,
            bergen,
            avd,
            D("2010-01-01"),
            {"name": "Hjertemedisin"},
            until=D("2015-01-01"),
            clock=clock,
        )
        change_unit(s, forde, avd, D("2016-01-01"), {"name": "Hjerteavdelingen Førde"}, clock=clock)
    with session_factory(engine)() as s:
        # … but not the other way round.
        with pytest.raises(PermissionDenied, match="on 2016-01-01"):
            change_unit(s, bergen, avd, D("2016-01-01"), {"name": "X"}, clock=clock)
        with pytest.raises(PermissionDenied, match="on 2010-01-01"):
            change_unit(
                s, forde, avd, D("2010-01-01"), {"name": "X"}, until=D("2011-01-01"), clock=clock
            )
        # A change from 2010 that would reach into Førde's years needs both rights.
        with pytest.raises(PermissionDenied, match="on 2015-01-01"):
            change_unit(s, bergen, avd, D("2010-01-01"), {"sector": "somatikk"}, clock=clock)
        # Moving a unit out of one's subtree needs a right on the target too.
        with pytest.raises(PermissionDenied, match="may add units under"):
            change_unit(s, forde, avd, D("2020-01-01"), {"parent_id": tree["kl_b"]}, clock=clock)
        with pytest.raises(PermissionDenied):
            close_unit(s, bergen, avd, D("2020-01-01"), clock=clock)


def test_administrators_create_users_within_their_scope_editors_none(
    engine: Engine, tree: dict[str, int]
) -> None:
    regional = _user(engine, SYSTEM, "vest-admin", "admin", tree["rhf"])
    bergen = _user(engine, regional, "bergen-admin", "admin", tree["bergen"])
    editor = _user(engine, bergen, "bergen-editor", "editor", tree["kl_b"])
    with session_factory(engine)() as s:
        with pytest.raises(PermissionDenied, match="may create users for units under HF"):
            create_user(s, bergen, "forde-editor", "editor", tree["forde"])
        with pytest.raises(PermissionDenied, match="belongs to administrators"):
            create_user(s, editor, "someone", "editor", tree["kl_b"])
        with pytest.raises(PermissionDenied, match="may not create owners"):
            create_user(s, regional, "boss", "owner", None)
        with pytest.raises(InputError, match="user name"):
            create_user(s, SYSTEM, "Not A Name", "editor", tree["kl_b"])
        assert [u.name for u in list_users(s, bergen)] == ["bergen-admin", "bergen-editor"]
        assert [u.name for u in list_users(s, regional)] == [
            "bergen-admin",
            "bergen-editor",
            "vest-admin",
        ]


def test_tokens_are_hashed_checked_revocable_and_expire(
    engine: Engine, tree: dict[str, int]
) -> None:
    with session_factory(engine).begin() as s:
        issued = create_user(s, SYSTEM, "kari", "editor", tree["bergen"])
        second = issue_token(s, SYSTEM, "kari", label="laptop")
    with session_factory(engine)() as s:
        stored = [row.secret_hash for row in s.scalars(select(UnitApiToken))]
    secret = issued.token.rsplit("_", 1)[1]
    assert all(secret not in h and h.startswith("scrypt$14$8$1$") for h in stored)
    assert len({h.split("$")[4] for h in stored}) == 2  # a salt per token
    with session_factory(engine)() as s:
        assert authenticate(s, second.token).name == "kari"
        for bad in (issued.token[:-1] + "x", "hsu_0000000000000000_" + "a" * 43, "nonsense"):
            with pytest.raises(PermissionDenied) as caught:
                authenticate(s, bad)
            assert (caught.value.status, caught.value.code) == (401, "auth.invalid_token")
    with session_factory(engine).begin() as s:
        assert revoke_tokens(s, SYSTEM, "kari") == 2
    with session_factory(engine)() as s, pytest.raises(PermissionDenied):
        authenticate(s, issued.token)
    with session_factory(engine).begin() as s:
        fresh = issue_token(s, SYSTEM, "kari")
        row = s.scalars(select(UnitApiToken).order_by(UnitApiToken.id.desc())).first()
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    with session_factory(engine)() as s, pytest.raises(PermissionDenied):
        authenticate(s, fresh.token)
