"""KLASS bundle files into a :class:`~helsestat.reference.classifications.Registry`: the
packaged bundles in ``data/klass/``, which seed the reference database, and the bundles an
administrator loads (``helsestat reference load klass_131.json``).

>>> from datetime import date
>>> reg = packaged_registry()
>>> reg.classification(131).name, len(reg.version_at(131, date(2025, 1, 1)).codes)
('Standard for kommuneinndeling', 357)
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

from helsestat.reference.classifications import Classification, CorrespondenceTable, Registry
from helsestat.reference.klass_json import check_tables, parse_bundle

PACKAGE = "helsestat.data.klass"


def registry_from_texts(texts: Iterable[tuple[str, str]]) -> Registry:
    """A registry of bundles given as (source name, JSON text); every table is checked
    against the versions it maps (file and field named on error)."""
    classes: list[Classification] = []
    tables: list[CorrespondenceTable] = []
    sources: dict[int, tuple[str, int]] = {}
    for source, text in texts:
        cls, cls_tables = parse_bundle(text, source)
        classes.append(cls)
        tables += cls_tables
        sources |= {t.id: (source, i) for i, t in enumerate(cls_tables)}
    reg = Registry.of(classes, tables)
    check_tables(reg, sources)
    return reg


def load_registry_from(paths: Iterable[Path]) -> Registry:
    """A registry of the bundle files ``paths``."""
    return registry_from_texts((p.name, p.read_text(encoding="utf-8")) for p in paths)


@cache
def packaged_registry() -> Registry:
    """The packaged bundles (``data/klass/klass_*.json``), read once per process. They seed
    the reference database; everything that serves or checks data reads the database's
    (:class:`~helsestat.reference.snapshot.Reference`)."""
    files = sorted(
        (f for f in resources.files(PACKAGE).iterdir() if f.name.endswith(".json")),
        key=lambda f: f.name,
    )
    return registry_from_texts((f.name, f.read_text(encoding="utf-8")) for f in files)


__all__ = ["load_registry_from", "packaged_registry", "registry_from_texts"]
