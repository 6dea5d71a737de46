"""The sector ``rehab`` (Rehabilitering): the rehabilitation institutions, an NPR dataset of
their own (issue 15), join somatikk, phv, phbu and tsb in ``unit_version``'s sector check.

PostgreSQL drops and adds the check. SQLite cannot alter a check, and its batch mode would
copy the table and drop the trigger that keeps versions from being deleted; the check only
widens (every stored row satisfies the new one), so the table's stored definition is
rewritten in place, as SQLite documents for changing a constraint ("ALTER TABLE", section 7:
``PRAGMA writable_schema``), and the schema version is moved so connections read it again.

Revision ID: 0006_rehab_sector
Revises: 0005_unit_list_fields
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_rehab_sector"
down_revision: str | None = "0005_unit_list_fields"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = ("somatikk", "phv", "phbu", "tsb")
_AFTER = (*_BEFORE, "rehab")
_NAME = "ck_unit_version_sector"


def _in(values: Sequence[str]) -> str:
    return f"sector IN ({', '.join(repr(v) for v in values)})"


def _check(values: Sequence[str]) -> str:
    return f"sector IS NULL OR {_in(values)}"


def _sqlite_rewrite(old: Sequence[str], new: Sequence[str]) -> None:
    bind = op.get_bind()
    sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'unit_version'")
    ).scalar_one()
    if _in(old) not in sql:
        return  # already rewritten (or made from the metadata with the new check)
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text(
            "UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'unit_version'"
        ),
        {"sql": sql.replace(_in(old), _in(new))},
    )
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def _change(old: Sequence[str], new: Sequence[str]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rewrite(old, new)
        return
    op.drop_constraint(op.f(_NAME), "unit_version", type_="check")
    op.create_check_constraint(op.f(_NAME), "unit_version", _check(new))


def upgrade() -> None:
    _change(_BEFORE, _AFTER)


def downgrade() -> None:
    # a version with sector rehab would break the narrower check: give them none first
    op.execute(sa.text("UPDATE unit_version SET sector = NULL WHERE sector = 'rehab'"))
    _change(_AFTER, _BEFORE)
