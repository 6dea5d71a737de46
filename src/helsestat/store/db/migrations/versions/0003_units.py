"""Unit registry: permanent ids, bitemporal unit versions, identifiers, scoped users and
hashed API tokens (the tables of :mod:`helsestat.store.db.units_schema`), plus triggers that
refuse deleting a unit and moving the id counter backwards.

Revision ID: 0003_units
Revises: 0002_reference
Create Date: 2026-01-19
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_units"
down_revision: str | None = "0002_reference"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TS = sa.DateTime(timezone=True)
_VALID_RANGE = "valid_to IS NULL OR valid_to > valid_from"
_KINDS = (
    "rhf",
    "hf",
    "institusjon",
    "behandlingssted",
    "klinikk",
    "avdeling",
    "seksjon",
    "enhet",
    "vardgivare",
    "vardenhet",
)
_SECTORS = ("somatikk", "phv", "phbu", "tsb")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


_NEVER_DELETED = ("unit", "unit_version", "unit_identifier")

_SQLITE_TRIGGERS = [
    *(
        f"CREATE TRIGGER {table}_never_deleted BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table}: units are closed, never deleted'); END"
        for table in _NEVER_DELETED
    ),
    "CREATE TRIGGER unit_id_counter_only_increases BEFORE UPDATE ON unit_id_counter "
    "WHEN NEW.next_value < OLD.next_value "
    "BEGIN SELECT RAISE(ABORT, 'unit ids are never reused: the counter only increases'); END",
    "CREATE TRIGGER unit_id_counter_never_deleted BEFORE DELETE ON unit_id_counter "
    "BEGIN SELECT RAISE(ABORT, 'unit ids are never reused: the counter stays'); END",
]

_PG_FUNCTIONS = [
    """CREATE FUNCTION helsestat_units_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '%: units are closed, never deleted', TG_TABLE_NAME;
    END $$""",
    """CREATE FUNCTION helsestat_unit_ids_never_reused() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' OR NEW.next_value < OLD.next_value THEN
            RAISE EXCEPTION 'unit ids are never reused: the counter only increases';
        END IF;
        RETURN NEW;
    END $$""",
]
_PG_TRIGGERS = [
    *(
        f"CREATE TRIGGER {table}_never_deleted BEFORE DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION helsestat_units_never_deleted()"
        for table in _NEVER_DELETED
    ),
    "CREATE TRIGGER unit_id_counter_only_increases BEFORE UPDATE OR DELETE ON unit_id_counter "
    "FOR EACH ROW EXECUTE FUNCTION helsestat_unit_ids_never_reused()",
]


def upgrade() -> None:
    op.create_table(
        "unit_id_counter",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_unit_id_counter")),
    )
    op.create_table(
        "unit",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.CheckConstraint("country IN ('NO', 'SE')", name=op.f("ck_unit_country")),
    )
    op.create_table(
        "unit_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.Column("superseded_at", _TS, nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("orgnr", sa.String(12), nullable=True),
        sa.Column("kommune", sa.String(4), nullable=True),
        sa.Column("lan", sa.String(2), nullable=True),
        sa.Column("sector", sa.String(10), nullable=True),
        sa.Column("service_classification", sa.Integer(), nullable=True),
        sa.Column("services", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_version")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_unit_version_unit_id")),
        sa.ForeignKeyConstraint(["parent_id"], ["unit.id"], name=op.f("fk_unit_version_parent_id")),
        sa.CheckConstraint(_VALID_RANGE, name=op.f("ck_unit_version_valid_range")),
        sa.CheckConstraint(_in("kind", _KINDS), name=op.f("ck_unit_version_kind")),
        sa.CheckConstraint(
            f"sector IS NULL OR {_in('sector', _SECTORS)}", name=op.f("ck_unit_version_sector")
        ),
    )
    op.create_index(
        op.f("ix_unit_version_unit_id_superseded_at"),
        "unit_version",
        ["unit_id", "superseded_at"],
    )
    op.create_index(op.f("ix_unit_version_parent_id"), "unit_version", ["parent_id"])
    op.create_table(
        "unit_identifier",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("scheme", sa.String(20), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("recorded_at", _TS, nullable=False),
        sa.Column("superseded_at", _TS, nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_identifier")),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_unit_identifier_unit_id")),
        sa.CheckConstraint(_VALID_RANGE, name=op.f("ck_unit_identifier_valid_range")),
    )
    op.create_index(op.f("ix_unit_identifier_scheme_value"), "unit_identifier", ["scheme", "value"])
    op.create_index(op.f("ix_unit_identifier_unit_id"), "unit_identifier", ["unit_id"])
    op.create_table(
        "unit_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("scope_unit_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("disabled_at", _TS, nullable=True),
        sa.Column("identity_provider", sa.String(200), nullable=True),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_user")),
        sa.ForeignKeyConstraint(
            ["scope_unit_id"], ["unit.id"], name=op.f("fk_unit_user_scope_unit_id")
        ),
        sa.CheckConstraint("role IN ('owner', 'admin', 'editor')", name=op.f("ck_unit_user_role")),
        sa.CheckConstraint(
            "role = 'owner' OR scope_unit_id IS NOT NULL", name=op.f("ck_unit_user_scoped")
        ),
    )
    op.create_index(op.f("ix_unit_user_name"), "unit_user", ["name"], unique=True)
    op.create_index(
        op.f("ix_unit_user_identity_provider_subject"),
        "unit_user",
        ["identity_provider", "subject"],
        unique=True,
    )
    op.create_table(
        "unit_api_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lookup", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(300), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=True),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_api_token")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["unit_user.id"], name=op.f("fk_unit_api_token_user_id")
        ),
    )
    op.create_index(op.f("ix_unit_api_token_lookup"), "unit_api_token", ["lookup"], unique=True)
    op.create_index(op.f("ix_unit_api_token_user_id"), "unit_api_token", ["user_id"])
    op.execute(sa.text("INSERT INTO unit_id_counter (name, next_value) VALUES ('unit', 100000)"))
    if op.get_bind().dialect.name == "postgresql":
        for statement in (*_PG_FUNCTIONS, *_PG_TRIGGERS):
            op.execute(sa.text(statement))
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(sa.text(statement))


def downgrade() -> None:
    op.drop_table("unit_api_token")
    op.drop_table("unit_user")
    op.drop_table("unit_identifier")
    op.drop_table("unit_version")
    op.drop_table("unit")
    op.drop_table("unit_id_counter")  # the tables' triggers go with them
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("DROP FUNCTION IF EXISTS helsestat_units_never_deleted()"))
        op.execute(sa.text("DROP FUNCTION IF EXISTS helsestat_unit_ids_never_reused()"))
