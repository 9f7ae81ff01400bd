"""The reports' projection of the event log: one row of plain columns per event a report reads.

The reporting module (``queue_server/reports/projection.py``) fills it incrementally from ``events``
on its own connection, in short batches; the queue worker never writes it. Dropping it loses nothing:
it is rebuilt from the log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text, real = sa.Text(), sa.Float()
    op.create_table(
        "report_rows",
        sa.Column("site", text, nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("ts", real, nullable=False),
        sa.Column("type", text, nullable=False),
        sa.Column("key", text),
        sa.Column("counter", sa.Integer()),
        sa.Column("officer", text),
        sa.Column("text", text),
        sa.Column("number", real),
        sa.Column("time", real),
        sa.Column("extra", text),
        sa.Column("flag", text),
        sa.Column("priority", text),
        sa.Column("code", text),
        sa.PrimaryKeyConstraint("site", "seq", name="report_rows_pkey"),
    )
    op.create_index("report_rows_type", "report_rows", ["site", "type", "seq"])


def downgrade() -> None:
    op.drop_index("report_rows_type", table_name="report_rows")
    op.drop_table("report_rows")
