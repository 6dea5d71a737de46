"""The data source catalogue: the registries helsestat's statistics come from (seed 001,
``data/catalog/datasources.json``), and the shape of the entry of every table helsestat
publishes. The published tables are generated from the statistics' own definitions
(:func:`helsestat.statistics.catalog.catalog`), never written twice.

The data sources are read from the reference database (:mod:`helsestat.reference.persist`);
the packaged file only seeds it (:func:`packaged_data_sources`). Served as JSON and as
DCAT-AP-NO in Turtle and JSON-LD (:mod:`helsestat.reference.dcat`).

>>> cat = packaged_data_sources()
>>> [s.identifier for s in cat.data_sources][:3]
['IPLOS', 'KPR', 'KUHR']
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from helsestat.errors import ReferenceError_

#: Which registries each extract kind comes from (catalogue identifiers, the main one first).
#: An ``npr_episode`` extract holds episodes of all five NPR datasets of specialist care:
#: the sector of the unit an episode happened at says which.
SOURCE_OF_KIND: dict[str, tuple[str, ...]] = {
    "claims": ("KUHR",),
    "npr_episode": ("SOMATIKK", "PHV", "BUP", "TSB", "REHAB"),
    "kpr": ("KPR",),
    "iplos": ("IPLOS",),
}
REQUIRED = ("identifier", "title", "full_title", "owner", "description", "legal_basis", "access")


@dataclass(frozen=True)
class DataSource:
    """One registry or dataset of the catalogue."""

    identifier: str
    title: str
    full_title: str
    owner: str
    register: str
    production_date: date | None
    description: str
    legal_basis: str
    access: str
    theme: str = "HEAL"
    production_date_note: str = ""
    legal_basis_note: str = ""


@dataclass(frozen=True)
class PublishedTable:
    """A table helsestat publishes, described from its statistic's definition."""

    identifier: str
    title: str
    statistic: str
    statistic_title: str
    description: str
    sources: tuple[str, ...]
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    rules_note: str

    @property
    def source(self) -> str | None:
        """The main data source (the first of :attr:`sources`), if the table has one."""
        return self.sources[0] if self.sources else None


@dataclass(frozen=True)
class Catalog:
    """The data sources and the published tables."""

    publisher: str
    contact: str
    data_sources: tuple[DataSource, ...]
    tables: tuple[PublishedTable, ...]

    def data_source(self, identifier: str) -> DataSource | None:
        """The data source with this identifier, if any."""
        return next((s for s in self.data_sources if s.identifier == identifier), None)

    def to_json(self) -> dict[str, Any]:
        """The catalogue as plain JSON."""

        def clean(obj: Any) -> Any:
            d = asdict(obj)
            return {k: v.isoformat() if isinstance(v, date) else v for k, v in d.items()}

        return {
            "publisher": self.publisher,
            "contact": self.contact,
            "data_sources": [clean(s) for s in self.data_sources],
            "tables": [
                clean(t)
                | {
                    "source": t.source,
                    "sources": list(t.sources),
                    "dimensions": list(t.dimensions),
                    "measures": list(t.measures),
                }
                for t in self.tables
            ],
        }


def _fail(source: str, where: str, problem: str) -> ReferenceError_:
    return ReferenceError_(
        "reference.invalid_file",
        f"{source}: {where}: {problem}",
        hint=f"each data source needs {', '.join(REQUIRED)}; see data/catalog/README.md",
    )


def parse_data_sources(text: str, source: str) -> tuple[str, str, tuple[DataSource, ...]]:
    """Publisher, contact and data sources of a catalogue file; ``ReferenceError_`` naming
    the file, the entry and the field.

    >>> parse_data_sources('{"data_sources": [{"identifier": "X"}]}', "c.json")
    Traceback (most recent call last):
    helsestat.errors.ReferenceError_: c.json: data_sources[0] (X), field 'title': missing ...
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(source, f"line {exc.lineno}", f"not JSON ({exc.msg})") from None
    return data_sources_from_json(doc, source)


def data_sources_from_json(doc: Any, source: str) -> tuple[str, str, tuple[DataSource, ...]]:
    """Publisher, contact and data sources of a catalogue document (the shape of
    ``data/catalog/datasources.json``, and of :meth:`Catalog.to_json`).

    >>> data_sources_from_json({"publisher": "P", "data_sources": []}, "x")
    ('P', '', ())
    """

    def fail(where: str, problem: str) -> ReferenceError_:
        return _fail(source, where, problem)

    if not isinstance(doc, dict) or not isinstance(doc.get("data_sources"), list):
        raise fail("data_sources", "missing or not a list")
    out = []
    seen: set[str] = set()
    for i, raw in enumerate(doc["data_sources"]):
        if not isinstance(raw, dict):
            raise fail(f"data_sources[{i}]", "not an object")
        where = f"data_sources[{i}] ({raw.get('identifier', '?')})"
        for key in REQUIRED:
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise fail(f"{where}, field {key!r}", "missing")
        if raw["identifier"] in seen:
            raise fail(f"{where}, field 'identifier'", "appears twice")
        seen.add(raw["identifier"])
        produced = raw.get("production_date")
        try:
            day = date.fromisoformat(produced) if produced else None
        except (TypeError, ValueError):
            raise fail(f"{where}, field 'production_date'", "not a YYYY-MM-DD date") from None
        out.append(
            DataSource(
                identifier=raw["identifier"],
                title=raw["title"],
                full_title=raw["full_title"],
                owner=raw["owner"],
                register=str(raw.get("register", "")),
                production_date=day,
                description=raw["description"],
                legal_basis=raw["legal_basis"],
                access=raw["access"],
                theme=str(raw.get("theme", "HEAL")),
                production_date_note=str(raw.get("production_date_note", "")),
                legal_basis_note=str(raw.get("legal_basis_note", "")),
            )
        )
    return str(doc.get("publisher", "")), str(doc.get("contact", "")), tuple(out)


@cache
def packaged_data_sources() -> Catalog:
    """The packaged catalogue of data sources (``data/catalog/datasources.json``), without
    the published tables, read once per process. It seeds the reference database; the API
    and the dashboard serve the database's (:func:`helsestat.statistics.catalog.catalog`
    adds the published tables)."""
    text = (
        resources.files("helsestat.data.catalog")
        .joinpath("datasources.json")
        .read_text(encoding="utf-8")
    )
    publisher, contact, sources = parse_data_sources(text, "datasources.json")
    return Catalog(publisher, contact, sources, ())


__all__ = [
    "SOURCE_OF_KIND",
    "Catalog",
    "DataSource",
    "PublishedTable",
    "data_sources_from_json",
    "packaged_data_sources",
    "parse_data_sources",
]
