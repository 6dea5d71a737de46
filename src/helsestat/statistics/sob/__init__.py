"""1177 Stöd och behandling (Inera, seed 003): the twelve measures of the statistics of the
internet-based support and treatment programmes, exact for any month range.

Declared here, as every statistic is: the extract kind it reads (``sob``), its tables, how
they are served (computed per query from the range cube its build stores with the release:
:mod:`.measures` says what is counted, :mod:`.cases` how, :mod:`.answers` the tables and their
protection) and its dashboard. The labels and the pages are Swedish, as its users are.

>>> [t.name for t in SOB.tables][:3]
['sob/lan', 'sob/veckodag', 'sob/process']
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from helsestat.aggregate.duckdb_engine import DuckDBEngine
from helsestat.aggregate.ranges import (
    MONTH,
    RangeCube,
    RangeState,
    RangeTables,
    build_ranges,
    extend_ranges,
    month_index,
    range_state,
)
from helsestat.model import ProtectedTable
from helsestat.model.cube import CubeSpec
from helsestat.publish.index import Columns
from helsestat.reference.preflight import Needs
from helsestat.reference.snapshot import Reference
from helsestat.reference.sweden import SWEDISH_REGIONS
from helsestat.statistics.base import Statistic, TableDef
from helsestat.statistics.serving import CARRIED, Ranged, RangeQuery, Serving
from helsestat.statistics.sob.answers import (
    BY_NAME,
    FILTERS,
    TABLES,
    SobData,
    answer,
    answer_columns,
)
from helsestat.statistics.sob.cases import UNKNOWN_LAN, SobFacts, range_facts
from helsestat.statistics.sob.dashboard import DASHBOARD, filter_options
from helsestat.statistics.sob.measures import DISTINCT, spec_for

#: Data are shown from October 2015 (seed 003: "Data visas för oktober 2015 och framåt").
EARLIEST: Final = month_index(2015, 10)
PREFIX: Final = "sob/"


def unit_directory(reference: Reference) -> pa.Table:
    """The unit directory of the registry (HSA-id → current HSA-id, län), or an empty one.

    >>> from helsestat.reference.seed import packaged_reference
    >>> unit_directory(packaged_reference()).column_names[:3]
    ['hsaid', 'current_hsaid', 'lan']
    """
    if reference.hsa_units is not None:
        return reference.hsa_units
    empty = pa.array([], pa.string())
    return pa.table({"hsaid": empty, "current_hsaid": empty, "lan": empty})


#: The names of the data a build carries to the next month's (:func:`extend_data`), beside
#: the release's: cached with them, never published (:data:`~helsestat.statistics.serving.
#: CARRIED`).
_CASES: Final = f"{CARRIED}arenden"
_FINEST: Final = f"{CARRIED}finest"
_LAST: Final = f"{CARRIED}month"


def build_data(
    files: Sequence[Path], reference: Reference, engine: DuckDBEngine
) -> dict[str, pa.Table]:
    """The release's data of the statistic, from the stored ``sob`` events: the range cube
    (nodes, flows, the points and splits of each distinct measure), the avslutningsorsaker,
    the names of units and län, and the population per län and year; and what the next
    month's build carries forward (:func:`extend_data`)."""
    units = unit_directory(reference)
    facts = range_facts(files, units, engine)
    spec = spec_for(len(facts.reasons))
    built = build_ranges(spec, facts.facts, threads=engine.threads or os.cpu_count() or 1)
    state = range_state(spec, facts.facts)
    return _data(built, state, facts, facts.reasons, reference, units)


def extend_data(
    previous: Mapping[str, pa.Table],
    files: Sequence[Path],
    reference: Reference,
    engine: DuckDBEngine,
) -> dict[str, pa.Table] | None:
    """The data of :func:`build_data` over the events it was built from and one more month
    of events (``files``), computed from the month and what ``previous`` (its data) carried:
    the ärenden open at the last month's end (and every ärende's treaters so far) and, per
    distinct measure, the last month each person or treater was seen per finest cell. The
    result equals :func:`build_data` over every file.

    None when the month cannot simply be added, and the caller builds from every file: the
    files hold more than one month, or a month not after every earlier one (a correction or
    a month delivered again), or a new avslutningsorsak (the flows are numbered by them),
    or an ärende started before the month gained a treater in it (the treaters counted in
    its start month change)."""
    if _CASES not in previous:
        return None
    units = unit_directory(reference)
    reasons = tuple(str(r) for r in previous["reasons"]["reason"].to_pylist())
    last = previous[_LAST]["month"][0].as_py()
    months = _event_months(files, engine)
    if len(months) != 1 or (last is not None and months[0] <= last):
        return None
    month = months[0]
    facts = range_facts(
        files, units, engine, carried=previous[_CASES], month=month, reasons=reasons
    )
    if facts.grown or not set(facts.reasons) <= set(reasons):
        return None
    spec = spec_for(len(reasons))
    tables = RangeTables(
        previous["nodes"],
        previous["flows"],
        {m.name: previous[f"points_{m.name}"] for m in DISTINCT},
        {m.name: previous[f"splits_{m.name}"] for m in DISTINCT},
    )
    state = RangeState(
        previous[_FINEST], {m.name: previous[f"{CARRIED}seen_{m.name}"] for m in DISTINCT}
    )
    built, state = extend_ranges(spec, tables, state, facts.facts, month)
    return _data(built, state, facts, reasons, reference, units)


def _event_months(files: Sequence[Path], engine: DuckDBEngine) -> list[int]:
    """The months (:func:`month_index`) of the ``Process`` events in ``files``."""
    paths = ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)
    cursor = engine._cursor()
    try:
        rows = cursor.execute(
            f"""SELECT DISTINCT year(tidpunkt) * 12 + month(tidpunkt) - 1
                FROM read_parquet([{paths}], union_by_name = true)
                WHERE arendetyp = 'Process' ORDER BY 1"""
        ).fetchall()
    finally:
        cursor.close()
    return [int(r[0]) for r in rows]


def _data(
    built: RangeTables,
    state: RangeState,
    facts: SobFacts,
    reasons: Sequence[str],
    reference: Reference,
    units: pa.Table,
) -> dict[str, pa.Table]:
    """The data :func:`build_data` stores, from the built cube and what it carries."""
    names: dict[str, str] = {UNKNOWN_LAN: "Okänt län"}
    lan = reference.lan()
    names |= lan.names
    current = units.filter(pc.equal(units["hsaid"], units["current_hsaid"]))
    if "name" in current.column_names:
        names |= dict(zip(current["hsaid"].to_pylist(), current["name"].to_pylist(), strict=True))
    months = pc.min_max(built.flows[MONTH]).as_py() if built.flows.num_rows else {}
    first = (months.get("min") or EARLIEST) // 12
    last = (months.get("max") or EARLIEST) // 12
    population = [
        (code, year, *found)
        for code in sorted(lan.names)
        for year in range(first, last + 1)
        if (found := lan.population_for(code, year)) is not None
    ]
    data = {
        "nodes": built.nodes,
        "flows": built.flows,
        "reasons": pa.table({"reason": pa.array(list(reasons), pa.string())}),
        "names": pa.table(
            {"code": pa.array(list(names), pa.string()), "name": pa.array(list(names.values()))}
        ),
        "population": pa.table(
            {
                "lan": pa.array([p[0] for p in population], pa.string()),
                "year": pa.array([p[1] for p in population], pa.int32()),
                "population": pa.array([p[2] for p in population], pa.int64()),
                "published": pa.array([p[3] for p in population], pa.int32()),
            }
        ),
    }
    for measure in DISTINCT:
        data[f"points_{measure.name}"] = built.points[measure.name]
        data[f"splits_{measure.name}"] = built.splits[measure.name]
    if facts.carried is not None:
        data[_CASES] = facts.carried
        data[_FINEST] = state.finest
        data[_LAST] = pa.table({"month": pa.array([facts.last_month], pa.int32())})
        for measure in DISTINCT:
            data[f"{CARRIED}seen_{measure.name}"] = state.last_seen[measure.name]
    return data


def build_inputs(reference: Reference) -> str:
    """A digest of everything :func:`build_data` reads besides the events: the unit
    directory, the län's names and population, and the source of the code that computes
    the data (this package and :mod:`helsestat.aggregate.ranges`). The build reuses the data
    of unchanged events while it is the same.

    >>> from helsestat.reference.seed import packaged_reference
    >>> len(build_inputs(packaged_reference()))
    64
    """
    import hashlib

    from helsestat.aggregate import ranges

    digest = hashlib.sha256()
    sink = pa.BufferOutputStream()
    units = unit_directory(reference)
    with pa.ipc.new_stream(sink, units.schema) as writer:
        writer.write_table(units)
    digest.update(sink.getvalue().to_pybytes())
    lan = reference.lan()
    digest.update(repr((sorted(lan.names.items()), sorted(lan.figures.items()))).encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    digest.update(Path(ranges.__file__).read_bytes())
    return digest.hexdigest()


def load_data(tables: Mapping[str, pa.Table]) -> SobData:
    """What :func:`build_data` stored, ready for :func:`~.answers.answer`."""
    reasons = tuple(str(r) for r in tables["reasons"]["reason"].to_pylist())
    spec = spec_for(len(reasons))
    cube = RangeCube(
        spec,
        RangeTables(
            tables["nodes"],
            tables["flows"],
            {m.name: tables[f"points_{m.name}"] for m in DISTINCT},
            {m.name: tables[f"splits_{m.name}"] for m in DISTINCT},
        ),
    )
    flows = tables["flows"]
    months = pc.min_max(flows[MONTH]).as_py() if flows.num_rows else {}
    population = {
        (str(r["lan"]), int(r["year"])): (int(r["population"]), int(r["published"]))
        for r in tables["population"].to_pylist()
    }
    names = dict(
        zip(tables["names"]["code"].to_pylist(), tables["names"]["name"].to_pylist(), strict=True)
    )
    return SobData(
        cube,
        reasons,
        names,
        population,
        int(months.get("min") or EARLIEST),
        int(months.get("max") or EARLIEST),
    )


def _months(data: Any) -> tuple[int, int]:
    assert isinstance(data, SobData)
    return data.first, data.last


def _answer(data: Any, table: str, query: RangeQuery) -> ProtectedTable:
    assert isinstance(data, SobData)
    return answer(data, table, query)


def _columns(data: Any, table: str, query: RangeQuery, release: str) -> Columns:
    assert isinstance(data, SobData)
    return answer_columns(data, table, query, release)


TABLE_DEFS: Final = tuple(TableDef(f"{PREFIX}{t.name}", t.title, ()) for t in TABLES)


def _dimensions(table: TableDef) -> tuple[str, ...]:
    return BY_NAME[table.name.removeprefix(PREFIX)].dimensions


SOB = Statistic(
    name="sob",
    title="1177 Stöd och behandling",
    description="Ärenden of the internet-based support and treatment programmes of 1177 Stöd "
    "och behandling (Inera): started, ongoing and finished moment per län, vårdgivare, "
    "vårdenhet, process and moment, and the persons and treaters behind them, for any "
    "month range (SYNTHETIC in the demo).",
    source_kind="sob",
    spec=CubeSpec("sob", (), ()),
    tables=TABLE_DEFS,
    measures=tuple(dict.fromkeys(m for t in TABLES for m in t.measures)),
    count_measure="startade",
    dimensions=_dimensions,
    needs=Needs(classifications=(SWEDISH_REGIONS,)),
    serving=Serving(
        ranged=Ranged(
            build=build_data,
            extend=extend_data,
            load=load_data,
            months=_months,
            answer=_answer,
            columns=_columns,
            filters=FILTERS,
            earliest=EARLIEST,
            options=filter_options,
            options_complete=True,
        ),
        dashboard=DASHBOARD,
    ),
)

__all__ = ["EARLIEST", "SOB", "build_data", "extend_data", "load_data", "unit_directory"]
