"""Reference files an administrator loads into the reference database
(``helsestat reference load FILE…``): KLASS bundles and tariff list files.

A file named as a packaged tariff list (:data:`~helsestat.reference.tariff_files.FILES`:
``takstkoder.csv``, ``nlkkoder.json`` …) replaces that list; any other file is a KLASS bundle
(the shape ``helsestat klass export`` writes), checked together with the classifications the
database already holds (a correspondence may map to one of them). Everything is checked
before anything is written, then written in one transaction recorded in the audit log.

>>> import tempfile
>>> from helsestat.store.db.database import create_engine_for, migrate
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> path = Path(tempfile.mkdtemp()) / "no_kuhr_fagomrader.csv"
>>> _ = path.write_text("fagomrade_kode,beskrivelse\\nLE,Lege\\n", encoding="utf-8")
>>> load_files(engine, [path])
{'fagomraader rows from files': 1}
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from helsestat.reference.classification_store import read_registry, save_registry
from helsestat.reference.classifications import Classification, CorrespondenceTable, Registry
from helsestat.reference.klass_json import check_tables, parse_bundle
from helsestat.reference.persist import save_tariff_list
from helsestat.reference.tariff_files import is_tariff_file, parse_tariff_file
from helsestat.reference.tariffs import Record
from helsestat.store.db.audit import record_audit
from helsestat.store.db.database import session_factory


def bundles_with(held: Registry, bundles: Sequence[tuple[str, str]]) -> tuple[Registry, list[int]]:
    """The classifications of ``bundles`` (source name, JSON text) and their tables, checked
    together with the ``held`` ones they may refer to, and their ids.

    >>> bundles_with(Registry.of([]), [])[1]
    []
    """
    classes = dict(held.classifications)
    tables: dict[int, CorrespondenceTable] = dict(held.correspondences)
    sources: dict[int, tuple[str, int]] = {}
    new_ids: list[int] = []
    for source, text in bundles:
        cls, cls_tables = parse_bundle(text, source)
        classes[cls.id] = cls
        new_ids.append(cls.id)
        for i, t in enumerate(cls_tables):
            tables[t.id] = t
            sources[t.id] = (source, i)
    merged = Registry.of(classes.values(), tables.values())
    check_tables(merged, sources)
    keep_versions = {v.id for cid in new_ids for v in merged.classifications[cid].versions}
    chosen: list[Classification] = [merged.classifications[c] for c in new_ids]
    return (
        Registry.of(
            chosen,
            [t for t in merged.correspondences.values() if t.source_version in keep_versions],
        ),
        new_ids,
    )


def _write(session: Session, paths: Sequence[Path]) -> dict[str, int]:
    bundles: list[tuple[str, str]] = []
    lists: dict[str, list[Record]] = {}
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if is_tariff_file(path.name):
            name, rows = parse_tariff_file(path.name, text)
            lists[name] = rows
        else:
            bundles.append((path.name, text))
    counts: dict[str, int] = {}
    if bundles:
        registry, ids = bundles_with(read_registry(session), bundles)
        save_registry(session, registry)
        counts["classifications from files"] = len(ids)
    for name, rows in lists.items():
        counts[f"{name} rows from files"] = save_tariff_list(session, name, rows)
    return counts


def load_files(
    engine: Engine, paths: Sequence[Path], *, actor: str = "helsestat reference load"
) -> dict[str, int]:
    """Load KLASS bundles and tariff list files into a migrated database, all or nothing, in
    one transaction recorded in the audit log; what was written, per kind."""
    with session_factory(engine).begin() as session:
        counts = _write(session, paths)
        files = {"files": [p.name for p in paths], **counts}
        record_audit(session, actor, "reference", "files", "load", None, files)
    return counts


__all__ = ["bundles_with", "load_files"]
