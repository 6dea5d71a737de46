"""Helfo's open-data tariff endpoints (seed 004), with the same paths, parameters and fields:
``/v1/takstkoder``, ``/v1/nlkkoder``, ``/v1/refusjonskategorisatser``,
``/v1/apatkombinasjoner``, ``/v1/bandasjister``, ``/v1/fagomraader`` — and the old prefix
``/api/opne-data/v1/`` as an alias. JSON, or XML (``<List><item>…``) when ``Accept`` asks for
``application/xml``. ``/v1/praksistyper`` is a helsestat addition (the list of seed 004's
"Kodeverk").

The takster, NLK codes, satser, APAT combinations and bandasjister are SYNTHETIC; fagområder
and praksistyper are real. The lists are the reference database's (the current snapshot,
``ReferenceDep``); the wire parameters ``gyldigdato`` and
``offisielle_ugyldige_takstkombinasjoner`` are parsed here, the filters are
:mod:`helsestat.reference.tariff_queries`.

>>> parse_gyldigdato("2018-08-09")
datetime.date(2018, 8, 9)
>>> # curl -s 'localhost:8000/v1/takstkoder?gyldigdato=2018-08-09&takstkode=2ad'
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from helsestat.api.deps import ReferenceDep
from helsestat.api.problems import PROBLEM_RESPONSES
from helsestat.errors import QueryError
from helsestat.publish.documents import MEDIA_TYPES, document_format, render_document
from helsestat.reference import tariff_queries as queries

PREFIXES = ("/v1", "/api/opne-data/v1")

Gyldigdato = Annotated[str | None, Query(description="Only rows valid on this date (yyyy-MM-dd)")]
Samhandlertype = Annotated[
    str | None, Query(description="PO - Poliklinikk, LR - Privat lab/radiologi")
]
Fagomraade = Annotated[str | None, Query(description="AP, BE, FBV, FY, HS, JO, KI, LE, …")]


def parse_gyldigdato(raw: str | None) -> date | None:
    """The ``gyldigdato`` parameter (yyyy-MM-dd) as a date; empty: none."""
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise QueryError(
            "query.invalid_date",
            "parameter 'gyldigdato' is not a date",
            hint="write gyldigdato as yyyy-MM-dd, e.g. gyldigdato=2018-08-09",
        ) from None


def _official_only(raw: str | None) -> bool:
    answer = (raw or "nei").lower()
    if answer not in ("ja", "nei"):
        raise QueryError(
            "query.invalid_parameter",
            "parameter 'offisielle_ugyldige_takstkombinasjoner' must be ja or nei",
            hint="offisielle_ugyldige_takstkombinasjoner=ja filters the combinations",
        )
    return answer == "ja"


def _answer(request: Request, rows: list[dict[str, Any]]) -> Response:
    fmt, _ = document_format(request.headers.get("accept"), ("json", "xml"))
    return Response(render_document(rows, fmt, root="List"), media_type=MEDIA_TYPES[fmt])


def takstkoder(
    request: Request,
    reference: ReferenceDep,
    gyldigdato: Gyldigdato = None,
    fagomraade: Fagomraade = None,
    takstkode: Annotated[str | None, Query(description="Code; %25 is a wildcard")] = None,
    beskrivelse: Annotated[str | None, Query(description="Text; %25 is a wildcard")] = None,
    offisielle_ugyldige_takstkombinasjoner: Annotated[
        str | None, Query(description="ja/nei: only official invalid combinations")
    ] = None,
) -> Response:
    """Takstkoder with amounts, rules and validity (SYNTHETIC amounts)."""
    day = parse_gyldigdato(gyldigdato)
    official_only = _official_only(offisielle_ugyldige_takstkombinasjoner)
    return _answer(
        request,
        queries.takstkoder(
            reference.tariffs,
            day=day,
            fagomraade=fagomraade,
            takstkode=takstkode,
            beskrivelse=beskrivelse,
            official_only=official_only,
        ),
    )


def nlkkoder(
    request: Request,
    reference: ReferenceDep,
    gyldigdato: Gyldigdato = None,
    nlkkode: Annotated[str | None, Query(description="Code; %25 is a wildcard")] = None,
    samhandlertype: Samhandlertype = None,
) -> Response:
    """Laboratory codes (NLK) with their refusjonskategorisatser (SYNTHETIC)."""
    return _answer(
        request,
        queries.nlkkoder(
            reference.tariffs,
            day=parse_gyldigdato(gyldigdato),
            nlkkode=nlkkode,
            samhandlertype=samhandlertype,
        ),
    )


def refusjonskategorisatser(
    request: Request,
    reference: ReferenceDep,
    gyldigdato: Gyldigdato = None,
    samhandlertype: Samhandlertype = None,
) -> Response:
    """Refusjonskategorier for NLK, NCRP and patologi with their rates (SYNTHETIC)."""
    return _answer(
        request,
        queries.refusjonskategorisatser(
            reference.tariffs, day=parse_gyldigdato(gyldigdato), samhandlertype=samhandlertype
        ),
    )


def apatkombinasjoner(
    request: Request,
    reference: ReferenceDep,
    gyldigdato: Gyldigdato = None,
    samhandlertype: Samhandlertype = None,
) -> Response:
    """APAT combinations (topografi × prosedyre) with their amount (SYNTHETIC)."""
    return _answer(
        request,
        queries.apatkombinasjoner(
            reference.tariffs, day=parse_gyldigdato(gyldigdato), samhandlertype=samhandlertype
        ),
    )


def bandasjister(request: Request, reference: ReferenceDep) -> Response:
    """Bandasjister with direkte oppgjørsavtale (SYNTHETIC)."""
    return _answer(request, queries.bandasjister(reference.tariffs))


def fagomraader(request: Request, reference: ReferenceDep) -> Response:
    """Helfo's fagområder (real)."""
    return _answer(request, queries.fagomraader(reference.tariffs))


def praksistyper(
    request: Request, reference: ReferenceDep, fagomraade: Fagomraade = None
) -> Response:
    """KUHR's praksistyper with their fagområde (real; a helsestat addition)."""
    return _answer(request, queries.praksistyper(reference.tariffs, fagomraade=fagomraade))


ENDPOINTS: dict[str, Callable[..., Response]] = {
    "takstkoder": takstkoder,
    "nlkkoder": nlkkoder,
    "refusjonskategorisatser": refusjonskategorisatser,
    "apatkombinasjoner": apatkombinasjoner,
    "bandasjister": bandasjister,
    "fagomraader": fagomraader,
    "praksistyper": praksistyper,
}

router = APIRouter(tags=["helfo tariffs"], responses=PROBLEM_RESPONSES)
for _prefix in PREFIXES:
    for _name, _endpoint in ENDPOINTS.items():
        router.add_api_route(
            f"{_prefix}/{_name}",
            _endpoint,
            methods=["GET"],
            name=f"tariffs_{_name}" if _prefix == "/v1" else f"tariffs_{_name}_old",
            include_in_schema=_prefix == "/v1",
        )
