"""The pipeline, read as the diagram:

    extract ─► ingest ─► validate + pseudonymise ─► store ─► aggregate ─► protect ─► publish

``ingest_file`` runs the first three stages for one file; ``build`` runs the rest for every
statistic and writes one new release, switched in atomically when complete. Both take the
reference snapshot (:class:`~helsestat.reference.snapshot.Reference`, the reference
database's content) that validation checks codes against and the rules read population from.

A build is incremental (:mod:`helsestat.build.incremental`): phase 1 is computed per month
partition and cached until the partition's files change, and in compat mode each published
table is published as cached per-period pieces, so a new month costs a scan of that month
and the pieces of its month and year, not the history (the release links the other pieces'
files). A statistic computed per query that declares how (``Ranged.extend``, e.g. SOB's
range cube) adds a new month to its cached data instead of building from every month.

>>> import tempfile
>>> from pathlib import Path
>>> from helsestat.store.lake import Lake, ReleaseWriter
>>> lake = Lake(Path(tempfile.mkdtemp()))
>>> from helsestat.aggregate import DuckDBEngine
>>> from helsestat.reference.seed import packaged_reference
>>> build(lake, DuckDBEngine(), mode="compat", threshold=5,
...       reference=packaged_reference()).tables[0]
'takstbruk/kommune/maned'
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from helsestat.aggregate import (
    DuckDBEngine,
    Engine,
    aggregate,
    rollup,
)
from helsestat.build.distinct import aggregate_by_period
from helsestat.build.incremental import (
    Phase1,
    Progress,
    phase1_by_partition,
    protect_alone,
    protect_by_period,
    rules_for,
    stored_spec,
    whole_key,
)
from helsestat.ingest.readers import file_checksum, read_extract
from helsestat.model import Batch, CleanExtract, Cube, PartedTable, ProtectedTable, ReleaseInfo
from helsestat.protect import TableToProtect, protect_tables
from helsestat.reference.snapshot import Reference
from helsestat.statistics import STATISTICS, Statistic, catchment, sob
from helsestat.statistics.serving import CARRIED
from helsestat.store.lake import Lake, ReleaseWriter
from helsestat.store.lake.cache import ComputedCache, WholeCache
from helsestat.store.lake.extracts import (
    committed_files,
    is_stored,
    store_extract,
    stored_line_keys,
)
from helsestat.validate import spec_for, validate


def ingest_file(
    path: Path,
    kind: str,
    key: bytes,
    lake: Lake,
    reference: Reference,
    *,
    today: date | None = None,
) -> Batch:
    """Read, validate (against the code lists of ``reference``), pseudonymise and store one
    extract file; a file stored before is a no-op (its earlier batch is returned with
    ``already_stored=True``). Rows whose line an earlier file stored go to quarantine;
    ``today`` (default: the date now where the kind's dates are written) bounds the dates."""
    spec = spec_for(kind)
    previous = is_stored(lake, kind, file_checksum(path)) if path.is_file() else None
    if previous is not None:
        return previous
    clean = check_file(path, kind, key, lake, reference, today=today)
    return store_extract(clean, lake, spec.partition_column, coded=spec.coded, sort_by=spec.sort_by)


def check_file(
    path: Path,
    kind: str,
    key: bytes,
    lake: Lake,
    reference: Reference,
    *,
    today: date | None = None,
) -> CleanExtract:
    """Read, validate and pseudonymise one extract file as :func:`ingest_file` does — against
    the lines and rows earlier batches of the kind stored in ``lake`` — and store nothing
    (``helsestat validate``).

    >>> import tempfile
    >>> from helsestat.errors import ExtractError
    >>> from helsestat.reference.seed import packaged_reference
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "claims.csv").write_text("regning_id;behandlingsdato\\nR1;2024-01-01\\n")
    >>> try:
    ...     check_file(folder / "claims.csv", "claims", b"k" * 32, Lake(folder),
    ...                packaged_reference())
    ... except ExtractError as error:
    ...     print(error.code)
    ingest.missing_column
    """
    spec = spec_for(kind)
    raw = read_extract(path, kind)

    def earlier(partitions: Sequence[int]) -> pa.Table:
        return stored_line_keys(lake, kind, (*spec.line_key, spec.partition_column), partitions)

    def stored(columns: Sequence[str], where: Mapping[str, pa.Array]) -> pa.Table:
        return _stored_rows(committed_files(lake, kind), columns, where)

    return validate(raw, spec, key, reference, today=today, stored_keys=earlier, stored_rows=stored)


def _stored_rows(
    files: Sequence[Path], columns: Sequence[str], where: Mapping[str, pa.Array]
) -> pa.Table:
    """The ``columns`` of the stored rows whose value in each column of ``where`` is among
    the given ones, from every partition: one DuckDB scan of those columns (the values are
    joined, not spelled into the query)."""
    if not files:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    names = ", ".join(_quoted(c) for c in columns)
    paths = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    with duckdb.connect() as con:
        conditions = []
        for i, (column, values) in enumerate(where.items()):
            con.register(f"w{i}", pa.table({"v": values}))
            conditions.append(f"{_quoted(column)} IN (SELECT v FROM w{i})")
        found: pa.Table = con.sql(
            f"SELECT {names} FROM read_parquet([{paths}], union_by_name = true) "
            f"WHERE {' AND '.join(conditions) or 'true'}"
        ).to_arrow_table()
    return found


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def aggregate_statistic(
    statistic: Statistic,
    lake: Lake,
    engine: Engine,
    *,
    cache: bool = True,
    progress: Progress | None = None,
) -> Cube:
    """The cube of a statistic from the committed extracts: phase 1 per partition, reused
    from the cache when the partition's files are unchanged, then phase 2 over them all.
    Specs with count-distinct measures (not additive) are aggregated in one pass.

    >>> import tempfile
    >>> from helsestat.aggregate import DuckDBEngine
    >>> from helsestat.statistics.takstbruk import TAKSTBRUK
    >>> lake = Lake(Path(tempfile.mkdtemp()))
    >>> with DuckDBEngine(threads=1) as engine:
    ...     cube = aggregate_statistic(TAKSTBRUK, lake, engine)
    >>> len(cube.tables)
    6
    """
    files = committed_files(lake, statistic.source_kind)
    done = phase1_by_partition(statistic, lake, engine, files, progress=progress) if cache else None
    return _cube(statistic, lake, engine, files, done, cache=cache)


def _cube(
    statistic: Statistic,
    lake: Lake,
    engine: Engine,
    files: Sequence[Path],
    done: Phase1 | None,
    *,
    cache: bool = True,
) -> Cube:
    """The cube from the per-partition phase 1 (``done``); without one (count-distinct
    measures), period by period where the tables allow it (:mod:`.distinct`), else in one
    pass."""
    if done is None:
        spec = stored_spec(statistic.spec, lake, statistic.source_kind, files)
        cube = aggregate_by_period(statistic, lake, engine, files, spec, cache=cache)
        return cube if cube is not None else aggregate(files, spec, engine)
    return rollup(done.merged(), done.spec)


def protect_statistic(
    statistic: Statistic,
    files: Sequence[Path],
    engine: Engine,
    mode: Literal["compat", "full"],
    threshold: int,
    *,
    cube: Cube | None = None,
    earlier: Sequence[Sequence[ProtectedTable]] = (),
) -> list[ProtectedTable]:
    """Aggregate one statistic (unless its ``cube`` is given) and protect its tables (the
    statistic's reference rules made already: :meth:`Statistic.with_reference`).

    Compat: each table alone, with the replaced API's documented rules. Full: all tables
    together (``statistic.protection``): secondary suppression across margins and linked
    tables, checked by the attacker audit over the release and the ``earlier`` releases of
    the statistic (each a sequence of its published tables)."""
    if cube is None:
        cube = aggregate(files, statistic.spec, engine)
    finished = [(t, statistic.finish(cube.tables[t.grouping], t)) for t in statistic.tables]
    if mode == "full" and statistic.protection is not None:
        # the cells linked across tables and releases are their codes, not the names of
        # them (Statistic.name_columns); the names are put back in place after
        names = statistic.name_columns
        report = protect_tables(
            [
                TableToProtect(
                    t.name,
                    t.title,
                    table.drop_columns([c for c in names if c in table.column_names]),
                    tuple(d for d in statistic.dimensions(t) if d not in names),
                    rules_for(statistic, t, mode, threshold),
                )
                for t, table in finished
            ],
            statistic.measures,
            statistic.protection,
            earlier=[[_unnamed(t, names) for t in tables] for tables in earlier],
        )
        protected = [
            _named(out, table, statistic.dimensions(t))
            for (t, table), out in zip(finished, report.tables, strict=True)
        ]
    else:
        protected = [protect_alone(statistic, t, table, mode, threshold) for t, table in finished]
    # measures made from the published values only (shares of published totals)
    return statistic.derive(protected) if statistic.derive is not None else protected


def _without_input(
    declared: Statistic,
    lake: Lake,
    engine: Engine,
    threshold: int,
    reference: Reference,
    release: ReleaseWriter,
) -> bool:
    """Put the compat-mode tables of a statistic that has no stored input into ``release``:
    what its code makes of nothing (usually empty tables), computed once and kept in the
    lake's cache (:class:`~helsestat.store.lake.cache.WholeCache`) under a key of the code,
    the definition, the threshold and the reference data, then linked by every build until
    one of them changes. A statistic whose tables are not empty without input is not kept;
    False (nothing done) when the key cannot be made. The key is worked out once per
    process for a statistic, threshold and reference version (:data:`_WHOLE_KEYS`)."""
    stamp = (
        type(engine).__name__,
        reference.version,
        reference.hsa_as_of.generation,
        reference.resh_as_of.generation,
        reference.geography.digest,
    )
    held = _WHOLE_KEYS.get((id(declared), threshold, stamp))
    statistic = None
    if held is not None and held[0] is declared:
        key: str | None = held[1]
    else:
        statistic = _prepared_without_input(declared, reference)
        key = whole_key(statistic, threshold, repr(stamp))
        if len(_WHOLE_KEYS) > 256:
            _WHOLE_KEYS.clear()
        _WHOLE_KEYS[(id(declared), threshold, stamp)] = (declared, key)
    if key is None:
        return False
    store = WholeCache(lake, declared.name)
    found = store.tables(key)
    if found is None:
        statistic = statistic or _prepared_without_input(declared, reference)
        cube = _cube(statistic, lake, engine, (), None)
        tables = protect_statistic(statistic, (), engine, "compat", threshold, cube=cube)
        if any(t.table.num_rows for t in tables):
            for table in tables:
                release.add(table)
            return True
        found = store.put(key, tables)
    for table, path, rows in found:
        release.link_written(release.register(table), path, rows)
    return True


#: (id of a declared statistic, threshold, engine and reference stamp) → (the statistic,
#: which keeps its id from being reused, and its :func:`whole_key`).
_WHOLE_KEYS: dict[tuple[int, int, tuple[object, ...]], tuple[Statistic, str | None]] = {}


def _prepared_without_input(declared: Statistic, reference: Reference) -> Statistic:
    """``declared`` as a build makes it when none of its inputs has a stored file."""
    return declared.with_reference(reference).with_inputs({kind: () for kind in declared.inputs})


def _unnamed(table: ProtectedTable, names: Sequence[str]) -> ProtectedTable:
    """``table`` without its ``names`` columns (a published table of an earlier release)."""
    gone = [c for c in names if c in table.dimensions]
    if not gone:
        return table
    return replace(
        table,
        dimensions=tuple(d for d in table.dimensions if d not in gone),
        table=table.table.drop_columns(gone),
    )


def _named(protected: ProtectedTable, finished: pa.Table, dims: tuple[str, ...]) -> ProtectedTable:
    """``protected`` (protected without the name columns) with the dimensions ``dims`` of
    the ``finished`` table it was protected from, in its order (the rows are the same)."""
    if protected.dimensions == dims:
        return protected
    columns = {d: finished.column(d) for d in dims}
    rest = [c for c in protected.table.column_names if c not in columns]
    columns |= {c: protected.table.column(c) for c in rest}
    return replace(protected, dimensions=dims, table=pa.table(columns))


def published_history(lake: Lake, statistic: Statistic) -> list[tuple[ProtectedTable, ...]]:
    """The tables of ``statistic`` in every release kept on disk, oldest first: all of them
    can be downloaded (``?release=``), so an attacker knows every cell they published. A
    release that published exactly the tables of an earlier one (a rebuild from unchanged
    data) adds nothing and is left out.

    >>> import tempfile
    >>> from helsestat.statistics.takstbruk import TAKSTBRUK
    >>> published_history(Lake(Path(tempfile.mkdtemp())), TAKSTBRUK)
    []
    """
    names = [t.name for t in statistic.tables]
    seen: set[str] = set()
    out: list[tuple[ProtectedTable, ...]] = []
    for release in lake.list_releases():
        held = [n for n in names if n in release.tables]
        if not held:
            continue
        digest = hashlib.sha256()
        for name in held:
            for file in lake.table_files(release, name):
                digest.update(f"{name}\0{file_checksum(file)}\0".encode())
        if digest.hexdigest() in seen:
            continue
        seen.add(digest.hexdigest())
        out.append(tuple(lake.read_table(release, name) for name in held))
    return out


#: For the data builder of a statistic computed per query, the digest of what it reads
#: besides the extract files (reference data, code): with it, the data of unchanged inputs
#: are reused (:func:`_build_computed`). A builder not listed is run on every build.
_COMPUTED_INPUTS: dict[object, Callable[[Reference], str]] = {
    sob.build_data: sob.build_inputs,
    catchment.build_data: catchment.build_inputs,
}


def _build_computed(
    statistic: Statistic,
    files: Sequence[Path],
    reference: Reference,
    engine: Engine,
    release: ReleaseWriter,
    lake: Lake,
    *,
    cache: bool = True,
    progress: Progress | None = None,
) -> None:
    """A statistic computed per query: its data stored with the release and its tables
    listed (nothing without stored extracts). The data are kept in the lake's cache under a
    key of the committed files (named by their checksums; the lake never rewrites one) and
    of what the builder reads besides (:data:`_COMPUTED_INPUTS`): a build whose inputs did
    not change links the files of the last one instead of computing them again, and one
    whose files only gained new months extends the last one's data month by month when the
    statistic declares how (:attr:`~helsestat.statistics.serving.Ranged.extend`,
    :func:`_extended`). Data named with the ``CARRIED`` prefix are cached, not published."""
    ranged = statistic.serving.ranged
    assert ranged is not None
    if not files:
        return
    inputs = _COMPUTED_INPUTS.get(ranged.build) if cache else None
    key = found = None
    if inputs is not None:
        given = inputs(reference)
        digest = hashlib.sha256(given.encode())
        names = sorted(f"{f.parent.name}/{f.name}" for f in files)
        for name in names:
            digest.update(f"{name}\0".encode())
        key = digest.hexdigest()[:32]
        store = ComputedCache(lake, statistic.name)
        found = store.files(key)
        if found is None:
            with _own_duckdb(engine) as duck:
                data = _extended(statistic, files, given, reference, duck, lake, progress)
                if data is None:
                    data = dict(ranged.build(files, reference, duck))
            data[_FILES] = pa.table(
                {"file": pa.array(names, pa.string()), "inputs": pa.array([given] * len(names))}
            )
            found = store.put(key, data)
    else:
        with _own_duckdb(engine) as duck:
            data = dict(ranged.build(files, reference, duck))
        for name, table in data.items():
            if not name.startswith(CARRIED):
                release.add_data(f"{statistic.name}/{name}", table)
    for name, (path, rows) in (found or {}).items():
        if not name.startswith(CARRIED):
            release.link_data(f"{statistic.name}/{name}", path, rows)
    for tdef in statistic.tables:
        release.register_computed(
            tdef.name, tdef.title, statistic.dimensions(tdef), statistic.measures
        )


#: The cached data's list of the files it was computed from, and the inputs digest.
_FILES = f"{CARRIED}files"


@contextmanager
def _own_duckdb(engine: Engine) -> Iterator[DuckDBEngine]:
    """``engine`` when it is DuckDB, else one of its own: the build of a computed statistic
    is DuckDB SQL."""
    if isinstance(engine, DuckDBEngine):
        yield engine
    else:
        with DuckDBEngine() as own:
            yield own


def _extended(
    statistic: Statistic,
    files: Sequence[Path],
    inputs: str,
    reference: Reference,
    engine: DuckDBEngine,
    lake: Lake,
    progress: Progress | None,
) -> dict[str, pa.Table] | None:
    """The data of ``statistic`` over ``files`` made by extending the cached data of fewer
    files, one new partition (month) at a time — or None, to build from every file: no
    ``extend`` declared, no cached data, other inputs (reference data, code), a file gone,
    a file added to a partition the cached data read (a correction, a month delivered
    again) or before its last, or ``extend`` declining a month (it says why in its docs)."""
    ranged = statistic.serving.ranged
    assert ranged is not None
    if ranged.extend is None:
        return None
    store = ComputedCache(lake, statistic.name)
    entries = sorted(store.root.iterdir()) if store.root.is_dir() else []
    previous = None
    for entry in entries:
        held = store.files(entry.name)
        if held is not None and _FILES in held:
            previous = held
    if previous is None:
        return None
    listed = pq.read_table(previous[_FILES][0])
    if listed.num_rows == 0 or listed["inputs"][0].as_py() != inputs:
        return _fall_back(statistic, "the reference data or the code changed", progress)
    by_name = {f"{f.parent.name}/{f.name}": f for f in files}
    before = set(listed["file"].to_pylist())
    if not before <= set(by_name):
        return _fall_back(statistic, "an extract file is gone", progress)
    partitions = {name.split("/")[0] for name in before}
    added: dict[str, list[Path]] = {}
    for name, path in sorted(by_name.items()):
        if name not in before:
            added.setdefault(path.parent.name, []).append(path)
    if any(p in partitions or p < max(partitions) for p in added):
        return _fall_back(statistic, "an earlier month's events changed", progress)
    data: dict[str, pa.Table] | None = {
        name: pq.read_table(path) for name, (path, _) in previous.items() if name != _FILES
    }
    for partition, paths in sorted(added.items()):
        assert data is not None
        extended = ranged.extend(data, paths, reference, engine)
        if extended is None:
            return _fall_back(statistic, f"{partition} cannot be added to the months", progress)
        data = dict(extended)
        if progress:
            progress(f"{statistic.name}: {partition} added to the data of the months before")
    return data


def _fall_back(
    statistic: Statistic, why: str, progress: Progress | None
) -> dict[str, pa.Table] | None:
    """Say why the data are built from every file (None: what :func:`_extended` returns)."""
    if progress:
        progress(f"{statistic.name}: built from every month ({why})")
    return None


def build(
    lake: Lake,
    engine: Engine,
    *,
    mode: Literal["compat", "full"],
    threshold: int,
    reference: Reference,
    statistics: Sequence[Statistic] = STATISTICS,
    release_id: str | None = None,
    progress: Progress | None = None,
    cache: bool = True,
) -> ReleaseInfo:
    """Build every statistic from the stored extracts into a new release and make it current.
    Phase 1 of unchanged partitions comes from the lake's cache, and in compat mode so do
    the protected pieces of unchanged periods (:func:`protect_by_period`); ``cache=False``:
    neither read nor written, every table built whole. The rules that read reference data
    (population) read ``reference``."""
    # Parquet writes release the GIL: tables and pieces are written two at a time, overlapping
    # the next statistic's work; every write has finished before the parts are linked and
    # the release is committed. The build lock keeps a second build from pruning cache
    # entries this one links.
    waiting = (
        (lambda: progress("waiting for another build of this data directory")) if progress else None
    )
    with (
        lake.build_lock(waiting),
        lake.release(release_id) as release,
        ThreadPoolExecutor(max_workers=2) as writer,
    ):
        writes: list[Future[object]] = []
        parted: list[PartedTable] = []

        def submit(fn: Callable[..., object], *args: object) -> None:
            writes.append(writer.submit(fn, *args))

        for declared in statistics:
            if progress:
                progress(f"building {declared.name}")
            inputs = {kind: committed_files(lake, kind) for kind in declared.inputs}
            files = committed_files(lake, declared.source_kind)
            if (
                cache
                and mode == "compat"
                and declared.serving.ranged is None
                and not files
                and not any(inputs.values())
                and _without_input(declared, lake, engine, threshold, reference, release)
            ):
                continue
            statistic = declared.with_reference(reference).with_inputs(inputs)
            if statistic.serving.ranged is not None:
                _build_computed(
                    statistic,
                    files,
                    reference,
                    engine,
                    release,
                    lake,
                    cache=cache,
                    progress=progress,
                )
                continue
            done = (
                phase1_by_partition(statistic, lake, engine, files, progress=progress)
                if cache
                else None
            )
            tables: Sequence[ProtectedTable | PartedTable] | None = None
            if mode == "compat" and done is not None:
                tables = protect_by_period(
                    statistic, lake, done, threshold, submit=submit, progress=progress
                )
            if tables is None:
                cube = _cube(statistic, lake, engine, files, done, cache=cache)
                # Full mode protects against what every release still on disk has published.
                earlier = published_history(lake, statistic) if mode == "full" else []
                if earlier and progress:
                    progress(
                        f"{statistic.name}: protecting against {len(earlier)} earlier release(s)"
                    )
                tables = protect_statistic(
                    statistic, files, engine, mode, threshold, cube=cube, earlier=earlier
                )
            for table in tables:  # listed in the manifest in this order
                if isinstance(table, PartedTable):
                    parted.append(release.register(table))
                else:
                    submit(release.write, release.register(table))
        for write in writes:
            write.result()
        for table in parted:
            release.link(table)
    current = lake.current()
    assert current is not None
    return current
