"""The dashboard of the catchment areas, in Norwegian: the map of each service's areas per
year (SVG, areas coloured by HF, population on hover; see :mod:`.tilemap`) and the
population table with the drill-down RHF → HF → opptaksområde → kommune.

>>> [page.name for page in DASHBOARD.pages]
['kart', 'omrader']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from helsestat.statistics.serving import Dashboard, Drill, Page, Panel

LABELS: Final[Mapping[str, str]] = {
    "fom": "Fra",
    "tom": "Til",
    "show": "Vis",
    "all": "Alle",
    "total": "Hele landet",
    "query": "Utvalg",
    "download": "Last ned",
    "table": "Vis tabell",
    "no_rows": "Ingen data for utvalget.",
    "crumbs": "Nivåer",
    "period": "Data fra {first} til og med {last}; tabellene viser folketallet 1. januar.",
    "tjeneste": "Tjeneste",
    "niva": "Nivå",
    "rhf": "RHF",
    "hf": "HF",
    "omrade": "Opptaksområde",
    "kommune": "Kommune",
    "navn": "Navn",
    "personer": "Personer",
    "hf_navn": "Helseforetak",
    "x": "Kolonne",
    "y": "Rad",
}

KART: Final = Page(
    "kart",
    "Kart",
    (
        Panel(
            "opptak/kart",
            "Opptaksområdene, farget etter helseforetak",
            "tiles",
            x="x",
            series="hf",
            label="navn",
            measures=("personer",),
            text="Hver rute er et opptaksområde (for PHV et helseforetak), farget etter HF og "
            "plassert i HF-ets blokk omtrent der det ligger i landet; hold musepekeren over en "
            "rute for folketallet 1. januar i det siste året i perioden. Kartet er et "
            "rutenett fordi ingen pakke i registrene har kommunegrenser; kameraknappen over "
            "kartet lagrer det som SVG. SYNTETISK befolkning under kommunenivå.",
            wide=True,
        ),
    ),
)

OMRADER: Final = Page(
    "omrader",
    "Opptaksområder",
    (
        Panel(
            "opptak/omrader",
            "Befolkning per RHF, HF, opptaksområde og kommune",
            "drill",
            measures=("personer",),
            drill=Drill(
                "niva",
                ("rhf", "hf", "omrade", "kommune"),
                {"rhf": "navn", "hf": "navn", "omrade": "navn", "kommune": "navn"},
            ),
            text="Klikk på en rad for å gå ned i hierarkiet RHF → HF → opptaksområde → "
            "kommune (bydel i byer som er delt mellom områder). Folketallet 1. januar i det "
            "siste året i perioden. SYNTETISK befolkning per grunnkrets som summerer seg til "
            "de virkelige kommunetallene.",
            wide=True,
        ),
    ),
)

DASHBOARD: Final = Dashboard(
    title="Opptaksområder i spesialisthelsetjenesten",
    link="Explore the catchment areas (opptaksområder)",
    intro="Befolkningen i opptaksområdene for somatikk, psykisk helsevern (BUP 0-17 og VOP "
    "18+), rusbehandling (TSB, områder avledet fra VOP) og DPS, per år, kjønn og ettårig "
    "alder. Velg tjeneste og år; hver tabell kan lastes ned i seks formater.",
    labels=LABELS,
    lang="nb",
    pages=(KART, OMRADER),
)

__all__ = ["DASHBOARD", "KART", "LABELS", "OMRADER"]
