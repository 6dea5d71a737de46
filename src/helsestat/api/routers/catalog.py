"""``/api/catalog``: the data sources (seed 001) and every published table, as JSON and as
DCAT-AP-NO (Turtle, JSON-LD).

- ``GET /api/catalog`` — JSON; ``Accept: text/turtle`` or ``application/ld+json`` gives DCAT;
- ``GET /api/catalog/dcat.ttl``, ``GET /api/catalog/dcat.jsonld`` — DCAT-AP-NO downloads;
- ``GET /api/catalog/datasets/{identifier}`` — one data source or table (the DCAT IRIs).

>>> # curl -s -H 'Accept: text/turtle' localhost:8000/api/catalog
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from helsestat.api.problems import PROBLEM_RESPONSES
from helsestat.errors import NotFoundError
from helsestat.reference.catalog import Catalog
from helsestat.reference.dcat import to_jsonld, to_turtle
from helsestat.statistics.catalog import load_catalog

router = APIRouter(prefix="/api/catalog", tags=["catalogue"], responses=PROBLEM_RESPONSES)
TURTLE = "text/turtle"
JSONLD = "application/ld+json"


def _catalog(request: Request) -> Catalog:
    """The catalogue with the tables of the app's statistics."""
    return load_catalog(request.app.state.statistics)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _turtle(request: Request) -> Response:
    return Response(to_turtle(_catalog(request), _base(request)), media_type=TURTLE)


def _jsonld(request: Request) -> Response:
    body = json.dumps(to_jsonld(_catalog(request), _base(request)), ensure_ascii=False)
    return Response(body, media_type=JSONLD)


@router.get("", name="catalog")
def catalog(request: Request) -> Response:
    """The catalogue: JSON by default, DCAT-AP-NO for ``Accept: text/turtle`` or
    ``application/ld+json``."""
    accept = request.headers.get("accept", "")
    if TURTLE in accept:
        return _turtle(request)
    if JSONLD in accept:
        return _jsonld(request)
    return JSONResponse(_catalog(request).to_json())


@router.get("/dcat.ttl", name="catalog_turtle")
def catalog_turtle(request: Request) -> Response:
    """The catalogue as DCAT-AP-NO in Turtle."""
    return _turtle(request)


@router.get("/dcat.jsonld", name="catalog_jsonld")
def catalog_jsonld(request: Request) -> Response:
    """The catalogue as DCAT-AP-NO in JSON-LD."""
    return _jsonld(request)


@router.get("/datasets/{identifier:path}", name="catalog_dataset")
def dataset(identifier: str, request: Request) -> JSONResponse:
    """One data source (e.g. ``KUHR``) or published table (e.g. ``takstbruk/kommune/ar``)."""
    doc = _catalog(request).to_json()
    for entry in doc["data_sources"] + doc["tables"]:
        if entry["identifier"] == identifier:
            return JSONResponse(entry)
    raise NotFoundError(
        "catalog.not_found",
        f"no data source or table {identifier[:60]!r} in the catalogue",
        hint="GET /api/catalog lists the identifiers",
    )
