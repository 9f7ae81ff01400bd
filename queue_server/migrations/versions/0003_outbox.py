"""The outbox: every call, written in the same transaction as its event, marked once it went out.

A call is published after commit; if the process dies between the two, the row is still unpublished
and the next start (or reconnect) publishes it. The rows stay: ``calls_since`` answers from them.

Revision ID: 0003_outbox
Revises: 0005_officers
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_outbox"
down_revision = "0005_officers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sa.Text()
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=False),
        sa.Column("topic", text, nullable=False),
        sa.Column("payload", text, nullable=False),
        sa.Column("at", text, nullable=False),
        sa.Column("published", sa.Integer(), nullable=False),
    )  # fmt: skip
    op.create_index("outbox_unpublished", "outbox", ["published", "seq"])


def downgrade() -> None:
    op.drop_index("outbox_unpublished", "outbox")
    op.drop_table("outbox")
