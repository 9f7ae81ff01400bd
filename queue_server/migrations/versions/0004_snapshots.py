"""Engine snapshots: the state after an event of the chain, so start-up replays only what follows.

Revision ID: 0004_snapshots
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_snapshots"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sa.Text()
    op.create_table(
        "snapshots",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=False),
        sa.Column("hash", text, nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("day", text, nullable=False),
        sa.Column("digest", text, nullable=False),
        sa.Column("body", text, nullable=False),
        sa.Column("at", text, nullable=False),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("snapshots")
