"""Officer accounts and the API keys of HTTP integrations.

Revision ID: 0005_officers
Revises: 0004_snapshots
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_officers"
down_revision = "0004_snapshots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text, integer = sa.Text(), sa.Integer()
    op.create_table(
        "officers",
        sa.Column("id", text, primary_key=True),
        sa.Column("display_name", text, nullable=False),
        sa.Column("role", text, nullable=False),
        sa.Column("password_hash", text, nullable=False),
        sa.Column("pin_hash", text, nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("failures", integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.Float(), nullable=True),
        sa.Column("created_at", text, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", text, primary_key=True),
        sa.Column("name", text, nullable=False),
        sa.Column("scopes", text, nullable=False),
        sa.Column("key_hash", text, nullable=False, unique=True),
        sa.Column("created_at", text, nullable=False),
        sa.Column("revoked_at", text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("officers")
