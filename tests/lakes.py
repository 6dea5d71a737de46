"""Lakes for tests: a release of hand-made protected tables (:func:`publish_tables`) and one
built from synthetic claim lines (:func:`claims_release`, SYNTHETIC DATA)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from helsestat.aggregate import DuckDBEngine
from helsestat.build import build, ingest_file
from helsestat.model import ProtectedTable
from helsestat.reference.seed import packaged_reference
from helsestat.settings import DEMO_PSEUDONYM_KEY
from helsestat.store.lake import Lake
from helsestat.synth.claims import generate_claims
from helsestat.synth.core import write_parquet


def publish_tables(data_dir: Path, release_id: str, tables: Sequence[ProtectedTable]) -> None:
    """Publish ``tables`` as release ``release_id`` of the lake at ``data_dir`` (it becomes
    current)."""
    with Lake(data_dir).release(release_id) as release:
        for table in tables:
            release.add(table)


def claims_release(root: Path, rows: int, seed: int) -> Lake:
    """The lake at ``root/var`` with one compat-mode release built from ``rows`` synthetic
    claim lines (the extract is kept at ``root/claims.parquet``), validated and protected
    with the packaged reference data (what a reference database is seeded with)."""
    extract = root / "claims.parquet"
    write_parquet(generate_claims(rows, seed=seed), extract)
    lake = Lake(root / "var")
    reference = packaged_reference()
    ingest_file(extract, "claims", DEMO_PSEUDONYM_KEY.encode(), lake, reference)
    with DuckDBEngine(threads=2, memory_limit="1GB") as engine:
        build(lake, engine, mode="compat", threshold=5, reference=reference)
    return lake
