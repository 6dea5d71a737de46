"""The unit registry's pages: ``/dashboard/units`` (the tree as of a chosen date, search by
name or id) and ``/dashboard/units/{id}`` (a unit's path, versions, identifiers, placement
and audit trail). Server-rendered, no script needed; failures are problem+json.

>>> # open http://localhost:8000/dashboard/units?date=2015-01-01 after 'helsestat units load-demo'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from helsestat.api.pages.render import TemplatesDep, render
from helsestat.api.registry import RegistryReads
from helsestat.api.routers.units import SnapshotDep
from helsestat.api.routers.units_deps import DateParam, SessionDep, parse_unit_id, today
from helsestat.errors import NotFoundError
from helsestat.reference.units import KIND_LABELS, SECTOR_LABELS, Node
from helsestat.store.db.audit import audit_trail

router = APIRouter(include_in_schema=False)

#: Depth to which the tree starts unfolded (RHF and HF, vårdgivare and vårdenhet).
OPEN_DEPTH = 1


@dataclass
class Branch:
    """A node of the page's nested tree."""

    node: Node
    children: list[Branch] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Units in this branch below the node."""
        return sum(1 + c.size for c in self.children)


def nest(nodes: list[Node]) -> list[Branch]:
    """Depth-first nodes (as :func:`~helsestat.reference.units.tree_at` returns them) as a
    nested list of branches.

    >>> from helsestat.reference.units import Node
    >>> [b.size for b in nest([Node(1, None, "rhf", "R", 0), Node(2, 1, "hf", "H", 1)])]
    [1]
    """
    roots: list[Branch] = []
    stack: list[Branch] = []
    for node in nodes:
        branch = Branch(node)
        while stack and stack[-1].node.depth >= node.depth:
            stack.pop()
        (stack[-1].children if stack else roots).append(branch)
        stack.append(branch)
    return roots


@router.get("/dashboard/units", name="dashboard_units", response_class=HTMLResponse)
def units_page(
    request: Request,
    snapshot: SnapshotDep,
    templates: TemplatesDep,
    on: DateParam = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    country: Annotated[str, Query(pattern="^(NO|SE)$")] = "NO",
) -> HTMLResponse:
    """The tree of one country on the chosen date, and search results for ``q``: rendered
    once per snapshot of the registry, release shown and day."""
    day = on or today()

    def make() -> bytes:
        hits = snapshot.search(q, limit=50) if q else []
        nodes = snapshot.tree_at(day, country=country)
        page = render(
            templates,
            request,
            "units.html",
            release=None,
            day=day,
            q=q or "",
            country=country,
            hits=hits,
            tree=nest(nodes),
            count=len(nodes),
            open_depth=OPEN_DEPTH,
            kinds=KIND_LABELS,
            sectors=SECTOR_LABELS,
        )
        return bytes(page.body)

    reads: RegistryReads = request.app.state.registry
    key = ("page", request.url.path, request.url.query, today(), _release(request))
    return HTMLResponse(reads.answer(snapshot, key, make))


def _release(request: Request) -> str | None:
    """The current release's id (the pages name it), None before the first build."""
    try:
        return str(request.app.state.tables.current_release().id)
    except NotFoundError:
        return None


@router.get("/dashboard/units/{unit_id:path}", name="dashboard_unit", response_class=HTMLResponse)
def unit_page(
    unit_id: str,
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    templates: TemplatesDep,
    on: DateParam = None,
) -> HTMLResponse:
    """One unit: where it sits on the date, every version, identifiers, audit trail."""
    uid = parse_unit_id(unit_id)
    record = snapshot.get_unit(uid)
    day = on or today()
    shown = day if record.at(day) is not None else record.latest.valid_from
    try:
        path = snapshot.path_at(uid, shown)
    except NotFoundError:
        path = []
    parents = {v.fields.parent_id for v in record.versions if v.fields.parent_id is not None}
    names = {p: snapshot.get_unit(p).latest.fields.name for p in parents}
    return render(
        templates,
        request,
        "unit.html",
        release=None,
        day=day,
        shown=shown,
        unit=record,
        current=record.at(day),
        path=list(reversed(path)),
        parent_names=names,
        placement=snapshot.place_one(uid, day),
        audit=list(reversed(audit_trail(session, "unit", uid))),
        kinds=KIND_LABELS,
        sectors=SECTOR_LABELS,
    )


__all__ = ["Branch", "nest", "router"]
