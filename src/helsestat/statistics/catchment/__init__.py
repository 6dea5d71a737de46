"""Opptaksområder: the population of the catchment areas of the specialist health service
(KLASS 629–632) per year by kjønn and single year of age — the shape of SSB's table 13982 —
for somatikk (SOM), psykisk helsevern (PHV: BUP 0–17 and VOP 18+), rusbehandling (TSB,
areas derived from VOP) and DPS, at area, HF, RHF and country level, and per kommune of an
area for the drill-down RHF → HF → area → kommune.

Declared here as every statistic is: the extract kind it reads (``folkemengde``: persons per
grunnkrets, year, kjønn and age; SYNTHETIC in the demo), its tables and how they are served.
The build computes every table for every year at once (:func:`build_data`, numpy); a query
picks years (``fom``/``tom``: the January of the first year to the December of the last) and
one value per filter. Population counts are not suppressed (SSB publishes them openly);
every row carries status ``published``.

>>> [t.name for t in CATCHMENT.tables]
['opptak/befolkning', 'opptak/omrader', 'opptak/kommuner', 'opptak/kart']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helsestat.aggregate.duckdb_engine import DuckDBEngine
from helsestat.aggregate.ranges import month_index
from helsestat.errors import NotFoundError, QueryError, ReferenceError_
from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable
from helsestat.model.cube import CubeSpec
from helsestat.reference.grunnkrets import GrunnkretsRegister, grunnkrets_register
from helsestat.reference.preflight import Needs
from helsestat.reference.snapshot import Reference
from helsestat.statistics.base import Statistic, TableDef
from helsestat.statistics.catchment.dashboard import DASHBOARD
from helsestat.statistics.catchment.kommuner import kommune_rows
from helsestat.statistics.catchment.population import (
    AGES,
    LEVELS,
    SERVICES,
    AreaPopulation,
    GrunnkretsPopulation,
    area_population,
)
from helsestat.statistics.catchment.tilemap import grid_positions
from helsestat.statistics.serving import Ranged, RangeQuery, Serving

PREFIX: Final = "opptak/"
#: The filters of every table (one value each; ``tjeneste`` defaults to SOM).
FILTERS: Final = ("tjeneste", "niva", "rhf", "hf", "omrade")
ALL_AGES: Final = "999"
SERVICE_NAMES: Final = {
    "SOM": "Somatikk",
    "PHV": "Psykisk helsevern (BUP 0-17 + VOP 18+)",
    "BUP": "Psykisk helsevern for barn og unge (0-17)",
    "VOP": "Psykisk helsevern for voksne (18+)",
    "TSB": "Rusbehandling (TSB; områder avledet fra VOP)",
    "DPS": "Distriktspsykiatriske sentre (DPS)",
}
KJONN: Final = {"0": "Begge kjønn", "1": "Menn", "2": "Kvinner"}
NOTE: Final = (
    "SYNTHETIC population: the grunnkrets population is made by helsestat and sums to the "
    "real kommune populations (SSB 07459; 2021-2023 and nine Vestfold kommuner 2015-2017 "
    "estimated). Areas: SKDE's (KLASS 629-632 in helsestat), carried to each year's kommune "
    "structure; TSB areas are derived from the VOP areas (no public source holds them)."
)


def _age_labels() -> list[str]:
    return [f"{a:03d}" for a in range(AGES - 1)] + ["105+", ALL_AGES]


def read_population(
    files: Sequence[Path], register: GrunnkretsRegister | None = None
) -> GrunnkretsPopulation:
    """The stored ``folkemengde`` rows as the dense array the computation reads; a grunnkrets
    the register does not know stops the build (``reference.catchment_gap``)."""
    reg = register or grunnkrets_register()
    columns = ["grunnkrets", "aar", "kjonn", "alder", "personer"]
    parts = [pq.read_table(f, columns=columns) for f in files]
    table = pa.concat_tables(parts) if parts else None
    if table is None or not table.num_rows:
        return GrunnkretsPopulation((), reg, np.zeros((0, len(reg.units), 2, AGES), np.int32))
    codes = [u.code for u in reg.units]
    unit = pc.index_in(table["grunnkrets"], value_set=pa.array(codes))
    if unit.null_count:
        unknown = sorted(set(pc.filter(table["grunnkrets"], pc.is_null(unit)).to_pylist()))
        raise ReferenceError_(
            "reference.catchment_gap",
            f"folkemengde: {len(unknown)} grunnkretser are in no catchment area: "
            + ", ".join(str(u) for u in unknown[:20]),
            hint="every grunnkrets must be in the grunnkrets register the KLASS lists 629-632 "
            "are drawn on; nothing was published",
        )
    years_col = table["aar"].to_numpy()
    years = tuple(int(y) for y in np.unique(years_col))
    y = np.searchsorted(np.asarray(years), years_col)
    counts = np.zeros((len(years), len(codes), 2, AGES), np.int32)
    np.add.at(
        counts,
        (
            y,
            unit.to_numpy(zero_copy_only=False),
            table["kjonn"].to_numpy().astype(np.int64) - 1,
            table["alder"].to_numpy().astype(np.int64),
        ),
        table["personer"].to_numpy(),
    )
    return GrunnkretsPopulation(years, reg, counts)


def _names(result: AreaPopulation) -> dict[str, str]:
    from helsestat.reference.klass_catchment import RHF, hf_names

    return {"0": "Hele landet", **hf_names(), **RHF}


def population_rows(result: AreaPopulation) -> pa.Table:
    """Every (service, year, level, region) × kjønn (0 both) × age (and all ages)."""
    ages = _age_labels()
    names = _names(result)
    cols: dict[str, list[Any]] = {
        k: [] for k in ("tjeneste", "aar", "niva", "region", "overordnet", "navn", "n")
    }
    blocks: list[np.ndarray] = []
    for (service, year, level), values in sorted(result.values.items()):
        codes = result.codes[(service, year, level)]
        parents = result.parents[(service, year)]
        n = len(codes)
        with_totals = np.zeros((n, 3, AGES + 1), np.int64)
        with_totals[:, 1:, :AGES] = values
        with_totals[:, 0, :AGES] = values.sum(axis=1)
        with_totals[:, :, AGES] = with_totals[:, :, :AGES].sum(axis=2)
        blocks.append(with_totals.reshape(n, -1))
        for code in codes:
            cols["tjeneste"].append(service)
            cols["aar"].append(str(year))
            cols["niva"].append(level)
            cols["region"].append(code)
            cols["overordnet"].append(parents.get(code, "") if level != "LANDET" else "")
            cols["navn"].append(result.names.get((service, code)) or names.get(code, code))
    cells = 3 * (AGES + 1)
    counts = np.concatenate(blocks).ravel() if blocks else np.zeros(0, np.int64)
    repeat = np.repeat
    out = {k: repeat(np.asarray(v, object), cells) for k, v in cols.items() if k != "n"}
    rows = len(cols["tjeneste"])
    kjonn = np.tile(np.repeat(np.asarray(["0", "1", "2"], object), AGES + 1), rows)
    alder = np.tile(np.asarray(ages, object), 3 * rows)
    return pa.table(
        {
            "tjeneste": pa.array(out["tjeneste"], pa.string()),
            "aar": pa.array(out["aar"], pa.string()),
            "niva": pa.array(out["niva"], pa.string()),
            "region": pa.array(out["region"], pa.string()),
            "region_navn": pa.array(out["navn"], pa.string()),
            "overordnet": pa.array(out["overordnet"], pa.string()),
            "kjonn": pa.array(kjonn, pa.string()),
            "alder": pa.array(alder, pa.string()),
            "personer": pa.array(counts, pa.int64()),
        }
    )


def build_data(
    files: Sequence[Path], reference: Reference, engine: DuckDBEngine
) -> dict[str, pa.Table]:
    """The release's data of the statistic from the stored ``folkemengde`` rows: the
    population table (every service, year, level, region, kjønn and age) and the kommune
    rows of every area."""
    population = read_population(files)
    result = area_population(population, SERVICES)
    return {
        "befolkning": population_rows(result),
        "kommuner": kommune_rows(population, _names(result)),
    }


def build_inputs(reference: Reference) -> str:
    """A digest of what :func:`build_data` reads besides the extract: the code of this
    package and of the lists it computes from.

    >>> from helsestat.reference.seed import packaged_reference
    >>> len(build_inputs(packaged_reference()))
    64
    """
    import hashlib

    from helsestat.reference import grunnkrets, klass_catchment

    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    for module in (grunnkrets, klass_catchment):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()


class CatchmentData:
    """The loaded data: the two tables and the years they cover."""

    def __init__(self, befolkning: pa.Table, kommuner: pa.Table) -> None:
        self.befolkning = befolkning
        self.kommuner = kommuner
        years = sorted({int(y) for y in pc.unique(befolkning["aar"]).to_pylist()})
        self.first = years[0] if years else 2015
        self.last = years[-1] if years else 2015


def load_data(tables: Mapping[str, pa.Table]) -> CatchmentData:
    """What :func:`build_data` stored, ready for :func:`answer`."""
    return CatchmentData(tables["befolkning"], tables["kommuner"])


def _months(data: Any) -> tuple[int, int]:
    assert isinstance(data, CatchmentData)
    return month_index(data.first, 1), month_index(data.last, 12)


def _years(query: RangeQuery) -> tuple[int, int]:
    return query.first // 12, query.last // 12


def _filtered(table: pa.Table, query: RangeQuery, *, last_year_only: bool) -> pa.Table:
    first, last = _years(query)
    service = query.filters.get("tjeneste", "SOM")
    if service not in SERVICE_NAMES:
        raise QueryError(
            "query.invalid_value",
            f"tjeneste {service!r} is not a service",
            hint="tjeneste: " + ", ".join(SERVICE_NAMES),
        )
    years = [str(last)] if last_year_only else [str(y) for y in range(first, last + 1)]
    mask = pc.and_(pc.equal(table["tjeneste"], service), pc.is_in(table["aar"], pa.array(years)))
    return table.filter(mask)


def _published(table: pa.Table) -> pa.Table:
    n = table.num_rows
    return table.append_column(
        STATUS_COLUMN, pa.array(["published"] * n, pa.string())
    ).append_column(RULE_COLUMN, pa.array([""] * n, pa.string()))


def answer(data: CatchmentData, table: str, query: RangeQuery) -> ProtectedTable:
    """One table for the query (``table`` without the prefix)."""
    if table == "befolkning":
        rows = _filtered(data.befolkning, query, last_year_only=False)
        level = query.filters.get("niva", "OMRADE")
        if level not in LEVELS:
            raise QueryError(
                "query.invalid_value",
                f"niva {level!r} is not a level",
                hint="niva: " + ", ".join(LEVELS),
            )
        rows = rows.filter(pc.equal(rows["niva"], level))
        for key in ("rhf", "hf", "omrade"):
            if key in query.filters:
                rows = _under(data, rows, key, query.filters[key], query)
        dims = ("tjeneste", "aar", "niva", "region", "region_navn", "overordnet", "kjonn", "alder")
        return _protected(table, "Befolkning per opptaksområde, kjønn og alder", dims, rows)
    if table == "omrader":
        return _drill(data, query)
    if table == "kart":
        return _map(data, query)
    if table == "kommuner":
        rows = _filtered(data.kommuner, query, last_year_only=False)
        if "omrade" in query.filters:
            rows = rows.filter(pc.equal(rows["omrade"], query.filters["omrade"]))
        kdims = ("tjeneste", "aar", "omrade", "kommune", "kommune_navn")
        return _protected(table, "Befolkning per opptaksområde og kommune", kdims, rows)
    raise NotFoundError(
        "table.not_found",
        f"opptaksområder has no table {table!r}",
        hint="tables: befolkning, omrader, kommuner, kart",
    )


def _under(data: CatchmentData, rows: pa.Table, key: str, value: str, q: RangeQuery) -> pa.Table:
    """The rows of regions at or under ``value`` (an RHF, HF or area)."""
    totals = _filtered(data.befolkning, q, last_year_only=False)
    parent = dict(zip(totals["region"].to_pylist(), totals["overordnet"].to_pylist(), strict=True))
    keep = []
    for region in rows["region"].to_pylist():
        r: str | None = region
        while r and r != value:
            r = parent.get(r) or None
        keep.append(r == value)
    return rows.filter(pa.array(keep))


#: The drill-down's levels, coarse to fine (the page's filters, and kommune at the bottom).
DRILL_LEVELS: Final = ("rhf", "hf", "omrade", "kommune")
_LEVEL_OF: Final = {"RHF": "rhf", "HF": "hf", "OMRADE": "omrade", "LANDET": ""}


def _drill(data: CatchmentData, query: RangeQuery) -> ProtectedTable:
    """The drill-down RHF → HF → area → kommune, totals of the query's last year: the
    node the filters name (or the country) first, then the regions one level below. Each
    row holds the codes of its region and of the regions above it (``rhf``, ``hf``,
    ``omrade``, ``kommune``), ``niva`` its level."""
    rows = _filtered(data.befolkning, query, last_year_only=True)
    rows = rows.filter(pc.and_(pc.equal(rows["kjonn"], "0"), pc.equal(rows["alder"], ALL_AGES)))
    f = query.filters
    region = rows["region"].to_pylist()
    level = [_LEVEL_OF[v] for v in rows["niva"].to_pylist()]
    parent = dict(zip(region, rows["overordnet"].to_pylist(), strict=True))
    level_of = dict(zip(region, level, strict=True))
    name = dict(zip(region, rows["region_navn"].to_pylist(), strict=True))
    people = dict(zip(region, rows["personer"].to_pylist(), strict=True))
    out: list[dict[str, Any]] = []

    def row(code: str, at: str, navn: str, personer: int, above: str) -> dict[str, Any]:
        r = dict.fromkeys(DRILL_LEVELS, "")
        chain = above
        while chain and chain != "0":
            r[level_of.get(chain, "")] = chain
            chain = parent.get(chain, "")
        if at:
            r[at] = code
        return {"niva": at, **r, "navn": navn, "personer": personer}

    node = f.get("omrade") or f.get("hf") or f.get("rhf") or "0"
    if node not in people:
        raise NotFoundError(
            "table.not_found", f"no region {node!r} for the service in {_years(query)[1]}"
        )
    out.append(row(node, level_of.get(node, ""), name[node], people[node], parent.get(node, "")))
    if "omrade" in f:
        kom = _filtered(data.kommuner, query, last_year_only=True)
        kom = kom.filter(pc.equal(kom["omrade"], node))
        for k, n, p in zip(
            kom["kommune"].to_pylist(),
            kom["kommune_navn"].to_pylist(),
            kom["personer"].to_pylist(),
            strict=True,
        ):
            out.append(row(k, "kommune", n, p, node))
    else:
        for code in region:
            if parent.get(code) == node and level_of[code]:
                out.append(row(code, level_of[code], name[code], people[code], node))
    columns = ("niva", *DRILL_LEVELS, "navn", "personer")
    table = pa.table(
        {
            c: pa.array([r[c] for r in out], pa.int64() if c == "personer" else pa.string())
            for c in columns
        }
    )
    dims = ("niva", *DRILL_LEVELS, "navn")
    return _protected("omrader", "Befolkning RHF → HF → opptaksområde → kommune", dims, table)


def _map(data: CatchmentData, query: RangeQuery) -> ProtectedTable:
    """The map's tiles: every area of the service in the query's last year (PHV: its HF),
    with its HF, grid position (:mod:`.tilemap`) and population."""
    rows = _filtered(data.befolkning, query, last_year_only=True)
    level = "HF" if query.filters.get("tjeneste", "SOM") == "PHV" else "OMRADE"
    rows = rows.filter(
        pc.and_(
            pc.equal(rows["niva"], level),
            pc.and_(pc.equal(rows["kjonn"], "0"), pc.equal(rows["alder"], ALL_AGES)),
        )
    )
    names = dict(
        zip(*(data.befolkning[c].to_pylist() for c in ("region", "region_navn")), strict=False)
    )
    codes = rows["region"].to_pylist()
    hfs = codes if level == "HF" else rows["overordnet"].to_pylist()
    place = grid_positions(list(zip(codes, hfs, strict=True)))
    table = pa.table(
        {
            "omrade": rows["region"],
            "navn": rows["region_navn"],
            "hf": pa.array(hfs, pa.string()),
            "hf_navn": pa.array([names.get(h, h) for h in hfs], pa.string()),
            "x": pa.array([str(place[c][0]) for c in codes], pa.string()),
            "y": pa.array([str(place[c][1]) for c in codes], pa.string()),
            "personer": rows["personer"],
        }
    )
    dims = ("omrade", "navn", "hf", "hf_navn", "x", "y")
    return _protected("kart", "Kart over opptaksområdene (rutenett)", dims, table)


def _protected(name: str, title: str, dims: tuple[str, ...], rows: pa.Table) -> ProtectedTable:
    return ProtectedTable(
        f"{PREFIX}{name}",
        title,
        dims,
        ("personer",),
        _published(rows.select([*dims, "personer"])),
        notes=(NOTE,),
    )


def _answer(data: Any, table: str, query: RangeQuery) -> ProtectedTable:
    assert isinstance(data, CatchmentData)
    return answer(data, table, query)


def filter_options(
    data: Any, name: str, filters: Mapping[str, str]
) -> list[tuple[str, str]] | None:
    """The values a filter takes: services, levels, and the regions of the chosen service
    in the last year.

    >>> filter_options(None, "tjeneste", {})[0]
    ('SOM', 'Somatikk')
    """
    if name == "tjeneste":
        return list(SERVICE_NAMES.items())
    if name == "niva":
        return [(lv, lv) for lv in LEVELS]
    assert isinstance(data, CatchmentData)
    level = {"rhf": "RHF", "hf": "HF", "omrade": "OMRADE"}[name]
    t = data.befolkning
    t = t.filter(
        pc.and_(
            pc.and_(
                pc.equal(t["tjeneste"], filters.get("tjeneste", "SOM")),
                pc.equal(t["aar"], str(data.last)),
            ),
            pc.and_(pc.equal(t["niva"], level), pc.equal(t["kjonn"], "0")),
        )
    )
    t = t.filter(pc.equal(t["alder"], ALL_AGES))
    return sorted(zip(t["region"].to_pylist(), t["region_navn"].to_pylist(), strict=True))


TABLES: Final = (
    ("befolkning", "Befolkning per opptaksområde, kjønn og ettårig alder (tabell 13982)"),
    ("omrader", "Befolkning RHF → HF → opptaksområde → kommune"),
    ("kommuner", "Befolkning per opptaksområde og kommune"),
    ("kart", "Kart over opptaksområdene (rutenett, farget etter HF)"),
)
TABLE_DEFS: Final = tuple(TableDef(f"{PREFIX}{n}", title, ()) for n, title in TABLES)
_DIMENSIONS: Final = {
    "befolkning": (
        "tjeneste",
        "aar",
        "niva",
        "region",
        "region_navn",
        "overordnet",
        "kjonn",
        "alder",
    ),
    "omrader": ("niva", "rhf", "hf", "omrade", "kommune", "navn"),
    "kommuner": ("tjeneste", "aar", "omrade", "kommune", "kommune_navn"),
    "kart": ("omrade", "navn", "hf", "hf_navn", "x", "y"),
}


def _dimensions(table: TableDef) -> tuple[str, ...]:
    return _DIMENSIONS[table.name.removeprefix(PREFIX)]


CATCHMENT = Statistic(
    name="opptak",
    title="Opptaksområder i spesialisthelsetjenesten",
    description="Population of the catchment areas (opptaksområder) of somatikk, psykisk "
    "helsevern (BUP/VOP), rusbehandling (TSB, derived areas) and DPS per year, kjønn and "
    "single year of age, by area, HF and RHF (SSB table 13982's shape; SYNTHETIC grunnkrets "
    "population summing to the real kommune populations).",
    source_kind="folkemengde",
    spec=CubeSpec("opptak", (), ()),
    tables=TABLE_DEFS,
    measures=("personer",),
    count_measure="personer",
    dimensions=_dimensions,
    needs=Needs(
        classifications=(629, 630, 631, 632),
        correspondences=((629, 131), (630, 131), (631, 131), (632, 131)),
        # a city drawn by bydel is covered by the table to KLASS 103
        covered_together=((629, 131, 103), (630, 131, 103), (631, 131, 103), (632, 131, 103)),
    ),
    serving=Serving(
        ranged=Ranged(
            build=build_data,
            load=load_data,
            months=_months,
            answer=_answer,
            filters=FILTERS,
            earliest=month_index(2015, 1),
            options=filter_options,
        ),
        dashboard=DASHBOARD,
    ),
)

__all__ = [
    "CATCHMENT",
    "FILTERS",
    "SERVICE_NAMES",
    "CatchmentData",
    "answer",
    "build_data",
    "build_inputs",
    "load_data",
    "population_rows",
    "read_population",
]
