"""Withdrawing a stored batch: a delivery found wrong after it was ingested.

A batch is committed while its record ``batches/<kind>/<checksum>.json`` exists (see
:mod:`helsestat.store.extracts`). :func:`withdraw_batch` takes it out in three steps, each
safe to interrupt:

1. it writes the withdrawal record ``withdrawn/<kind>/<checksum>.json``: the batch record
   with when, by whom and why;
2. it deletes the batch record: from this moment no build reads the batch's rows;
3. it deletes the batch's partition files and its quarantine file (the rows, pseudonymised,
   are not kept: the source file is the delivery's archive).

Run again after an interruption, it finishes what is left. The next ``build`` publishes
without the rows: the partitions that held them get new cache keys, so their phase-1
tables and the pieces of their months and years are computed again, and nothing else.
Releases published before stay as they were (a release is immutable; full-mode protection
keeps counting what they published). The same file can be ingested again afterwards.

>>> import tempfile
>>> from helsestat.store.lake import Lake
>>> list_batches(Lake(Path(tempfile.mkdtemp())), "claims")
[]
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from helsestat.errors import NotFoundError, StoreError
from helsestat.store.lake import Lake, write_text_atomic

#: The shortest checksum prefix accepted for a batch (as git accepts short commit ids).
MIN_PREFIX = 8


@dataclass(frozen=True)
class BatchSummary:
    """One stored or withdrawn batch, as listed by ``helsestat batches``."""

    checksum: str
    source: str
    accepted: int
    quarantined: int
    partitions: tuple[str, ...]
    withdrawn: str | None = None  # when (UTC, ISO 8601)
    reason: str | None = None


def _withdrawn_path(lake: Lake, kind: str, checksum: str) -> Path:
    return lake.root / "withdrawn" / kind / f"{checksum}.json"


def _summary(record: dict[str, object], checksum: str) -> BatchSummary:
    report = record["report"]
    assert isinstance(report, dict)
    partitions = record.get("partitions", [])
    assert isinstance(partitions, list)
    withdrawn = record.get("withdrawn")
    reason = record.get("reason")
    return BatchSummary(
        checksum=checksum,
        source=str(record["source"]),
        accepted=int(report["accepted"]),
        quarantined=int(report["quarantined"]),
        partitions=tuple(str(p) for p in partitions),
        withdrawn=None if withdrawn is None else str(withdrawn),
        reason=None if reason is None else str(reason),
    )


def list_batches(lake: Lake, kind: str, *, withdrawn: bool = False) -> list[BatchSummary]:
    """The committed batches of ``kind`` (and the withdrawn ones with ``withdrawn=True``),
    by source file name."""
    found = [
        _summary(json.loads(path.read_text(encoding="utf-8")), checksum)
        for checksum, path in lake.stored_batches(kind).items()
    ]
    if withdrawn:
        for path in sorted((lake.root / "withdrawn" / kind).glob("*.json")):
            if path.stem not in lake.stored_batches(kind):  # step 2 not done: still stored
                found.append(_summary(json.loads(path.read_text(encoding="utf-8")), path.stem))
    return sorted(found, key=lambda b: (b.withdrawn is not None, b.source, b.checksum))


def _resolve(lake: Lake, kind: str, prefix: str) -> str:
    """The full checksum of the stored or withdrawn batch that ``prefix`` starts."""
    if len(prefix) < MIN_PREFIX or not all(c in "0123456789abcdef" for c in prefix):
        raise StoreError(
            "batch.bad_checksum",
            f"{prefix!r} is not a batch checksum (at least {MIN_PREFIX} hex digits)",
            hint=f"helsestat batches {kind} lists the stored batches with their checksums",
        )
    known = set(lake.stored_batches(kind))
    known |= {p.stem for p in (lake.root / "withdrawn" / kind).glob("*.json")}
    matches = sorted(c for c in known if c.startswith(prefix))
    if not matches:
        raise NotFoundError(
            "batch.not_found",
            f"no {kind} batch has a checksum starting {prefix!r}",
            hint=f"helsestat batches {kind} lists the stored batches with their checksums",
        )
    if len(matches) > 1:
        raise StoreError(
            "batch.ambiguous",
            f"{len(matches)} {kind} batches have checksums starting {prefix!r}",
            hint="give more digits of the checksum",
        )
    return matches[0]


def withdraw_batch(lake: Lake, kind: str, checksum: str, reason: str) -> BatchSummary:
    """Withdraw the batch of ``kind`` whose checksum starts with ``checksum`` (see the
    module docstring); returns it, with when it was withdrawn. Waits for a running build
    (a build reading the batch's files would fail if they went away under it)."""
    if not reason.strip():
        raise StoreError(
            "batch.no_reason",
            "a withdrawal needs a reason",
            hint="say why, e.g. --reason 'delivered twice by the data owner'",
        )
    full = _resolve(lake, kind, checksum)
    record_path = lake.batch_path(kind, full)
    withdrawn_path = _withdrawn_path(lake, kind, full)
    with lake.build_lock():
        if record_path.exists():
            record = json.loads(record_path.read_text(encoding="utf-8"))
            earlier: list[object] = []
            if withdrawn_path.exists():
                done = json.loads(withdrawn_path.read_text(encoding="utf-8"))
                if record_path.stat().st_mtime_ns > withdrawn_path.stat().st_mtime_ns:
                    # ingested again after an earlier withdrawal: keep that one's record
                    earlier = [*done.pop("earlier", []), done]
                else:  # interrupted after step 1: the withdrawal is recorded already
                    record = done
            if "withdrawn" not in record:  # step 1
                record |= {
                    "withdrawn": datetime.now(UTC).isoformat(timespec="seconds"),
                    "withdrawn_by": getpass.getuser(),
                    "reason": reason,
                    "earlier": earlier,
                }
                write_text_atomic(json.dumps(record, ensure_ascii=False, indent=1), withdrawn_path)
            record_path.unlink()  # step 2: no build reads the batch from here on
        record = json.loads(withdrawn_path.read_text(encoding="utf-8"))
        for partition in record.get("partitions", []):  # step 3
            path = lake.extract_dir(kind) / f"period={partition}" / f"{full}.parquet"
            path.unlink(missing_ok=True)
        lake.quarantine_path(kind, full).unlink(missing_ok=True)
    return _summary(record, full)


__all__ = ["MIN_PREFIX", "BatchSummary", "list_batches", "withdraw_batch"]
