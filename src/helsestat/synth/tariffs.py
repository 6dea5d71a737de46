"""Synthetic takstkoder: real-looking codes, invented amounts (SYNTHETIC DATA).

Helfo's real tariff amounts are only served by its live API, which helsestat cannot reach,
so the tariff list shipped in ``data/tariffs/takstkoder.csv`` is generated here: real-looking
codes per fagområde, a validity period per tariff year (1 July – 30 June, as the normaltariff
changes), amounts that rise a little each year. ``python -m helsestat.synth.tariffs`` rewrites
the file; a test checks the committed file equals this generator's output.

>>> rows = generate_takstkoder()
>>> any(r["takstkode"] == "2ad" and r["fradato"] == "2018-07-01" for r in rows)
True
"""

from __future__ import annotations

import csv
import io
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


def generate_takstkoder() -> list[dict[str, str]]:
    """The synthetic tariff list: one row per takstkode and tariff year."""
    rows: list[dict[str, str]] = []
    takst_id = 1
    for kode, fag, beskrivelse, honorar0, copay_share in BASE_TAKSTER:
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
                }
            )
            takst_id += 1
    # The first period opens on 1 January 2014 so that claims from 2014 onward are covered.
    for row in rows:
        if row["fradato"] == f"{FIRST_TARIFF_YEAR}-07-01":
            row["fradato"] = f"{FIRST_TARIFF_YEAR}-01-01"
    return rows


def render_csv(rows: list[dict[str, str]]) -> str:
    """The rows as the CSV stored in the package data."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    sys.stdout.write(render_csv(generate_takstkoder()))
