"""``/api/catalog``: the data sources (seed 001) and every published table, as JSON and as
DCAT-AP-NO (Turtle, JSON-LD).

- ``GET /api/catalog`` — JSON; ``Accept: text/turtle`` or ``application/ld+json`` gives DCAT;
- ``GET /api/catalog/dcat.ttl``, ``GET /api/catalog/dcat.jsonld`` — DCAT-AP-NO downloads;
- ``GET /api/catalog/datasets/{identifier}`` — one data source or table (the DCAT IRIs).

The data sources are the reference database's (the current snapshot, ``ReferenceDep``); the
tables come from the statistics' definitions.

>>> # curl -s -H 'Accept: text/turtle' localhost:8000/api/catalog
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from helsestat.api.deps import ReferenceDep
from helsestat.api.problems import PROBLEM_RESPONSES
from helsestat.errors import NotFoundError
from helsestat.reference.catalog import Catalog
from helsestat.reference.dcat import to_jsonld, to_turtle
from helsestat.reference.snapshot import Reference
from helsestat.statistics.catalog import catalog as full_catalog

router = APIRouter(prefix="/api/catalog", tags=["catalogue"], responses=PROBLEM_RESPONSES)
TURTLE = "text/turtle"
JSONLD = "application/ld+json"


def _catalog(request: Request, reference: Reference) -> Catalog:
    """The catalogue: the data sources of the reference snapshot, the tables of the app's
    statistics."""
    return full_catalog(reference, request.app.state.statistics)


class _TurtleResponse(Response):
    media_type = TURTLE  # what the OpenAPI document names


class _JsonLdResponse(Response):
    media_type = JSONLD


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _turtle(request: Request, reference: Reference) -> Response:
    return Response(to_turtle(_catalog(request, reference), _base(request)), media_type=TURTLE)


def _jsonld(request: Request, reference: Reference) -> Response:
    body = json.dumps(to_jsonld(_catalog(request, reference), _base(request)), ensure_ascii=False)
    return Response(body, media_type=JSONLD)


@router.get(
    "",
    name="catalog",
    responses={200: {"content": {"application/json": {}, TURTLE: {}, JSONLD: {}}}},
)
def catalog(request: Request, reference: ReferenceDep) -> Response:
    """The catalogue: JSON by default, DCAT-AP-NO for ``Accept: text/turtle`` or
    ``application/ld+json``."""
    accept = request.headers.get("accept", "")
    if TURTLE in accept:
        return _turtle(request, reference)
    if JSONLD in accept:
        return _jsonld(request, reference)
    return JSONResponse(_catalog(request, reference).to_json())


@router.get("/dcat.ttl", name="catalog_turtle", response_class=_TurtleResponse)
def catalog_turtle(request: Request, reference: ReferenceDep) -> Response:
    """The catalogue as DCAT-AP-NO in Turtle."""
    return _turtle(request, reference)


@router.get(
    "/dcat.jsonld",
    name="catalog_jsonld",
    response_class=_JsonLdResponse,
    responses={200: {"content": {JSONLD: {"schema": {"type": "object"}}}}},
)
def catalog_jsonld(request: Request, reference: ReferenceDep) -> Response:
    """The catalogue as DCAT-AP-NO in JSON-LD."""
    return _jsonld(request, reference)


@router.get("/datasets/{identifier:path}", name="catalog_dataset")
def dataset(identifier: str, request: Request, reference: ReferenceDep) -> JSONResponse:
    """One data source (e.g. ``KUHR``) or published table (e.g. ``takstbruk/kommune/ar``)."""
    doc = _catalog(request, reference).to_json()
    for entry in doc["data_sources"] + doc["tables"]:
        if entry["identifier"] == identifier:
            return JSONResponse(entry)
    raise NotFoundError(
        "catalog.not_found",
        f"no data source or table {identifier[:60]!r} in the catalogue",
        hint="GET /api/catalog lists the identifiers",
    )
