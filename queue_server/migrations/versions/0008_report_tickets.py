"""The reports' per-ticket projection: one row per ticket, folded from ``report_rows``.

A year's report reads 250,000 ticket rows instead of folding 800,000 events. The reporting module
(``queue_server/reports/tickets.py``) keeps it on its own connection, in short batches, after
``report_rows``; the queue worker never writes it. ``report_ticket_marks`` says, per site, how far the
tickets are folded and whether a ticket was issued twice; ``report_time_steps`` lists the events whose
time is earlier than an event before them (a clock stepped back), where reports fold the events
instead. Dropping the three loses nothing: they are rebuilt from the log.

Revision ID: 0008_report_tickets
Revises: 0007_keypad_code
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_report_tickets"
down_revision = "0007_keypad_code"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text, real, integer = sa.Text(), sa.Float(), sa.Integer()
    seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "report_tickets",
        sa.Column("site", text, nullable=False),
        sa.Column("id", text, nullable=False),
        sa.Column("day", text, nullable=False),
        sa.Column("issued_seq", seq, nullable=False),
        sa.Column("last_ts", real, nullable=False),
        sa.Column("code", text, nullable=False),
        sa.Column("service", text, nullable=False),
        sa.Column("priority", text),
        sa.Column("rules_version", text, nullable=False),
        sa.Column("offline", integer, nullable=False),
        sa.Column("issued_ts", real, nullable=False),
        sa.Column("estimate_s", real),
        sa.Column("status", text, nullable=False),
        sa.Column("current", text, nullable=False),
        sa.Column("first_call_ts", real),
        sa.Column("waited_s", real),
        sa.Column("served", integer, nullable=False),
        sa.Column("no_shows", integer, nullable=False),
        sa.Column("transfers", integer, nullable=False),
        sa.Column("parks", integer, nullable=False),
        sa.Column("cancelled", integer, nullable=False),
        sa.Column("rating_score", integer),
        sa.Column("rating_scale", integer),
        sa.Column("rating_counter", integer),
        sa.Column("rating_officer", text),
        sa.Column("call_counter", integer),
        sa.Column("call_officer", text),
        sa.Column("call_service", text),
        sa.Column("call_service_s", real),
        sa.Column("more_calls", text),
        sa.Column("in_ts", real, nullable=False),
        sa.Column("out_seq", seq),
        sa.Column("out_ts", real),
        sa.Column("more_moves", text),
        sa.PrimaryKeyConstraint("site", "id", name="report_tickets_pkey"),
    )
    op.create_index("report_tickets_issued", "report_tickets", ["site", "issued_seq"])
    op.create_index("report_tickets_day", "report_tickets", ["site", "day"])
    op.create_table(
        "report_ticket_marks",
        sa.Column("site", text, nullable=False),
        sa.Column("seq", seq, nullable=False),
        sa.Column("max_ts", real, nullable=False),
        sa.Column("regular", integer, nullable=False),
        sa.PrimaryKeyConstraint("site", name="report_ticket_marks_pkey"),
    )
    op.create_table(
        "report_time_steps",
        sa.Column("site", text, nullable=False),
        sa.Column("seq", seq, nullable=False),
        sa.PrimaryKeyConstraint("site", "seq", name="report_time_steps_pkey"),
    )
    op.create_index("report_rows_key", "report_rows", ["site", "key"])


def downgrade() -> None:
    op.drop_index("report_rows_key", table_name="report_rows")
    op.drop_table("report_time_steps")
    op.drop_table("report_ticket_marks")
    op.drop_index("report_tickets_day", table_name="report_tickets")
    op.drop_index("report_tickets_issued", table_name="report_tickets")
    op.drop_table("report_tickets")
