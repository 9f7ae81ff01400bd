"""The per-ticket projection's tickets in (site, day, service, rule version) order.

A report's totals count the period's tickets per business day, service and rule version in one
statement; with this index SQLite reads them already in that order instead of sorting a year's
250,000 rows into a temporary tree. It replaces ``report_tickets_day`` (site, day), which it begins with:
the projection finds a closed day's tickets through it just as well.

Revision ID: 0009_report_ticket_groups
Revises: 0008_report_tickets
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0009_report_ticket_groups"
down_revision = "0008_report_tickets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("report_tickets_groups", "report_tickets", ["site", "day", "service", "rules_version"])
    op.drop_index("report_tickets_day", table_name="report_tickets")


def downgrade() -> None:
    op.create_index("report_tickets_day", "report_tickets", ["site", "day"])
    op.drop_index("report_tickets_groups", table_name="report_tickets")
