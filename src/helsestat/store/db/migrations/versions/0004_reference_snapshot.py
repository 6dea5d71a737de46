"""The reference database as the single source of truth: the geography the statistics read
(kommune history, recoding to the 2024 structure), the catalogue's publisher, the order of
tariff rows and data sources, and ``reference_state``, whose version every write bumps so
that readers know when to reload (the tables of :mod:`helsestat.store.db.reference_schema`).

Revision ID: 0004_reference_snapshot
Revises: 0003_units
Create Date: 2026-02-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_reference_snapshot"
down_revision: str | None = "0003_units"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    for table in ("tariff_record", "data_source"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False)
            )
    op.create_table(
        "catalog_info",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("publisher", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_info")),
    )
    op.create_table(
        "kommune_history",
        sa.Column("kommunenr", sa.String(64), nullable=False),
        sa.Column("valid_from_year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("navn", sa.Text(), nullable=False),
        sa.Column("valid_to_year", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("kommunenr", "valid_from_year", name=op.f("pk_kommune_history")),
    )
    op.create_table(
        "kommune_recoding",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kommunenr", sa.String(64), nullable=False),
        sa.Column("kommunenr_2024", sa.String(64), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "year", "kommunenr", "kommunenr_2024", name=op.f("pk_kommune_recoding")
        ),
    )
    state = op.create_table(
        "reference_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", _TS, nullable=True),
        sa.Column("seeded_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_state")),
    )
    # Never seeded, even where an earlier `helsestat reference load` wrote classifications:
    # the geography tables are new, so the first use writes the packaged files again.
    op.bulk_insert(state, [{"id": 1, "version": 0, "changed_at": None, "seeded_at": None}])


def downgrade() -> None:
    op.drop_table("reference_state")
    op.drop_table("kommune_recoding")
    op.drop_table("kommune_history")
    op.drop_table("catalog_info")
    for table in ("data_source", "tariff_record"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("position")
