"""``/api/v1/units``: the unit registry. Reads are open; writes need ``Authorization: Bearer
<token>`` (401 without a valid one, 403 naming the missing right) and, on an existing unit,
``If-Match`` with its ETag (428 without or with ``*``, 412 when the unit changed meanwhile),
checked in that order: a caller without the right gets 403 whatever its ``If-Match``.

Reads (``date`` defaults to today; ``known_at`` asks what the registry said at that time):

- ``GET /api/v1/units?q=`` search by id, HER-/HSA-id or (former) name;
- ``GET /api/v1/units/tree?date=&root=&country=`` the tree on a date;
- ``GET /api/v1/units/changes?from=&to=&root=`` what took effect between two dates;
- ``GET /api/v1/units/place?id=&date=`` the RHF, HF, behandlingssted and sector of one unit;
- ``GET /api/v1/units/fhir?date=`` the tree as FHIR R4 Organization resources (Bundle);
- ``GET /api/v1/units/{id}`` a unit with every version (ETag, 304 on If-None-Match);
  ``…/{id}/path``, ``…/{id}/subtree``, ``…/{id}/history`` (the audit trail).

Writes: ``POST /api/v1/units`` (create), ``POST /api/v1/units/organisations`` (owner: a new
organisation and its first administrator), ``PATCH /api/v1/units/{id}`` (change from a date:
rename, move, …), ``POST …/{id}/close``, ``POST …/{id}/reopen``, ``POST …/{id}/identifiers``.
Users: ``/api/v1/unit-users`` (create, list), ``…/me``, ``…/tokens``, ``…/revoke``. There is
no DELETE: units are closed, never deleted.

The database engine is created once per app, lazily, from ``settings.resolved_database_url``
(and migrated on first use), so building the app does no I/O.

>>> # curl -s 'localhost:8000/api/v1/units/place?id=100012&date=2024-03-01'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.convertors import Convertor, register_url_convertor

from helsestat.api.access_log import redact
from helsestat.api.auth_limit import FailedAuthLimiter
from helsestat.api.params import ASCII_INTEGER, IsoDate, UnitId
from helsestat.api.problems import PROBLEM_RESPONSES, Problem
from helsestat.api.registry import RegistryReads, placement_body, unit_body, unit_links
from helsestat.api.routers.units_deps import (
    DateParam,
    KnownAtParam,
    SessionDep,
    UnitDatabase,
    parse_unit_id,
    today,
)
from helsestat.api.routers.units_schemas import (
    AuditOut,
    ChangesOut,
    CloseIn,
    HistoryOut,
    IdentifierIO,
    IssuedOut,
    NodeOut,
    OrganisationCreate,
    OrganisationOut,
    PathOut,
    PlacementOut,
    SearchOut,
    TokenIn,
    TreeOut,
    UnitChangeIn,
    UnitCreate,
    UnitOut,
    UserIn,
    UserOut,
    WhoAmI,
)
from helsestat.errors import InputError, PermissionDenied
from helsestat.reference.units import (
    IfMatch,
    NewUnit,
    Node,
    Principal,
    UnitRecord,
    UserRecord,
    change_unit,
    close_unit,
    create_unit,
    get_unit,
    reopen_unit,
    set_identifier,
    tree_at,
)
from helsestat.reference.units.auth import (
    authenticate,
    create_user,
    issue_token,
    list_users,
    missing_token,
    revoke_tokens,
)
from helsestat.reference.units.fhir import snapshot_bundle_json
from helsestat.reference.units.permissions import require_owner
from helsestat.reference.units.snapshot import RegistrySnapshot
from helsestat.store.db.audit import audit_trail
from helsestat.store.db.database import session_factory

#: The sub-resources of a unit and the collection's own paths (see UnitPathConvertor).
SUB_RESOURCES = ("path", "subtree", "history", "close", "reopen", "identifiers")
COLLECTION_PATHS = ("organisations", "tree", "changes", "place", "fhir")
_NOT_COLLECTION = f"(?!(?:{'|'.join(COLLECTION_PATHS)})$)"


class UnitPathConvertor(Convertor[str]):
    """``{unit_id:unit}``: like ``:path`` — a malformed id (even one with a slash) reaches
    the route and is answered 404 ``unit.not_found`` — but never one of the collection's
    own paths, so ``PATCH /api/v1/units/tree`` is a 405, not a change of unit "tree"."""

    regex = _NOT_COLLECTION + ".+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class UnitChangeConvertor(UnitPathConvertor):
    """``{unit_id:unit_change}``: as ``:unit``, and never ending in ``/<sub-resource>``, so
    ``PATCH …/100012/path`` is a method the path does not allow (405), not a change of
    unit "100012/path" (which would answer 401 or 404)."""

    regex = _NOT_COLLECTION + f"(?:(?!/(?:{'|'.join(SUB_RESOURCES)})$).)+"


register_url_convertor("unit", UnitPathConvertor())
register_url_convertor("unit_change", UnitChangeConvertor())
router = APIRouter(prefix="/api/v1", tags=["units"])
JSON = "application/json"
FHIR_JSON = "application/fhir+json"

_ERRORS: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    404: {**PROBLEM_RESPONSES[404], "description": "Unknown unit (problem+json)"},
}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    **{
        status: {"model": Problem, "description": text, "content": {"application/problem+json": {}}}
        for status, text in (
            (401, "Missing or invalid bearer token (problem+json)"),
            (403, "The token's user lacks the right (problem+json)"),
            (409, "Conflicts with the registry's state (problem+json)"),
            (412, "If-Match does not match the unit's ETag (problem+json)"),
            (428, "If-Match with the unit's ETag is required (problem+json)"),
            (429, "Too many failed authentications from this client (problem+json)"),
        )
    },
}


@contextmanager
def _session(request: Request) -> Iterator[Session]:
    """A session for the rare read that needs the database (``known_at``)."""
    database: UnitDatabase = request.app.state.units_db
    with session_factory(database.engine())() as session:
        yield session


def get_principal(request: Request, session: SessionDep) -> Principal:
    """The writer, from ``Authorization: Bearer <token>`` (401 when missing or invalid; 429
    while its client is over the limit of failed authentications)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise missing_token()
    limiter: FailedAuthLimiter = request.app.state.auth_limiter
    client = request.client.host if request.client is not None else ""
    limiter.check(client)
    try:
        return authenticate(session, token.strip())
    except PermissionDenied:
        limiter.failed(client)
        raise


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def if_match(request: Request) -> IfMatch:
    """The request's ``If-Match``, checked by the registry after the writer's rights."""
    return IfMatch(request.headers.get("if-match"))


def _unit_out(request: Request, response: Response, record: UnitRecord) -> UnitOut:
    """The answer of a write (and of a read as known at a time), with its ETag; a write
    also tells this worker's snapshot to check the database."""
    request.app.state.registry.invalidate()
    response.headers["ETag"] = record.etag
    response.headers["Cache-Control"] = "no-cache"
    return UnitOut.of(record, today(), unit_links(record.id))


def get_snapshot(request: Request) -> RegistrySnapshot:
    """The worker's snapshot of the registry (checked against the database when stale)."""
    reads: RegistryReads = request.app.state.registry
    return reads.snapshot()


SnapshotDep = Annotated[RegistrySnapshot, Depends(get_snapshot)]


def _json(
    request: Request, snapshot: RegistrySnapshot, make: Callable[[], Any], *, media: str
) -> Response:
    """The answer of a read, rendered once per snapshot and request URL. ``make`` builds it
    as plain JSON values in the documented model's shape (a test checks each against its
    model): the models would validate and serialise a thousand nodes in one call that holds
    the interpreter lock for tens of milliseconds, and orjson takes one."""
    reads: RegistryReads = request.app.state.registry
    key = (request.url.path, request.url.query, today())
    body = reads.answer(snapshot, key, lambda: orjson.dumps(make()))
    return Response(body, media_type=media)


def _node_json(node: Node) -> dict[str, Any]:
    """A :class:`NodeOut` as JSON values."""
    return {
        "id": node.id,
        "parent_id": node.parent_id,
        "kind": node.kind,
        "name": node.name,
        "depth": node.depth,
        "country": node.country,
        "sector": node.sector,
        "children": node.children,
    }


def _node(node: Node) -> NodeOut:
    return NodeOut(
        id=node.id,
        parent_id=node.parent_id,
        kind=node.kind,
        name=node.name,
        depth=node.depth,
        country=node.country,
        sector=node.sector,
        children=list(node.children),
    )


# -- reads without a unit in the path ----------------------------------------------------------


@router.get("/units", response_model=SearchOut, responses=_ERRORS, name="unit_search")
def search_units(
    request: Request,
    snapshot: SnapshotDep,
    q: Annotated[str, Query(min_length=1, max_length=100, description="Id or part of a name")],
    on: DateParam = None,
    limit: Annotated[int, ASCII_INTEGER, Query(ge=1, le=500)] = 50,
) -> Response:
    """Units whose id, HER-/HSA-id or name (current or former; with `date`, the name on that
    day) matches `q`, exact id matches first."""
    return _json(request, snapshot, lambda: _search(snapshot, q, on, limit), media=JSON)


def _search(snapshot: RegistrySnapshot, q: str, on: date | None, limit: int) -> dict[str, Any]:
    """A :class:`SearchOut` as JSON values."""
    hits = snapshot.search(q, day=on, limit=limit)
    return {
        "query": redact(q),  # a personal identifier typed into the search is not echoed
        "hits": [
            {
                "id": h.unit_id,
                "name": h.latest.fields.name,
                "kind": h.latest.fields.kind,
                "matched": h.matched,
                "opened": None,
                "closed": h.latest.valid_to,
                "links": unit_links(h.unit_id),
            }
            for h in hits
        ],
    }


@router.get("/units/tree", response_model=TreeOut, responses=_ERRORS, name="unit_tree")
def unit_tree(
    request: Request,
    on: DateParam = None,
    root: Annotated[UnitId | None, Query(description="Only the subtree under this unit")] = None,
    country: Annotated[str | None, Query(pattern="^(NO|SE)$")] = None,
    known_at: KnownAtParam = None,
) -> Response:
    """The tree on `date` (depth-first, children by name), or the subtree under `root`."""
    day = on or today()
    if known_at is not None:  # what the registry said then: from the database
        with _session(request) as session:
            nodes = tree_at(session, day, root=root, country=country, known_at=known_at)
        return Response(
            TreeOut(date=day, nodes=[_node(n) for n in nodes]).model_dump_json(), media_type=JSON
        )
    snapshot = get_snapshot(request)
    return _json(
        request,
        snapshot,
        lambda: {
            "date": day,
            "nodes": [_node_json(n) for n in snapshot.tree_at(day, root=root, country=country)],
        },
        media=JSON,
    )


@router.get("/units/changes", response_model=ChangesOut, responses=_ERRORS, name="unit_changes")
def unit_changes(
    request: Request,
    snapshot: SnapshotDep,
    start: Annotated[IsoDate, Query(alias="from", description="Changes after this day")],
    end: Annotated[
        IsoDate | None, Query(alias="to", description="… up to this day (default: today)")
    ] = None,
    root: Annotated[UnitId | None, Query(description="Only units under this one")] = None,
) -> Response:
    """Units opened, closed, moved, renamed or otherwise changed after `from` up to and
    including `to`."""
    return _json(request, snapshot, lambda: _changes(snapshot, start, end, root), media=JSON)


def _changes(
    snapshot: RegistrySnapshot, start: date, end: date | None, root: int | None
) -> dict[str, Any]:
    """A :class:`ChangesOut` as JSON values."""
    until = end or today()
    changes = snapshot.changes_between(start, until, root=root)
    return {
        "from": start,
        "to": until,
        "changes": [
            {
                "unit_id": c.unit_id,
                "on": c.on,
                "what": c.what,
                "field": c.field,
                "before": c.before,
                "after": c.after,
                "name": c.name,
            }
            for c in changes
        ],
    }


@router.get("/units/place", response_model=PlacementOut, responses=_ERRORS, name="unit_place")
def place_unit(
    request: Request,
    snapshot: SnapshotDep,
    unit_id: Annotated[UnitId, Query(alias="id", description="Unit id as reported")],
    on: DateParam = None,
) -> Response:
    """Where reported data for unit `id` on `date` belongs: RHF, HF, behandlingssted and
    sector (Norway), vårdgivare, vårdenhet and län (Sweden). An unknown id, or one not valid
    on the date, is reported in `status`, never guessed."""
    body = placement_body(request.app.state.registry, snapshot, unit_id, on or today())
    return Response(body, media_type=JSON)


@router.get(
    "/units/fhir",
    responses={**_ERRORS, 200: {"content": {"application/fhir+json": {}}}},
    name="unit_fhir",
)
def fhir_bundle(
    request: Request,
    snapshot: SnapshotDep,
    on: DateParam = None,
    country: Annotated[str | None, Query(pattern="^(NO|SE)$")] = None,
) -> Response:
    """Every unit valid on `date` as a FHIR R4 Organization in a `collection` Bundle."""
    reads: RegistryReads = request.app.state.registry
    cache = reads.organizations(snapshot)
    day = on or today()
    body = reads.answer(
        snapshot,
        ("fhir", day, country),
        lambda: snapshot_bundle_json(snapshot, day, country=country, cache=cache),
    )
    return Response(body, media_type=FHIR_JSON)


# -- writes without a unit in the path ---------------------------------------------------------


def _new_unit(body: UnitCreate) -> NewUnit:
    return NewUnit(
        body.country,
        body.fields.to_model(),
        body.valid_from,
        body.valid_to,
        tuple(i.to_model() for i in body.identifiers),
    )


@router.post(
    "/units", response_model=UnitOut, status_code=201, responses=_WRITE_ERRORS, name="unit_create"
)
def create(
    request: Request, response: Response, session: SessionDep, actor: PrincipalDep, body: UnitCreate
) -> UnitOut:
    """Create a unit under `fields.parent_id` (a right on the parent as of `valid_from`;
    units without a parent need the registry owner). The id is allocated by the registry."""
    record = create_unit(session, actor, _new_unit(body))
    session.commit()
    response.headers["Location"] = unit_links(record.id)["self"]
    return _unit_out(request, response, record)


def _user_out(user: UserRecord) -> UserOut:
    return UserOut(
        name=user.name,
        role=user.role,
        scope_unit_id=user.scope_unit_id,
        created_at=user.created_at,
        created_by=user.created_by,
        disabled=user.disabled,
        tokens=user.tokens,
    )


@router.post(
    "/units/organisations",
    response_model=OrganisationOut,
    status_code=201,
    responses=_WRITE_ERRORS,
    name="unit_register_organisation",
)
def register_organisation(
    request: Request,
    response: Response,
    session: SessionDep,
    actor: PrincipalDep,
    body: OrganisationCreate,
) -> OrganisationOut:
    """The registry owner registers an organisation (an RHF, an HF, a private institution,
    a vårdgivare …) and creates its first administrator, whose token is returned once."""
    require_owner(actor, "register organisations")
    record = create_unit(session, actor, _new_unit(body))
    issued = create_user(session, actor, body.admin, "admin", record.id)
    session.commit()
    response.headers["Location"] = unit_links(record.id)["self"]
    return OrganisationOut(
        unit=_unit_out(request, response, record),
        admin=IssuedOut(user=_user_out(issued.user), token=issued.token),
    )


# -- one unit ----------------------------------------------------------------------------------
# Unit ids are matched as `path` parameters so that a malformed id reaches the handler and is
# answered with a 404 problem like an unknown one; the sub-resources come before the unit,
# whose convertors keep the collection's own paths (and, for PATCH, the sub-resources) out.


@router.get(
    "/units/{unit_id:path}/path", response_model=PathOut, responses=_ERRORS, name="unit_path"
)
def unit_path(unit_id: str, snapshot: SnapshotDep, on: DateParam = None) -> PathOut:
    """The unit and its ancestors on `date` (the unit first, its RHF or vårdgivare last)."""
    uid, day = parse_unit_id(unit_id), on or today()
    path = snapshot.path_at(uid, day)
    country = snapshot.get_unit(uid).country
    return PathOut(
        date=day,
        path=[
            NodeOut(
                id=v.unit_id,
                parent_id=v.fields.parent_id,
                kind=v.fields.kind,
                name=v.fields.name,
                depth=len(path) - 1 - i,
                country=country,
                sector=v.fields.sector,
                children=[],
            )
            for i, v in enumerate(path)
        ],
    )


@router.get(
    "/units/{unit_id:path}/subtree", response_model=TreeOut, responses=_ERRORS, name="unit_subtree"
)
def unit_subtree(
    unit_id: str, request: Request, snapshot: SnapshotDep, on: DateParam = None
) -> Response:
    """The units under this one on `date` (depth-first; depth relative to this unit)."""
    uid, day = parse_unit_id(unit_id), on or today()
    return _json(
        request,
        snapshot,
        lambda: {"date": day, "nodes": [_node_json(n) for n in snapshot.subtree_at(uid, day)]},
        media=JSON,
    )


@router.get(
    "/units/{unit_id:path}/history",
    response_model=HistoryOut,
    responses=_ERRORS,
    name="unit_history",
)
def unit_history(unit_id: str, session: SessionDep) -> HistoryOut:
    """The unit's audit trail: every change, who made it and when, before and after."""
    uid = parse_unit_id(unit_id)
    get_unit(session, uid)  # 404 for an unknown unit
    entries = audit_trail(session, "unit", uid)
    return HistoryOut(
        unit_id=uid,
        entries=[
            AuditOut(at=e.at, actor=e.actor, action=e.action, before=e.before, after=e.after)
            for e in entries
        ],
    )


@router.post(
    "/units/{unit_id:path}/close",
    response_model=UnitOut,
    responses=_WRITE_ERRORS,
    name="unit_close",
)
def close(
    unit_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    actor: PrincipalDep,
    body: CloseIn,
) -> UnitOut:
    """Close the unit from `date` (the first day it is no longer valid). Its id stays; the
    units under it must be closed or moved first. Needs If-Match."""
    uid = parse_unit_id(unit_id)
    record = close_unit(session, actor, uid, body.date, expected_version=if_match(request))
    session.commit()
    return _unit_out(request, response, record)


@router.post(
    "/units/{unit_id:path}/reopen",
    response_model=UnitOut,
    responses=_WRITE_ERRORS,
    name="unit_reopen",
)
def reopen(
    unit_id: str, request: Request, response: Response, session: SessionDep, actor: PrincipalDep
) -> UnitOut:
    """Undo a closure (the last version becomes open-ended). Needs If-Match."""
    uid = parse_unit_id(unit_id)
    record = reopen_unit(session, actor, uid, expected_version=if_match(request))
    session.commit()
    return _unit_out(request, response, record)


@router.post(
    "/units/{unit_id:path}/identifiers",
    response_model=UnitOut,
    responses=_WRITE_ERRORS,
    name="unit_identifier",
)
def identifier(
    unit_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    actor: PrincipalDep,
    body: IdentifierIO,
) -> UnitOut:
    """Add a HER-id or HSA-id with its validity, or end one (same scheme, value and
    `valid_from`, now with `valid_to`). Needs If-Match."""
    uid = parse_unit_id(unit_id)
    record = set_identifier(
        session, actor, uid, body.to_model(), expected_version=if_match(request)
    )
    session.commit()
    return _unit_out(request, response, record)


@router.patch(
    "/units/{unit_id:unit_change}",
    response_model=UnitOut,
    responses=_WRITE_ERRORS,
    name="unit_change",
)
def change(
    unit_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    actor: PrincipalDep,
    body: UnitChangeIn,
) -> UnitOut:
    """Change the unit from `valid_from`: rename (`name`), move (`parent_id`), or set other
    fields; each new value lasts until that field's next recorded change (or `until`). The
    id never changes. Needs If-Match with the unit's ETag."""
    uid = parse_unit_id(unit_id)
    changes = body.changes()
    for required in ("name", "kind"):
        if required in changes and changes[required] is None:
            raise InputError(
                "unit.invalid_change",
                f"{required} cannot be cleared",
                hint=f"leave {required} out of the change, or give it a new value",
            )
    record = change_unit(
        session,
        actor,
        uid,
        body.valid_from,
        changes,
        until=body.until,
        expected_version=if_match(request),
    )
    session.commit()
    return _unit_out(request, response, record)


@router.get(
    "/units/{unit_id:unit}",
    response_model=UnitOut,
    responses={**_ERRORS, 304: {"description": "Not modified: If-None-Match matched"}},
    name="unit",
)
def unit(
    unit_id: str,
    request: Request,
    known_at: KnownAtParam = None,
) -> Response:
    """A unit: its permanent id, lifetime, every version and identifier. The ETag changes
    with every edit; send it in If-Match to change the unit."""
    uid = parse_unit_id(unit_id)
    headers = {"Cache-Control": "no-cache"}
    if known_at is not None:  # what the registry said then: from the database
        with _session(request) as session:
            record = get_unit(session, uid, known_at=known_at)
        body = UnitOut.of(record, today(), unit_links(uid)).model_dump_json().encode()
        return Response(body, media_type=JSON, headers={**headers, "ETag": record.etag})
    etag, body = unit_body(request.app.state.registry, get_snapshot(request), uid)
    headers["ETag"] = etag
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=JSON, headers=headers)


# -- users ---------------------------------------------------------------------------------------


@router.post(
    "/unit-users",
    response_model=IssuedOut,
    status_code=201,
    responses=_WRITE_ERRORS,
    name="unit_user_create",
)
def create_registry_user(session: SessionDep, actor: PrincipalDep, body: UserIn) -> IssuedOut:
    """Create a user (owners: anyone; admins: admins and editors within their subtree) with
    a first token, shown once."""
    issued = create_user(session, actor, body.name, body.role, body.scope_unit_id)
    session.commit()
    return IssuedOut(user=_user_out(issued.user), token=issued.token)


@router.get("/unit-users", response_model=list[UserOut], responses=_WRITE_ERRORS, name="unit_users")
def registry_users(session: SessionDep, actor: PrincipalDep) -> list[UserOut]:
    """The users the caller may manage."""
    return [_user_out(u) for u in list_users(session, actor)]


@router.get("/unit-users/me", response_model=WhoAmI, responses=_WRITE_ERRORS, name="unit_user_me")
def who_am_i(actor: PrincipalDep) -> WhoAmI:
    """The caller, as its token identifies it."""
    return WhoAmI(name=actor.name, role=actor.role, scope_unit_id=actor.scope_unit_id)


@router.post(
    "/unit-users/tokens", response_model=IssuedOut, status_code=201, responses=_WRITE_ERRORS,
    name="unit_user_token",
)  # fmt: skip
def new_token(session: SessionDep, actor: PrincipalDep, body: TokenIn) -> IssuedOut:
    """A new token for a user the caller may manage (shown once)."""
    issued = issue_token(session, actor, body.name, label=body.label)
    session.commit()
    return IssuedOut(user=_user_out(issued.user), token=issued.token)


@router.post("/unit-users/revoke", responses=_WRITE_ERRORS, name="unit_user_revoke")
def revoke(session: SessionDep, actor: PrincipalDep, body: TokenIn) -> dict[str, int]:
    """Revoke every token of a user the caller may manage."""
    revoked = revoke_tokens(session, actor, body.name)
    session.commit()
    return {"revoked": revoked}


__all__ = ["if_match", "router"]
