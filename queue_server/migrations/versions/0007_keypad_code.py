"""The keypad code of an officer account: the digits typed on a calling keypad before the PIN.

Revision ID: 0007_keypad_code
Revises: 0006_device_incidents
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_keypad_code"
down_revision = "0006_device_incidents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.add_column(sa.Column("keypad_code", sa.Text(), nullable=True))
        batch.create_unique_constraint("uq_officers_keypad_code", ["keypad_code"])


def downgrade() -> None:
    with op.batch_alter_table("officers") as batch:
        batch.drop_constraint("uq_officers_keypad_code", type_="unique")
        batch.drop_column("keypad_code")
