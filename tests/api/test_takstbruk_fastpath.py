"""The fast takstbruk path against plain recomputations: the index's selection equals a
filter and sort of the stored table, JSON-stat and Parquet equal publish() of the selected
rows, every format renders the same bytes from kept row fragments as from a fresh index,
the ETag equals etag_for() of the canonical query, and a new release changes every format."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from helsestat.api import create_app
from helsestat.api.caching import etag_for
from helsestat.api.parameters import parse_envelope, parse_query
from helsestat.api.service import TableService
from helsestat.model import ProtectedTable
from helsestat.publish import publish
from helsestat.publish.formats import FORMATS
from helsestat.publish.index import FragmentStore, Query, Selection, TableIndex
from helsestat.reference.seed import packaged_reference
from helsestat.settings import Settings
from helsestat.statistics import STATISTICS
from helsestat.statistics.takstbruk import HELFO_API, HELFO_VIEW, TAKSTBRUK, code_lists
from helsestat.store.lake import Lake
from lakes import claims_release

TABLES = [f"takstbruk/{level}/{period}" for level in ("kommune", "fylke", "landet")
          for period in ("maned", "ar")]  # fmt: skip
GEO = {"kommune": "behandler_kommunenr", "fylke": "behandler_fylke"}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """A lake with one release built from 60 000 synthetic claim lines."""
    return claims_release(tmp_path_factory.mktemp("fastpath"), 60_000, seed=4)


ROUTES = {path: route for route in HELFO_API.routes for path in (route.path, *route.aliases)}
RENDERERS = {name: fmt.render_selection for name, fmt in FORMATS.items()}


@dataclass(frozen=True)
class TakstbrukQuery:
    """A Helfo query as the route's parameters give it: periods as integers (YYYYMM on
    /maned, YYYY on /ar), code tuples sorted and without duplicates."""

    fagomraader: tuple[str, ...]
    fra: int
    til: int
    takstkoder: tuple[str, ...] = ()
    geografi: tuple[str, ...] = ()
    praksistyper: tuple[str, ...] = ()


def select(index: TableIndex, query: TakstbrukQuery, *, medstatus: bool) -> Selection:
    """The index's rows for a Helfo query (the geography on the table's own column)."""
    level = index.source.name.split("/")[1]
    values = {
        "fagomraade": query.fagomraader,
        "takstkode": query.takstkoder,
        "praksis_type_kode": query.praksistyper,
    }
    if level in GEO:
        values[GEO[level]] = query.geografi
    return index.select(Query(values, (query.fra, query.til), with_suppressed=medstatus))


def render(fmt: str, selection: Selection) -> bytes:
    return RENDERERS[fmt](selection, HELFO_VIEW)


def index_of(lake: Lake, table: str) -> TableIndex:
    release = lake.current()
    assert release is not None
    service = TableService(lake, STATISTICS, version="test", reference=packaged_reference)
    return service.indexes.get(release.id, table)


_ROWS: dict[tuple[str, str], list[dict[str, Any]]] = {}


def stored_rows(table: ProtectedTable) -> list[dict[str, Any]]:
    """The rows of a table as dicts (read once per table of a release)."""
    key = (table.release, table.name)
    if key not in _ROWS:
        _ROWS[key] = table.table.to_pylist()
    return _ROWS[key]


def period_of(row: dict[str, Any]) -> int:
    return int(row["ar"]) * 100 + int(row["maned"]) if "maned" in row else int(row["ar"])


def queries(index: TableIndex, count: int, seed: int) -> list[TakstbrukQuery]:
    """Random queries over the codes and periods of the table, from one code per list to
    none (no filter), plus the whole table (a large, sparse JSON-stat cube)."""
    rng = random.Random(seed)
    level = index.source.name.split("/")[1]
    assert index.range_values is not None
    periods = sorted(set(index.range_values.tolist()))
    codes = {
        "fagomraade": index.distinct("fagomraade"),
        "takstkode": index.distinct("takstkode"),
        "praksis_type_kode": index.distinct("praksis_type_kode"),
        GEO.get(level, "-"): index.distinct(GEO[level]) if level in GEO else [],
    }

    def some(name: str, most: int) -> tuple[str, ...]:
        k = rng.choice([0, 1, 1, 2, most])
        return tuple(sorted(rng.sample(codes[name], min(k, len(codes[name])))))

    out = [TakstbrukQuery(tuple(codes["fagomraade"]), periods[0], periods[-1])]
    for _ in range(count):
        fra = rng.randrange(len(periods))
        til = min(len(periods) - 1, fra + rng.randrange(13))
        out.append(
            TakstbrukQuery(
                some("fagomraade", 3) or (rng.choice(codes["fagomraade"]),),
                periods[fra],
                periods[til],
                takstkoder=some("takstkode", 6),
                geografi=some(GEO[level], 8) if level in GEO else (),
                praksistyper=some("praksis_type_kode", 3),
            )
        )
    return out


def expected_rows(index: TableIndex, query: TakstbrukQuery) -> list[dict[str, Any]]:
    """The rows answering ``query`` by a plain filter and sort of the stored rows."""
    level = index.source.name.split("/")[1]

    def wanted(row: dict[str, Any]) -> bool:
        return (
            row["fagomraade"] in query.fagomraader
            and query.fra <= period_of(row) <= query.til
            and (not query.takstkoder or row["takstkode"] in query.takstkoder)
            and (not query.praksistyper or row["praksis_type_kode"] in query.praksistyper)
            and (not query.geografi or row[GEO[level]] in query.geografi)
        )

    def order(row: dict[str, Any]) -> tuple[Any, ...]:
        geo = row[GEO[level]] if level in GEO else ""
        return (period_of(row), geo, row["takstkode"], row["fagomraade"], row["praksis_type_kode"])

    return sorted(filter(wanted, stored_rows(index.source)), key=order)


def subset(selection: Selection) -> ProtectedTable:
    source = selection.index.source
    return ProtectedTable(
        source.name,
        source.title,
        source.dimensions,
        source.measures,
        source.table.take(pa.array(selection.rows)),
        source.release,
        source.notes,
    )


@pytest.mark.parametrize("table", TABLES)
def test_the_selection_equals_a_filter_and_sort_of_the_table(lake: Lake, table: str) -> None:
    index = index_of(lake, table)
    for query in queries(index, 40, seed=len(table)):
        expected = expected_rows(index, query)
        for medstatus in (False, True):
            selection = select(index, query, medstatus=medstatus)
            shown = [r for r in expected if medstatus or r["status"] == "published"]
            assert subset(selection).table.to_pylist() == shown, query
            assert selection.suppressed == len(expected) - sum(
                r["status"] == "published" for r in expected
            )


@pytest.mark.parametrize("table", TABLES)
def test_jsonstat_and_parquet_equal_publish_of_the_selected_rows(lake: Lake, table: str) -> None:
    index = index_of(lake, table)
    layouts = set()
    for query in queries(index, 25, seed=len(table) + 1):
        for medstatus in (False, True):
            selection = select(index, query, medstatus=medstatus)
            rows = subset(selection)
            got = orjson.loads(render("jsonstat", selection))
            assert got == orjson.loads(publish(rows, "jsonstat")), query
            layouts.add(type(got["value"]).__name__)
            layouts.update(set(got.get("status", {}).values()) & {"absent", "primary"})
            ours = pq.read_table(io.BytesIO(render("parquet", selection)))
            theirs = pq.read_table(io.BytesIO(publish(rows, "parquet")))
            assert ours.equals(theirs), query
            assert ours.schema.metadata == theirs.schema.metadata
    # both value layouts were met: the dense array and the sparse object (the whole table)
    assert {"list", "dict"} <= layouts
    if table == "takstbruk/kommune/ar":  # and absent cells beside suppressed ones
        assert {"absent", "primary"} <= layouts


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_every_format_renders_the_same_bytes_from_kept_fragments(lake: Lake, fmt: str) -> None:
    warm = index_of(lake, "takstbruk/kommune/maned")
    release = lake.current()
    assert release is not None
    # an index with no budget for fragments renders every row afresh, every time
    table = warm.source.name
    fresh = TableIndex.build(
        lake.read_table(release, table), TAKSTBRUK.serving.key(table), FragmentStore([0])
    )
    chosen = queries(warm, 12, seed=9)
    for query in chosen:  # render every row once: the second round reads kept fragments
        for medstatus in (False, True):
            render(fmt, select(warm, query, medstatus=medstatus))
    assert not any(fresh.fragments.by_format.values())
    for query in chosen:
        for medstatus in (False, True):
            again = render(fmt, select(warm, query, medstatus=medstatus))
            assert again == render(fmt, select(fresh, query, medstatus=medstatus)), query


_CODES = code_lists(packaged_reference())
_PICK = {
    "fagomraade": list(_CODES["fagomraader"])[:6],
    "takstkoder": ["H1", "2ad", "2dd", "701a"],
    "kommuner": ["0301", "1103", "4601"],
    "fylker": ["03", "11", "46"],
    "praksistyper": list(_CODES["praksistyper"])[:4],
}


@settings(max_examples=60, deadline=None)
@given(
    path=st.sampled_from(sorted(ROUTES)),
    picks=st.fixed_dictionaries(
        {name: st.lists(st.sampled_from(codes), max_size=3) for name, codes in _PICK.items()}
    ),
    split=st.booleans(),
    years=st.tuples(st.integers(2015, 2025), st.integers(0, 1)),
    medstatus=st.booleans(),
    fmt=st.sampled_from(["json", "xml", "csv", "xlsx", "jsonstat", "parquet"]),
)
def test_the_etag_equals_etag_for_the_canonical_query(
    path: str,
    picks: dict[str, list[str]],
    split: bool,
    years: tuple[int, int],
    medstatus: bool,
    fmt: str,
) -> None:
    """However a query is spelled (codes in any order, repeated, a list given as several
    parameters), its ETag is etag_for() of the canonical query: sorted, unique codes."""
    route = ROUTES[path]
    picks["fagomraade"] = picks["fagomraade"] or ["LE"]
    first, last = years[0], years[0] + years[1]
    if route.period and route.period.digits == 6:
        first, last = first * 100 + 1, last * 100 + 1
    items: list[tuple[str, str]] = []
    canonical: dict[str, tuple[str, ...]] = {}
    for parameter in route.parameters:
        codes = picks[parameter.name]
        canonical[parameter.name] = tuple(sorted(set(codes)))
        if split and len(codes) > 1:
            items += [(parameter.name, code) for code in reversed(codes)]
        elif codes:
            items.append((parameter.name, ",".join(codes)))
    assert route.period is not None
    items += [(route.period.first, str(first)), (route.period.last, str(last))]
    canonical |= {route.period.first: (str(first),), route.period.last: (str(last),)}
    canonical["medstatus"] = ("ja" if medstatus else "nei",)
    items.append(("medstatus", "ja" if medstatus else "nei"))
    if route.format_parameter:
        items.append(("format", fmt))
    envelope = parse_envelope(route, HELFO_API, items)
    parsed = parse_query(route, envelope.params, _CODES)
    got = etag_for("r1", route.path, {**parsed.canonical, "medstatus": canonical["medstatus"]},
                   route.fixed_format or envelope.format or "json", version="9.9")  # fmt: skip
    expected = etag_for(
        "r1", route.path, canonical, route.fixed_format or fmt if route.format_parameter
        else route.fixed_format or "json", version="9.9",
    )  # fmt: skip
    assert got == expected


def kommune_ar(release: str, antall: list[int | None]) -> ProtectedTable:
    """Three cells of 0301/1103 × 2023/2024 (1103/2024 absent); ``None`` is suppressed."""
    keys = [("2023", "0301"), ("2024", "0301"), ("2023", "1103")]
    status = ["published" if a is not None else "primary" for a in antall]
    tdef = next(t for t in TAKSTBRUK.tables if t.name == "takstbruk/kommune/ar")
    measures = {
        m: pa.array(
            [None if a is None else (a if i < 2 else a * 1.5) for a in antall],
            pa.int64() if i < 2 else pa.float64(),
        )
        for i, m in enumerate(TAKSTBRUK.measures)
    }
    return ProtectedTable(
        tdef.name,
        tdef.title,
        TAKSTBRUK.dimensions(tdef),
        TAKSTBRUK.measures,
        pa.table(
            {
                "ar": [a for a, _ in keys],
                "takstkode": ["2ad"] * 3,
                "fagomraade": ["LE"] * 3,
                "praksis_type_kode": ["FALE"] * 3,
                "behandler_kommunenr": [k for _, k in keys],
                "behandler_fylke": [k[:2] for _, k in keys],
                **measures,
                "status": status,
                "status_rule": ["" if s == "published" else "sum_antall_takst<=5" for s in status],
            }
        ),
        release=release,
        notes=(tdef.rules_note,),
    )


def test_a_new_release_changes_every_format_and_its_etag(tmp_path: Path) -> None:
    url = "/v1/takstbruk/agtakst/kommune/ar?fagomraade=LE&fomar=2023&tomar=2024&medstatus=ja"
    with Lake(tmp_path).release("r1") as release:
        release.add(kommune_ar("r1", [10, None, 30]))
    with TestClient(create_app(Settings(demo_mode=True, data_dir=tmp_path))) as client:
        client.app.state.tables.recheck_seconds = 0  # type: ignore[attr-defined]
        before = {fmt: client.get(f"{url}&format={fmt}") for fmt in RENDERERS}
        with Lake(tmp_path).release("r2") as release:
            release.add(kommune_ar("r2", [11, None, 31]))
        after = {fmt: client.get(f"{url}&format={fmt}") for fmt in RENDERERS}
    for fmt in RENDERERS:
        assert after[fmt].status_code == 200
        assert after[fmt].content != before[fmt].content, fmt
        assert after[fmt].headers["etag"] != before[fmt].headers["etag"], fmt
        assert after[fmt].headers["x-helsestat-release"] == "r2"
    rows = kommune_ar("r2", [11, None, 31])
    ordered = ProtectedTable(**{**rows.__dict__, "table": rows.table.take(pa.array([0, 2, 1]))})
    assert orjson.loads(after["jsonstat"].content) == orjson.loads(publish(ordered, "jsonstat"))
    assert pq.read_table(io.BytesIO(after["parquet"].content)).equals(
        pq.read_table(io.BytesIO(publish(ordered, "parquet")))
    )


def test_absent_status_texts_past_the_kept_ones() -> None:
    from helsestat.publish.formats.jsonstat import _absent_texts

    texts = _absent_texts(2, [0, 3, 10_001])
    assert orjson.loads(b"{" + b",".join(texts) + b"}") == {
        "0": "absent",
        "1": "absent",
        "6": "absent",
        "7": "absent",
        "20002": "absent",
        "20003": "absent",
    }
