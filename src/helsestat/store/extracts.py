"""Storing validated extracts in the lake, all or nothing, once per file.

The accepted rows are written per partition (month) and the quarantined rows to one file,
each named by the extract's checksum; the batch record is written last and is the commit
marker: readers take only partition files whose batch record exists, so a crash or kill
half-way leaves the store as it was, and storing the same file again is a no-op.

>>> import tempfile
>>> from pathlib import Path
>>> from helsestat.store.lake import Lake
>>> Lake(Path(tempfile.mkdtemp())).stored_batches("claims")
{}
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.model import Batch, CleanExtract, IngestReport
from helsestat.store.lake import Lake, write_parquet_atomic, write_text_atomic


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


def store_extract(clean: CleanExtract, lake: Lake, partition_column: str) -> Batch:
    """Write accepted rows by partition, quarantined rows, then the batch record."""
    previous = is_stored(lake, clean.kind, clean.checksum)
    if previous is not None:
        return previous
    partitions: list[str] = []
    table = clean.accepted
    if table.num_rows:
        keys = np.asarray(table.column(partition_column).to_numpy(zero_copy_only=False))
        for value in np.unique(keys):
            part = table.filter(pc.equal(table.column(partition_column), pa.scalar(value)))
            path = lake.extract_dir(clean.kind) / f"period={value}" / f"{clean.checksum}.parquet"
            write_parquet_atomic(part, path)
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


def committed_files(lake: Lake, kind: str) -> list[Path]:
    """Partition files of batches whose record exists (the commit marker), stable order."""
    committed = set(lake.stored_batches(kind))
    return [p for p in lake.extract_files(kind) if p.stem in committed]
