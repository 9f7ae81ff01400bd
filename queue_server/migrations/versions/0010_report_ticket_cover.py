"""The per-ticket projection's two grouped passes answered from indexes alone, on SQLite.

A year's report makes two passes over its 250,000 tickets besides reading them: the totals grouped by
(day, service, rule version) and the rated tickets. Through ``report_tickets_groups`` SQLite found each
ticket's row in the table to read the counted columns (0.20 s for a year); the index now holds them
after its four keys, so the pass never leaves it (0.13 s). The rated tickets (one in five) get an index
of their own holding what the report reads of them, only for the rated ones (0.08 → 0.04 s, instead of
walking every ticket of the period). Both replace or add only indexes; the report's queries are the same.

PostgreSQL is left as it was: it hashes the totals from a scan of the table (0.08 s for a year) and
its plans are not the ones measured here.

Revision ID: 0010_report_ticket_cover
Revises: 0009_report_ticket_groups
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_report_ticket_cover"
down_revision = "0009_report_ticket_groups"
branch_labels = None
depends_on = None

GROUPS = ["site", "day", "service", "rules_version"]
COUNTED = [
    "served", "no_shows", "cancelled", "transfers", "parks", "offline", "status", "priority", "issued_seq",
    "last_ts",
]  # fmt: skip
RATED = ["site", "issued_seq", "day", "rating_score", "rating_scale", "rating_counter", "rating_officer"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index("report_tickets_groups", table_name="report_tickets")
    op.create_index("report_tickets_groups", "report_tickets", GROUPS + COUNTED)
    op.create_index(
        "report_tickets_rated", "report_tickets", RATED, sqlite_where=sa.text("rating_score IS NOT NULL")
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index("report_tickets_rated", table_name="report_tickets")
    op.drop_index("report_tickets_groups", table_name="report_tickets")
    op.create_index("report_tickets_groups", "report_tickets", GROUPS)
