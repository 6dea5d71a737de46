"""Storing validated extracts in the lake, all or nothing, once per file.

The accepted rows are written per partition (month) and the quarantined rows to one file,
each named by the extract's checksum; the batch record is written last and is the commit
marker: readers take only partition files whose batch record exists, so a crash or kill
half-way leaves the store as it was, and storing the same file again is a no-op.

Layout for speed: coded columns get their integer code column (from the append-only
codebooks, written first, see :mod:`helsestat.store.lake.codebooks`), and the rows of each
partition file are sorted by the spec's ``sort_by`` columns and written in row groups of
:data:`ROW_GROUP_ROWS`, so a scan meets long runs of equal keys and row groups whose
statistics settle a filter without reading a value.

>>> import tempfile
>>> from pathlib import Path
>>> from helsestat.store.lake import Lake
>>> Lake(Path(tempfile.mkdtemp())).stored_batches("claims")
{}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from helsestat.model import Batch, CleanExtract, IngestReport
from helsestat.store.lake import (
    Lake,
    remove_temporary,
    write_parquet_atomic,
    write_text_atomic,
)
from helsestat.store.lake.codebooks import add_codes, extend_codebooks
from helsestat.validate.spec import Coded

#: Rows per row group of a stored partition file.
ROW_GROUP_ROWS = 1 << 18


def is_stored(lake: Lake, kind: str, checksum: str) -> Batch | None:
    """The stored batch of a file with this checksum, if it was stored before."""
    path = lake.batch_path(kind, checksum)
    if not path.exists():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    report = IngestReport(
        **{**record["report"], "by_rule": tuple(map(tuple, record["report"]["by_rule"]))}
    )
    return Batch(
        kind=kind,
        source=record["source"],
        checksum=checksum,
        report=report,
        partitions=tuple(record["partitions"]),
        already_stored=True,
    )


def store_extract(
    clean: CleanExtract,
    lake: Lake,
    partition_column: str,
    *,
    coded: Sequence[Coded] = (),
    sort_by: Sequence[str] = (),
) -> Batch:
    """Write the codebooks, the accepted rows by partition (with code columns, sorted by
    ``sort_by``), the quarantined rows, then the batch record; under the kind's batch lock
    (:meth:`~helsestat.store.lake.Lake.batch_lock`), so a withdrawal of the same file never
    runs in between."""
    with lake.batch_lock(clean.kind):
        # temporary files of a store killed half-way: no one else writes the kind now
        kind = clean.kind
        remove_temporary(
            lake.extract_dir(kind),
            lake.quarantine_path(kind, "x").parent,
            lake.batch_path(kind, "x").parent,
            lake.root / "codebooks" / kind,
        )
        return _store(clean, lake, partition_column, coded, sort_by)


def _store(
    clean: CleanExtract,
    lake: Lake,
    partition_column: str,
    coded: Sequence[Coded],
    sort_by: Sequence[str],
) -> Batch:
    previous = is_stored(lake, clean.kind, clean.checksum)
    if previous is not None:
        return previous
    partitions: list[str] = []
    table = clean.accepted
    if table.num_rows:
        books = extend_codebooks(lake, clean.kind, table, coded)
        table = add_codes(table, coded, books)
        # one sort puts each partition's rows together, in sort_by order within it
        order = [c for c in (partition_column, *sort_by) if c in table.column_names]
        table = _take(table, _sort_order(table, order))
        keys = np.asarray(table.column(partition_column).to_numpy(zero_copy_only=False))
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], len(keys)]
        for start, end in zip(starts, ends, strict=True):
            part = table.slice(int(start), int(end - start))
            value = keys[start]
            path = lake.extract_dir(clean.kind) / f"period={value}" / f"{clean.checksum}.parquet"
            write_parquet_atomic(
                part, path, row_group_rows=ROW_GROUP_ROWS, dictionary=_few_values(part)
            )
            partitions.append(str(value))
    write_parquet_atomic(clean.quarantined, lake.quarantine_path(clean.kind, clean.checksum))
    record = {
        "source": clean.source,
        "kind": clean.kind,
        "checksum": clean.checksum,
        "report": asdict(clean.report),
        "partitions": partitions,
    }
    write_text_atomic(
        json.dumps(record, ensure_ascii=False, indent=1),
        lake.batch_path(clean.kind, clean.checksum),
    )
    return Batch(
        kind=clean.kind,
        source=clean.source,
        checksum=clean.checksum,
        report=clean.report,
        partitions=tuple(partitions),
    )


def _few_values(table: pa.Table, sample: int = 1 << 16) -> list[str]:
    """Columns worth dictionary encoding: those whose first rows repeat values (an id or a
    pseudonym column is mostly distinct, and trying a dictionary on it only costs time)."""
    head = table.slice(0, sample)
    return [
        name
        for name, column in zip(head.column_names, head.columns, strict=True)
        if pc.count_distinct(column).as_py() <= head.num_rows // 2
    ]


def _ranks(column: pa.ChunkedArray) -> np.ndarray:
    """Integer keys that sort like the column (text by code point; nulls last)."""
    column = column.combine_chunks()
    if pa.types.is_integer(column.type) and not column.null_count:
        return np.asarray(column.to_numpy(), dtype=np.int64)
    encoded = pc.dictionary_encode(column)
    values = encoded.dictionary.to_pylist()
    rank = np.empty(len(values) + 1, dtype=np.int64)
    rank[sorted(range(len(values)), key=values.__getitem__)] = np.arange(len(values))
    rank[len(values)] = len(values)
    indices = np.asarray(encoded.indices.fill_null(len(values)).to_numpy(zero_copy_only=False))
    out: np.ndarray = rank[indices]
    return out


def _sort_order(table: pa.Table, columns: Sequence[str]) -> np.ndarray:
    """The stable order of the rows by ``columns``: one packed int64 key when the ranges fit
    (a single numpy sort instead of a multi-column comparison sort), else a lexsort."""
    keys = [_ranks(table.column(c)) for c in columns]
    packed = np.zeros(table.num_rows, dtype=np.int64)
    width = 1
    for key in keys:
        low, span = int(key.min()), int(key.max()) - int(key.min()) + 1
        width *= span
        if width >= 1 << 62:
            return np.lexsort(keys[::-1])
        packed = packed * span + (key - low)
    return np.argsort(packed, kind="stable")


def _take(table: pa.Table, order: np.ndarray) -> pa.Table:
    """``table.take(order)``, one column per thread (gathering text is the slow part)."""
    indices = pa.array(order)
    with ThreadPoolExecutor(max_workers=2) as pool:
        columns = list(pool.map(lambda c: c.take(indices), table.columns))
    return pa.Table.from_arrays(columns, schema=table.schema)


def stored_line_keys(
    lake: Lake, kind: str, columns: Sequence[str], partitions: Sequence[int | str]
) -> pa.Table:
    """The ``columns`` of every row that committed batches of ``kind`` stored in
    ``partitions`` (the line keys a new file's rows are checked against: a line delivered
    again lies in the month it was delivered in first).

    >>> import tempfile
    >>> stored_line_keys(Lake(Path(tempfile.mkdtemp())), "claims", ["regning_id"], [202401])
    pyarrow.Table
    regning_id: string
    ----
    regning_id: [[]]
    """
    wanted = {f"period={p}" for p in partitions}
    files = [p for p in committed_files(lake, kind) if p.parent.name in wanted]
    if not files:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    tables = [pq.read_table(f, columns=list(columns)) for f in files]
    return pa.concat_tables(tables, promote_options="permissive")


def committed_files(lake: Lake, kind: str) -> list[Path]:
    """Partition files of batches whose record exists (the commit marker), stable order."""
    committed = set(lake.stored_batches(kind))
    return [p for p in lake.extract_files(kind) if p.stem in committed]
