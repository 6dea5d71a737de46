"""The institution lists' page: ``/dashboard/institutions?year=`` shows the public and
private lists of a statistics year, what changed from last year, and the drop lists per
reporting foretak, with every download (the API's JSON, CSV and Excel). Server-rendered, no
script needed. A registry that makes the year's lists impossible is shown as the error that
names the units, with its hint, and nothing else.

>>> # open http://localhost:8000/dashboard/institutions?year=2025 after 'helsestat demo'
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from helsestat.api.pages.render import TemplatesDep, render
from helsestat.api.routers.units_deps import SessionDep
from helsestat.errors import HelsestatError
from helsestat.reference.units import SECTOR_LABELS
from helsestat.statistics.institutions.files import YearBundle, year_bundle

router = APIRouter(include_in_schema=False)


def default_year() -> int:
    """This year: its lists are made from the registry as of 1 January."""
    return datetime.now(UTC).year


@router.get("/dashboard/institutions", name="dashboard_institutions", response_class=HTMLResponse)
def institutions_page(
    request: Request,
    session: SessionDep,
    templates: TemplatesDep,
    year: Annotated[int | None, Query(ge=2002, le=2100)] = None,
    foretak: Annotated[str | None, Query(pattern="^[0-9]{9}$")] = None,
) -> HTMLResponse:
    """The lists of ``year`` (default this year), the changes and the drop lists (one
    foretak's entries shown with ``foretak``)."""
    chosen = year or default_year()
    bundle: YearBundle | None = None
    error: HelsestatError | None = None
    try:
        bundle = year_bundle(session, chosen)
    except HelsestatError as exc:  # shown on the page: the units at fault and the hint
        error = exc
    drops = bundle.drops if bundle else None
    shown = foretak or (drops.foretak()[0][0] if drops and drops.foretak() else None)
    page = render(
        templates,
        request,
        "institutions.html",
        year=chosen,
        bundle=bundle,
        error=error,
        foretak=shown,
        entries=drops.of(shown) if drops and shown is not None else (),
        sectors=SECTOR_LABELS,
    )
    if error is not None:
        page.status_code = error.status
    return page


__all__ = ["default_year", "router"]
