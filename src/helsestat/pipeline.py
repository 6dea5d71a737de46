"""The pipeline, read as the diagram:

    extract ─► ingest ─► validate + pseudonymise ─► store ─► aggregate ─► protect ─► publish

``ingest_file`` runs the first three stages for one file; ``build`` runs the rest for every
statistic and writes one new release, switched in atomically when complete.

>>> import tempfile
>>> from pathlib import Path
>>> from helsestat.store.lake import Lake
>>> lake = Lake(Path(tempfile.mkdtemp()))
>>> from helsestat.aggregate import DuckDBEngine
>>> build(lake, DuckDBEngine(), mode="compat", threshold=5).tables[0]
'takstbruk/kommune/maned'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from helsestat.aggregate import Engine, aggregate
from helsestat.ingest.readers import file_checksum, read_extract
from helsestat.model import Batch, ProtectedTable, ReleaseInfo
from helsestat.protect import protect_table
from helsestat.protect.rules import FrequencyRule, Rule
from helsestat.statistics import STATISTICS, Statistic, TableDef
from helsestat.store.extracts import committed_files, is_stored, store_extract
from helsestat.store.lake import Lake
from helsestat.validate import spec_for, validate

Progress = Callable[[str], None]


def ingest_file(path: Path, kind: str, key: bytes, lake: Lake) -> Batch:
    """Read, validate, pseudonymise and store one extract file; a file stored before is a
    no-op (its earlier batch is returned with ``already_stored=True``)."""
    spec = spec_for(kind)
    previous = is_stored(lake, kind, file_checksum(path)) if path.is_file() else None
    if previous is not None:
        return previous
    raw = read_extract(path, kind)
    clean = validate(raw, spec, key)
    return store_extract(clean, lake, spec.partition_column)


def rules_for(
    statistic: Statistic, table: TableDef, mode: Literal["compat", "full"], threshold: int
) -> tuple[Rule, ...]:
    """Compat: the replaced API's documented rules. Full: those plus the frequency rule."""
    if mode == "compat":
        return table.compat_rules
    return (*table.compat_rules, FrequencyRule(statistic.count_measure, threshold))


def protect_statistic(
    statistic: Statistic,
    files: Sequence[Path],
    engine: Engine,
    mode: Literal["compat", "full"],
    threshold: int,
) -> list[ProtectedTable]:
    """Aggregate one statistic and protect each of its tables."""
    cube = aggregate(files, statistic.spec, engine)
    out = []
    for tdef in statistic.tables:
        finished = statistic.finish(cube.tables[tdef.grouping], tdef)
        notes = (tdef.rules_note,) if tdef.rules_note and mode == "compat" else ()
        out.append(
            protect_table(
                tdef.name,
                tdef.title,
                finished,
                statistic.dimensions(tdef),
                statistic.measures,
                rules_for(statistic, tdef, mode, threshold),
                notes,
            )
        )
    return out


def build(
    lake: Lake,
    engine: Engine,
    *,
    mode: Literal["compat", "full"],
    threshold: int,
    statistics: Sequence[Statistic] = STATISTICS,
    release_id: str | None = None,
    progress: Progress | None = None,
) -> ReleaseInfo:
    """Build every statistic from the stored extracts into a new release and make it current."""
    with lake.release(release_id) as release:
        for statistic in statistics:
            if progress:
                progress(f"building {statistic.name}")
            files = committed_files(lake, statistic.source_kind)
            for table in protect_statistic(statistic, files, engine, mode, threshold):
                release.add(table)
    current = lake.current()
    assert current is not None
    return current
