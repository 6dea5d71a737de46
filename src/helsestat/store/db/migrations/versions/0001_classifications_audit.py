"""Classifications (KLASS-like versions, levels, codes, correspondences) and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-01-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_VALID_RANGE = "valid_to IS NULL OR valid_to > valid_from"


def upgrade() -> None:
    op.create_table(
        "classification",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column(
            "created", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classification")),
    )
    op.create_table(
        "classification_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("classification_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classification_version")),
        sa.ForeignKeyConstraint(
            ["classification_id"],
            ["classification.id"],
            name=op.f("fk_classification_version_classification_id"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(_VALID_RANGE, name=op.f("ck_classification_version_valid_range")),
    )
    op.create_index(
        op.f("ix_classification_version_classification_id"),
        "classification_version",
        ["classification_id"],
    )
    op.create_table(
        "classification_level",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("level_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version_id", "level_number", name=op.f("pk_classification_level")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["classification_version.id"],
            name=op.f("fk_classification_level_version_id"),
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "classification_code",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("parent_code", sa.String(64), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("version_id", "code", name=op.f("pk_classification_code")),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["classification_version.id"],
            name=op.f("fk_classification_code_version_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id", "level"],
            ["classification_level.version_id", "classification_level.level_number"],
            name=op.f("fk_classification_code_level"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id", "parent_code"],
            ["classification_code.version_id", "classification_code.code"],
            name=op.f("fk_classification_code_parent"),
        ),
        sa.CheckConstraint(_VALID_RANGE, name=op.f("ck_classification_code_valid_range")),
    )
    op.create_table(
        "correspondence",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source_version_id", sa.Integer(), nullable=False),
        sa.Column("target_version_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correspondence")),
        sa.ForeignKeyConstraint(
            ["source_version_id"],
            ["classification_version.id"],
            name=op.f("fk_correspondence_source_version_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_version_id"],
            ["classification_version.id"],
            name=op.f("fk_correspondence_target_version_id"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_correspondence_source_version_id"), "correspondence", ["source_version_id"]
    )
    op.create_index(
        op.f("ix_correspondence_target_version_id"), "correspondence", ["target_version_id"]
    )
    op.create_table(
        "correspondence_map",
        sa.Column("correspondence_id", sa.Integer(), nullable=False),
        sa.Column("source_code", sa.String(64), nullable=False),
        sa.Column("target_code", sa.String(64), nullable=False),
        sa.Column("weight", sa.Float(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint(
            "correspondence_id", "source_code", "target_code", name=op.f("pk_correspondence_map")
        ),
        sa.ForeignKeyConstraint(
            ["correspondence_id"],
            ["correspondence.id"],
            name=op.f("fk_correspondence_map_correspondence_id"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "weight > 0 AND weight <= 1", name=op.f("ck_correspondence_map_weight_share")
        ),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("entity_id", sa.String(100), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("before", _JSON, nullable=True),
        sa.Column("after", _JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        op.f("ix_audit_log_entity_entity_id_at"), "audit_log", ["entity", "entity_id", "at"]
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("correspondence_map")
    op.drop_table("correspondence")
    op.drop_table("classification_code")
    op.drop_table("classification_level")
    op.drop_table("classification_version")
    op.drop_table("classification")
