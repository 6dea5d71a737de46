"""Unit fields that SSB's institution lists (Institusjonslister) and drop lists
(Dropplister) need, versioned like every other field of ``unit_version``: the næringskode
(SN2007, KLASS 6), postnummer and poststed, the reporting number, the foretakstype of a
support company or private institution, and an RHF's helseregion number. All nullable: the
units recorded before keep their versions as they were.

Revision ID: 0005_unit_list_fields
Revises: 0004_reference_snapshot
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_unit_list_fields"
down_revision: str | None = "0004_reference_snapshot"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("naeringskode", 10),
    ("postnummer", 4),
    ("poststed", 100),
    ("reporting_number", 20),
    ("foretakstype", 20),
    ("helseregion", 2),
)


def upgrade() -> None:
    # Plain ADD COLUMN on both backends: SQLite's batch mode would copy the table and drop
    # the trigger that keeps versions from being deleted.
    for name, length in _COLUMNS:
        op.add_column("unit_version", sa.Column(name, sa.String(length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("unit_version") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
