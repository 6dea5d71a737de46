"""Alembic environment of the reference database, driven from code: there is no alembic.ini.

:func:`helsestat.store.db.database.migrate` opens a connection, puts it in
``config.attributes["connection"]`` and runs the upgrade in its transaction, so the whole
upgrade commits or none of it does (both SQLite and PostgreSQL have transactional DDL).
A new revision is a file ``versions/NNNN_<what>.py`` with ``revision = "NNNN"`` and
``down_revision`` the previous one (``script.py.mako`` is its template); the migration tests
prove that upgrading to head gives exactly :data:`helsestat.store.db.schema.metadata`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from helsestat.errors import StoreError
from helsestat.store.db.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise StoreError(
        "store.migration_config",
        "the reference database migrations were started without a connection",
        hint="run them through helsestat.store.db.database.migrate(url), not the alembic CLI",
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
