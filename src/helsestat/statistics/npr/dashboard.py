"""The dashboard of the activity statistic, in Norwegian: rates per catchment area on the
tile-grid map of the catchment areas (:mod:`helsestat.statistics.catchment.tilemap`, each
area coloured by its rate), the flow between HF areas as a heatmap matrix, and time series
per sector, and the behandlingssteder by name (the name the unit registry gave each at the
end of the year). One year and one sector are chosen for the map, the matrix and the
behandlingssteder; the series show every year.

>>> [page.name for page in DASHBOARD.pages]
['kart', 'flyt', 'tid', 'steder']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from helsestat.statistics.npr.names import SEKTORER
from helsestat.statistics.serving import Choice, Dashboard, Page, Panel

LABELS: Final[Mapping[str, str]] = {
    "show": "Vis",
    "all": "Alle",
    "total": "Hele landet",
    "query": "Utvalg",
    "download": "Last ned",
    "table": "Vis tabell",
    "no_rows": "Ingen data for utvalget.",
    "suppressed.primary": "skjult verdi (færre enn 5 pasienter)",
    "suppressed.secondary": "skjult verdi (ville avslørt en annen)",
    "status.primary": "skjult (færre enn 5 pasienter)",
    "status.secondary": "skjult (sekundært)",
    "ar": "År",
    "maned": "Måned",
    "sektor": "Sektor",
    "tjeneste": "Befolkning fra",
    "bo_omrade": "Opptaksområde",
    "omrade_navn": "Navn",
    "bo_hf_orgnr": "Eget HF-område",
    "bo_hf_navn": "Pasientens HF-område",
    "hf_orgnr": "Behandlende HF",
    "hf_navn": "Behandlende HF",
    "rhf_navn": "RHF",
    "behandlingssted_id": "RESH-id",
    "behandlingssted_navn": "Behandlingssted",
    "utenfor_eget_hf": "Utenfor eget HF",
    "episoder": "Episoder",
    "opphold": "Døgnopphold",
    "liggedogn": "Liggedøgn",
    "dagbehandlinger": "Dagbehandlinger",
    "polikliniske_kontakter": "Polikliniske kontakter",
    "pasienter": "Pasienter",
    "befolkning": "Innbyggere",
    "pasienter_per_1000": "Pasienter per 1 000 innbyggere",
    "opphold_per_1000": "Døgnopphold per 1 000",
    "polikliniske_kontakter_per_1000": "Polikliniske kontakter per 1 000",
    "andel_episoder": "Andel av områdets episoder",
    **{f"sektor={code}": name for code, name in SEKTORER.items()},
}
#: The map and the matrix show one year and one sector.
ONE: Final = ("ar", "sektor")

KART: Final = Page(
    "kart",
    "Rater per opptaksområde",
    (
        Panel(
            "npr/rater/omrade",
            "Pasienter per 1 000 innbyggere i opptaksområdet",
            "tiles",
            x="x",
            label="omrade_navn",
            measures=("pasienter_per_1000",),
            skip={"bo_omrade": ("ukjent",)},
            columns=(
                "bo_omrade",
                "omrade_navn",
                "tjeneste",
                "pasienter",
                "befolkning",
                "pasienter_per_1000",
                "opphold_per_1000",
                "polikliniske_kontakter_per_1000",
            ),
            text="Hver rute er et opptaksområde, plassert i sitt HFs blokk omtrent der det "
            "ligger i landet og farget etter antall pasienter per 1 000 innbyggere (mørkere er "
            "flere); en grå ramme er en skjult verdi. Somatikk og rehabilitering deles på "
            "befolkningen i somatikkens områder, psykisk helsevern for voksne på VOP-områdenes "
            "innbyggere 18 år og over, for barn og unge på BUP-områdenes 0-17 år, TSB på "
            "TSB-områdenes. Kameraknappen lagrer kartet som SVG.",
            wide=True,
            filters=ONE,
        ),
    ),
)

FLYT: Final = Page(
    "flyt",
    "Pasientstrømmer",
    (
        Panel(
            "npr/flyt/matrise",
            "Andel av episodene til pasientene i et HF-område, etter behandlende HF",
            "heatmap",
            x="hf_orgnr",
            label="hf_navn",
            series="bo_hf_orgnr",
            series_label="bo_hf_navn",
            measures=("andel_episoder",),
            percent=("andel_episoder",),
            skip={"bo_hf_orgnr": ("ukjent",)},
            columns=(
                "bo_hf_navn",
                "hf_navn",
                "utenfor_eget_hf",
                "pasienter",
                "episoder",
                "andel_episoder",
            ),
            text="Rad: HF-området pasienten bor i; kolonne: HF-et som behandlet. Diagonalen er "
            "pasienter behandlet i eget område; resten av raden er andelen behandlet utenfor. "
            "Tomme ruter er ingen eller skjulte verdier.",
            wide=True,
            filters=ONE,
        ),
    ),
)

TID: Final = Page(
    "tid",
    "Utvikling per sektor",
    (
        Panel(
            "npr/landet/ar",
            "Døgnopphold per sektor og år",
            "line",
            x="ar",
            series="sektor",
            measures=("opphold",),
            filters=(),
        ),
        Panel(
            "npr/landet/ar",
            "Polikliniske kontakter per sektor og år",
            "line",
            x="ar",
            series="sektor",
            measures=("polikliniske_kontakter",),
            filters=(),
        ),
        Panel(
            "npr/landet/maned",
            "Pasienter per sektor og måned i valgt år",
            "line",
            x="maned",
            series="sektor",
            measures=("pasienter",),
            filters=("ar",),
            wide=True,
        ),
    ),
)

STEDER: Final = Page(
    "steder",
    "Behandlingssteder",
    (
        Panel(
            "npr/behandlingssted/ar",
            "Pasienter per behandlingssted",
            "hbar",
            x="behandlingssted_id",
            label="behandlingssted_navn",
            measures=("pasienter",),
            columns=(
                "hf_navn",
                "behandlingssted_id",
                "behandlingssted_navn",
                "opphold",
                "liggedogn",
                "dagbehandlinger",
                "polikliniske_kontakter",
                "pasienter",
            ),
            text="Hvert behandlingssted med navnet enhetsregisteret ga det ved årets slutt "
            "(eller da det ble lagt ned), og RESH-id-en det rapporterer under. Et sted som "
            "byttet HF i løpet av året har én rad per HF.",
            wide=True,
            filters=ONE,
        ),
    ),
)

DASHBOARD: Final = Dashboard(
    title="Aktivitet i spesialisthelsetjenesten",
    link="Explore specialist-care activity (NPR)",
    intro="Døgnopphold, liggedøgn, dagbehandlinger, polikliniske kontakter og pasienter i "
    "spesialisthelsetjenesten (NPR-tall: alle episoder). Velg år og sektor; hver tabell kan "
    "lastes ned i seks formater. Celler med 1-4 pasienter er skjult.",
    choices=(Choice("ar", "År", {}, ""), Choice("sektor", "Sektor", SEKTORER, "somatikk")),
    labels=LABELS,
    lang="nb",
    pages=(KART, FLYT, TID, STEDER),
)

__all__ = ["DASHBOARD", "FLYT", "KART", "LABELS", "STEDER", "TID"]
