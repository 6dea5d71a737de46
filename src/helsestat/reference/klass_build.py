"""Build the KLASS bundles shipped in ``data/klass/`` from the real reference data in
``data/refdata`` (see its PROVENANCE.md) and the synthetic stand-ins of
:mod:`helsestat.reference.klass_synthetic`.

``python -m helsestat.reference.klass_build`` rewrites the bundles; a test checks that the
shipped files equal this builder's output, so the data and its recipe cannot drift apart.

What is real and what is not:

* 131 kommuner and 104 fylker: 2019, 2020–2023 and 2024– (S1/S2/S4), and the change tables
  between them (S1/S2 weights). The fylke table 2019→2020 is derived from the kommune table,
  weighted by population (the 2024 figures of the successors; earlier figures are not in
  the data).
* 629–632 catchment areas and 103 bydeler: built by
  :mod:`helsestat.reference.klass_catchment` (SKDE's tables, S5; see there what is derived).
* 603/604/605 helseforetak, private institutions, support companies:
  :mod:`helsestat.reference.klass_foretak` (603 and 605 real, with some INVENTED codes in 605;
  604 SYNTHETIC).
* Swedish län and kommuner (S10) as one helsestat-local classification.
* Everything in :mod:`helsestat.reference.klass_synthetic`: SYNTHETIC.

>>> bundles = build_bundles()
>>> sorted(bundles)[:3]
['klass_103.json', 'klass_104.json', 'klass_131.json']
"""

from __future__ import annotations

import itertools
import json
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

from helsestat.reference.classifications import (
    LOCAL_ID_BASE,
    Classification,
    Code,
    CorrespondenceTable,
    Level,
    MapItem,
    Registry,
    Version,
    local_version_id,
)
from helsestat.reference.geography import packaged_geography
from helsestat.reference.klass_catchment import catchment_registry
from helsestat.reference.klass_foretak import foretak_classifications
from helsestat.reference.klass_json import bundle_document
from helsestat.reference.klass_synthetic import synthetic_classifications
from helsestat.reference.refdata import refdata_rows

#: The base URL written into the shipped bundles' links (KLASS's own, so a bundle looks like
#: what SSB's API returns; the API serves them under its own base URL).
BUNDLE_BASE = "https://data.ssb.no/api/klass/v1"

Y2019, Y2020, Y2024 = date(2019, 1, 1), date(2020, 1, 1), date(2024, 1, 1)
SE_ID = LOCAL_ID_BASE + 1


def _klass_name(row: dict[str, str], klass_key: str, other_key: str) -> str:
    # S4 has encoding damage ('?' for some Sami letters): then S1's name is used.
    name = row.get(klass_key, "")
    return row[other_key] if not name or "?" in name else name


# -- geography -------------------------------------------------------------------------------

#: The kommune structures before 2019, from csdata's history (S1): (first year, year after the
#: last). 2017: Sandefjord, Andebu and Stokke became 0710; 2018: Trøndelag and the Vestfold
#: mergers; 2019: Rindal moved to Trøndelag (the 2019 version).
EARLY_KOMMUNE_PERIODS = ((2015, 2017), (2017, 2018), (2018, 2019))
#: Change tables added for the early versions get ids from here (above the existing tables',
#: so the order of a bundle's tables stays as it was).
EARLY_TABLE_OFFSET = 5_000_000


def _history() -> list[dict[str, str]]:
    return [r for r in refdata_rows("no_kommune_historikk_csdata.csv") if r["kommunenr"].isdigit()]


def _valid(row: dict[str, str], year: int) -> bool:
    end = row["gyldig_til_aar"]
    return int(row["gyldig_fra_aar"]) <= year and (not end or year <= int(float(end)))


def _early_kommuner(lv: tuple[Level, ...]) -> list[Version]:
    """KLASS 131 for 2015-2018 from csdata's history (S1), named as in the 2019 version
    where the code lives on (so 2019 shows no spurious renames)."""
    names19 = {r["kommunenr"]: r["navn"] for r in refdata_rows("no_kommuner_2019.csv")}
    history = _history()
    versions = []
    for first, end in EARLY_KOMMUNE_PERIODS:
        codes = sorted({r["kommunenr"]: r for r in history if _valid(r, first)}.items())
        span = f"{first}-{end - 1}" if end - first > 1 else f"{first}"
        versions.append(
            Version(
                local_version_id(131, first),
                f"Kommuneinndeling {span}",
                date(first, 1, 1),
                date(end, 1, 1),
                lv,
                tuple(Code(k, names19.get(k, r["navn"])) for k, r in codes),
                "Kommuner valid on 1 January, from csdata's kommune history (S1).",
            )
        )
    return versions


def _change_table(old: Version, new: Version, successor: dict[str, str]) -> CorrespondenceTable:
    """Every code of ``old`` to itself if ``new`` has it, else to its successor."""
    have = new.by_code
    maps = tuple(
        MapItem(c.code, c.code if c.code in have else successor[c.code]) for c in old.codes
    )
    return CorrespondenceTable(
        old.id + EARLY_TABLE_OFFSET,
        f"Endringer fra {old.name} til {new.name}",
        old.id,
        new.id,
        maps,
        "From csdata's kommune history (S1): an ended code maps to its successor.",
    )


def _kommuner() -> tuple[Classification, list[CorrespondenceTable]]:
    lv = (Level(1, "Kommune"),)
    v19 = Version(
        local_version_id(131, 2019),
        "Kommuneinndeling 2019",
        Y2019,
        Y2020,
        lv,
        tuple(Code(r["kommunenr"], r["navn"]) for r in refdata_rows("no_kommuner_2019.csv")),
    )
    v20 = Version(
        local_version_id(131, 2020),
        "Kommuneinndeling 2020-2023",
        Y2020,
        Y2024,
        lv,
        tuple(Code(r["kommunenr"], r["navn"]) for r in refdata_rows("no_kommuner_2020_2023.csv")),
    )
    v24 = Version(
        local_version_id(131, 2024),
        "Kommuneinndeling 2024",
        Y2024,
        None,
        lv,
        tuple(
            Code(r["kommunenr"], _klass_name(r, "navn_klass_noapi", "navn"))
            for r in refdata_rows("no_kommuner_2024.csv")
        ),
    )
    t1 = CorrespondenceTable(
        local_version_id(131, 2020) + 1_000_000,
        "Endringer i kommuneinndelingen 2019-2020",
        v19.id,
        v20.id,
        tuple(
            MapItem(r["kommunenr_2019"], r["kommunenr_2020"], float(r["weighting"]))
            for r in refdata_rows("no_kommune_2019_til_2020.csv")
        ),
        "Kommunereformen 2020 (S2: fhidata norway_municip_merging_b2020).",
    )
    t2 = CorrespondenceTable(
        local_version_id(131, 2024) + 1_000_000,
        "Endringer i kommuneinndelingen 2020-2024",
        v20.id,
        v24.id,
        tuple(
            MapItem(r["kommunenr_2020_2023"], r["kommunenr_2024"], float(r["weighting"]))
            for r in refdata_rows("no_kommune_2020_2023_til_2024.csv")
        ),
        "Regionreformen reversert 2024 (S1: csdata). The 1507 split uses csdata's 0.5/0.5, "
        "which is not a population share.",
    )
    early = _early_kommuner(lv)
    successor = {r["kommunenr"]: r["kommunenr_etterfolger"] for r in _history()}
    chain = [*early, v19]
    early_tables = [_change_table(a, b, successor) for a, b in itertools.pairwise(chain)]
    cls = Classification(
        131,
        "Standard for kommuneinndeling",
        (*early, v19, v20, v24),
        description="Kommuner i Norge. Versjonene 2015-2016, 2017, 2018, 2019, 2020-2023 og "
        "2024- med endringstabeller mellom dem (kilder: niphr/csdata, "
        "folkehelseinstituttet/fhidata, Riksrevisjonen/noAPI).",
        owning_section="Reference data (real; see data/refdata/PROVENANCE.md)",
        statistical_units=("Kommuner",),
        source="real: S1 csdata, S2 fhidata, S4 noAPI (KLASS names where undamaged)",
    )
    return cls, [t1, t2, *early_tables]


def _fylker() -> tuple[Classification, list[CorrespondenceTable]]:
    lv = (Level(1, "Fylke"),)
    # The 18 fylker of 2019 were already those of 2018 (Trøndelag from 1 January 2018).
    v19 = Version(
        local_version_id(104, 2019),
        "Fylkesinndeling 2018-2019",
        date(2018, 1, 1),
        Y2020,
        lv,
        tuple(Code(r["fylkenr"], r["fylkenavn"]) for r in refdata_rows("no_fylker_2019.csv")),
    )
    names19 = {c.code: c.name for c in v19.codes}
    fylker15 = sorted({r["fylkenr"]: r["fylkenavn"] for r in _history() if _valid(r, 2015)}.items())
    v15 = Version(
        local_version_id(104, 2015),
        "Fylkesinndeling 2015-2017",
        date(2015, 1, 1),
        date(2018, 1, 1),
        lv,
        tuple(Code(k, names19.get(k, navn)) for k, navn in fylker15),
        "Fylker valid on 1 January, from csdata's kommune history (S1).",
    )
    t0 = _change_table(v15, v19, {"16": "50", "17": "50"})
    v20 = Version(
        local_version_id(104, 2020),
        "Fylkesinndeling 2020-2023",
        Y2020,
        Y2024,
        lv,
        tuple(Code(r["fylkenr"], r["fylkenavn"]) for r in refdata_rows("no_fylker_2020_2023.csv")),
    )
    v24 = Version(
        local_version_id(104, 2024),
        "Fylkesinndeling 2024",
        Y2024,
        None,
        lv,
        tuple(
            Code(r["fylkenr"], _klass_name(r, "navn_klass_noapi", "navn"))
            for r in refdata_rows("no_fylker_2024.csv")
        ),
    )
    # 2019 → 2020, derived: each 2019 kommune's population goes to its successors' fylker.
    geo = packaged_geography()
    fylke19 = {r["kommunenr"]: r["fylkenr"] for r in refdata_rows("no_kommuner_2019.csv")}
    fylke20 = {r["kommunenr"]: r["fylkenr"] for r in refdata_rows("no_kommuner_2020_2023.csv")}
    flows: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in refdata_rows("no_kommune_2019_til_2020.csv"):
        pop = max(geo.population_estimate(r["kommunenr_2019"], 2019), 1)
        flows[fylke19[r["kommunenr_2019"]]][fylke20[r["kommunenr_2020"]]] += pop * float(
            r["weighting"]
        )
    maps19 = []
    for old in sorted(flows):
        total = sum(flows[old].values())
        for new in sorted(flows[old]):
            maps19.append(MapItem(old, new, round(flows[old][new] / total, 6)))
    maps19 = _normalise(maps19)
    t1 = CorrespondenceTable(
        local_version_id(104, 2020) + 1_000_000,
        "Endringer i fylkesinndelingen 2019-2020",
        v19.id,
        v20.id,
        tuple(maps19),
        "Derived by helsestat from the kommune change table 2019-2020; split weights are "
        "population shares estimated from the successors' 2024 population.",
    )
    t2 = CorrespondenceTable(
        local_version_id(104, 2024) + 1_000_000,
        "Endringer i fylkesinndelingen 2020-2024",
        v20.id,
        v24.id,
        tuple(
            MapItem(r["fylkenr_2020_2023"], r["fylkenr_2024"], float(r["weighting"]))
            for r in refdata_rows("no_fylke_2020_2023_til_2024.csv")
        ),
        "S1 csdata; split weights are population based.",
    )
    cls = Classification(
        104,
        "Standard for fylkesinndeling",
        (v15, v19, v20, v24),
        description="Fylker i Norge. Versjonene 2015-2017, 2018-2019, 2020-2023 og 2024- med "
        "endringstabeller.",
        owning_section="Reference data (real; see data/refdata/PROVENANCE.md)",
        statistical_units=("Fylker",),
        source="real: S1 csdata, S2 fhidata, S4 noAPI; the 2019-2020 change table is derived",
    )
    return cls, [t1, t2, t0]


def _normalise(maps: list[MapItem]) -> list[MapItem]:
    """Make rounded shares of each source add up to exactly 1 (the last one takes the rest)."""
    by_source: dict[str, list[MapItem]] = defaultdict(list)
    for m in maps:
        by_source[m.source_code].append(m)
    out = []
    for items in by_source.values():
        rest = round(1.0 - sum(m.weight for m in items[:-1]), 6)
        out.extend([*items[:-1], MapItem(items[-1].source_code, items[-1].target_code, rest)])
    return out


def _sweden() -> Classification:
    lan = [
        Code(r["lanskod"], r["lan_namn"], 1, short_name=r["lan_namn_kort"])
        for r in refdata_rows("se_lan.csv")
    ]
    kommuner = [
        Code(r["kommunkod"], r["kommun_namn"], 2, r["lanskod"], short_name=r["kommun_namn_kort"])
        for r in refdata_rows("se_kommuner.csv")
    ]
    version = Version(
        local_version_id(SE_ID - LOCAL_ID_BASE, 2003),
        "Län och kommuner",
        date(2003, 1, 1),
        None,
        (Level(1, "Län"), Level(2, "Kommun")),
        tuple(lan + kommuner),
        "SCB's codes as published by sjbrg/swedish-geodata (S10, CC0). The source gives no "
        "validity dates: the version is valid from 2003-01-01, when the last of the 290 "
        "kommuner (0330 Knivsta) was formed; no län or kommun has changed since.",
    )
    return Classification(
        SE_ID,
        "Sveriges län och kommuner",
        (version,),
        description="Swedish counties (län) and municipalities (kommuner), SCB codes.",
        owning_section="Reference data (real; see data/refdata/PROVENANCE.md)",
        statistical_units=("Län", "Kommuner"),
        source="real: S10 sjbrg/swedish-geodata (checked against S11)",
    )


def registry() -> Registry:
    """Every shipped classification and correspondence, built from the sources."""
    classifications: list[Classification] = []
    tables: list[CorrespondenceTable] = []
    for build in (_kommuner, _fylker):
        c, t = build()
        classifications.append(c)
        tables += t
    areas, area_tables = catchment_registry(classifications[0])
    classifications += areas
    tables += area_tables
    classifications += [_sweden(), *foretak_classifications()]
    synth, synth_tables = synthetic_classifications()
    return Registry.of(classifications + synth, tables + synth_tables)


def build_bundles() -> dict[str, str]:
    """File name → JSON text of every shipped bundle."""
    reg = registry()
    return {
        f"klass_{cid}.json": json.dumps(
            bundle_document(reg, cid, BUNDLE_BASE), ensure_ascii=False, indent=1
        )
        + "\n"
        for cid in sorted(reg.classifications)
    }


def write_bundles(directory: Path) -> list[Path]:
    """Write the bundles into ``directory`` (the package's ``data/klass``)."""
    written = []
    for name, text in build_bundles().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "data/klass"
    for p in write_bundles(target):
        print(p)
