"""Device incidents and the paper of each printer's roll, for the facility dashboard and its alerts.

``device_incidents``: one row per incident of a device (``code``: offline, paper_near_end, paper_out,
cutter_error, paper_jam ...), open while ``ended_at`` is null. ``printer_paper``: the paper a
printer used since its roll was changed.

Revision ID: 0006_device_incidents
Revises: 0003_outbox
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_device_incidents"
down_revision = "0003_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sa.Text()
    op.create_table(
        "device_incidents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("device_id", text, nullable=False),
        sa.Column("code", text, nullable=False),
        sa.Column("started_at", text, nullable=False),
        sa.Column("ended_at", text, nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
    )  # fmt: skip
    op.create_index("device_incidents_device", "device_incidents", ["device_id", "started_at"])
    op.create_table(
        "printer_paper",
        sa.Column("device_id", text, primary_key=True),
        sa.Column("roll_since", text, nullable=False),
        sa.Column("used_mm", sa.Float(), nullable=False),
        sa.Column("updated_at", text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("printer_paper")
    op.drop_index("device_incidents_device", "device_incidents")
    op.drop_table("device_incidents")
