"""``/api/v1/institutions`` and ``/api/v1/droplists``: the institution lists of a statistics
year, their changes from last year, and the drop lists — from the unit registry as of
1 January (:mod:`helsestat.statistics.institutions`), as JSON, CSV or Excel (``?format=``);
Excel and CSV come with SSB's dated file name.

A registry that makes the year's list impossible is a 422 problem naming the units
(``lists.incomplete_registry``); a year KLASS 6 does not cover is a 400.

>>> router.url_path_for("institution_lists", year="2025")
'/api/v1/institutions/2025'
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from helsestat.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_RESPONSES, Problem
from helsestat.api.routers.units_deps import SessionDep
from helsestat.errors import NotFoundError
from helsestat.publish.documents import render_document
from helsestat.statistics.institutions.changes import CHANGE_COLUMNS
from helsestat.statistics.institutions.drops import DROP_COLUMNS
from helsestat.statistics.institutions.files import (
    MEDIA_TYPES,
    dated_name,
    institution_rows,
    institutions_workbook,
    records,
    render_table,
    year_bundle,
)
from helsestat.statistics.institutions.lists import COLUMNS, institution_lists

router = APIRouter(
    prefix="/api/v1",
    tags=["institutions"],
    responses={
        **PROBLEM_RESPONSES,
        422: {
            "model": Problem,
            "description": "The unit registry makes the year's lists impossible (problem+json)",
            "content": {PROBLEM_MEDIA_TYPE: {}},
        },
    },
)

_YEAR = re.compile(r"[0-9]{4}", re.ASCII)
FIRST_YEAR, LAST_YEAR = 2002, 2100


def parse_year(raw: str) -> int:
    """A statistics year of the path (the health enterprise reform of 2002 onwards); any
    other text is a 404, as an unknown unit id is.

    >>> parse_year("2025")
    2025
    """
    year = int(raw) if _YEAR.fullmatch(raw) else 0
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NotFoundError(
            "lists.unknown_year",
            f"{raw[:20]!r} is not a statistics year of the lists",
            hint=f"a year from {FIRST_YEAR}, e.g. /api/v1/institutions/2025",
        )
    return year


Format = Annotated[Literal["json", "csv", "xlsx"], Query(description="json, csv or xlsx")]
_FILES: dict[int | str, dict[str, Any]] = {
    200: {"content": {media: {} for media in MEDIA_TYPES.values()}, "description": "The list"}
}


def _file(data: bytes, fmt: str, name: str | None) -> Response:
    """The answer, with SSB's dated file name for a download."""
    headers = (
        {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"}
        if name
        else {}
    )
    return Response(data, media_type=MEDIA_TYPES[fmt], headers=headers)


def _made() -> date:
    """The day a file is made (its name carries it)."""
    return datetime.now(UTC).date()


@router.get("/institutions/{year:path}/changes", name="institution_changes", responses=_FILES)
def changes(session: SessionDep, year: str, format: Format = "json") -> Response:
    """What changed from the lists of ``year - 1`` to those of ``year``: new, closed,
    renamed, moved to another HF, changed næringskode — each with both years' values."""
    stat_year = parse_year(year)
    bundle = year_bundle(session, stat_year)
    if bundle.changes is None:
        raise NotFoundError(
            "lists.no_previous_year",
            f"the lists for {stat_year - 1} cannot be made from the unit registry, so there are no "
            f"changes to {stat_year}",
            hint=f"GET /api/v1/institutions/{stat_year - 1} says why",
        )
    name = dated_name(stat_year, "Endringer institusjoner", format, _made())
    if format == "json":
        doc = {
            "stat_year": stat_year,
            "previous_year": stat_year - 1,
            "changes": records(bundle.changes),
        }
        return _file(render_document(doc, "json", root="changes"), "json", None)
    return _file(
        render_table(bundle.changes, CHANGE_COLUMNS, format, sheet="Endringer"), format, name
    )


_TITLES = {
    "all": "Institusjoner",
    "public": "Offentlige institusjoner",
    "private": "Private institusjoner",
}


@router.get("/institutions/{year:path}", name="institution_lists", responses=_FILES)
def lists(
    session: SessionDep,
    year: str,
    format: Format = "json",
    list_: Annotated[
        Literal["all", "public", "private"],
        Query(alias="list", description="For csv: all (public first), public or private"),
    ] = "all",
) -> Response:
    """The public and private institution lists of ``year``; JSON has both and the
    duplicate-name warnings, Excel one sheet each, CSV the chosen list."""
    stat_year = parse_year(year)
    found = institution_lists(session, stat_year)
    if format == "json":
        doc = {
            "stat_year": stat_year,
            "date": found.day.isoformat(),
            "warnings": list(found.warnings),
            "public": institution_rows(found.public),
            "private": institution_rows(found.private),
        }
        return _file(render_document(doc, "json", root="institutions"), "json", None)
    if format == "xlsx":
        name = dated_name(stat_year, "Institusjoner spesialisthelsetjenesten", "xlsx", _made())
        return _file(institutions_workbook(found), "xlsx", name)
    rows = {"all": found.rows, "public": found.public, "private": found.private}[list_]
    name = dated_name(stat_year, f"{_TITLES[list_]} spesialisthelsetjenesten", "csv", _made())
    return _file(render_table(rows, COLUMNS, "csv", sheet="institutions"), "csv", name)


@router.get("/droplists/{year:path}", name="drop_lists", responses=_FILES)
def droplists(
    session: SessionDep,
    year: str,
    format: Format = "json",
    foretak: Annotated[
        str | None,
        Query(pattern="^[0-9]{9}$", description="Only this reporting foretak (orgnr)"),
    ] = None,
) -> Response:
    """The drop lists of ``year``: per reporting foretak, the units its respondents choose
    from, each flagged against last year's list (``ny``, ``nytt navn``, ``flyttet``,
    ``fjernet``); one foretak with ``?foretak=``."""
    stat_year = parse_year(year)
    drops = year_bundle(session, stat_year).drops
    entries = drops.entries if foretak is None else drops.of(foretak)
    if foretak is not None and not entries:
        raise NotFoundError(
            "lists.foretak_not_found",
            f"foretak {foretak} reports no institution in {stat_year}",
            hint=f"GET /api/v1/droplists/{stat_year} lists every reporting foretak",
        )
    title = "Dropplister" if foretak is None else f"Droppliste {foretak}"
    if format == "json":
        doc = {
            "stat_year": stat_year,
            "warnings": list(drops.warnings),
            "foretak": [
                {"orgnr": o, "navn": n} for o, n in drops.foretak() if foretak in (None, o)
            ],
            "entries": records(entries),
        }
        return _file(render_document(doc, "json", root="droplists"), "json", None)
    name = dated_name(stat_year, title, format, _made())
    return _file(render_table(entries, DROP_COLUMNS, format, sheet="Dropplister"), format, name)


__all__ = ["router"]
