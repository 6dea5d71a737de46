"""The catchment-area lists (opptaksområder) KLASS 629 (somatikk), 630 (psykisk helsevern),
631 (rusbehandling) and 632 (DPS), and the bydeler of KLASS 103 they name: one version per
kommune structure from 2015, each in the kommune codes of its years.

Levels: RHF → HF → opptaksområde → kommune, bydel or grunnkrets (level 4, each code under
the area it belongs to). The correspondences to KLASS 131 (area → kommune) and 103 (area →
bydel) of a version are given where the registry holds a 131 version of the same structure.

Sources and what is derived (also written into each version's introduction, the
classification's ``source`` and its API note):

* The areas and their kommuner/bydeler are SKDE's (S5 in ``data/refdata/PROVENANCE.md``):
  somatikk in the 2020–2023 kommune codes, BUP (psykisk helsevern for barn og unge, 0–17),
  VOP (voksenpsykiatri, 18+) and DPS in the 2024 codes. SKDE gives the areas as they are
  today; helsestat carries them to the other structures through the kommune changes
  (csdata's recoding, S1). So the versions before 2020 (and the 2024 version of 629) are
  *derived*: they change where kommuner changed, not where the health trusts moved an area.
* A kommune of an earlier structure whose parts lie in different areas (Tysfjord 2019,
  split between Narvik and Hamarøy in 2020) is listed by grunnkrets: the units of the
  SYNTHETIC grunnkrets register (:mod:`helsestat.reference.grunnkrets`).
* HF and RHF of each area: organisation numbers from SSB's list (S6); the area → HF
  assignment of 629/630 is helsestat's reading of SKDE's area names (``_HF``); Diakonhjemmet
  and Lovisenberg are private hospitals with an area of their own (codes ``P01``/``P02``
  invented). The HF of a DPS area is derived: the HF of the VOP area its units lie in.
* 630 holds both BUP and VOP areas (codes ``B..`` and ``V..``; level-4 codes end in ``-BUP``
  or ``-VOP`` since a kommune lies in one of each).
* 631 (rusbehandling): no public source holds TSB areas. It is *derived*: the VOP areas of
  630, as TSB is run by the same HF for the same adult population.
* Area codes (``01``…, numbering SKDE's names alphabetically) are helsestat's.

>>> reg = catchment_registry()
>>> [len(c.versions) for c in reg[0]]
[6, 6, 6, 6, 3]
>>> v = reg[0][0].versions[-1]
>>> [lv.name for lv in v.levels]
['Regionalt helseforetak', 'Helseforetak', 'Opptaksområde', 'Kommune, bydel eller grunnkrets']
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache

from helsestat.errors import ReferenceError_
from helsestat.reference.classifications import (
    Classification,
    Code,
    CorrespondenceTable,
    Level,
    MapItem,
    Version,
    local_version_id,
)
from helsestat.reference.grunnkrets import (
    CITIES,
    STRUCTURES,
    GrunnkretsRegister,
    grunnkrets_register,
    kommune_names,
    recoding,
)
from helsestat.reference.refdata import refdata_rows

#: KLASS's ids of the correspondences to 131 and 103 (seed 000 / S7), per classification.
CORR_IDS: Mapping[int, tuple[int, int]] = {
    629: (1026, 2519),
    630: (1046, 2520),
    631: (1048, 2521),
    632: (1098, 2522),
}
NAMES: Mapping[int, str] = {
    629: "Kodeliste for opptaksområder i spesialisthelsetjenesten (somatikk)",
    630: "Kodeliste for opptaksområder i spesialisthelsetjenesten (psykisk helsevern)",
    631: "Kodeliste for opptaksområder i spesialisthelsetjenesten (rusbehandling)",
    632: "Kodeliste for opptaksområder i spesialisthelsetjenesten (DPS)",
}
LEVELS = (
    Level(1, "Regionalt helseforetak"),
    Level(2, "Helseforetak"),
    Level(3, "Opptaksområde"),
    Level(4, "Kommune, bydel eller grunnkrets"),
)


@dataclass(frozen=True)
class Source:
    """SKDE's table of one service: file, the kommune structure of its codes, the prefix of
    its area codes and the suffix of its level-4 codes (630 holds two tables)."""

    service: str
    file: str
    structure: int
    prefix: str = ""
    suffix: str = ""


SOURCES: Mapping[str, Source] = {
    "som": Source("som", "no_opptaksomrader_skde_somatikk_koder2020.csv", 2020),
    "bup": Source("bup", "no_opptaksomrader_skde_bup_koder2024.csv", 2024, "B", "-BUP"),
    "vop": Source("vop", "no_opptaksomrader_skde_voksenpsykiatri_koder2024.csv", 2024, "V", "-VOP"),
    "dps": Source("dps", "no_dps_omrader_skde_koder2024.csv", 2024),
    "tsb": Source("tsb", "no_opptaksomrader_skde_voksenpsykiatri_koder2024.csv", 2024),
}
#: The services of each list.
LISTS: Mapping[int, tuple[str, ...]] = {
    629: ("som",),
    630: ("bup", "vop"),
    631: ("tsb",),
    632: ("dps",),
}

RHF: Mapping[str, str] = {
    "991324968": "Helse Sør-Øst RHF",
    "983658725": "Helse Vest RHF",
    "983658776": "Helse Midt-Norge RHF",
    "883658752": "Helse Nord RHF",
}
#: SKDE's area name (lower case, without '*') → (HF code, RHF orgnr). HF codes are SSB's
#: organisation numbers (S6) except the two private hospitals (invented codes).
_HF: Mapping[str, tuple[str, str]] = {
    "finnmark": ("983974880", "883658752"),
    "unn": ("983974899", "883658752"),
    "nordland": ("983974910", "883658752"),
    "helgeland": ("983974929", "883658752"),
    "nord-trøndelag": ("983974791", "983658776"),
    "st. olav": ("883974832", "983658776"),
    "st. olavs": ("883974832", "983658776"),
    "møre og romsdal": ("997005562", "983658776"),
    "førde": ("983974732", "983658725"),
    "bergen": ("983974724", "983658725"),
    "fonna": ("983974694", "983658725"),
    "stavanger": ("983974678", "983658725"),
    "østfold": ("983971768", "991324968"),
    "ahus": ("983971636", "991324968"),
    "akershus": ("983971636", "991324968"),
    "ous": ("993467049", "991324968"),
    "innlandet": ("983971709", "991324968"),
    "vestre viken": ("894166762", "991324968"),
    "vestfold": ("983975259", "991324968"),
    "telemark": ("983975267", "991324968"),
    "sørlandet": ("983975240", "991324968"),
    "diakonhjemmet": ("P01", "991324968"),
    "lovisenberg": ("P02", "991324968"),
}
PRIVATE: Mapping[str, str] = {
    "P01": "Diakonhjemmet Sykehus (privat, ideelt)",
    "P02": "Lovisenberg Diakonale Sykehus (privat, ideelt)",
}


@cache
def hf_names() -> dict[str, str]:
    """HF code → name (SSB's 2020 list, S6, and the two private hospitals)."""
    out = dict(PRIVATE)
    for r in refdata_rows("no_helseforetak_orgnr_ssb_kostra2020.csv"):
        out[r["orgnr"]] = r["navn_kilde"]
    return out


@dataclass(frozen=True)
class Area:
    """One catchment area: code, name, HF code, RHF code and a note (SKDE-adjusted …)."""

    code: str
    name: str
    hf: str
    rhf: str
    note: str = ""


@dataclass(frozen=True)
class AreaTable:
    """One service's areas in one kommune structure: which area each kommune, bydel and
    grunnkrets lies in (``kommuner`` only for kommuner wholly in one area)."""

    service: str
    structure: int
    areas: tuple[Area, ...]
    kommuner: Mapping[str, str]
    bydeler: Mapping[str, str]
    grunnkretser: Mapping[str, str]
    #: grunnkrets of ``grunnkretser`` → the kommune it lies in in this structure
    split: Mapping[str, str]

    def area_of(self, kommune: str, bydel: str, grunnkrets: str) -> str | None:
        """The area a unit of population lies in (grunnkrets, then bydel, then kommune)."""
        return (
            self.grunnkretser.get(grunnkrets)
            or (self.bydeler.get(bydel) if bydel else None)
            or self.kommuner.get(kommune)
        )


def _key(name: str) -> str:
    return name.rstrip(" *").lower()


@cache
def _source_areas(service: str) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Area names (SKDE's, sorted), kommune → name and bydel → name of one source table."""
    src = SOURCES[service]
    kom: dict[str, str] = {}
    byd: dict[str, str] = {}
    names: set[str] = set()
    for r in refdata_rows(src.file):
        names.add(r["opptaksomrade"])
        target = byd if r["nivaa"] == "bydel" else kom
        # S5 lists 1580 twice in the VOP table, both times in the same area (source error).
        target.setdefault(r["kode"], r["opptaksomrade"])
    return sorted(names), kom, byd


@cache
def _dps_hf() -> dict[str, tuple[str, str]]:
    """DPS area name → (HF, RHF): the HF of the VOP area most of its grunnkretser lie in."""
    reg = grunnkrets_register()
    _, dkom, dbyd = _source_areas("dps")
    _, vkom, vbyd = _source_areas("vop")
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for u in reg.units:
        k, b = u.kommune[2024], u.bydel_in(2024)
        dps = dkom.get(k) or dbyd.get(b)
        vop = vkom.get(k) or vbyd.get(b)
        if dps and vop:
            votes[dps][vop] += 1
    return {dps: _HF[_key(c.most_common(1)[0][0])] for dps, c in votes.items()}


def _areas(service: str) -> dict[str, Area]:
    src = SOURCES[service]
    names, _, _ = _source_areas(service)
    out = {}
    for i, name in enumerate(names, start=1):
        hf, rhf = _dps_hf()[name] if service == "dps" else _HF[_key(name)]
        note = "SKDE-adjusted relative to KLASS 632 (2025)" if name.endswith("*") else ""
        if service == "dps":
            note = "; ".join(filter(None, [note, "HF derived from the VOP areas (630)"]))
        out[name] = Area(f"{src.prefix}{i:02d}", name.rstrip(" *"), hf, rhf, note)
    return out


def _city_in(kommune_2024: str, structure: int) -> str:
    return [c for y, c in CITIES[kommune_2024].items() if y <= structure][-1]


def area_table(
    service: str, structure: int, register: GrunnkretsRegister | None = None
) -> AreaTable:
    """The areas of ``service`` in the kommune structure starting in ``structure``.

    A unit of population that lies in no area stops the build (``reference.catchment_gap``,
    naming the grunnkretser and their kommuner).

    >>> t = area_table("som", 2019)  # Tysfjord: Narvik's part to UNN, Hamarøy's to Nordland
    >>> names = {a.code: a.name for a in t.areas}
    >>> sorted({names[t.grunnkretser[g]] for g in t.grunnkretser if t.split[g] == "1850"})
    ['Nordland', 'UNN']
    """
    reg = register or grunnkrets_register()
    src = SOURCES[service]
    _, kom, byd = _source_areas(service)
    areas = _areas(service)
    by_kommune: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
    unmapped: list[str] = []
    for u in reg.units:
        k_src = u.kommune[src.structure]
        name = kom.get(k_src) or byd.get(u.bydel_in(src.structure))
        if name is None:
            unmapped.append(f"{u.code} (kommune {u.kommune[structure]})")
        code = areas[name].code if name else None
        by_kommune[u.kommune[structure]].append((u.code, u.bydel_in(structure), code))
    if unmapped:
        raise ReferenceError_(
            "reference.catchment_gap",
            f"{service} areas {structure}: {len(unmapped)} grunnkretser lie in no area: "
            + ", ".join(unmapped[:20])
            + (" …" if len(unmapped) > 20 else ""),
            hint="add their kommune or bydel to the service's area table (data/refdata, S5) "
            "and rebuild the KLASS bundles",
        )
    kommuner: dict[str, str] = {}
    bydeler: dict[str, str] = {}
    grunnkretser: dict[str, str] = {}
    split: dict[str, str] = {}
    for kommune, units in sorted(by_kommune.items()):
        found = {a for _, _, a in units}
        city = next((c for c in CITIES if _city_in(c, structure) == kommune), None)
        by_bydel = city is not None and city not in kom
        if by_bydel and city is not None:
            src_city = _city_in(city, src.structure)
            for code, name in byd.items():
                if code.startswith(src_city) and not _merged_later(code, structure):
                    bydeler[kommune + code[4:]] = areas[name].code
        elif len(found) == 1:
            kommuner[kommune] = next(iter(found)) or ""
        else:
            for code, _, area in units:
                grunnkretser[code] = area or ""
                split[code] = kommune
    return AreaTable(
        service, structure, tuple(areas.values()), kommuner, bydeler, grunnkretser, split
    )


def _merged_later(bydel: str, structure: int) -> bool:
    """Finnøy and Rennesøy were kommuner until 2020, bydeler of Stavanger since."""
    return structure < 2020 and bydel[:4] == "1103" and bydel[4:] in {"08", "09"}


def _bydel_names() -> dict[str, str]:
    """Two-digit bydel → name per 2024 city (SKDE's tables, S5)."""
    out: dict[str, str] = {}
    for src in SOURCES.values():
        for r in refdata_rows(src.file):
            if r["nivaa"] == "bydel":
                out.setdefault(r["kode"], r["navn"])
    return out


def bydel_name(code: str) -> str:
    """The name of a bydel code of any structure (SKDE's name, S5), or the code.

    >>> bydel_name("120101"), bydel_name("460101")
    ('Arna', 'Arna')
    """
    names = _bydel_names()
    for city, per_year in CITIES.items():
        if code[:4] in per_year.values():
            return names.get(city + code[4:], code)
    return code


def _version(
    cid: int, structure: int, end: int | None, kommune_names_: Mapping[tuple[str, int], str]
) -> Version:
    codes: list[Code] = []
    used_hf: dict[str, str] = {}
    derived = cid == 631 or structure != SOURCES[LISTS[cid][0]].structure
    for service in LISTS[cid]:
        table = area_table(service, structure)
        suffix = SOURCES[service].suffix
        for area in table.areas:
            used_hf[area.hf] = area.rhf
        for a in table.areas:
            codes.append(Code(a.code, a.name, 3, a.hf, notes=a.note))
        for k, code in sorted(table.kommuner.items()):
            name = kommune_names_.get((k, structure), k)
            codes.append(Code(k + suffix, name, 4, code))
        for b, code in sorted(table.bydeler.items()):
            codes.append(Code(b + suffix, bydel_name(b), 4, code))
        for g, code in sorted(table.grunnkretser.items()):
            kommune = table.split[g]
            name = f"Grunnkrets {g} (SYNTHETIC) i {kommune_names_.get((kommune, structure))}"
            codes.append(Code(g + suffix, name, 4, code, notes=f"kommune {kommune}"))
    heads = [Code(r, RHF[r], 1) for r in sorted(set(used_hf.values()))]
    heads += [Code(h, hf_names()[h], 2, r) for h, r in sorted(used_hf.items())]
    last = (end or 0) - 1
    span = f"{structure}" + ("-" if end is None else (f"-{last}" if last != structure else ""))
    intro = (
        f"SKDE's catchment areas (S5) in the kommune structure of {span}; area codes "
        "assigned by helsestat."
    )
    if derived:
        intro += (
            " Derived by helsestat: SKDE's table carried to this structure through the "
            "kommune changes (S1)"
            + (
                "; grunnkretser (SYNTHETIC register) where a kommune lies in two areas."
                if any(c.name.startswith("Grunnkrets") for c in codes)
                else "."
            )
        )
    if cid == 631:
        intro += " Derived: the VOP areas of KLASS 630 (no public source holds TSB areas)."
    return Version(
        local_version_id(cid, structure),
        f"Opptaksområder {span}",
        date(structure, 1, 1),
        date(end, 1, 1) if end else None,
        LEVELS,
        tuple(heads + codes),
        intro,
    )


def _correspondences(
    cid: int, version: Version, kommune_versions: Mapping[int, int], latest: bool
) -> list[CorrespondenceTable]:
    year = version.valid_from.year
    target = kommune_versions.get(year)
    if target is None:
        return []
    to_131, to_103 = CORR_IDS[cid]
    kom: dict[tuple[str, str], None] = {}
    byd: dict[tuple[str, str], None] = {}
    parent = {c.code: c.parent_code for c in version.codes}
    for c in version.codes:
        if c.level != 4:
            continue
        unit = c.code.split("-")[0]
        # every code maps to what it covers: a kommune or grunnkrets (131) or a bydel (103)
        # and so do its area, HF and RHF
        if len(unit) == 6:
            covered, pairs = unit, byd
        else:
            covered = c.notes.removeprefix("kommune ") if c.notes else unit[:4]
            pairs = kom
        code: str | None = c.code
        while code:
            pairs[(code, covered)] = None
            code = parent.get(code)

    tables = [
        CorrespondenceTable(
            to_131 if latest else version.id + 2_000_000,
            f"Korrespondansetabell mellom KLASS {cid} og KLASS 131 ({version.name})",
            version.id,
            target,
            tuple(MapItem(a, k) for a, k in kom),
            "Every code → the kommuner it covers wholly or in part: a kommune or grunnkrets "
            "its kommune, an area, HF or RHF each kommune in it (a kommune split by grunnkrets "
            "maps to each of its areas; bydeler are in the table to KLASS 103).",
        )
    ]
    if byd and year >= 2015:
        tables.append(
            CorrespondenceTable(
                to_103 if latest else version.id + 3_000_000,
                f"Korrespondansetabell mellom KLASS {cid} og KLASS 103 ({version.name})",
                version.id,
                local_version_id(103, _bydel_structure(year)),
                tuple(MapItem(a, b) for a, b in byd),
            )
        )
    return tables


#: First years of the bydel structures of KLASS 103 (Trondheim 5001 from 2018, Bergen 4601
#: and Stavanger's Finnøy and Rennesøy from 2020).
BYDEL_STRUCTURES = (2015, 2018, 2020)


def _bydel_structure(year: int) -> int:
    return [y for y in BYDEL_STRUCTURES if y <= year][-1]


def bydeler() -> Classification:
    """KLASS 103 as far as the catchment areas name bydeler: Oslo, Bergen, Stavanger and
    Trondheim, with the codes of each structure (the city's kommunenr then + two digits)."""
    names = _bydel_names()
    versions = []
    for i, first in enumerate(BYDEL_STRUCTURES):
        end = BYDEL_STRUCTURES[i + 1] if i + 1 < len(BYDEL_STRUCTURES) else None
        codes: dict[str, str] = {}
        for code, name in names.items():
            city = code[:4]
            if _merged_later(code, first):
                continue
            codes[_city_in(city, first) + code[4:]] = name
        versions.append(
            Version(
                local_version_id(103, first),
                "Bydelsinndeling (bydeler i SKDEs opptaksområder)"
                + ("" if end is None else f" {first}-{end - 1}"),
                date(first, 1, 1),
                date(end, 1, 1) if end else None,
                (Level(1, "Bydel"),),
                tuple(Code(c, n) for c, n in sorted(codes.items())),
                "Only the bydeler named in SKDE's catchment-area tables (S5), not SSB's full "
                "list."
                + (
                    ""
                    if first == 2020
                    else " Codes before 2020 derived by helsestat from the city's kommunenr "
                    "of the time."
                ),
            )
        )
    return Classification(
        103,
        "Standard for bydelsinndeling",
        tuple(versions),
        description="Bydeler i Oslo, Bergen, Stavanger og Trondheim (utvalg).",
        owning_section="Reference data (real, partial; see data/refdata/PROVENANCE.md)",
        statistical_units=("Bydeler",),
        source="real, partial: the bydeler of S5 (SKDE); codes before 2020 derived",
    )


def catchment_classification(
    cid: int, kommune_versions: Mapping[int, int]
) -> tuple[Classification, list[CorrespondenceTable]]:
    """One of 629–632 with its correspondences (to the 131 versions in ``kommune_versions``:
    first year of a structure → 131 version id)."""
    names = kommune_names()
    versions = [_version(cid, first, end + 1 if end else None, names) for first, end in STRUCTURES]
    tables = []
    for i, v in enumerate(versions):
        tables += _correspondences(cid, v, kommune_versions, latest=i == len(versions) - 1)
    if cid == 631:
        source = (
            "derived: the VOP areas of 630 (S5 SKDE), no public source holds TSB areas; "
            "area codes assigned by helsestat"
        )
        description = (
            f"{NAMES[cid]}: DERIVED by helsestat from the adult-psychiatry (VOP) areas of "
            "630; no public source holds the TSB areas."
        )
    else:
        source = "real: S5 SKDE (mong/mongts), carried to earlier kommune structures by " + (
            "helsestat (derived); area codes assigned by helsestat"
        )
        description = (
            f"{NAMES[cid]}: SKDE's catchment areas with the kommuner, bydeler and (where a "
            "kommune lies in two areas) the SYNTHETIC grunnkretser they cover."
        )
    return (
        Classification(
            cid,
            NAMES[cid],
            tuple(versions),
            description=description,
            classification_type="Kodeliste",
            owning_section="Reference data (real; see data/refdata/PROVENANCE.md)",
            statistical_units=("Opptaksområder",),
            source=source,
        ),
        tables,
    )


def catchment_registry(
    kommuner: Classification | None = None,
) -> tuple[list[Classification], list[CorrespondenceTable]]:
    """KLASS 629–632 and 103, with their correspondences to the versions of ``kommuner``
    (KLASS 131) whose code set is a kommune structure's (matched by first year)."""
    kommune_versions: dict[int, int] = {}
    if kommuner is not None:
        for v in kommuner.versions:
            codes = {c.code for c in v.codes}
            for first, _ in STRUCTURES:
                if v.valid_from.year <= first and set(recoding()[first]) == codes:
                    kommune_versions.setdefault(first, v.id)
    classifications: list[Classification] = []
    tables: list[CorrespondenceTable] = []
    for cid in LISTS:
        c, t = catchment_classification(cid, kommune_versions)
        classifications.append(c)
        tables += t
    classifications.append(bydeler())
    return classifications, tables


__all__ = [
    "CORR_IDS",
    "LISTS",
    "SOURCES",
    "Area",
    "AreaTable",
    "area_table",
    "bydel_name",
    "bydeler",
    "catchment_classification",
    "catchment_registry",
    "hf_names",
]
