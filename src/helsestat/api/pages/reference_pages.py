"""Dashboard pages of the reference registries: the classification browser
(``/dashboard/classifications``, one classification's versions and codes at a date), the
tariff lists (``/dashboard/tariffs``) and the data source catalogue (``/dashboard/catalog``).

They render the same registries the APIs serve (``/api/klass/v1``, ``/v1/…``,
``/api/catalog``), from the same snapshot of the reference database, and link to them.

>>> # open http://localhost:8000/dashboard/classifications/131?date=2023-06-01
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from helsestat.api.deps import ReferenceDep
from helsestat.api.pages.render import TemplatesDep, render
from helsestat.api.routers.tariffs import parse_gyldigdato
from helsestat.errors import NotFoundError, QueryError
from helsestat.reference import tariff_queries as queries
from helsestat.reference.tariffs import LISTS as TARIFF_LISTS
from helsestat.reference.tariffs import REAL_LISTS
from helsestat.statistics.catalog import catalog as full_catalog

router = APIRouter(include_in_schema=False)
MAX_ROWS = 500


@router.get(
    "/dashboard/classifications", name="dashboard_classifications", response_class=HTMLResponse
)
def classifications(
    request: Request, templates: TemplatesDep, reference: ReferenceDep
) -> HTMLResponse:
    """Every classification and code list, real ones and SYNTHETIC stand-ins marked."""
    reg = reference.registry
    items = sorted(reg.classifications.values(), key=lambda c: c.id)
    return render(
        templates, request, "reference_classifications.html", release=None, classifications=items
    )


@router.get(
    "/dashboard/classifications/{classification_id:path}",
    name="dashboard_classification",
    response_class=HTMLResponse,
)
def classification(
    request: Request,
    classification_id: str,
    templates: TemplatesDep,
    reference: ReferenceDep,
    day: Annotated[str | None, Query(alias="date", description="YYYY-MM-DD")] = None,
) -> HTMLResponse:
    """One classification: its versions, correspondences and the codes valid at ``date``."""
    if not classification_id.isdigit():
        raise NotFoundError(
            "classification.not_found",
            f"no classification {classification_id[:40]!r}",
            hint="see /dashboard/classifications",
        )
    reg = reference.registry
    cls = reg.classification(int(classification_id))
    try:
        at = date.fromisoformat(day) if day else date.today()
    except ValueError:
        raise QueryError(
            "query.invalid_date", "parameter 'date' is not a date", hint="write dates as YYYY-MM-DD"
        ) from None
    version = next((v for v in cls.versions if v.covers(at)), None)
    codes = reg.codes_at(cls.id, at) if version else []
    tables = [
        (t, reg.version(t.source_version), reg.version(t.target_version))
        for t in sorted(reg.correspondences.values(), key=lambda t: t.id)
        if t.source_version in {v.id for v in cls.versions}
        or t.target_version in {v.id for v in cls.versions}
    ]
    return render(
        templates,
        request,
        "reference_classification.html",
        release=None,
        cls=cls,
        at=at,
        version=version,
        codes=codes[:MAX_ROWS],
        total=len(codes),
        tables=tables,
    )


@router.get("/dashboard/tariffs", name="dashboard_tariffs", response_class=HTMLResponse)
def tariffs(
    request: Request,
    templates: TemplatesDep,
    reference: ReferenceDep,
    liste: Annotated[str, Query(alias="list", description="Which list")] = "takstkoder",
    gyldigdato: Annotated[str | None, Query(description="Rows valid on (yyyy-MM-dd)")] = None,
) -> HTMLResponse:
    """One tariff list as a table, optionally only the rows valid on a date."""
    if liste not in TARIFF_LISTS:
        raise NotFoundError(
            "tariffs.not_found",
            f"no tariff list {liste[:40]!r}",
            hint=f"lists: {', '.join(TARIFF_LISTS)}",
        )
    lists, day = reference.tariffs, parse_gyldigdato(gyldigdato)
    rows = {
        "takstkoder": lambda: queries.takstkoder(lists, day=day),
        "nlkkoder": lambda: queries.nlkkoder(lists, day=day),
        "refusjonskategorisatser": lambda: queries.refusjonskategorisatser(lists, day=day),
        "apatkombinasjoner": lambda: queries.apatkombinasjoner(lists, day=day),
        "bandasjister": lambda: queries.bandasjister(lists),
        "fagomraader": lambda: queries.fagomraader(lists),
        "praksistyper": lambda: queries.praksistyper(lists),
    }[liste]()
    columns = [c for c in (rows[0] if rows else {}) if c != "refusjonskategorisats"]
    synthetic = liste not in REAL_LISTS
    return render(
        templates,
        request,
        "reference_tariffs.html",
        release=None,
        lists=TARIFF_LISTS,
        current=liste,
        gyldigdato=gyldigdato or "",
        columns=columns,
        rows=rows[:MAX_ROWS],
        total=len(rows),
        synthetic=synthetic,
    )


@router.get("/dashboard/catalog", name="dashboard_catalog", response_class=HTMLResponse)
def catalog(request: Request, templates: TemplatesDep, reference: ReferenceDep) -> HTMLResponse:
    """The data sources and the tables helsestat publishes."""
    return render(
        templates,
        request,
        "reference_catalog.html",
        release=None,
        catalog=full_catalog(reference, request.app.state.statistics),
    )


__all__ = ["router"]
