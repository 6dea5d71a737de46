"""The SYNTHETIC programme catalogue of the 1177 Stöd och behandling generator
(:mod:`helsestat.synth.sob`): real-sounding support and treatment programmes (*processer*)
with their steps (*moment*), who they are for, when they were launched and how long a step
takes. The names are invented in the style of the programmes regions publish on 1177; none
is copied from a real programme.

>>> len(PROGRAMMES) >= 30, all(3 <= len(p.moments) <= 8 for p in PROGRAMMES)
(True, True)
>>> PROGRAMMES[0].name, PROGRAMMES[0].moments[0]
('Sömnbesvär – KBT', 'Introduktion')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

#: Whom a programme is for: adults, young people (13–17) or parents.
ADULTS, YOUNG, PARENTS = "vuxna", "unga", "föräldrar"


@dataclass(frozen=True)
class Programme:
    """A programme (process) and its steps (moment), in the order a vårdtagare does them.

    ``weight`` is its relative popularity, ``women`` the share of its vårdtagare who are
    women, ``step_days`` the median length of one step in days."""

    name: str
    moments: tuple[str, ...]
    weight: float
    audience: str = ADULTS
    launched: date = date(2015, 10, 1)
    women: float = 0.66
    step_days: float = 14.0


PROGRAMMES: Final = (
    Programme(
        "Sömnbesvär – KBT",
        (
            "Introduktion",
            "Sömndagbok",
            "Sömnrestriktion",
            "Stimuluskontroll",
            "Tankar om sömn",
            "Vidmakthållande",
        ),
        10,
        step_days=10,
    ),
    Programme(
        "Oro och ångest",
        (
            "Introduktion",
            "Vad är oro?",
            "Utmana orostankar",
            "Exponering",
            "Problemlösning",
            "Återfallsprevention",
        ),
        12,
    ),
    Programme(
        "Depression – KBT",
        (
            "Introduktion",
            "Beteendeaktivering",
            "Aktivitetsplanering",
            "Tankemönster",
            "Värderingar",
            "Återfallsprevention",
            "Avslutning",
        ),
        11,
    ),
    Programme(
        "Lindrig nedstämdhet – vägledd självhjälp",
        ("Introduktion", "Beteendeaktivering", "Sömn och återhämtning", "Avslutning"),
        5,
        launched=date(2017, 2, 1),
    ),
    Programme(
        "Stress och utmattning",
        (
            "Introduktion",
            "Stressreaktioner",
            "Återhämtning",
            "Prioritera",
            "Gränssättning",
            "Avslutning",
        ),
        8,
        women=0.74,
    ),
    Programme(
        "Långvarig smärta",
        (
            "Introduktion",
            "Smärtans mekanismer",
            "Acceptans",
            "Aktivitetsbalans",
            "Avslappning",
            "Värderad riktning",
            "Avslutning",
        ),
        5,
        step_days=18,
    ),
    Programme(
        "Alkohol – minska ditt drickande",
        (
            "Introduktion",
            "Dryckesdagbok",
            "Mål och motivation",
            "Risksituationer",
            "Vidmakthållande",
        ),
        4,
        women=0.42,
    ),
    Programme(
        "Tinnitus",
        ("Introduktion", "Ljudberikning", "Avslappning", "Uppmärksamhet", "Sömn", "Avslutning"),
        2,
        women=0.45,
        launched=date(2016, 4, 1),
    ),
    Programme(
        "Panikångest",
        (
            "Introduktion",
            "Kroppens reaktioner",
            "Interoceptiv exponering",
            "Exponering i vardagen",
            "Återfallsprevention",
        ),
        6,
    ),
    Programme(
        "Social ångest",
        (
            "Introduktion",
            "Självfokus",
            "Säkerhetsbeteenden",
            "Exponering",
            "Tankefällor",
            "Återfallsprevention",
        ),
        5,
        women=0.6,
    ),
    Programme(
        "IBS – långvariga magbesvär",
        (
            "Introduktion",
            "Symtomdagbok",
            "Exponering för symtom",
            "Undvikande",
            "Vidmakthållande",
        ),
        3,
        women=0.75,
        launched=date(2016, 9, 1),
    ),
    Programme(
        "Föräldrastöd – små barn",
        (
            "Introduktion",
            "Positiv uppmärksamhet",
            "Tydliga instruktioner",
            "Beröm och belöning",
            "Konflikter",
            "Avslutning",
        ),
        4,
        audience=PARENTS,
        women=0.8,
        step_days=10,
    ),
    Programme(
        "Föräldrastöd – tonåringar",
        ("Introduktion", "Kommunikation", "Gränser", "Konflikthantering"),
        2,
        audience=PARENTS,
        women=0.78,
        launched=date(2018, 1, 1),
    ),
    Programme(
        "Spelproblem",
        ("Introduktion", "Spelmönster", "Motivation", "Återfallsprevention"),
        1.5,
        women=0.3,
        launched=date(2018, 6, 1),
    ),
    Programme(
        "Rökavvänjning",
        ("Förberedelse", "Rökstopp", "Abstinens", "Vidmakthållande"),
        2,
        women=0.55,
        step_days=7,
    ),
    Programme(
        "Hetsätning",
        (
            "Introduktion",
            "Regelbundna måltider",
            "Triggers",
            "Tankar och känslor",
            "Återfallsprevention",
        ),
        1.5,
        women=0.88,
        launched=date(2019, 3, 1),
    ),
    Programme(
        "Tvångssyndrom",
        (
            "Introduktion",
            "Kartläggning",
            "Exponering med responsprevention",
            "Fortsatt exponering",
            "Återfallsprevention",
        ),
        1.5,
        step_days=18,
        launched=date(2017, 9, 1),
    ),
    Programme(
        "Posttraumatisk stress",
        (
            "Introduktion",
            "Psykoedukation",
            "Exponering i fantasin",
            "Exponering i vardagen",
            "Avslutning",
        ),
        1.5,
        women=0.72,
        step_days=18,
        launched=date(2019, 9, 1),
    ),
    Programme(
        "Hälsoångest",
        ("Introduktion", "Kartläggning", "Exponering", "Kontrollbeteenden", "Återfallsprevention"),
        2,
        launched=date(2017, 5, 1),
    ),
    Programme(
        "Oro och ångest – unga",
        ("Introduktion", "Känslor", "Utmana tankar", "Exponering"),
        3,
        audience=YOUNG,
        women=0.72,
        launched=date(2018, 8, 1),
    ),
    Programme(
        "Nedstämdhet – unga",
        ("Introduktion", "Aktivitet", "Tankar", "Avslutning"),
        2,
        audience=YOUNG,
        women=0.7,
        launched=date(2019, 1, 1),
    ),
    Programme(
        "Fysisk aktivitet på recept",
        ("Introduktion", "Aktivitetsdagbok", "Uppföljning"),
        2,
        women=0.6,
        step_days=21,
    ),
    Programme(
        "Levnadsvanor – vikt och hälsa",
        ("Introduktion", "Matvanor", "Fysisk aktivitet", "Vidmakthållande"),
        2,
        women=0.62,
        step_days=21,
        launched=date(2016, 1, 1),
    ),
    Programme(
        "Diabetes typ 2 – egenvård",
        ("Introduktion", "Blodsocker", "Kost", "Motion", "Uppföljning"),
        1.5,
        women=0.45,
        step_days=21,
        launched=date(2017, 1, 1),
    ),
    Programme(
        "Stöd vid postcovid",
        ("Introduktion", "Energibalans", "Andning", "Återgång i aktivitet"),
        2,
        women=0.7,
        launched=date(2021, 2, 1),
    ),
    Programme(
        "Inför operation – prehabilitering",
        ("Introduktion", "Träning", "Förberedelse"),
        1,
        women=0.5,
        step_days=10,
        launched=date(2020, 1, 1),
    ),
    Programme(
        "Migrän och huvudvärk",
        (
            "Introduktion",
            "Huvudvärksdagbok",
            "Triggers",
            "Avslappning",
            "Vidmakthållande",
        ),
        1.5,
        women=0.78,
        launched=date(2018, 3, 1),
    ),
    Programme(
        "Yrsel",
        ("Introduktion", "Balansträning", "Exponering", "Vidmakthållande"),
        1,
        women=0.62,
        launched=date(2019, 5, 1),
    ),
    Programme(
        "Sorg och förlust",
        ("Introduktion", "Sorgens uttryck", "Minnen", "Vägen framåt"),
        1,
        women=0.74,
        launched=date(2020, 9, 1),
    ),
    Programme(
        "Stöd till närstående vid självskada",
        ("Introduktion", "Förståelse", "Kommunikation", "Egen återhämtning"),
        0.8,
        audience=PARENTS,
        women=0.76,
        launched=date(2021, 5, 1),
    ),
    Programme(
        "Acceptans och medveten närvaro (ACT)",
        (
            "Introduktion",
            "Medveten närvaro",
            "Acceptans",
            "Värderingar",
            "Engagerat handlande",
            "Defusion",
            "Självmedkänsla",
            "Avslutning",
        ),
        3,
        launched=date(2016, 6, 1),
    ),
)

__all__ = ["ADULTS", "PARENTS", "PROGRAMMES", "YOUNG", "Programme"]
