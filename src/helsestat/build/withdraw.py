"""Withdrawing a stored batch: a delivery found wrong after it was ingested.

A batch is committed while its record ``batches/<kind>/<checksum>.json`` exists (see
:mod:`helsestat.store.lake.extracts`). :func:`withdraw_batch` takes it out in three steps, each
safe to interrupt:

1. it writes ``withdrawn/<kind>/<checksum>.pending.json`` (the batch record with a new
   withdrawal id, when, by whom and why) and deletes the batch record: from this moment no
   build reads the batch's rows;
2. it writes the withdrawal record ``withdrawn/<kind>/<checksum>.json``: the pending record
   with the earlier withdrawals of the same file, if it was ingested and withdrawn before
   (told apart by the withdrawal id, so copying the data directory changes nothing);
3. it deletes the batch's partition and quarantine files (the rows, pseudonymised, are not
   kept: the source file is the delivery's archive), then the pending record.

Run again after an interruption, it finishes what is left; run on a batch withdrawn already,
it says so. It holds the build lock (a build never loses files under it) and the kind's
batch lock (an ingest of the same file never interleaves). The next ``build`` publishes
without the rows: the partitions that held them get new cache keys, so their phase-1 tables
and the pieces of their months and years are computed again, and nothing else. Releases
published before stay as they were (a release is immutable; full-mode protection keeps
counting what they published). The same file can be ingested again afterwards.

>>> import tempfile
>>> from helsestat.store.lake import Lake
>>> list_batches(Lake(Path(tempfile.mkdtemp())), "claims")
[]
"""

from __future__ import annotations

import getpass
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from helsestat.errors import NotFoundError, StoreError
from helsestat.store.lake import Lake, write_text_atomic
from helsestat.validate import spec_for

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
    #: :func:`withdraw_batch` found it withdrawn already (nothing new recorded)
    already_withdrawn: bool = False


_PENDING = ".pending.json"


def _withdrawn_dir(lake: Lake, kind: str) -> Path:
    return lake.root / "withdrawn" / kind


def _withdrawn(lake: Lake, kind: str) -> dict[str, Path]:
    """Checksum → withdrawal record (pending records left out)."""
    found = sorted(_withdrawn_dir(lake, kind).glob("*.json"))
    return {p.name[: -len(".json")]: p for p in found if not p.name.endswith(_PENDING)}


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
    spec_for(kind)  # an unknown kind: the same clear error as ingest gives
    stored = lake.stored_batches(kind)
    found = [
        _summary(json.loads(path.read_text(encoding="utf-8")), checksum)
        for checksum, path in stored.items()
    ]
    if withdrawn:
        for checksum, path in _withdrawn(lake, kind).items():
            if checksum not in stored:  # stored again after it was withdrawn: listed above
                found.append(_summary(json.loads(path.read_text(encoding="utf-8")), checksum))
    return sorted(found, key=lambda b: (b.withdrawn is not None, b.source, b.checksum))


def _resolve(lake: Lake, kind: str, prefix: str) -> str:
    """The full checksum of the stored or withdrawn batch that ``prefix`` starts."""
    if len(prefix) < MIN_PREFIX or not all(c in "0123456789abcdef" for c in prefix):
        raise StoreError(
            "batch.bad_checksum",
            f"{prefix!r} is not a batch checksum (at least {MIN_PREFIX} hex digits)",
            hint=f"helsestat batches {kind} lists the stored batches with their checksums",
        )
    known = set(lake.stored_batches(kind)) | set(_withdrawn(lake, kind))
    known |= {p.name[: -len(_PENDING)] for p in _withdrawn_dir(lake, kind).glob("*" + _PENDING)}
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


def withdraw_batch(
    lake: Lake,
    kind: str,
    checksum: str,
    reason: str,
    *,
    waiting: Callable[[], None] | None = None,
) -> BatchSummary:
    """Withdraw the batch of ``kind`` whose checksum starts with ``checksum`` (see the
    module docstring); returns it, with when it was withdrawn. ``waiting`` is called when a
    running build holds the lock (the withdrawal then waits for it)."""
    spec_for(kind)  # an unknown kind: the same clear error as ingest gives
    if not reason.strip():
        raise StoreError(
            "batch.no_reason",
            "a withdrawal needs a reason",
            hint="say why, e.g. --reason 'delivered twice by the data owner'",
        )
    full = _resolve(lake, kind, checksum)
    record_path = lake.batch_path(kind, full)
    pending = _withdrawn_dir(lake, kind) / f"{full}{_PENDING}"
    final = _withdrawn_dir(lake, kind) / f"{full}.json"
    with lake.build_lock(waiting), lake.batch_lock(kind):
        if record_path.exists():  # step 1: from here on no build reads the batch
            record = json.loads(record_path.read_text(encoding="utf-8"))
            record |= {
                "withdrawal": uuid.uuid4().hex,
                "withdrawn": datetime.now(UTC).isoformat(timespec="seconds"),
                "withdrawn_by": getpass.getuser(),
                "reason": reason,
            }
            write_text_atomic(json.dumps(record, ensure_ascii=False, indent=1), pending)
            record_path.unlink()
        already = not pending.exists()
        if already:
            record = json.loads(final.read_text(encoding="utf-8"))
        else:  # step 2
            record = json.loads(pending.read_text(encoding="utf-8"))
            earlier: list[object] = []
            if final.exists():
                previous = json.loads(final.read_text(encoding="utf-8"))
                if previous.get("withdrawal") == record["withdrawal"]:  # recorded already
                    earlier = previous.get("earlier", [])
                else:  # the same file, ingested and withdrawn before
                    earlier = [*previous.pop("earlier", []), previous]
            record["earlier"] = earlier
            write_text_atomic(json.dumps(record, ensure_ascii=False, indent=1), final)
        for partition in record.get("partitions", []):  # step 3
            path = lake.extract_dir(kind) / f"period={partition}" / f"{full}.parquet"
            path.unlink(missing_ok=True)
        lake.quarantine_path(kind, full).unlink(missing_ok=True)
        pending.unlink(missing_ok=True)
    return replace(_summary(record, full), already_withdrawn=already)


__all__ = ["MIN_PREFIX", "BatchSummary", "list_batches", "withdraw_batch"]
