"""The dashboard of 1177 Stöd och behandling, in Swedish as Inera's (seed 003): two pages of
panels, "Översikt" and "Invånare", over one month range and the filters län, vårdgivare,
vårdenhet, process and moment — the values the lists offer come from the release's range
cube (:func:`filter_options`).

>>> [page.title for page in DASHBOARD.pages]
['Översikt', 'Invånare']
>>> [panel.table for panel in DASHBOARD.pages[1].panels]
['sob/vardtagare_kon', 'sob/vardtagare_kon_alder', 'sob/vardtagare_kon_manad']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from helsestat.errors import QueryError
from helsestat.statistics.serving import Dashboard, Drill, Page, Panel
from helsestat.statistics.sob.answers import TOTAL, SobData
from helsestat.statistics.sob.measures import KON, PERSON_THRESHOLD, UNKNOWN_AGE

_AFTER_Z: Final = str.maketrans("åäö", "{|}")


def _swedish(text: str) -> str:
    """A sort key in Swedish alphabetical order (å, ä, ö after z).

    >>> sorted(["Örebro", "Åre", "Ängelholm", "Zinkgruvan"], key=_swedish)
    ['Zinkgruvan', 'Åre', 'Ängelholm', 'Örebro']
    """
    return text.casefold().translate(_AFTER_Z)


def filter_options(
    data: Any, name: str, filters: Mapping[str, str]
) -> list[tuple[str, str]] | None:
    """The values filter ``name`` takes with data under ``filters`` (those below ``name`` in
    its own hierarchy left out, so a coarser choice can change), with their names: län by
    code, the rest in Swedish alphabetical order. A moment is picked within a process
    (moments share names across processes): without a process there is none to offer
    (None).

    >>> empty = SobData(None, (), {}, {}, 0, 0)  # type: ignore[arg-type]
    >>> filter_options(empty, "moment", {}) is None
    True
    """
    assert isinstance(data, SobData)
    if name == "moment" and "process" not in filters:
        return None
    cube = data.cube
    at = next(i for i, path in enumerate(cube.spec.paths) if name in path)
    path = cube.spec.paths[at]
    below = path[path.index(name) :]
    try:
        node = cube.node({k: v for k, v in filters.items() if k not in below})
    except QueryError:  # an ambiguous choice above: nothing to offer below it
        return []
    if node is None:
        return []
    nodes = [node]
    depth = sum(cube.values(node)[level] is not None for level in path)
    for _ in range(path.index(name) + 1 - depth):
        nodes = [child for n in nodes for child in cube.children(n, at)]
    values = {str(v) for n in nodes if (v := cube.values(n)[name]) is not None}
    named = [(v, data.names.get(v, v)) for v in values]
    if name == "lan":
        return sorted(named)
    return sorted(named, key=lambda pair: (_swedish(pair[1]), pair[0]))


_PERSONS_RULE: Final = (
    f"Antal personer visas bara när de är fler än {PERSON_THRESHOLD}; ett dolt värde är "
    "markerat med · och förklaras när du håller muspekaren över det."
)
_COUNTED: Final = "Räknas på ärenden av typ Process som fått status Inprogress respektive Done."

OVERSIKT: Final = Page(
    "oversikt",
    "Översikt",
    (
        Panel(
            "sob/lan",
            "Startade och avslutade moment samt behandlare per län",
            "bar",
            x="lan",
            label="lan_namn",
            measures=("startade", "avslutade", "behandlare"),
            columns=("lan_namn", "startade", "avslutade", "behandlare", "startade_per_100000"),
            text="Län enligt vårdgivarens nuvarande geografiska län i HSA-katalogen. Behandlare "
            "är unika id:n på vårdpersonal som står som behandlare på ärendena. " + _COUNTED,
            wide=True,
        ),
        Panel(
            "sob/veckodag",
            "Startade och avslutade moment per veckodag",
            "bar",
            x="veckodag",
            measures=("startade", "avslutade"),
            text="Fördelat på veckodagen för transaktionen i SOB. " + _COUNTED,
        ),
        Panel(
            "sob/avslutningsorsak",
            "Avslutade moment per avslutningsorsak",
            "hbar",
            x="avslutningsorsak",
            measures=("avslutade",),
            text="Avslutningsorsak registreras från mars 2022; tidigare avslut visas som Okänd.",
        ),
        Panel(
            "sob/pagaende",
            "Pågående moment över tid",
            "line",
            x="manad",
            measures=("pagaende",),
            text="Ärenden som startats men inte avslutats den sista dagen i månaden, oavsett "
            "paus. Ett ärende kan vara startat före vald period och ändå pågå under den.",
            wide=True,
        ),
        Panel(
            "sob/process",
            "Startade och avslutade moment per process",
            "table",
            columns=("process", "startade", "avslutade", "andel_avslutade"),
            percent=("andel_avslutade",),
            text="Andel avslutade är antal avslutade moment delat med antal startade moment.",
            wide=True,
        ),
        Panel(
            "sob/region",
            "Startade, pågående och avslutade moment per region, vårdgivare, vårdenhet och moment",
            "drill",
            measures=("startade", "pagaende", "avslutade", "invanare", "behandlare"),
            drill=Drill(
                "niva",
                ("lan", "vardgivare", "vardenhet", "moment"),
                {
                    "lan": "lan_namn",
                    "vardgivare": "vardgivare_namn",
                    "vardenhet": "vardenhet_namn",
                    "moment": "moment",
                },
            ),
            text="Klicka på en rad för att gå ner i hierarkin län → vårdgivare → vårdenhet → "
            "moment; hela sidan visar då det urvalet. Pågående gäller sista dagen i perioden. "
            "Invånare är unika vårdtagare som startat moment. " + _PERSONS_RULE,
            wide=True,
        ),
    ),
)

INVANARE: Final = Page(
    "invanare",
    "Invånare",
    (
        Panel(
            "sob/vardtagare_kon",
            "Vårdtagare per kön",
            "bar",
            x="kon",
            measures=("vardtagare",),
            skip={"kon": (TOTAL,)},
            text="Unika vårdtagare under vald period, per kön som det är angivet i SOB. "
            + _PERSONS_RULE,
        ),
        Panel(
            "sob/vardtagare_kon_alder",
            "Vårdtagare per kön och ålder",
            "pyramid",
            x="aldersgrupp",
            series="kon",
            sides=(KON["K"], KON["M"]),
            measures=("vardtagare",),
            skip={"aldersgrupp": (TOTAL,)},
            text="Unika vårdtagare per kön och åldersgrupp som de är angivna i SOB: kvinnor "
            "till vänster, män till höger.",
        ),
        Panel(
            "sob/vardtagare_kon_manad",
            "Vårdtagare per kön och månad",
            "line",
            x="manad",
            series="kon",
            measures=("vardtagare",),
            text="Unika vårdtagare med något ärende av typ Process under månaden, per kön. "
            + _PERSONS_RULE,
            wide=True,
        ),
    ),
)

#: Swedish words of the pages: fields, columns, values and the page's phrases.
LABELS: Final[Mapping[str, str]] = {
    "fom": "Från",
    "tom": "Till",
    "show": "Visa",
    "all": "Alla",
    "total": "Riket",
    "query": "Urval",
    "download": "Ladda ner",
    "table": "Visa tabell",
    "no_rows": "Inga data för urvalet.",
    "no_script": "Diagrammet behöver JavaScript; tabellen har alla värden.",
    "crumbs": "Nivåer",
    "period": "Data visas från {first} till och med {last}.",
    "moment.none": "Välj en process först",
    "suppressed.primary": "dolt värde (färre än 11 personer)",
    "suppressed.secondary": "dolt värde (skulle avslöja ett annat dolt värde)",
    "status.primary": "primärt skydd",
    "status.secondary": "sekundärt skydd",
    "error.query.period_reversed": "Från-månaden ligger efter till-månaden. Byt plats på dem.",
    "error.query.period_out_of_range": "Välj månader inom den period som har data.",
    "error.query.malformed_period": "Ange månaderna som ÅÅÅÅ-MM, till exempel 2024-01.",
    "lan": "Län",
    "lan_namn": "Län",
    "vardgivare": "Vårdgivare",
    "vardgivare_namn": "Vårdgivare",
    "vardenhet": "Vårdenhet",
    "vardenhet_namn": "Vårdenhet",
    "process": "Process",
    "moment": "Moment",
    "niva": "Nivå",
    "totalt": "Riket",
    "veckodag": "Veckodag",
    "manad": "Månad",
    "kon": "Kön",
    "aldersgrupp": "Åldersgrupp",
    "avslutningsorsak": "Avslutningsorsak",
    "startade": "Startade",
    "avslutade": "Avslutade",
    "pagaende": "Pågående",
    "behandlare": "Behandlare",
    "invanare": "Invånare",
    "vardtagare": "Vårdtagare",
    "andel_avslutade": "Andel avslutade",
    "startade_per_100000": "Startade per 100 000 invånare",
    f"kon={KON['K']}": "Kvinnor",
    f"kon={KON['M']}": "Män",
    f"kon={KON['']}": "Okänt kön",
    f"kon={TOTAL}": "Totalt",
    f"aldersgrupp={UNKNOWN_AGE}": "Okänd ålder",
    f"aldersgrupp={TOTAL}": "Totalt",
}

DASHBOARD: Final = Dashboard(
    title="Statistik för Stöd och behandling",
    link="Explore 1177 Stöd och behandling",
    intro="Stöd- och behandlingsprogram via nätet i 1177 Stöd och behandling: startade, "
    "pågående och avslutade moment per län, vårdgivare, vårdenhet, process och moment, och "
    "vårdtagarna bakom dem. Välj period och urval; varje tabell kan laddas ner i sex format.",
    labels=LABELS,
    lang="sv",
    pages=(OVERSIKT, INVANARE),
)

__all__ = ["DASHBOARD", "INVANARE", "LABELS", "OVERSIKT", "filter_options"]
