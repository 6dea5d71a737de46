"""Reference registries: classification metadata, Helfo tariff lists, data source catalogue,
population per region (the tables of :mod:`helsestat.store.db.reference_schema`).

Revision ID: 0002_reference
Revises: 0001
Create Date: 2026-01-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_reference"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "classification_meta",
        sa.Column("classification_id", sa.Integer(), nullable=False),
        sa.Column("classification_type", sa.String(50), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("attributes", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("classification_id", name=op.f("pk_classification_meta")),
        sa.ForeignKeyConstraint(
            ["classification_id"],
            ["classification.id"],
            name=op.f("fk_classification_meta_classification_id"),
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "tariff_record",
        sa.Column("list_name", sa.String(40), nullable=False),
        sa.Column("record_id", sa.String(100), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(20), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("record", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("list_name", "record_id", name=op.f("pk_tariff_record")),
    )
    op.create_index(op.f("ix_tariff_record_list_name_code"), "tariff_record", ["list_name", "code"])
    op.create_table(
        "data_source",
        sa.Column("identifier", sa.String(40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("record", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("identifier", name=op.f("pk_data_source")),
    )
    op.create_table(
        "population",
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region_code", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("country", "region_code", "year", name=op.f("pk_population")),
    )


def downgrade() -> None:
    op.drop_table("population")
    op.drop_table("data_source")
    op.drop_index(op.f("ix_tariff_record_list_name_code"), table_name="tariff_record")
    op.drop_table("tariff_record")
    op.drop_table("classification_meta")
