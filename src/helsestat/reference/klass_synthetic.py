"""SYNTHETIC stand-ins for the KLASS code lists of seed 000 that no public source gives as
data (610, 612, 628, 639, 602, 606, 608, 609) and for the targets of their correspondences
(6, 7, 207). The health-enterprise lists 603–605 are in
:mod:`helsestat.reference.klass_foretak`.

The ids and names are SSB's (seed 000, S7 in PROVENANCE.md); **the codes are invented**, and
so are the periods: every classification here has ``synthetic=True``, "SYNTHETIC" in its
version names, and two versions (2015–2023 and 2024–, with a renamed and an added code in
2024), so that every statistics year from 2015 has a version and the version, change and
correspondence logic has something to work on. The real lists changed in years helsestat
does not know.

>>> classes, tables = synthetic_classifications()
>>> all(c.synthetic for c in classes), sorted(c.id for c in classes)[:4]
(True, [6, 7, 207, 602])
"""

from __future__ import annotations

from datetime import date

from helsestat.reference.classifications import (
    Classification,
    Code,
    CorrespondenceTable,
    Level,
    MapItem,
    Version,
    local_version_id,
)

Row = tuple[str, str, int, str | None]  # code, name, level, parent
#: The first statistics year every list covers (issue 14).
FIRST_YEAR = 2015

#: id → (name, type, level names, codes from 2015, renamed in 2024, added in 2024)
SPECS: dict[int, tuple[str, str, tuple[str, ...], tuple[Row, ...], dict[str, str], tuple[Row, ...]]]
SPECS = {
    610: (
        "Kodeliste for tjenesteområder i spesialisthelsetjenesten",
        "Kodeliste",
        ("Sektor", "Tjenesteområde"),
        (
            ("1", "Somatikk", 1, None),
            ("11", "Somatikk, døgnopphold", 2, "1"),
            ("12", "Somatikk, dagbehandling og poliklinikk", 2, "1"),
            ("2", "Psykisk helsevern for voksne", 1, None),
            ("21", "Psykisk helsevern for voksne, døgn", 2, "2"),
            ("22", "Psykisk helsevern for voksne, poliklinikk", 2, "2"),
            ("3", "Psykisk helsevern for barn og unge", 1, None),
            ("31", "PHBU, døgn", 2, "3"),
            ("32", "PHBU, poliklinikk", 2, "3"),
            ("4", "Tverrfaglig spesialisert rusbehandling", 1, None),
            ("41", "TSB, døgn", 2, "4"),
            ("42", "TSB, poliklinikk", 2, "4"),
            ("5", "Rehabilitering og habilitering", 1, None),
            ("51", "Rehabilitering", 2, "5"),
            ("6", "Prehospitale tjenester", 1, None),
            ("61", "Ambulansetjeneste", 2, "6"),
        ),
        {"12": "Somatikk, dagbehandling og poliklinisk behandling"},
        (("62", "Akuttmedisinsk kommunikasjonssentral", 2, "6"),),
    ),
    612: (
        "Kodeliste for døgnplasser og sengedøgn",
        "Kodeliste",
        ("Måleenhet",),
        (
            ("D11", "Døgnplasser, somatikk", 1, None),
            ("D21", "Døgnplasser, psykisk helsevern voksne", 1, None),
            ("D31", "Døgnplasser, PHBU", 1, None),
            ("D41", "Døgnplasser, TSB", 1, None),
            ("S11", "Sengedøgn, somatikk", 1, None),
            ("S21", "Sengedøgn, psykisk helsevern voksne", 1, None),
        ),
        {},
        (("D51", "Døgnplasser, rehabilitering", 1, None),),
    ),
    628: (
        "Kodeliste for yrkesgrupper i spesialisthelsetjenesten",
        "Kodeliste",
        ("Yrkesgruppe",),
        (
            ("01", "Leger", 1, None),
            ("02", "Psykologer", 1, None),
            ("03", "Sykepleiere", 1, None),
            ("04", "Jordmødre", 1, None),
            ("05", "Helsefagarbeidere", 1, None),
            ("06", "Annet pasientrettet personell", 1, None),
            ("07", "Administrasjon og ledelse", 1, None),
            ("08", "Drifts- og teknisk personell", 1, None),
        ),
        {"05": "Helsefagarbeidere og hjelpepleiere"},
        (("09", "Ambulansepersonell", 1, None),),
    ),
    639: (
        "Kodeliste for utdanningsgrupper i spesialisthelsetjenesten",
        "Kodeliste",
        ("Utdanningsgruppe",),
        (
            ("U1", "Medisin", 1, None),
            ("U2", "Psykologi", 1, None),
            ("U3", "Sykepleie", 1, None),
            ("U4", "Annen helsefaglig høyere utdanning", 1, None),
            ("U5", "Helsefaglig videregående utdanning", 1, None),
            ("U9", "Annen eller ukjent utdanning", 1, None),
        ),
        {},
        (("U6", "Jordmorutdanning", 1, None),),
    ),
    602: (
        "Kodeliste for funksjonskontoinndeling til helseforetakenes regnskapsdata",
        "Kodeliste",
        ("Funksjon",),
        tuple(
            (c, n, 1, None)
            for c, n in (
                ("610", "Somatikk"),
                ("620", "Psykisk helsevern"),
                ("630", "TSB"),
                ("640", "Prehospitale tjenester"),
                ("650", "Pasienttransport"),
                ("690", "Administrasjon"),
            )
        ),
        {},
        (("660", "Forskning og utdanning", 1, None),),
    ),
    606: (
        "Kodeliste for artskontoinndeling til helseforetakenes regnskapsdata",
        "Kodeliste",
        ("Art",),
        tuple(
            (c, n, 1, None)
            for c, n in (
                ("30", "Salgsinntekter"),
                ("50", "Lønnskostnader"),
                ("46", "Varekostnader"),
                ("60", "Avskrivninger"),
                ("70", "Andre driftskostnader"),
            )
        ),
        {"70": "Annen driftskostnad"},
        (),
    ),
    608: (
        "Kodeliste for fødeavdelinger",
        "Kodeliste",
        ("Fødeinstitusjon",),
        tuple((f"F{n:02d}", f"Fødeavdeling {n} (syntetisk)", 1, None) for n in range(1, 11)),
        {},
        (),
    ),
    609: (
        "Kodeliste for fødestuer",
        "Kodeliste",
        ("Fødestue",),
        tuple((f"FS{n}", f"Fødestue {n} (syntetisk)", 1, None) for n in range(1, 6)),
        {},
        (),
    ),
    6: (
        "Standard for næringsgruppering (stand-in)",
        "Klassifikasjon",
        ("Næring",),
        (
            ("86.1", "Sykehustjenester", 1, None),
            ("86.2", "Lege- og tannlegetjenester", 1, None),
            ("86.9", "Andre helsetjenester", 1, None),
            ("87.2", "Institusjoner for rusmiddelomsorg", 1, None),
        ),
        {},
        (),
    ),
    7: (
        "Standard for yrkesklassifisering (stand-in)",
        "Klassifikasjon",
        ("Yrke",),
        (
            ("221", "Leger", 1, None),
            ("222", "Sykepleiere og jordmødre", 1, None),
            ("263", "Psykologer og samfunnsvitere", 1, None),
            ("532", "Pleiemedarbeidere", 1, None),
            ("325", "Andre helsearbeidere", 1, None),
            ("1", "Ledere", 1, None),
            ("4", "Kontoryrker", 1, None),
            ("7", "Håndverkere", 1, None),
        ),
        {},
        (),
    ),
    207: (
        "Utdanningsgrupper (stand-in for KLASS 207)",
        "Kodeliste",
        ("Utdanningsgruppe",),
        (
            ("7", "Høyere utdanning, lang", 1, None),
            ("6", "Høyere utdanning, kort", 1, None),
            ("4", "Videregående utdanning", 1, None),
            ("9", "Uoppgitt", 1, None),
        ),
        {},
        (),
    ),
}

#: KLASS id of the correspondence (seed 000) → (source, target, pairs). Pairs to a code that a
#: version lacks are left out of that version's table.
CORRESPONDENCES: dict[int, tuple[int, int, tuple[tuple[str, str], ...]]] = {
    898: (
        610,
        6,
        (
            ("1", "86.1"),
            ("11", "86.1"),
            ("12", "86.1"),
            ("2", "86.1"),
            ("21", "86.1"),
            ("22", "86.1"),
            ("3", "86.1"),
            ("31", "86.1"),
            ("32", "86.1"),
            ("4", "87.2"),
            ("41", "87.2"),
            ("42", "87.2"),
            ("5", "86.9"),
            ("51", "86.9"),
            ("6", "86.9"),
            ("61", "86.9"),
            ("62", "86.9"),
        ),
    ),
    893: (
        612,
        610,
        (
            ("D11", "11"),
            ("D21", "21"),
            ("D31", "31"),
            ("D41", "41"),
            ("S11", "11"),
            ("S21", "21"),
            ("D51", "51"),
        ),
    ),
    1007: (
        628,
        7,
        (
            ("01", "221"),
            ("02", "263"),
            ("03", "222"),
            ("04", "222"),
            ("05", "532"),
            ("06", "325"),
            ("07", "1"),
            ("08", "7"),
            ("09", "325"),
        ),
    ),
    1125: (
        639,
        207,
        (("U1", "7"), ("U2", "7"), ("U3", "6"), ("U4", "6"), ("U5", "4"), ("U6", "6"), ("U9", "9")),
    ),
}


def synthetic_classifications() -> tuple[list[Classification], list[CorrespondenceTable]]:
    """The SYNTHETIC classifications, their change tables 2015→2024 and the correspondences
    of seed 000 between them."""
    classes = []
    tables = []
    for cid, (name, kind, level_names, rows, renamed, added) in sorted(SPECS.items()):
        levels = tuple(Level(i, n) for i, n in enumerate(level_names, start=1))
        old = tuple(Code(c, n, lv, p) for c, n, lv, p in rows)
        new = tuple(
            Code(c.code, renamed.get(c.code, c.name), c.level, c.parent_code) for c in old
        ) + tuple(Code(c, n, lv, p) for c, n, lv, p in added)
        v20 = Version(
            local_version_id(cid, FIRST_YEAR),
            f"{name} {FIRST_YEAR}-2023 (SYNTHETIC)",
            date(FIRST_YEAR, 1, 1),
            date(2024, 1, 1),
            levels,
            old,
            "SYNTHETIC codes: invented stand-ins.",
        )
        v24 = Version(
            local_version_id(cid, 2024),
            f"{name} 2024 (SYNTHETIC)",
            date(2024, 1, 1),
            None,
            levels,
            new,
            "SYNTHETIC codes: invented stand-ins.",
        )
        classes.append(
            Classification(
                cid,
                name,
                (v20, v24),
                description=f"SYNTHETIC stand-in for KLASS {cid}: SSB's id and name, invented "
                "codes (no public copy of the code list was found).",
                classification_type=kind,
                owning_section="SYNTHETIC stand-in",
                statistical_units=(level_names[-1],),
                synthetic=True,
                source="SYNTHETIC: invented codes under SSB's id and name (seed 000)",
            )
        )
        tables.append(
            CorrespondenceTable(
                local_version_id(cid, 2024) + 1_000_000,
                f"Endringer {name} {FIRST_YEAR}-2024 (SYNTHETIC)",
                v20.id,
                v24.id,
                tuple(MapItem(c.code, c.code) for c in old),
            )
        )
    codes = {c.id: c for c in classes}
    for corr_id, (src, dst, pairs) in sorted(CORRESPONDENCES.items()):
        for year in (FIRST_YEAR, 2024):
            s_codes = {c.code for c in codes[src].versions[year == 2024].codes}
            t_codes = {c.code for c in codes[dst].versions[year == 2024].codes}
            maps = tuple(MapItem(s, t) for s, t in pairs if s in s_codes and t in t_codes)
            tables.append(
                CorrespondenceTable(
                    corr_id
                    if year == 2024
                    else local_version_id(src, FIRST_YEAR) + 4_000_000 + corr_id,
                    f"Korrespondansetabell mellom KLASS {src} og KLASS {dst} {year} (SYNTHETIC)",
                    local_version_id(src, year),
                    local_version_id(dst, year),
                    maps,
                    "SYNTHETIC pairs between invented codes.",
                )
            )
    return classes, tables


__all__ = ["CORRESPONDENCES", "FIRST_YEAR", "SPECS", "synthetic_classifications"]
