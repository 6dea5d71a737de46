"""The synthetic data framework: seeded, reproducible, streamed in batches.

Every generator is a function ``(rows, seed, ...) -> Iterator[pa.RecordBatch]`` that yields
batches of at most :data:`BATCH_ROWS` rows, so memory stays flat from a few thousand rows
(tests) to 100 million (benchmarks); the same seed and size give the same rows. Writers turn
the stream into CSV or Parquet files.

>>> import pyarrow as pa
>>> def ones(rows: int, seed: int):
...     for n in batch_sizes(rows):
...         yield pa.record_batch({"x": [1] * n})
>>> [b.num_rows for b in ones(5, seed=1)]
[5]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

BATCH_ROWS = 500_000


def batch_sizes(rows: int, batch_rows: int = BATCH_ROWS) -> Iterator[int]:
    """Split ``rows`` into batch sizes of at most ``batch_rows``."""
    full, rest = divmod(rows, batch_rows)
    yield from [batch_rows] * full
    if rest:
        yield rest


def batch_rngs(
    seed: int, rows: int, batch_rows: int = BATCH_ROWS
) -> Iterator[tuple[int, np.random.Generator]]:
    """One independent random generator per batch, derived from ``seed``: batches can be
    generated in any order (or in parallel) and still give the same data."""
    sizes = list(batch_sizes(rows, batch_rows))
    children = np.random.SeedSequence(seed).spawn(len(sizes))
    for size, child in zip(sizes, children, strict=True):
        yield size, np.random.default_rng(child)


def zipf_weights(n: int, exponent: float = 1.1) -> np.ndarray:
    """Normalised Zipf weights for ``n`` ranked items: item 0 is the most frequent."""
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    out: np.ndarray = w / w.sum()
    return out


def write_parquet(
    batches: Iterable[pa.RecordBatch], path: Path, progress: Callable[[int], None] | None = None
) -> int:
    """Stream batches into one Parquet file; returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for batch in batches:
            if writer is None:
                writer = pq.ParquetWriter(path, batch.schema, compression="zstd")
            writer.write_batch(batch)
            rows += batch.num_rows
            if progress:
                progress(batch.num_rows)
    finally:
        if writer is not None:
            writer.close()
    return rows


def write_csv(
    batches: Iterable[pa.RecordBatch],
    path: Path,
    *,
    delimiter: str = ";",
    encoding: str = "utf-8",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Stream batches into one CSV file (UTF-8 or Windows-1252); returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    header = True
    with open(path, "wb") as fh:
        for batch in batches:
            buf = pa.BufferOutputStream()
            pacsv.write_csv(
                batch,
                buf,
                pacsv.WriteOptions(
                    include_header=header, delimiter=delimiter, quoting_style="needed"
                ),
            )
            data = buf.getvalue().to_pybytes()
            if encoding != "utf-8":
                data = data.decode("utf-8").encode(encoding)
            fh.write(data)
            header = False
            rows += batch.num_rows
            if progress:
                progress(batch.num_rows)
    return rows
