"""Helfo's open-data tariff endpoints (seed 004), with the same paths, parameters and fields:
``/v1/takstkoder``, ``/v1/nlkkoder``, ``/v1/refusjonskategorisatser``,
``/v1/apatkombinasjoner``, ``/v1/bandasjister``, ``/v1/fagomraader`` — and the old prefix
``/api/opne-data/v1/`` as an alias. JSON, or XML (``<List><item>…``) when ``Accept`` asks for
``application/xml``. ``/v1/praksistyper`` is a helsestat addition (the list of seed 004's
"Kodeverk").

The takster, NLK codes, satser, APAT combinations and bandasjister are SYNTHETIC; fagområder
and praksistyper are real.

>>> # curl -s 'localhost:8000/v1/takstkoder?gyldigdato=2018-08-09&takstkode=2ad'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from helsestat.api.problems import PROBLEM_RESPONSES
from helsestat.reference.serialize import MEDIA_TYPES, to_xml, wanted_format
from helsestat.reference.tariff_lists import load_tariff_lists

PREFIXES = ("/v1", "/api/opne-data/v1")

Gyldigdato = Annotated[str | None, Query(description="Only rows valid on this date (yyyy-MM-dd)")]
Samhandlertype = Annotated[
    str | None, Query(description="PO - Poliklinikk, LR - Privat lab/radiologi")
]
Fagomraade = Annotated[str | None, Query(description="AP, BE, FBV, FY, HS, JO, KI, LE, …")]


def _answer(request: Request, rows: list[dict[str, Any]]) -> Response:
    fmt, _ = wanted_format(request.headers.get("accept"), ("json", "xml"))
    if fmt == "xml":
        return Response(to_xml("List", rows, item="item"), media_type=MEDIA_TYPES["xml"])
    return JSONResponse(rows)


def takstkoder(
    request: Request,
    gyldigdato: Gyldigdato = None,
    fagomraade: Fagomraade = None,
    takstkode: Annotated[str | None, Query(description="Code; %25 is a wildcard")] = None,
    beskrivelse: Annotated[str | None, Query(description="Text; %25 is a wildcard")] = None,
    offisielle_ugyldige_takstkombinasjoner: Annotated[
        str | None, Query(description="ja/nei: only official invalid combinations")
    ] = None,
) -> Response:
    """Takstkoder with amounts, rules and validity (SYNTHETIC amounts)."""
    return _answer(
        request,
        load_tariff_lists().takstkoder(
            gyldigdato=gyldigdato,
            fagomraade=fagomraade,
            takstkode=takstkode,
            beskrivelse=beskrivelse,
            offisielle_ugyldige_takstkombinasjoner=offisielle_ugyldige_takstkombinasjoner,
        ),
    )


def nlkkoder(
    request: Request,
    gyldigdato: Gyldigdato = None,
    nlkkode: Annotated[str | None, Query(description="Code; %25 is a wildcard")] = None,
    samhandlertype: Samhandlertype = None,
) -> Response:
    """Laboratory codes (NLK) with their refusjonskategorisatser (SYNTHETIC)."""
    return _answer(
        request,
        load_tariff_lists().nlkkoder(
            gyldigdato=gyldigdato, nlkkode=nlkkode, samhandlertype=samhandlertype
        ),
    )


def refusjonskategorisatser(
    request: Request, gyldigdato: Gyldigdato = None, samhandlertype: Samhandlertype = None
) -> Response:
    """Refusjonskategorier for NLK, NCRP and patologi with their rates (SYNTHETIC)."""
    return _answer(
        request,
        load_tariff_lists().refusjonskategorisatser(
            gyldigdato=gyldigdato, samhandlertype=samhandlertype
        ),
    )


def apatkombinasjoner(
    request: Request, gyldigdato: Gyldigdato = None, samhandlertype: Samhandlertype = None
) -> Response:
    """APAT combinations (topografi × prosedyre) with their amount (SYNTHETIC)."""
    return _answer(
        request,
        load_tariff_lists().apatkombinasjoner(gyldigdato=gyldigdato, samhandlertype=samhandlertype),
    )


def bandasjister(request: Request) -> Response:
    """Bandasjister with direkte oppgjørsavtale (SYNTHETIC)."""
    return _answer(request, load_tariff_lists().bandasjister())


def fagomraader(request: Request) -> Response:
    """Helfo's fagområder (real)."""
    return _answer(request, load_tariff_lists().fagomraader())


def praksistyper(request: Request, fagomraade: Fagomraade = None) -> Response:
    """KUHR's praksistyper with their fagområde (real; a helsestat addition)."""
    return _answer(request, load_tariff_lists().praksistyper(fagomraade=fagomraade))


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
