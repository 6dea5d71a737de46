"""The health-enterprise lists of seed 000: KLASS 603 (helseregion → RHF → HF), 604 (RHF →
private institution with oppdrags- or bestillerdokument) and 605 (owner → regional and
jointly owned support companies), one version per period in which the list changed, from
2015.

603 and 605 come from ``data/refdata/no_spesialisthelse_foretak_2015_2025.csv``: the
organisation numbers are SSB's (S6), the validity years come from the sources named per row
(see PROVENANCE.md). Where a source gives no organisation number, the code is helsestat's
(``X0000000n``) and the code's note says so; the region and owner-group codes (``01``–``05``)
are helsestat's numbering. A unit founded during a year enters the version of the next
1 January, the first on which it exists for a statistics year.

604 has no public source: its structure (RHF → institution) is SSB's, its institutions'
names and numbers and the years they change are invented (SYNTHETIC).

>>> classes = {c.id: c for c in foretak_classifications()}
>>> [lv.name for lv in classes[603].versions[0].levels]
['Helseregion', 'Regionalt helseforetak', 'Helseforetak']
>>> [v.valid_from.year for v in classes[605].versions]
[2015, 2016, 2017, 2018, 2020, 2022]
"""

from __future__ import annotations

from datetime import date

from helsestat.reference.classifications import (
    Classification,
    Code,
    Level,
    Version,
    local_version_id,
)
from helsestat.reference.refdata import refdata_rows

FILE = "no_spesialisthelse_foretak_2015_2025.csv"
FIRST_YEAR = 2015
NAMES = {
    603: "Standard for offentlige helseforetak",
    604: "Standard for private helseinstitusjoner med oppdrags- og bestillerdokument",
    605: "Kodeliste for regionale og felleseide støtteforetak i spesialisthelsetjenesten",
}
_LEVELS = {
    603: ("Helseregion", "Regionalt helseforetak", "Helseforetak"),
    604: ("Regionalt helseforetak", "Privat institusjon"),
    605: ("Eier", "Støtteforetak"),
}
INVENTED = "INVENTED code (helsestat's): the organisation number was not found"


#: (code, name, level, parent, first year, year it ended or None, note)
Row = tuple[str, str, int, str | None, int, int | None, str]


def _versions(cid: int, rows: list[Row], label: str, intro: str) -> tuple[Version, ...]:
    """One version per period between the years in which a code starts or ends."""
    levels = tuple(Level(i, n) for i, n in enumerate(_LEVELS[cid], start=1))
    starts = sorted({r[4] for r in rows} | {r[5] for r in rows if r[5] is not None})
    versions = []
    for i, year in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else None
        codes = tuple(
            Code(code, name, level, parent, notes=note)
            for code, name, level, parent, first, last, note in rows
            if first <= year and (last is None or year < last)
        )
        span = f"{year}" if end == year + 1 else f"{year}-{end - 1}" if end else f"{year}-"
        versions.append(
            Version(
                local_version_id(cid, year),
                f"{NAMES[cid]} {span}{label}",
                date(year, 1, 1),
                date(end, 1, 1) if end else None,
                levels,
                codes,
                intro,
            )
        )
    return tuple(versions)


def _real_rows(cid: int) -> list[Row]:
    out = []
    for r in refdata_rows(FILE):
        if r["liste"] != str(cid):
            continue
        if r["kodekilde"] == "orgnr":
            note = ""
        elif r["nivaa"] == "1":
            note = "Code: helsestat's numbering"
        else:
            note = INVENTED
        out.append(
            (
                r["kode"],
                r["navn"],
                int(r["nivaa"]),
                r["overordnet"] or None,
                int(r["fra_aar"]),
                int(r["til_aar"]) if r["til_aar"] else None,
                note,
            )
        )
    return out


_REGIONS: tuple[tuple[str, str], ...] = (
    ("01", "Helse Sør-Øst"),
    ("02", "Helse Vest"),
    ("03", "Helse Midt-Norge"),
    ("04", "Helse Nord"),
)
#: 604's SYNTHETIC institutions: code, region, first year, year ended (None: still valid).
_PRIVATE: tuple[tuple[str, str, int, int | None], ...] = (
    ("901", "01", 2015, None),
    ("902", "01", 2015, None),
    ("903", "01", 2015, None),
    ("904", "01", 2015, 2020),
    ("905", "02", 2015, None),
    ("906", "02", 2015, None),
    ("907", "03", 2015, None),
    ("908", "04", 2015, None),
    ("910", "01", 2020, None),
    ("909", "02", 2024, None),
)


def _private_rows() -> list[Row]:
    rows: list[Row] = [(code, name, 1, None, FIRST_YEAR, None, "") for code, name in _REGIONS]
    for code, region, first, last in _PRIVATE:
        name = f"Privat institusjon {int(code) - 900} (syntetisk)"
        if code == "903":  # the same code, renamed in 2024: two rows, one per period
            rows.append((code, name, 2, region, first, 2024, "SYNTHETIC"))
            name, first = "Privat institusjon 3, avd. rus (syntetisk)", 2024
        rows.append((code, name, 2, region, first, last, "SYNTHETIC"))
    return rows


def _private_versions() -> tuple[Version, ...]:
    return _versions(
        604,
        _private_rows(),
        " (SYNTHETIC)",
        "SYNTHETIC: SSB's structure (RHF → institution) with invented institutions, codes and "
        "change years (no public copy of KLASS 604 was found).",
    )


def foretak_classifications() -> list[Classification]:
    """KLASS 603, 604 and 605 with their versions from 2015."""
    hf = Classification(
        603,
        NAMES[603],
        _versions(
            603,
            _real_rows(603),
            "",
            "Helseregion → RHF → HF with SSB's organisation numbers (S6). No HF merged, "
            "split or changed its legal name 2015-2025 in the sources searched (see "
            "data/refdata/PROVENANCE.md); the helseregion codes are helsestat's numbering.",
        ),
        description="Regionale helseforetak og helseforetak som driver pasientbehandling, "
        "etter helseregion, med organisasjonsnummer. Støtteforetakene er i KLASS 605.",
        owning_section="Reference data (real; see data/refdata/PROVENANCE.md)",
        statistical_units=("Foretak",),
        source="real: S6 organisation numbers and names; helseregion codes helsestat's",
    )
    support = Classification(
        605,
        NAMES[605],
        _versions(
            605,
            _real_rows(605),
            "",
            "Regional and jointly owned support companies by owner, with the years they "
            "existed on 1 January (sources per unit in data/refdata/PROVENANCE.md). Codes "
            "X0000000n are INVENTED where the organisation number was not found.",
        ),
        description="Regionale og felleseide støtteforetak i spesialisthelsetjenesten, etter "
        "eier. Koder X0000000n er oppfunnet der organisasjonsnummeret ikke ble funnet.",
        classification_type="Kodeliste",
        owning_section="Reference data (real; partly INVENTED codes)",
        statistical_units=("Foretak",),
        source="real: S6 organisation numbers, dated sources per unit; INVENTED codes "
        "X00000001-X00000008 (organisation number not found) and owner codes 01-05",
    )
    private = Classification(
        604,
        NAMES[604],
        _private_versions(),
        description="SYNTHETIC stand-in for KLASS 604: SSB's id, name and levels (RHF → "
        "institution); institutions, codes and change years invented.",
        owning_section="SYNTHETIC stand-in",
        statistical_units=("Institusjoner",),
        synthetic=True,
        source="SYNTHETIC: invented institutions under SSB's id, name and structure "
        "(helseregion codes and RHF names real)",
    )
    return [hf, private, support]


__all__ = ["FILE", "INVENTED", "NAMES", "foretak_classifications"]
