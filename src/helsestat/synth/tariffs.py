"""Synthetic takstkoder: real-looking codes, invented amounts (SYNTHETIC DATA).

Helfo's real tariff amounts are only served by its live API, which helsestat cannot reach,
so the tariff list shipped in ``data/tariffs/takstkoder.csv`` is generated here: real-looking
codes per fagområde, a validity period per tariff year (1 July – 30 June, as the normaltariff
changes), amounts that rise a little each year, and the rule fields of seed 004 (repetitions,
invalid combinations written as 'Alle unntatt …' lists, required takster …).
``python -m helsestat.synth.tariffs`` rewrites the files (with the other lists of
:mod:`helsestat.synth.tariff_lists`); a test checks the committed files equal this output.

>>> rows = generate_takstkoder()
>>> any(r["takstkode"] == "2ad" and r["fradato"] == "2018-07-01" for r in rows)
True
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date

FIRST_TARIFF_YEAR = 2014
LAST_TARIFF_YEAR = 2026  # the last period is open-ended

#: (takstkode, fagomraade, beskrivelse, honorar 2014 in kroner, patient copay share)
BASE_TAKSTER: tuple[tuple[str, str, str, float, float], ...] = (
    ("1ad", "LE", "Enkel pasientkontakt, ikke-oppmøte", 68.0, 0.0),
    ("1bd", "LE", "Kontakt med pasient ved e-post/SMS", 62.0, 0.0),
    ("1be", "LE", "E-konsultasjon", 170.0, 0.45),
    ("1g", "LE", "Tverrfaglig samarbeid, legemøte", 290.0, 0.0),
    ("2ad", "LE", "Konsultasjon hos allmennlege", 155.0, 0.5),
    ("2ak", "LE", "Konsultasjon hos spesialist i allmennmedisin", 210.0, 0.45),
    ("2cd", "LE", "Sykebesøk", 335.0, 0.3),
    ("2dd", "LE", "Tillegg for tidsbruk utover 20 minutter", 150.0, 0.35),
    ("2fk", "LE", "Tillegg for konsultasjon av spesialist", 180.0, 0.3),
    ("11ad", "LE", "Konsultasjon ved legevakt", 205.0, 0.5),
    ("11ak", "LE", "Konsultasjon ved legevakt, spesialist", 270.0, 0.45),
    ("701a", "LE", "Tillegg for laboratorieundersøkelse", 53.0, 0.0),
    ("H1", "LE", "Honorartillegg for kronisk sykdom", 35.0, 0.0),
    ("H11", "LE", "Honorartillegg, tverrfaglig oppfølging", 42.0, 0.0),
    ("A1a", "FY", "Behandling hos fysioterapeut", 170.0, 0.4),
    ("A2a", "FY", "Individuell behandling, tillegg", 105.0, 0.4),
    ("A3a", "FY", "Gruppebehandling", 75.0, 0.4),
    ("A2e", "FY", "Manuellterapi, tillegg", 130.0, 0.4),
    ("301a", "PS", "Psykologisk behandling, første time", 520.0, 0.3),
    ("302a", "PS", "Psykologisk behandling, påfølgende time", 480.0, 0.3),
    ("K1", "KI", "Kiropraktorbehandling", 140.0, 0.6),
    ("101", "TH", "Undersøkelse hos tannlege", 330.0, 0.25),
    ("201", "TH", "Tannbehandling, enkel fylling", 410.0, 0.25),
    ("J1", "JO", "Svangerskapskontroll hos jordmor", 160.0, 0.0),
    ("L1", "LOGO", "Logopedbehandling", 380.0, 0.0),
)


def generate_takstkoder(codes: int = len(BASE_TAKSTER)) -> list[dict[str, str]]:
    """The synthetic tariff list: one row per takstkode and tariff year. With more ``codes``
    than :data:`BASE_TAKSTER` holds (the real normaltariff has about 800), invented codes
    ``X1``, ``X2`` … follow, the fagområder in the base list's proportions, amounts and
    rules of the base takst they are copied from (benchmarks: as many takstkoder as the
    real list).

    >>> len({r["takstkode"] for r in generate_takstkoder(800)})
    800
    """
    rows: list[dict[str, str]] = []
    takst_id = 1
    extra = [
        (f"X{i + 1}", base[1], f"Syntetisk takst {i + 1}", base[3] * (1 + i % 7 / 10), base[4])
        for i in range(max(codes - len(BASE_TAKSTER), 0))
        for base in (BASE_TAKSTER[i % len(BASE_TAKSTER)],)
    ]
    for kode, fag, beskrivelse, honorar0, copay_share in (*BASE_TAKSTER, *extra):
        for year in range(FIRST_TARIFF_YEAR, LAST_TARIFF_YEAR + 1):
            growth = 1.03 ** (year - FIRST_TARIFF_YEAR)
            honorar = round(honorar0 * growth)
            egenandel = round(honorar * copay_share)
            fra = date(year, 7, 1)
            til = "" if year == LAST_TARIFF_YEAR else date(year + 1, 6, 30).isoformat()
            rows.append(
                {
                    "takst_id": str(takst_id),
                    "takstkode": kode,
                    "fagomraade": fag,
                    "fradato": fra.isoformat(),
                    "tildato": til,
                    "honorar": f"{honorar:.2f}",
                    "refusjon": f"{honorar - egenandel:.2f}",
                    "egenandel": f"{egenandel:.2f}",
                    "beskrivelse": beskrivelse,
                    **_rules(kode, egenandel, takst_id),
                }
            )
            takst_id += 1
    # The first period opens on 1 January 2014 so that claims from 2014 onward are covered.
    for row in rows:
        if row["fradato"] == f"{FIRST_TARIFF_YEAR}-07-01":
            row["fradato"] = f"{FIRST_TARIFF_YEAR}-01-01"
    return rows


#: Rules per takstkode (SYNTHETIC, shaped like the normaltariff's): (maks_repetisjoner,
#: redusert_ref_fra_repetisjon, spesialisttakst, ugyldig_kombinasjon, krever_takst,
#: krever_diagnose, maks_antall_per_aar, minimum_tidsbruk, tidsbruk_per_rep). Codes in an
#: ugyldig_kombinasjon list that are not in the published list (Z…) are Helfo-internal: the
#: API's offisielle_ugyldige_takstkombinasjoner=ja filters them out.
RULES: dict[str, tuple[int, int, str, str, str, str, int | None, int | None, int | None]] = {
    "1ad": (1, 0, "N", "Alle unntatt 1bd, Z90", "", "N", None, None, None),
    "1bd": (1, 0, "N", "Alle unntatt 1ad", "", "N", None, None, None),
    "1be": (1, 0, "N", "2ad, 2ak, 2cd, 11ad, 11ak", "", "J", None, None, None),
    "1g": (1, 0, "N", "", "", "N", 12, 15, None),
    "2ad": (1, 0, "N", "Alle unntatt 2dd, 701a, H1, H11, Z91, Z92", "", "N", None, None, None),
    "2ak": (1, 0, "J", "Alle unntatt 2dd, 701a, H1, H11, Z91", "", "N", None, None, None),
    "2cd": (1, 0, "N", "2ad, 2ak, 11ad, 11ak", "", "N", None, None, None),
    "2dd": (3, 2, "N", "1ad, 1bd", "2ad, 2ak, 2cd", "N", None, 20, 15),
    "2fk": (1, 0, "J", "2ad", "2ak", "N", None, None, None),
    "11ad": (1, 0, "N", "Alle unntatt 2dd, 701a, Z93", "", "N", None, None, None),
    "11ak": (1, 0, "J", "Alle unntatt 2dd, 701a, Z93", "", "N", None, None, None),
    "701a": (4, 3, "N", "", "", "N", None, None, None),
    "H1": (1, 0, "N", "H11", "2ad, 2ak", "J", 4, None, None),
    "H11": (1, 0, "N", "H1", "2ad, 2ak", "J", 4, None, None),
    "A1a": (1, 0, "N", "Alle unntatt A2a, A2e, Z94", "", "J", 40, 30, None),
    "A2a": (2, 2, "N", "A3a", "A1a", "N", None, 15, 15),
    "A3a": (1, 0, "N", "A1a, A2a", "", "N", None, 45, None),
    "A2e": (1, 0, "J", "A3a", "A1a", "N", None, 20, None),
    "301a": (1, 0, "J", "Alle unntatt Z95", "", "J", 1, 45, None),
    "302a": (1, 0, "J", "301a", "", "J", None, 45, None),
    "K1": (1, 0, "N", "", "", "N", 14, None, None),
    "101": (1, 0, "N", "", "", "N", 1, None, None),
    "201": (4, 2, "N", "", "101", "N", None, None, None),
    "J1": (1, 0, "N", "", "", "N", 12, None, None),
    "L1": (1, 0, "N", "", "", "J", 60, 45, None),
}


_NO_RULES: tuple[int, int, str, str, str, str, int | None, int | None, int | None] = (
    1,
    0,
    "N",
    "",
    "",
    "N",
    None,
    None,
    None,
)


def _rules(kode: str, egenandel: int, takst_id: int) -> dict[str, str]:
    """The seed-004 fields of a takst beyond the amounts (SYNTHETIC)."""
    rule = RULES.get(kode, _NO_RULES)  # an invented code (X…) has no combination rules
    maks, redusert_fra, spes, ugyldig, krever, diagnose, per_aar, minutter, per_rep = rule

    def text(value: int | None) -> str:
        return "" if value is None else str(value)

    return {
        "pasient_egenbetaling": f"{egenandel:.2f}",
        "maks_repetisjoner": str(maks),
        "repetisjonsprosent": "100",
        "redusert_ref_fra_repetisjon": str(redusert_fra) if redusert_fra else "",
        "redusert_repetisjonsprosent": "50" if redusert_fra else "",
        "spesialisttakst": spes,
        "ugyldig_kombinasjon": ugyldig,
        "krever_takst": krever,
        "krever_prosedyre": "",
        "krever_diagnose": diagnose,
        "maks_antall_per_aar": text(per_aar),
        "maks_antall_per_kalender_aar": "",
        "maks_antall_gjelder_pasient": "J" if per_aar else "",
        "minimum_tidsbruk": text(minutter),
        "resource_id": f"NT-{takst_id:05d}",
        "tidsbruk_per_rep": text(per_rep),
    }


def render_csv(rows: list[dict[str, str]]) -> str:
    """The rows as the CSV stored in the package data."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# -- NLK codes, refusjonskategorier, APAT combinations, bandasjister (all SYNTHETIC) --------

SAMHANDLERTYPER = ("PO", "LR")
#: refusjonskategori → (sats 2014 for PO in kroner, factor for LR)
KATEGORIER: dict[str, tuple[float, float]] = {
    "A1": (22.0, 0.9),
    "A2": (45.0, 0.9),
    "A3": (80.0, 0.9),
    "A4": (150.0, 0.9),
    "B1": (60.0, 1.0),
    "B2": (120.0, 1.0),
    "C1": (240.0, 1.0),
    "M1": (95.0, 1.1),
    "M2": (190.0, 1.1),
    "N1": (310.0, 1.0),
    "P1": (180.0, 1.0),
    "P2": (420.0, 1.0),
    "P3": (860.0, 1.0),
    "P4": (1500.0, 1.0),
}
FIRST_SATS_YEAR, LAST_SATS_YEAR = 2014, 2026


def _year_span(year: int, first: int, last: int) -> tuple[str, str | None]:
    start = f"{year}-01-01"
    return start, None if year == last else f"{year}-12-31"


def generate_satser() -> list[dict[str, object]]:
    """Refusjonskategorisatser per samhandlertype and calendar year (SYNTHETIC)."""
    rows: list[dict[str, object]] = []
    rid = 1
    for samhandler in SAMHANDLERTYPER:
        for kategori, (base, lr_factor) in KATEGORIER.items():
            for year in range(FIRST_SATS_YEAR, LAST_SATS_YEAR + 1):
                sats = base * (lr_factor if samhandler == "LR" else 1.0)
                sats *= 1.025 ** (year - FIRST_SATS_YEAR)
                fra, til = _year_span(year, FIRST_SATS_YEAR, LAST_SATS_YEAR)
                rows.append(
                    {
                        "refusjonskategoriid": rid,
                        "refusjonskategori": kategori,
                        "refusjonssats": f"{sats:.2f}",
                        "fradato": fra,
                        "tildato": til,
                        "samhandlertype": samhandler,
                    }
                )
                rid += 1
    return rows


#: (nlkKode, bruksnavn, system, komponent, enhet, egenskapsart, fagområde, kategori,
#: fradato, tildato, erstattesAv, stjernekode)
NLK_CODES: tuple[tuple[str, str, str, str, str, str, str, str, str, str, str, str], ...] = (
    (
        "NPU02319",
        "B-Hemoglobin",
        "B",
        "Hemoglobin",
        "g/L",
        "Massekonsentrasjon",
        "MBK",
        "A1",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NPU01961",
        "B-Leukocytter",
        "B",
        "Leukocytter",
        "x10^9/L",
        "Antallskonsentrasjon",
        "MBK",
        "A1",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NPU03429",
        "P-Natrium",
        "P",
        "Natrium(I)",
        "mmol/L",
        "Stoffkonsentrasjon",
        "MBK",
        "A1",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NPU03230",
        "P-Kalium",
        "P",
        "Kalium(I)",
        "mmol/L",
        "Stoffkonsentrasjon",
        "MBK",
        "A1",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NPU18016",
        "P-Kreatinin",
        "P",
        "Kreatinin",
        "µmol/L",
        "Stoffkonsentrasjon",
        "MBK",
        "A2",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NPU27300",
        "B-HbA1c",
        "B",
        "Hemoglobin A1c",
        "mmol/mol",
        "Stoffinnhold",
        "MBK",
        "A3",
        "2014-01-01",
        "2019-12-31",
        "NOR05593",
        "",
    ),
    (
        "NOR05593",
        "B-HbA1c (IFCC)",
        "B",
        "Hemoglobin A1c",
        "mmol/mol",
        "Stoffinnhold",
        "MBK",
        "A3",
        "2020-01-01",
        "",
        "",
        "*",
    ),
    (
        "NPU19748",
        "P-CRP",
        "P",
        "C-reaktivt protein",
        "mg/L",
        "Massekonsentrasjon",
        "MBK",
        "A2",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NPU03577",
        "P-TSH",
        "P",
        "Tyreotropin",
        "mIE/L",
        "Arb. stoffkonsentrasjon",
        "MBK",
        "A3",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NPU01370",
        "P-Ferritin",
        "P",
        "Ferritin",
        "µg/L",
        "Massekonsentrasjon",
        "MBK",
        "A3",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NOR35342",
        "P-Troponin T (hs)",
        "P",
        "Troponin T",
        "ng/L",
        "Massekonsentrasjon",
        "MBK",
        "B1",
        "2022-01-01",
        "",
        "",
        "",
    ),
    (
        "NOR35341",
        "P-Troponin T",
        "P",
        "Troponin T",
        "ng/L",
        "Massekonsentrasjon",
        "MBK",
        "B1",
        "2014-01-01",
        "2021-12-31",
        "NOR35342",
        "",
    ),
    (
        "NPU04998",
        "U-Albumin/Kreatinin-ratio",
        "U",
        "Albumin/Kreatinin",
        "mg/mmol",
        "Masseratio",
        "MBK",
        "A2",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NOR09612",
        "Pt-Blodkultur, aerob",
        "Pt",
        "Bakterier, aerobe",
        "",
        "Påvisning",
        "MIK",
        "M1",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NOR09725",
        "Ua-Urindyrking",
        "Ua",
        "Bakterier",
        "",
        "Påvisning",
        "MIK",
        "M1",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NOR17843",
        "Sek-SARS-CoV-2 RNA",
        "Sek",
        "SARS-CoV-2 RNA",
        "",
        "Påvisning",
        "MIK",
        "M2",
        "2020-03-01",
        "2023-06-30",
        "",
        "*",
    ),
    (
        "NPU26820",
        "P-Immunglobulin E",
        "P",
        "Immunglobulin E",
        "kIE/L",
        "Arb. stoffkonsentrasjon",
        "IMM",
        "B2",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NOR14230",
        "S-Antistoff mot TPO",
        "S",
        "Tyreoperoksidase-antistoff",
        "kIE/L",
        "Arb. stoffkonsentrasjon",
        "IMM",
        "B2",
        "2014-01-01",
        "",
        "",
        "",
    ),
    (
        "NOR40120",
        "Ct-Cellegift-konsentrasjon (NCRP)",
        "Ct",
        "Legemiddel",
        "µmol/L",
        "Stoffkonsentrasjon",
        "NCRP",
        "N1",
        "2018-01-01",
        "",
        "",
        "",
    ),
    (
        "NOR50311",
        "Vev-Histologisk undersøkelse",
        "Vev",
        "Vevsprøve",
        "",
        "Undersøkelse",
        "PAT",
        "P2",
        "2014-01-01",
        "",
        "",
        "",
    ),
)
FAGOMRAADER_NLK = {
    "MBK": "Medisinsk biokjemi",
    "MIK": "Medisinsk mikrobiologi",
    "IMM": "Immunologi og transfusjonsmedisin",
    "NCRP": "Klinisk farmakologi",
    "PAT": "Patologi",
}


def generate_nlk() -> list[dict[str, object]]:
    """NLK codes with their refusjonskategorisatser embedded (SYNTHETIC codes and rates;
    the code format, NPU/NOR and five digits, is the real one)."""
    satser = generate_satser()
    out: list[dict[str, object]] = []
    for i, row in enumerate(NLK_CODES, start=1):
        kode, navn, system, komponent, enhet, art, fag, kat, fra, til, erstatt, stjerne = row
        embedded = [
            {**s, "refusjonssats": float(str(s["refusjonssats"]))}
            for s in satser
            if s["refusjonskategori"] == kat
            and str(s["fradato"]) <= (til or "9999-12-31")
            and (s["tildato"] is None or str(s["tildato"]) >= fra)
        ]
        out.append(
            {
                "nlkKodeid": i,
                "nlkKode": kode,
                "norsk_bruksnavn": navn,
                "komponent": komponent,
                "system": system,
                "enhet": enhet,
                "egenskapsart": art,
                "spesifisertKomponent": "",
                "npuDefinisjon": f"{system}—{komponent}; {art.lower()}"
                + (f" ({enhet})" if enhet else ""),
                "npuSpesialitet": FAGOMRAADER_NLK[fag],
                "fagomraadeSekundaert": "",
                "fagomraadeNlk": fag,
                "fradato": fra,
                "tildato": til or None,
                "refusjonskategori": kat,
                "erstattesAv": erstatt,
                "hvaEndret": "Ny kode" if fra > "2014-01-01" else "",
                "sistEndretDato": max(fra, til or fra),
                "stjernekode": stjerne,
                "ugyldigKombinasjon": "Alle unntatt NPU03230" if kode == "NPU03429" else "",
                "systemSpesifikasjon": "",
                "egenskapsartSpesifikasjon": "",
                "gruppering": FAGOMRAADER_NLK[fag],
                "refusjonskategorisats": embedded,
            }
        )
    return out


#: APAT (patologi) combinations: topografi (T) and prosedyre (P) codes → kategori
APAT: tuple[tuple[str, str, str], ...] = (
    ("T83000", "P30600", "P2"),
    ("T83000", "P30620", "P3"),
    ("T04000", "P30600", "P2"),
    ("T04000", "P30640", "P4"),
    ("T67000", "P30600", "P2"),
    ("T01000", "P30610", "P1"),
    ("T56000", "P30620", "P3"),
    ("T28000", "P30640", "P4"),
    ("TY0000", "P30600", "P1"),
    ("T77100", "P30620", "P3"),
)


def generate_apat() -> list[dict[str, object]]:
    """APAT combinations per samhandlertype, with the amount of their kategori per year."""
    satser = {
        (s["refusjonskategori"], s["samhandlertype"], s["fradato"]): s for s in generate_satser()
    }
    rows: list[dict[str, object]] = []
    for samhandler in SAMHANDLERTYPER:
        for t_kode, p_kode, kat in APAT:
            for year in range(2016, LAST_SATS_YEAR + 1):
                fra, til = _year_span(year, 2016, LAST_SATS_YEAR)
                rows.append(
                    {
                        "t_kode": t_kode,
                        "p_kode": p_kode,
                        "refusjonskategori": kat,
                        "belop": satser[(kat, samhandler, fra)]["refusjonssats"],
                        "samhandler_type": samhandler,
                        "fradato": fra,
                        "tildato": til,
                    }
                )
    return rows


def _orgnr(seed: int) -> str:
    """A nine-digit number with a valid mod-11 check digit (SYNTHETIC, not looked up)."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    n = 910_000_00 + seed * 7919
    while True:
        digits = [int(d) for d in f"{n:08d}"]
        check = 11 - sum(w * d for w, d in zip(weights, digits, strict=True)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return f"{n:08d}{check}"
        n += 1


def generate_bandasjister() -> list[dict[str, object]]:
    """Bandasjister with direkte oppgjør (SYNTHETIC names and organisation numbers)."""
    places = (
        "Tromsø",
        "Bodø",
        "Trondheim",
        "Bergen",
        "Stavanger",
        "Kristiansand",
        "Oslo",
        "Hamar",
        "Lillestrøm",
        "Ålesund",
    )
    rows: list[dict[str, object]] = []
    for i, place in enumerate(places, start=1):
        main = _orgnr(i)
        sub = _orgnr(100 + i) if i % 3 else ""
        rows.append(
            {
                "sar_id": 700_000 + i * 37,
                "sar_navn": f"Bandasjist {place} AS (syntetisk)",
                "sar_orgnr": sub or main,
                "hovedenhet_orgnr": main,
                "underenhet_orgnr": sub,
                "gyldig_fra": f"{2010 + i}-01-01",
                "gyldig_til": "2024-12-31" if i == 7 else None,
                "status": "slettet" if i == 7 else "",
                "tidspunkt_registrert": f"{2010 + i}-01-01T08:00:00",
                "tidspunkt_oppdatert": f"2025-0{1 + i % 9}-15T12:30:00",
            }
        )
    return rows


def render_rows(rows: list[dict[str, object]]) -> str:
    """Rows of any of the other lists as CSV (None is empty)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    return out.getvalue()


def tariff_files() -> dict[str, str]:
    """File name → text of every synthetic tariff file in ``data/tariffs``."""
    return {
        "takstkoder.csv": render_csv(generate_takstkoder()),
        "refusjonskategorisatser.csv": render_rows(generate_satser()),
        "apatkombinasjoner.csv": render_rows(generate_apat()),
        "bandasjister.csv": render_rows(generate_bandasjister()),
        "nlkkoder.json": json.dumps(generate_nlk(), ensure_ascii=False, indent=1) + "\n",
    }


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    from pathlib import Path

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "data/tariffs"
    for name, text in tariff_files().items():
        (target / name).write_text(text, encoding="utf-8")
