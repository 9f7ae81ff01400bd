"""The first schema: the hash-chained events log and the current-state tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_GUARDS = (
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only: an event cannot be changed'); END",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    " BEGIN SELECT RAISE(ABORT, 'events are append-only: an event cannot be deleted'); END",
)
_POSTGRES_GUARDS = (
    "CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN RAISE EXCEPTION 'events are append-only: % refused', TG_OP; END $$",
    "CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events"
    " FOR EACH ROW EXECUTE FUNCTION events_append_only()",
    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events"
    " FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()",
)


def upgrade() -> None:
    text, integer = sa.Text(), sa.Integer()
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=False),
        sa.Column("at", text, nullable=False),
        sa.Column("type", text, nullable=False),
        sa.Column("data", text, nullable=False),
        sa.Column("request_id", text),
        sa.Column("prev_hash", text, nullable=False),
        sa.Column("hash", text, nullable=False),
    )  # fmt: skip
    op.create_table(
        "tickets",
        sa.Column("id", text, primary_key=True),
        sa.Column("business_day", text, nullable=False),
        sa.Column("service", text, nullable=False),
        sa.Column("series", text, nullable=False),
        sa.Column("number", integer, nullable=False),
        sa.Column("code", text, nullable=False),
        sa.Column("token", text, nullable=False),
        sa.Column("priority", text),
        sa.Column("status", text, nullable=False),
        sa.Column("counter", integer),
        sa.Column("officer", text),
        sa.Column("rules_version", text, nullable=False),
        sa.Column("issued_at", text, nullable=False),
        sa.Column("called_at", text),
        sa.Column("finished_at", text),
        sa.Column("estimate_s", sa.Float()),
        sa.Column("waited_s", sa.Float()),
        sa.Column("recalls", integer, nullable=False),
        sa.Column("data", text, nullable=False),
        sa.UniqueConstraint("business_day", "series", "number", name="tickets_number_unique"),
        sa.UniqueConstraint("token", name="tickets_token_unique"),
    )
    op.create_index("tickets_day_status", "tickets", ["business_day", "status"])
    op.create_table(
        "counters",
        sa.Column("number", integer, primary_key=True, autoincrement=False),
        sa.Column("status", text, nullable=False),
        sa.Column("officer", text),
        sa.Column("ticket_id", text),
        sa.Column("data", text, nullable=False),
    )
    op.create_table(
        "ratings",
        sa.Column("ticket_id", text, primary_key=True),
        sa.Column("counter", integer, nullable=False),
        sa.Column("officer", text),
        sa.Column("score", integer, nullable=False),
        sa.Column("scale", integer, nullable=False),
        sa.Column("answers", text, nullable=False),
        sa.Column("at", text, nullable=False),
    )
    op.create_table(
        "requests",
        sa.Column("id", text, primary_key=True),
        sa.Column("verb", text, nullable=False),
        sa.Column("response", text, nullable=False),
        sa.Column("at", text, nullable=False),
    )
    guards = _POSTGRES_GUARDS if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE events")
        op.execute("DROP FUNCTION events_append_only()")
    else:
        op.drop_table("events")
    for table in ("requests", "ratings", "counters", "tickets"):
        op.drop_table(table)
