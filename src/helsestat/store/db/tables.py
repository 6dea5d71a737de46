"""Every table of the reference database on one ``MetaData``.

The tables are declared by concern (``schema``: classifications and audit;
``reference_schema``: tariffs and catalogue; ``units_schema``: the unit registry) on the
same ``metadata``; import it from here so that none is missed (the Alembic environment and
the migration tests do).

>>> "classification" in metadata.tables and len(metadata.tables) > 7
True
"""

from __future__ import annotations

from helsestat.store.db import reference_schema, units_schema
from helsestat.store.db.schema import metadata

__all__ = ["metadata", "reference_schema", "units_schema"]
