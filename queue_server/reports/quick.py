"""A period's facts from the per-ticket projection, when it gives exactly what the fold would.

``facts.fold`` over the period's events is the definition; this is a shortcut to the same ``Facts``:

- the tickets are the ``report_tickets`` rows whose issue lies in the period's slice of the log and
  whose business day is in the period, in the order they were issued (as the fold makes them, so sums
  of times are added in the same order);
- counters and dossiers are folded from their own events, as before (a few per counter and day);
- the people waiting at each 15-minute sample and the peak come from the tickets' moves in and out of
  the waiting line: with the log's times in order, a sample at instant S counts every move up to S.

It declines (``None``, and the report folds the events) when the shortcut could differ: a hub's many
sites, a ticket issued twice, a slice of the log where the time steps back (the samples are taken as
the events come, so the order of times matters), or a ticket with an event after the slice's end (a
rating more than a day after the period).
"""

from __future__ import annotations

import math
from datetime import time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from queue_server.reports.facts import SAMPLE_S, Facts, Folder, TicketFact
from queue_server.reports.period import Period
from queue_server.reports.source import AFTER, TYPES, ReportSource
from queue_server.reports.tickets import COLUMNS, MARKS, STEPS, TABLE, TICKET_TYPES, Move, ticket_from

OTHER_TYPES = tuple(t for t in TYPES if t not in TICKET_TYPES and t != "day_closed")


def quick_facts(
    source: ReportSource, conn: Connection, period: Period, *, tz: ZoneInfo, day_starts: time, until: float
) -> Facts | None:
    """The facts of ``period`` from the projections, or None when only the fold can tell."""
    if not source.tickets_projected:
        return None
    sites = source.sites(conn)
    if len(sites) != 1:
        return None
    site = sites[0]
    mark = conn.execute(
        sa.text(f"SELECT seq, regular FROM {MARKS} WHERE site = :site"), {"site": site}
    ).first()
    if mark is None or not mark[1]:
        return None
    start, end = period.bounds(tz, day_starts)
    lo, hi = source.slice(conn, site, start, end)
    hi = min(hi, int(mark[0]) + 1)
    steps = sa.text(f"SELECT count(*) FROM {STEPS} WHERE site = :site AND seq > :lo AND seq < :hi")
    if conn.execute(steps, {"site": site, "lo": lo, "hi": hi}).scalar():
        return None
    loaded = _tickets(conn, site, period, (lo, hi), (end + AFTER).timestamp())
    if loaded is None:
        return None
    tickets, moves = loaded
    folder = Folder(period, tz, day_starts, until)
    facts = folder.feed(source.read(conn, start, end, OTHER_TYPES, upto=int(mark[0])))
    facts.tickets = tickets
    _waiting(folder, facts, moves)
    return facts


def _tickets(
    conn: Connection, site: str, period: Period, seqs: tuple[int, int], cut: float
) -> tuple[dict[tuple[str, str], TicketFact], list[Move]] | None:
    sql = (
        f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE site = ? AND issued_seq >= ? AND issued_seq < ?"
        " AND day >= ? AND day <= ? ORDER BY issued_seq"
    )
    params = (site, *seqs, period.first.isoformat(), period.last.isoformat())
    if source_is_postgres(conn):
        sql = sql.replace("?", "%s")
    tickets: dict[tuple[str, str], TicketFact] = {}
    moves: list[Move] = []
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        for r in cursor:
            if r[4] >= cut:
                return None
            tickets[(r[0], r[1])] = ticket_from(r, moves)
    finally:
        cursor.close()
    return tickets, moves


def source_is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _waiting(folder: Folder, facts: Facts, moves: list[Move]) -> None:
    """Add the people waiting to each sample the folder took, and find the peak."""
    start, end = folder.start, folder.end
    net: dict[int, int] = {}
    for _seq, ts, delta in moves:
        k = 0 if ts <= start else math.ceil((ts - start) / SAMPLE_S)
        net[k] = net.get(k, 0) + delta
    hours: dict[int, tuple[str, int]] = {}
    samples, shift = facts.samples, folder._shift
    waiting, k, at = 0, 0, start
    while at < end:
        waiting += net.get(k, 0)
        folder.slot(at, samples, hours, shift)[2] += waiting
        k += 1
        at += SAMPLE_S
    # The peak: the first move that took the line to its longest, in log order.
    order = sorted(seq * 2 + (delta > 0) for seq, _ts, delta in moves)
    waiting, peak, peak_key = 0, 0, -1
    for key in order:
        waiting += 1 if key & 1 else -1
        if waiting > peak:
            peak, peak_key = waiting, key
    if peak_key >= 0:
        peak_seq = peak_key >> 1
        facts.peak_waiting = peak
        facts.peak_at = next(ts for seq, ts, delta in moves if seq == peak_seq and delta > 0)
