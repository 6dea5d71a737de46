"""The behandlingssted's name beside its RESH id in the NPR activity tables (SYNTHETIC stored
episodes, a unit registry of :func:`npr_lake.npr_reference`): each period's row carries the
name the registry held at the period's end (or on the unit's last day), an id the registry
does not hold is named by itself, the name comes from the reference snapshot the build is
given (without one the tables cannot be finished), and a build from the caches publishes the
same tables as one without — a unit renamed in the registry included, whose new name the
next build publishes under a new release (so a new ETag)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from npr_lake import (
    ABSENT_UNIT,
    CLOSING_NAMES,
    CLOSING_UNIT,
    NEW_NAME,
    OLD_NAME,
    RENAMED_ON,
    RENAMED_UNIT,
    npr_lake,
    npr_reference,
    unit_name,
)

from helsestat.aggregate import DuckDBEngine, aggregate
from helsestat.api import create_app
from helsestat.build import build, protect_statistic
from helsestat.errors import ProtectionError
from helsestat.model import ProtectedTable
from helsestat.model.cube import Measure
from helsestat.reference.snapshot import Reference
from helsestat.settings import Settings
from helsestat.statistics import Statistic
from helsestat.statistics.npr import NPR_ACTIVITY, NPR_STATISTICS
from helsestat.statistics.npr.cube import MEASURES
from helsestat.statistics.serving import Serving
from helsestat.store.lake import Lake
from helsestat.store.lake.extracts import committed_files

#: The activity statistics (NPR's and SSB's figure): the tables with behandlingssteder.
ACTIVITY = [s for s in NPR_STATISTICS if s.name in ("npr", "npr_ssb")]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, pa.Table]:
    return npr_lake(tmp_path_factory.mktemp("npr-names"), rows=1500)


def _build(
    lake: Lake,
    reference: Reference,
    *,
    cache: bool,
    progress: list[str] | None = None,
    statistics: Sequence[Statistic] = ACTIVITY,
) -> dict[str, ProtectedTable]:
    with DuckDBEngine(threads=2) as engine:
        release = build(
            lake,
            engine,
            mode="compat",
            threshold=3,
            reference=reference,
            statistics=statistics,
            cache=cache,
            progress=progress.append if progress is not None else None,
        )
    return {name: lake.read_table(release, name) for name in release.tables}


def _names(table: ProtectedTable, period: str) -> dict[tuple[str, str], set[str]]:
    """(period, behandlingssted id) → the names its rows carry."""
    out: dict[tuple[str, str], set[str]] = {}
    for row in table.table.select(
        [period, "behandlingssted_id", "behandlingssted_navn"]
    ).to_pylist():
        out.setdefault((row[period], row["behandlingssted_id"]), set()).add(
            row["behandlingssted_navn"]
        )
    return out


def _want(unit: int, period: str) -> str:
    """The name of ``unit`` in ``period`` as the registry of :func:`npr_reference` holds it,
    by the rule: on the period's last day, or on the unit's last day if it closed before."""
    year, month = int(period[:4]), int(period[4:] or 12)
    last = date(year, month, 28)  # every rename of the registry is on a day ≤ 28
    if unit == ABSENT_UNIT:
        return str(unit)
    if unit == RENAMED_UNIT:
        return OLD_NAME if last < RENAMED_ON else NEW_NAME
    if unit == CLOSING_UNIT:
        return CLOSING_NAMES[0] if last < date(2024, 5, 1) else CLOSING_NAMES[1]
    return unit_name(unit)


def test_each_period_gets_the_name_at_its_end(made: tuple[Lake, pa.Table]) -> None:
    lake, episodes = made
    tables = _build(lake, npr_reference(episodes), cache=False)
    for prefix in ("npr/", "npr/ssb/"):
        years = _names(tables[f"{prefix}behandlingssted/ar"], "ar")
        months = _names(tables[f"{prefix}behandlingssted/maned"], "maned")
        for (period, unit), names in (years | months).items():
            assert names == {_want(int(unit), period)}, (prefix, period, unit)
        # renamed on 15 March 2024: the old name in 2023 and until February 2024, the new
        # one from March (the month's last day is after the rename) and for the year 2024
        assert years[("2023", str(RENAMED_UNIT))] == {OLD_NAME}
        assert years[("2024", str(RENAMED_UNIT))] == {NEW_NAME}
        renamed = {p: n for (p, u), n in months.items() if u == str(RENAMED_UNIT)}
        assert {n for p, (n,) in renamed.items() if p >= "202403"} == {NEW_NAME}
        assert {n for p, (n,) in renamed.items() if p < "202403"} == {OLD_NAME}
        # renamed on 1 May 2024 and closed on 1 September 2024: the year and the months
        # after its closing get the name it had on its last day
        assert years[("2024", str(CLOSING_UNIT))] == {CLOSING_NAMES[1]}
        closing = {p: n for (p, u), n in months.items() if u == str(CLOSING_UNIT)}
        assert any(p >= "202409" for p in closing)
        # not in the registry: the id is its own name
        assert years[("2024", str(ABSENT_UNIT))] == {str(ABSENT_UNIT)}
        assert tables[f"{prefix}behandlingssted/ar"].dimensions[-2:] == (
            "behandlingssted_id",
            "behandlingssted_navn",
        )
        assert any("behandlingssted_navn" in n for n in tables[f"{prefix}behandlingssted/ar"].notes)
        # the tables above the behandlingssted have no such column
        assert "behandlingssted_navn" not in tables[f"{prefix}hf/ar"].table.column_names


def test_without_the_reference_a_table_cannot_be_finished(made: tuple[Lake, pa.Table]) -> None:
    lake, episodes = made
    files = committed_files(lake, "npr_episode")
    with DuckDBEngine(threads=2) as engine:
        cube = aggregate(files, NPR_ACTIVITY.spec, engine)
        with pytest.raises(ProtectionError) as raised:
            protect_statistic(NPR_ACTIVITY, files, engine, "compat", 3, cube=cube)
        assert raised.value.code == "protect.reference_missing"
        # full mode finishes the same way (no cache): the names are there too
        ready = NPR_ACTIVITY.with_reference(npr_reference(episodes))
        full = protect_statistic(ready, files, engine, "full", 5, cube=cube)
    by_name = {t.name: t for t in full}
    years = _names(by_name["npr/behandlingssted/ar"], "ar")
    assert years[("2024", str(RENAMED_UNIT))] == {NEW_NAME}


def test_cached_builds_equal_uncached_and_follow_a_rename(tmp_path: Path) -> None:
    lake, episodes = npr_lake(tmp_path, rows=1200)
    reference = npr_reference(episodes)
    whole = _build(lake, reference, cache=False)
    cold = _build(lake, reference, cache=True)
    warm = _build(lake, reference, cache=True)
    warm_release = lake.current()
    for name, table in whole.items():
        assert cold[name].table.equals(table.table), name
        assert warm[name].table.equals(table.table), name
    # a unit renamed in the registry (the reference snapshot the next build is given)
    unit = next(u for u in sorted(set(episodes.column("behandlingssted_id").to_pylist()))
                if u not in (RENAMED_UNIT, CLOSING_UNIT, ABSENT_UNIT))  # fmt: skip
    renamed = npr_reference(episodes, {unit: (date(2023, 6, 1), "Nytt navn")})
    after = _build(lake, renamed, cache=True)
    fresh = _build(lake, renamed, cache=False)
    for name, table in fresh.items():
        assert after[name].table.equals(table.table), name
    years = _names(after["npr/behandlingssted/ar"], "ar")
    months = _names(after["npr/behandlingssted/maned"], "maned")
    assert years[("2023", str(unit))] == years[("2024", str(unit))] == {"Nytt navn"}
    assert months[("202305", str(unit))] == {unit_name(unit)}
    assert months[("202306", str(unit))] == {"Nytt navn"}
    # the counts did not change, only the name
    before = whole["npr/behandlingssted/ar"].table.drop_columns(["behandlingssted_navn"])
    assert (
        after["npr/behandlingssted/ar"].table.drop_columns(["behandlingssted_navn"]).equals(before)
    )
    # the API answers the new name under the new release, with another ETag
    settings = Settings(demo_mode=True, data_dir=lake.root)
    assert warm_release is not None and len(lake.list_releases()) == 5
    with TestClient(create_app(settings)) as client:
        path = "/api/v1/tables/npr/behandlingssted/ar"
        now = client.get(path, params={"ar": "2024", "behandlingssted_id": str(unit)})
        old = client.get(
            path,
            params={"ar": "2024", "behandlingssted_id": str(unit), "release": warm_release.id},
        )
        assert now.status_code == old.status_code == 200
        assert {r["behandlingssted_navn"] for r in now.json()} == {"Nytt navn"}
        assert {r["behandlingssted_navn"] for r in old.json()} == {unit_name(unit)}
        assert now.headers["etag"] != old.headers["etag"]


def test_cached_pieces_are_keyed_on_the_names(tmp_path: Path) -> None:
    # The activity tables count distinct patients, so they are finished whole on every
    # build; a statistic of additive counts is finished piece by piece from the cache
    # (build.incremental.protect_by_period): the same tables with ``pasienter`` an additive
    # count of episodes instead.
    additive = replace(
        NPR_ACTIVITY,
        name="npr_additive",
        spec=replace(
            NPR_ACTIVITY.spec,
            name="npr_additive",
            measures=tuple(
                Measure(m.name, "count") if m.kind == "count_distinct" else m for m in MEASURES
            ),
        ),
        tables=tuple(replace(t, name=f"additive/{t.name}") for t in NPR_ACTIVITY.tables),
        serving=Serving(),
    )
    lake, episodes = npr_lake(tmp_path, rows=1200)
    reference = npr_reference(episodes)
    said: list[str] = []
    whole = _build(lake, reference, cache=False, statistics=[additive])
    cold = _build(lake, reference, cache=True, statistics=[additive])
    warm = _build(lake, reference, cache=True, statistics=[additive], progress=said)
    # four month tables of 24 months, four year tables of two years
    assert "npr_additive: 0 of 104 table pieces to compute" in said
    for name, table in whole.items():
        assert cold[name].table.equals(table.table), name
        assert warm[name].table.equals(table.table), name
    renamed = npr_reference(episodes, {RENAMED_UNIT: (date(2024, 8, 1), "Tredje navn")})
    said.clear()
    after = _build(lake, renamed, cache=True, statistics=[additive], progress=said)
    assert "npr_additive: 104 of 104 table pieces to compute" in said
    fresh = _build(lake, renamed, cache=False, statistics=[additive])
    for name, table in fresh.items():
        assert after[name].table.equals(table.table), name
    years = _names(after["additive/npr/behandlingssted/ar"], "ar")
    assert years[("2024", str(RENAMED_UNIT))] == {"Tredje navn"}
    assert years[("2023", str(RENAMED_UNIT))] == {OLD_NAME}


def test_full_mode_links_cells_by_their_codes(tmp_path: Path) -> None:
    # Full protection links months to years and every release to the earlier ones: a
    # renamed unit's month rows and year row (and its rows in the release before the
    # rename) are the same cells under other names.
    lake, episodes = npr_lake(tmp_path, rows=1200)
    renamed = npr_reference(episodes, {RENAMED_UNIT: (date(2024, 8, 1), "Tredje navn")})
    said: list[str] = []
    with DuckDBEngine(threads=2) as engine:
        for reference in (npr_reference(episodes), renamed):
            release = build(
                lake,
                engine,
                mode="full",
                threshold=5,
                reference=reference,
                statistics=ACTIVITY[:1],
                cache=False,
                progress=said.append,
            )
    table = lake.read_table(release, "npr/behandlingssted/ar")
    assert table.dimensions == NPR_ACTIVITY.dimensions(NPR_ACTIVITY.tables[1])
    assert "npr: protecting against 1 earlier release(s)" in said
    assert _names(table, "ar")[("2024", str(RENAMED_UNIT))] == {"Tredje navn"}
    months = _names(lake.read_table(release, "npr/behandlingssted/maned"), "maned")
    assert months[("202407", str(RENAMED_UNIT))] == {NEW_NAME}
    assert "secondary" in table.table.column("status").to_pylist()
