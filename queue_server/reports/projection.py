"""The reports' projection of the event log: ``report_rows``, one row of plain columns per event.

Picking JSON fields out of 800,000 events costs the database several seconds per report; the
projection pays it once. ``catch_up`` appends the events written since the last report in batches of
``BATCH`` seq numbers, each its own short transaction on the reporting module's own connection (the
queue worker waits at most one batch for SQLite's write lock, and never writes this table). Rows are
inserted idempotently (``ON CONFLICT DO NOTHING`` / ``INSERT OR IGNORE``), so two reports catching up at
once do no harm. The table is created by migration 0002; dropping it loses nothing.

Column meaning is ``source.Row``'s; ``site`` is the hub's site id, or ``''`` in a centre's own store.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from queue_server.reports.source import TYPES, Row

if TYPE_CHECKING:
    from queue_server.reports.source import ReportSource

log = logging.getLogger(__name__)

BATCH = 5_000  # about 50 ms of the write lock per batch on a 2-core machine


def catch_up(source: ReportSource, writer: Engine, sites: list[str]) -> bool:
    """Append every event of ``sites`` not yet projected; False when the store has no projection."""
    table, log_table = source.log.projection, source.log
    with source.snapshot() as conn:
        present = table is not None and sa.inspect(conn).has_table(table)
    if table is None or not present:
        return False
    wanted = ", ".join(f"'{t}'" for t in TYPES)
    site_test = "" if log_table.site_column is None else f"{log_table.site_column} = :site AND"
    select = source.select_sql(
        f"{log_table.table} WHERE {site_test} seq > :after AND seq <= :upto AND type IN ({wanted})"
    )
    columns = ", ".join(Row._fields)
    if source.postgres:
        insert = f"INSERT INTO {table} ({columns}) {select} ON CONFLICT DO NOTHING"
    else:
        insert = f"INSERT OR IGNORE INTO {table} ({columns}) {select}"
    added = 0
    for site in sites:
        done, end = _bounds(source, table, site)
        while done < end:
            upto = min(end, done + BATCH)
            with writer.begin() as conn:
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                try:
                    cursor.execute(source.driver_sql(insert), {"site": site, "after": done, "upto": upto})
                    added += max(0, cursor.rowcount)
                finally:
                    cursor.close()
            done = upto
    if added:
        log.info("report projection: %d events added", added)
    return True


def _bounds(source: ReportSource, table: str, site: str) -> tuple[int, int]:
    """The last seq projected for ``site`` and the last seq of its log."""
    site_test = "" if source.log.site_column is None else f"WHERE {source.log.site_column} = :site"
    with source.snapshot() as conn:
        done = conn.execute(sa.text(f"SELECT max(seq) FROM {table} WHERE site = :site"), {"site": site})
        end = conn.execute(sa.text(f"SELECT max(seq) FROM {source.log.table} {site_test}"), {"site": site})
        return int(done.scalar() or 0), int(end.scalar() or 0)
