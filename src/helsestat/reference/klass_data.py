"""The shipped classifications: the KLASS bundles in ``data/klass/``, read once per process.

>>> from datetime import date
>>> reg = load_registry()
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
def load_registry() -> Registry:
    """The shipped bundles (``data/klass/klass_*.json``)."""
    files = sorted(
        (f for f in resources.files(PACKAGE).iterdir() if f.name.endswith(".json")),
        key=lambda f: f.name,
    )
    return registry_from_texts((f.name, f.read_text(encoding="utf-8")) for f in files)


__all__ = ["load_registry", "load_registry_from", "registry_from_texts"]
