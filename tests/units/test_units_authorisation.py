"""Authorisation that holds, on SQLite and PostgreSQL: a right is checked over the whole
validity of a change (not only its first day); the rights come before the precondition
(403 before 428/412) and only a real ETag is a precondition; the registry cannot lock
itself out; an unknown token costs the same work as a wrong secret; and failed
authentication is limited per client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from helsestat.api import create_app
from helsestat.api.auth_limit import FailedAuthLimiter
from helsestat.errors import ConflictError, PermissionDenied
from helsestat.reference.units import (
    SYSTEM,
    Identifier,
    NewUnit,
    Principal,
    UnitFields,
    change_unit,
    close_unit,
    create_unit,
    set_identifier,
)
from helsestat.reference.units.auth import (
    DECOY_HASH,
    SCRYPT_LOG2_N,
    authenticate,
    create_user,
    revoke_tokens,
    verify_secret,
)
from helsestat.reference.units.permissions import scope_days
from helsestat.settings import Settings
from helsestat.store.db.database import session_factory

D = date.fromisoformat
Clock = Callable[[], datetime]
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "hint", "instance"}


def _new(kind: str, name: str, parent: int | None, on: str = "2003-01-01") -> NewUnit:
    return NewUnit("NO", UnitFields(kind, name, parent_id=parent), D(on))


@pytest.fixture
def tree(engine: Engine, clock: Clock) -> dict[str, int]:
    """Helse Vest RHF with Helse Bergen HF and Helse Førde HF. Under Bergen: Medisinsk
    klinikk with Hjerteavdelingen. On 2020-01-01 the klinikk moves to Førde: the avdeling
    has belonged to Førde since, without a version of its own changing."""
    with session_factory(engine).begin() as s:
        ids = {"rhf": create_unit(s, SYSTEM, _new("rhf", "Helse Vest RHF", None, "2002-01-01")).id}
        ids["bergen"] = create_unit(s, SYSTEM, _new("hf", "Helse Bergen HF", ids["rhf"])).id
        ids["forde"] = create_unit(s, SYSTEM, _new("hf", "Helse Førde HF", ids["rhf"])).id
        ids["kl"] = create_unit(s, SYSTEM, _new("klinikk", "Medisinsk klinikk", ids["bergen"])).id
        ids["avd"] = create_unit(s, SYSTEM, _new("avdeling", "Hjerteavdelingen", ids["kl"])).id
        change_unit(s, SYSTEM, ids["kl"], D("2020-01-01"), {"parent_id": ids["forde"]}, clock=clock)
    return ids


def _admin(engine: Engine, name: str, scope: int) -> Principal:
    with session_factory(engine).begin() as s:
        return create_user(s, SYSTEM, name, "admin", scope, log2_n=10).user.principal


def test_the_days_checked_are_where_the_path_to_the_root_changes(
    engine: Engine, tree: dict[str, int]
) -> None:
    with session_factory(engine)() as s:
        assert scope_days(s, tree["avd"], D("2010-01-01"), None) == [
            D("2010-01-01"),
            D("2020-01-01"),
        ]
        assert scope_days(s, tree["avd"], D("2010-01-01"), D("2020-01-01")) == [D("2010-01-01")]
        assert scope_days(s, tree["avd"], D("2021-01-01"), None) == [D("2021-01-01")]


def test_an_identifier_needs_the_right_for_as_long_as_it_is_valid(
    engine: Engine, tree: dict[str, int], clock: Clock
) -> None:
    bergen = _admin(engine, "bergen-admin", tree["bergen"])
    forde = _admin(engine, "forde-admin", tree["forde"])
    her = Identifier("her", "81234", D("2015-01-01"))  # valid today: it has no end
    with session_factory(engine)() as s, pytest.raises(PermissionDenied) as refused:
        set_identifier(s, bergen, tree["avd"], her, clock=clock)
    assert refused.value.code == "auth.out_of_scope"
    assert refused.value.message.endswith("on 2020-01-01")
    with session_factory(engine).begin() as s:
        ended = Identifier("her", "81234", D("2015-01-01"), D("2020-01-01"))
        assert set_identifier(s, bergen, tree["avd"], ended, clock=clock).identifiers == (ended,)
    with session_factory(engine)() as s, pytest.raises(PermissionDenied, match="on 2015-01-01"):
        set_identifier(s, forde, tree["avd"], her, clock=clock)  # reopening Bergen's years
    with session_factory(engine).begin() as s:
        later = Identifier("her", "99887", D("2021-01-01"))
        set_identifier(s, forde, tree["avd"], later, clock=clock)


def test_a_change_needs_the_right_over_its_whole_validity(
    engine: Engine, tree: dict[str, int], clock: Clock
) -> None:
    bergen = _admin(engine, "bergen-admin", tree["bergen"])
    with session_factory(engine)() as s:
        with pytest.raises(PermissionDenied, match="on 2020-01-01"):
            change_unit(s, bergen, tree["avd"], D("2010-01-01"), {"name": "X"}, clock=clock)
        with pytest.raises(PermissionDenied, match=r"may add units under .* on 2020-01-01"):
            create_unit(s, bergen, _new("seksjon", "Ny seksjon", tree["avd"], "2015-01-01"))
        with pytest.raises(PermissionDenied, match="may close units"):
            close_unit(s, bergen, tree["avd"], D("2018-01-01"), clock=clock)
    with session_factory(engine).begin() as s:
        change_unit(
            s,
            bergen,
            tree["avd"],
            D("2010-01-01"),
            {"name": "Hjertemedisin"},
            until=D("2020-01-01"),
            clock=clock,
        )
        seksjon = NewUnit(
            "NO",
            UnitFields("seksjon", "Seksjon", parent_id=tree["avd"]),
            D("2015-01-01"),
            D("2020-01-01"),
        )
        create_unit(s, bergen, seksjon)


# -- through the API -----------------------------------------------------------------------


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) == PROBLEM_KEYS and body["code"] == code and body["hint"]
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(
    engine: Engine, tree: dict[str, int], tmp_path: Path
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A client on the tree, and tokens of the owner and each HF's administrator."""
    tokens = {}
    with session_factory(engine).begin() as s:
        tokens["owner"] = create_user(s, SYSTEM, "nhn-owner", "owner", None, log2_n=10).token
        for hf in ("bergen", "forde"):
            tokens[hf] = create_user(s, SYSTEM, f"{hf}-admin", "admin", tree[hf], log2_n=10).token
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(demo_mode=True, data_dir=tmp_path, database_url=url)
    with TestClient(create_app(settings)) as client:
        yield client, tokens


def test_the_api_refuses_an_identifier_out_of_scope_for_part_of_its_validity(
    api: tuple[TestClient, dict[str, str]], tree: dict[str, int]
) -> None:
    client, tokens = api
    url = f"/api/v1/units/{tree['avd']}"
    etag = client.get(url).headers["etag"]
    her = {"scheme": "her", "value": "81234", "valid_from": "2015-01-01"}
    refused = client.post(
        f"{url}/identifiers", json=her, headers={**bearer(tokens["bergen"]), "If-Match": etag}
    )
    assert problem(refused, 403, "auth.out_of_scope")["detail"].endswith("on 2020-01-01")


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "", {"valid_from": "2021-01-01", "name": "X"}),
        ("POST", "/identifiers", {"scheme": "her", "value": "81234", "valid_from": "2021-01-01"}),
        ("POST", "/close", {"date": "2021-01-01"}),
        ("POST", "/reopen", None),
    ],
)
def test_rights_come_before_the_precondition_and_star_is_no_precondition(
    api: tuple[TestClient, dict[str, str]],
    tree: dict[str, int],
    method: str,
    suffix: str,
    body: dict[str, str] | None,
) -> None:
    client, tokens = api
    url = f"/api/v1/units/{tree['avd']}{suffix}"
    etag = client.get(f"/api/v1/units/{tree['avd']}").headers["etag"]
    bergen, forde = bearer(tokens["bergen"]), bearer(tokens["forde"])
    # out of scope: 403 whatever If-Match says (missing, "*", stale or another unit's)
    for if_match in ({}, {"If-Match": "*"}, {"If-Match": '"unit-1-1"'}, {"If-Match": etag}):
        response = client.request(method, url, json=body, headers={**bergen, **if_match})
        problem(response, 403, "auth.out_of_scope")
    # in scope: If-Match is required, and "*" is not an ETag
    problem(
        client.request(method, url, json=body, headers=forde), 428, "unit.precondition_required"
    )
    star = client.request(method, url, json=body, headers={**forde, "If-Match": "*"})
    assert "not '*'" in problem(star, 428, "unit.precondition_required")["detail"]
    stale = client.request(method, url, json=body, headers={**forde, "If-Match": '"unit-1-1"'})
    problem(stale, 412, "unit.precondition_failed")
    done = client.request(method, url, json=body, headers={**forde, "If-Match": etag})
    assert done.status_code == 200, done.text


def test_the_last_owner_with_a_token_cannot_revoke_it(
    api: tuple[TestClient, dict[str, str]], engine: Engine
) -> None:
    client, tokens = api
    owner = bearer(tokens["owner"])
    revoke = {"name": "nhn-owner"}
    body = problem(
        client.post("/api/v1/unit-users/revoke", json=revoke, headers=owner),
        409,
        "unit_user.last_owner",
    )
    assert "without an owner" in body["detail"]
    assert client.get("/api/v1/unit-users/me", headers=owner).status_code == 200  # still works
    second = client.post(
        "/api/v1/unit-users", json={"name": "nhn-second", "role": "owner"}, headers=owner
    )
    assert second.status_code == 201, second.text
    assert client.post("/api/v1/unit-users/revoke", json=revoke, headers=owner).json() == {
        "revoked": 1
    }
    other = bearer(second.json()["token"])
    again = client.post("/api/v1/unit-users/revoke", json={"name": "nhn-second"}, headers=other)
    problem(again, 409, "unit_user.last_owner")
    with session_factory(engine)() as s, pytest.raises(ConflictError):
        revoke_tokens(s, SYSTEM, "nhn-second")


# -- the cost of a refused token -------------------------------------------------------------


class RecordingVerifier:
    """Records each scrypt check ``authenticate`` asks for (the cost parameters of the hash
    it checks against) and does it."""

    def __init__(self) -> None:
        self.costs: list[tuple[str, str, str, str]] = []

    def __call__(self, secret: str, stored: str) -> bool:
        scheme, log2_n, r, p, _, _ = stored.split("$")
        self.costs.append((scheme, log2_n, r, p))
        return verify_secret(secret, stored)


def test_an_unknown_token_costs_the_same_scrypt_check_as_a_wrong_secret(
    engine: Engine, tree: dict[str, int]
) -> None:
    with session_factory(engine).begin() as s:
        issued = create_user(s, SYSTEM, "kari", "editor", tree["bergen"])  # the real cost
    lookup = issued.token.split("_")[1]
    wrong_secret = f"hsu_{lookup}_" + "x" * 43
    unknown_lookup = "hsu_0123456789abcdef_" + "x" * 43
    paths = {}
    with session_factory(engine)() as s:
        for name, token in (("wrong secret", wrong_secret), ("unknown", unknown_lookup)):
            verifier = RecordingVerifier()
            with pytest.raises(PermissionDenied):
                authenticate(s, token, verify=verifier)
            paths[name] = verifier.costs
    expected = [("scrypt", str(SCRYPT_LOG2_N), "8", "1")]
    assert paths == {"wrong secret": expected, "unknown": expected}
    assert not verify_secret("x" * 43, DECOY_HASH)


# -- the limit on failed authentication -----------------------------------------------------


def test_the_limiter_refuses_after_the_limit_until_the_window_has_passed() -> None:
    now = [0.0]
    limiter = FailedAuthLimiter(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.retry_after("10.0.0.1") is None
        limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == 60
    assert limiter.retry_after("10.0.0.2") is None  # per client
    now[0] = 59.5
    with pytest.raises(PermissionDenied) as refused:
        limiter.check("10.0.0.1")
    assert (refused.value.status, refused.value.code) == (429, "auth.too_many_failures")
    assert refused.value.details == {"retry_after": 1}
    now[0] = 60.0
    assert limiter.retry_after("10.0.0.1") is None


def test_the_limiter_forgets_the_quietest_clients_first() -> None:
    limiter = FailedAuthLimiter(limit=1, window=60, clock=lambda: 0.0, max_clients=2)
    for client in ("a", "b", "c"):
        limiter.failed(client)
    assert [limiter.retry_after(c) for c in ("a", "b", "c")] == [None, 60, 60]


def test_the_api_limits_failed_authentication_per_client(
    engine: Engine, tree: dict[str, int], tmp_path: Path
) -> None:
    with session_factory(engine).begin() as s:
        token = create_user(s, SYSTEM, "nhn-owner", "owner", None, log2_n=10).token
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(
        demo_mode=True,
        data_dir=tmp_path,
        database_url=url,
        auth_failure_limit=3,
        auth_failure_window=600,
    )
    with TestClient(create_app(settings)) as client:
        bad = ["hsu_0123456789abcdef_" + "x" * 43, token[:-1] + "?", "nonsense"]
        for wrong in bad:
            problem(
                client.get("/api/v1/unit-users/me", headers=bearer(wrong)),
                401,
                "auth.invalid_token",
            )
        # over the limit: even the right token is not checked, and no guess is
        for attempt in (token, bad[0]):
            refused = client.get("/api/v1/unit-users/me", headers=bearer(attempt))
            problem(refused, 429, "auth.too_many_failures")
            assert 590 <= int(refused.headers["retry-after"]) <= 600
        # reads carry no token and are not limited; a missing token is not a failure
        assert client.get("/api/v1/units/tree").status_code == 200
        problem(client.get("/api/v1/unit-users/me"), 401, "auth.missing_token")
    with TestClient(create_app(settings)) as fresh:  # another server (or worker) counts anew
        assert fresh.get("/api/v1/unit-users/me", headers=bearer(token)).status_code == 200
