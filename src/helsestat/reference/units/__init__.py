"""The unit registry (like RESH in Norway and HSA-katalogen in Sweden): a hierarchy of
health-service units with permanent ids, a bitemporal history, administrators scoped to a
subtree, an audit trail, and the placing of reported data on the units valid on a date.

Modules, by concept:

- :mod:`.model` — kinds, sectors, fields, versions (frozen dataclasses);
- :mod:`.timeline` — a unit's history as pure functions (change from a date, close);
- :mod:`.rules` — what makes a history acceptable (kinds, parents, reference codes);
- :mod:`.repository` — writes: create, change, close, identifiers; ids from a counter;
- :mod:`.history` — queries as of a date: tree, path, subtree, changes, search;
- :mod:`.permissions`, :mod:`.auth` — scoped rights, users and hashed API tokens;
- :mod:`.placing` — the flattened as-of table and placing rows by unit id and date (DuckDB);
- :mod:`.fhir` — the tree as FHIR R4 Organization resources;
- :mod:`.loader` — the synthetic demo tree (:mod:`helsestat.synth.units`) into the database.

>>> from datetime import date
>>> from helsestat.reference.units import SYSTEM, NewUnit, UnitFields, create_unit, tree_at
>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> with session_factory(engine).begin() as session:
...     rhf = create_unit(session, SYSTEM, NewUnit("NO", UnitFields("rhf", "Helse Nord RHF"),
...                                                 date(2002, 1, 1)))
...     [n.name for n in tree_at(session, date(2024, 1, 1))]
['Helse Nord RHF']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from helsestat.reference.units.history import (
        SearchHit,
        changes_between,
        path_at,
        search,
        subtree_at,
        tree_at,
        unit_versions,
        version_at,
        versions_at,
    )
    from helsestat.reference.units.model import (
        KIND_LABELS,
        SECTOR_LABELS,
        SYSTEM,
        Change,
        Identifier,
        IfMatch,
        IssuedToken,
        NewUnit,
        Node,
        Principal,
        Span,
        UnitFields,
        UnitRecord,
        UserRecord,
        Version,
    )
    from helsestat.reference.units.repository import (
        allocate_unit_id,
        change_unit,
        close_unit,
        create_unit,
        get_unit,
        reopen_unit,
        set_identifier,
    )

#: Each name this package exports and its module, imported at the first use of the name: the
#: modules that write and query the database import SQLAlchemy and Alembic (about 0.5 s),
#: which code that only places rows on a snapshot's units (``placing``, ``placing_bulk``:
#: the NPR-like validation a build imports) must not pay for.
_EXPORTS: dict[str, str] = {
    "SearchHit": "history",
    "changes_between": "history",
    "path_at": "history",
    "search": "history",
    "subtree_at": "history",
    "tree_at": "history",
    "unit_versions": "history",
    "version_at": "history",
    "versions_at": "history",
    "KIND_LABELS": "model",
    "SECTOR_LABELS": "model",
    "SYSTEM": "model",
    "Change": "model",
    "Identifier": "model",
    "IfMatch": "model",
    "IssuedToken": "model",
    "NewUnit": "model",
    "Node": "model",
    "Principal": "model",
    "Span": "model",
    "UnitFields": "model",
    "UnitRecord": "model",
    "UserRecord": "model",
    "Version": "model",
    "allocate_unit_id": "repository",
    "change_unit": "repository",
    "close_unit": "repository",
    "create_unit": "repository",
    "get_unit": "repository",
    "reopen_unit": "repository",
    "set_identifier": "repository",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "KIND_LABELS",
    "SECTOR_LABELS",
    "SYSTEM",
    "Change",
    "Identifier",
    "IfMatch",
    "IssuedToken",
    "NewUnit",
    "Node",
    "Principal",
    "SearchHit",
    "Span",
    "UnitFields",
    "UnitRecord",
    "UserRecord",
    "Version",
    "allocate_unit_id",
    "change_unit",
    "changes_between",
    "close_unit",
    "create_unit",
    "get_unit",
    "path_at",
    "reopen_unit",
    "search",
    "set_identifier",
    "subtree_at",
    "tree_at",
    "unit_versions",
    "version_at",
    "versions_at",
]
