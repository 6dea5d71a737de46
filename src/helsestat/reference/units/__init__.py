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
>>> from helsestat.store.db.database import create_engine_for, migrate, session_factory
>>> engine = create_engine_for("sqlite://"); migrate(engine)
>>> with session_factory(engine).begin() as session:
...     rhf = create_unit(session, SYSTEM, NewUnit("NO", UnitFields("rhf", "Helse Nord RHF"),
...                                                 date(2002, 1, 1)))
...     [n.name for n in tree_at(session, date(2024, 1, 1))]
['Helse Nord RHF']
"""

from __future__ import annotations

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
