"""A period's facts from the per-ticket projection, when it gives exactly what the fold would.

``facts.fold`` over the period's events is the definition; this is a shortcut to the same ``Facts``:

- the tickets are the ``report_tickets`` rows whose issue lies in the period's slice of the log and
  whose business day is in the period, in the order they were issued (as the fold makes them, so sums
  of times are added in the same order);
- counters and dossiers are folded from their own events, as before (a few per counter and day);
- the people waiting at each 15-minute sample and the peak come from the tickets' moves in and out of
  the waiting line: with the log's times in order, a sample at instant S counts every move up to S.

``quick_columns`` gives the same tickets as columns instead (``columns.Tickets``: no object per ticket,
the whole-ticket counts and rule versions summed by the database), what a report without filters uses.

It declines (``None``, and the report folds the events) when the shortcut could differ: a hub's many
sites, a ticket issued twice, a slice of the log where the time steps back (the samples are taken as
the events come, so the order of times matters), or a ticket with an event after the slice's end (a
rating more than a day after the period).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from datetime import time
from itertools import compress, islice, pairwise, repeat
from operator import add, is_not, itemgetter, lt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from queue_server.reports.columns import COUNTS, Rating, Tally, Tickets, Version, flat_calls
from queue_server.reports.facts import EXPIRED, OPEN, SAMPLE_S, Episode, Facts, Folder, TicketFact
from queue_server.reports.period import Period
from queue_server.reports.source import AFTER, TYPES, ReportSource
from queue_server.reports.tickets import MARKS, STEPS, TABLE, TICKET_TYPES, Move

OTHER_TYPES = tuple(t for t in TYPES if t not in TICKET_TYPES and t != "day_closed")


def quick_facts(
    source: ReportSource, conn: Connection, period: Period, *, tz: ZoneInfo, day_starts: time, until: float
) -> Facts | None:
    """The facts of ``period`` from the projections, or None when only the fold can tell."""
    found = _quick(source, conn, period, (tz, day_starts, until), columns=False)
    return None if found is None else found[0]


def quick_columns(
    source: ReportSource, conn: Connection, period: Period, *, tz: ZoneInfo, day_starts: time, until: float
) -> tuple[Facts, Tickets] | None:
    """The same, with the tickets as columns (``facts.tickets`` left empty): no object per ticket."""
    found = _quick(source, conn, period, (tz, day_starts, until), columns=True)
    if found is None:
        return None
    facts, tickets = found
    assert tickets is not None
    return facts, tickets


def _quick(
    source: ReportSource,
    conn: Connection,
    period: Period,
    clock: tuple[ZoneInfo, time, float],
    *,
    columns: bool,
) -> tuple[Facts, Tickets | None] | None:
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
    tz, day_starts, until = clock
    start, end = period.bounds(tz, day_starts)
    lo, hi = source.slice(conn, site, start, end)
    hi = min(hi, int(mark[0]) + 1)
    steps = sa.text(f"SELECT count(*) FROM {STEPS} WHERE site = :site AND seq > :lo AND seq < :hi")
    if conn.execute(steps, {"site": site, "lo": lo, "hi": hi}).scalar():
        return None
    rows = _Slice(conn, site, period, (lo, hi))
    try:
        cut = (end + AFTER).timestamp()
        totals = _totals(rows) if columns else None
        late = f"SELECT max(last_ts) FROM {TABLE} WHERE {{where}}"
        latest = totals[3] if totals is not None else rows.run(late, rows.params).fetchone()[0]
        if latest is not None and latest >= cut:  # a ticket with an event after the slice
            return None
        folder = Folder(period, tz, day_starts, until)
        facts = folder.feed(source.read(conn, start, end, OTHER_TYPES, upto=int(mark[0])))
        if totals is not None:
            tickets, moves, extra = table_columns(rows, totals)
            _waiting(folder, facts, moves, extra)
            return facts, tickets
        facts.tickets, read, extra = _tickets(rows)
        n = len(READ)
        _waiting(folder, facts, [list(map(itemgetter(k), read)) for k in range(n - 4, n)], extra)
    finally:
        rows.cursor.close()
    return facts, None


# Read per ticket: what its ``TicketFact`` holds (the site is the report's, the moves are summed in SQL).
READ = (
    "id", "day", "code", "service", "priority", "rules_version", "offline", "issued_ts", "estimate_s",
    "status", "current", "first_call_ts", "waited_s", "served", "no_shows", "transfers", "parks",
    "cancelled", "rating_score", "rating_scale", "rating_counter", "rating_officer", "call_counter",
    "call_officer", "call_service", "call_service_s", "more_calls", "more_moves",
    "issued_seq", "in_ts", "out_seq", "out_ts",
)  # fmt: skip
_WHERE = "site = ? AND issued_seq >= ? AND issued_seq < ? AND day >= ? AND day <= ?"


class _Slice:
    """The period's tickets in ``report_tickets``: one cursor on the driver, ``?`` placeholders."""

    def __init__(self, conn: Connection, site: str, period: Period, seqs: tuple[int, int]) -> None:
        self.site, self.postgres = site, source_is_postgres(conn)
        self.params = (site, *seqs, period.first.isoformat(), period.last.isoformat())
        driver = conn.connection.driver_connection
        # PostgreSQL sends the rows in binary: a year's 250,000 rows decode in a third of the time
        # (the same Python values: only the wire format differs).
        self.cursor = driver.cursor(binary=True) if self.postgres else driver.cursor()  # type: ignore[union-attr]

    def run(self, sql: str, params: tuple[Any, ...]) -> Any:
        """Run ``sql``, whose ``{where}`` is the slice's condition, with all its ``params``."""
        sql = sql.replace("{where}", _WHERE)
        self.cursor.execute(sql.replace("?", "%s") if self.postgres else sql, params)
        return self.cursor


Loaded = tuple[dict[tuple[str, str], TicketFact], list[tuple[Any, ...]], list[Move]]


def _tickets(rows: _Slice) -> Loaded:
    """The period's tickets, in issue order, and the moves in and out of the waiting line beyond each
    ticket's first two (kept as JSON for the few tickets with more)."""
    site = rows.site
    tickets: dict[tuple[str, str], TicketFact] = {}
    extra: list[Move] = []
    read: list[tuple[Any, ...]] = []  # the rows, for their moves' columns
    keep = read.append
    loads = json.loads
    sql = f"SELECT {', '.join(READ)} FROM {TABLE} WHERE {{where}} ORDER BY issued_seq"
    # One pass, everything inline: this loop runs once per ticket (250,000 for a year).
    for r in rows.run(sql, rows.params):
        keep(r)
        episodes = [] if r[22] is None else [Episode(r[22], r[23], r[24], r[25])]
        if r[26] is not None:
            episodes += [Episode(*e) for e in loads(r[26])]
        if r[27] is not None:
            extra += [(m[0], m[1], m[2]) for m in loads(r[27])]
        tickets[(site, r[0])] = TicketFact(
            site, r[0], r[1], r[2], r[3], r[4], r[5], r[6] == 1, r[7], r[8], r[9], r[10], r[11], r[12],
            r[13] == 1, episodes, r[14], r[15], r[16], r[17] == 1,
            None if r[18] is None else (r[18], r[19], r[20], r[21]),
        )  # fmt: skip
    return tickets, read, extra


def source_is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _waiting(folder: Folder, facts: Facts, moves: Sequence[Sequence[Any]], extra: list[Move]) -> None:
    """Add the people waiting to each sample the folder took, and find the peak. Each ticket's first
    two moves are columns (seq and time in, seq and time out, None when still in), taken as numpy
    arrays (a year's half a million moves: sorted, counted and summed in C, whole numbers only, and
    times turned into sample numbers by the same floating-point steps as ``math.ceil((ts - start) /
    SAMPLE_S)``); the rest are in ``extra``."""
    import numpy as np  # here, as charts import matplotlib: the server starts without them

    in_seq, in_ts, out_seq, out_ts = moves
    ins = np.array(in_seq, dtype=np.int64)
    outs = np.array(out_seq, dtype=np.float64)  # None (still in the line) becomes NaN
    left = ~np.isnan(outs)
    _samples(
        folder,
        [(np.array(in_ts, dtype=np.float64), 1), (np.array(out_ts, dtype=np.float64)[left], -1)],
        extra,
    )
    # The peak: the first move that took the line to its longest, in log order (a seq's leaving
    # before its joining): moves as sorted keys seq * 2 + (1 joined, 0 left).
    more = np.array([seq * 2 + (delta > 0) for seq, _ts, delta in extra], dtype=np.int64)
    keys = np.concatenate((ins * 2 + 1, outs[left].astype(np.int64) * 2, more))
    if not len(keys):
        return
    keys.sort()
    # The line's length after the i-th move: 2 x (joined so far) - (i + 1).
    running = np.cumsum(keys & 1) * 2 - np.arange(1, len(keys) + 1)
    first = int(running.argmax())  # the first of the longest
    peak = int(running[first])
    if peak <= 0:
        return
    seq = int(keys[first]) >> 1
    facts.peak_waiting = peak
    at = bisect_left(in_seq, seq)
    if at < len(in_seq) and in_seq[at] == seq:
        facts.peak_at = in_ts[at]
    else:
        facts.peak_at = next(ts for s, ts, delta in extra if s == seq and delta > 0)


def _samples(folder: Folder, times: list[tuple[Any, int]], extra: list[Move]) -> None:
    """Per sample, the moves since the one before: the sample ``k`` at ``start + k x SAMPLE_S``
    counts every move at or before it, i.e. those with ``ceil((ts - start) / SAMPLE_S) <= k``."""
    import numpy as np

    start, slots = folder.start, folder.sample_slots
    net = np.zeros(len(slots), dtype=np.int64)
    for ts, delta in times:
        k = np.maximum(np.ceil((ts - start) / SAMPLE_S), 0)
        net += delta * np.bincount(k[k < len(slots)].astype(np.int64), minlength=len(slots))
    for _seq, ts1, delta in extra:
        k = 0 if ts1 <= start else math.ceil((ts1 - start) / SAMPLE_S)
        if k < len(slots):
            net[k] += delta
    for slot, waiting in zip(slots, np.cumsum(net).tolist(), strict=True):  # in time order
        slot[2] += waiting


# Read per ticket when the tables are made from columns: only what a table needs ticket by ticket.
COLUMNS_READ = (
    "day", "code", "service", "issued_ts", "estimate_s", "waited_s", "call_counter", "call_officer",
    "call_service_s", "more_calls", "more_moves", "issued_seq", "in_ts", "out_seq", "out_ts",
)  # fmt: skip


def table_columns(rows: _Slice, totals: Totals) -> tuple[Tickets, list[Sequence[Any]], list[Move]]:
    """The period's tickets as columns (with the ``totals``), the columns of their first two moves
    and the further moves; the ratings and the tickets with no-shows picked out by the database."""
    counts, versions, tally, _latest, days = totals
    cols = _read_columns(rows, days)
    day, code, service, issued_ts, estimate_s, waited_s = (cols[c] for c in COLUMNS_READ[:6])
    counter, officer, service_s, more_calls, more_moves, in_seq, in_ts, out_seq, out_ts = (
        cols[c] for c in COLUMNS_READ[6:]
    )
    n = len(in_seq)
    loads = json.loads
    more: list[Any] = list(more_calls)
    for i in compress(range(n), map(is_not, more_calls, repeat(None))):
        more[i] = loads(more[i])
    calls = flat_calls((counter, officer, service_s), more)
    extra = [
        (m[0], m[1], m[2])
        for text in compress(more_moves, map(is_not, more_moves, repeat(None)))
        for m in loads(text)
    ]
    if counts["no_show"]:
        tally.no_shows.update(_no_shows(rows, in_seq))
    tickets = Tickets(
        [rows.site] * n, day, code, service, issued_ts, estimate_s, waited_s, tally, *calls, counts,
        versions, _ratings(rows, in_seq),
    )  # fmt: skip
    return tickets, [in_seq, in_ts, out_seq, out_ts], extra


def _ratings(rows: _Slice, in_seq: Sequence[int]) -> dict[int, Rating]:
    """The rated tickets' ratings by ticket index, picked out by the database."""
    return _by_ticket(rows, RATED_SQL, in_seq, itemgetter(1, 2, 3, 4))


def _no_shows(rows: _Slice, in_seq: Sequence[int]) -> dict[int, int]:
    """The no-shows of the tickets with any, by ticket index."""
    sql = f"SELECT issued_seq, no_shows FROM {TABLE} WHERE {{where}} AND no_shows > 0 ORDER BY issued_seq"
    return _by_ticket(rows, sql, in_seq, itemgetter(1))


def _by_ticket(rows: _Slice, sql: str, in_seq: Sequence[int], value: Any) -> dict[int, Any]:
    """``value`` of each row ``sql`` picks out (``issued_seq`` first), by the index of its ticket."""
    found = rows.run(sql, rows.params).fetchall()
    at = map(bisect_left, repeat(in_seq), map(itemgetter(0), found))
    return dict(zip(at, map(value, found), strict=True))


_RATING = ("rating_score", "rating_scale", "rating_counter", "rating_officer")
# Answered from the index report_tickets_rated alone on SQLite (migration 0010).
RATED_SQL = (
    f"SELECT issued_seq, {', '.join(_RATING)} FROM {TABLE}"
    f" WHERE {{where}} AND rating_score IS NOT NULL ORDER BY issued_seq"
)


def _read_columns(rows: _Slice, days: list[str] | None) -> dict[str, Sequence[Any]]:
    """``COLUMNS_READ`` of the period's tickets in issue order, by name; ``days``: the ``day`` column
    already known (from the totals). PostgreSQL sends each column as one array (a sixth of the
    client's work of a row per ticket); the arrays are filled in the order of the sorted sub-select,
    which PostgreSQL does not promise: when the ``issued_seq`` array is not in order, the rows are
    read one by one instead."""
    wanted = COLUMNS_READ if days is None else tuple(c for c in COLUMNS_READ if c != "day")
    found = _arrays(rows, wanted) if rows.postgres else None
    if found is None:
        sql = f"SELECT {', '.join(wanted)} FROM {TABLE} WHERE {{where}} ORDER BY issued_seq"
        fetched = rows.run(sql, rows.params).fetchall()
        # A pass per column (``itemgetter`` in C) costs a quarter less than ``zip(*fetched)``.
        found = {c: list(map(itemgetter(k), fetched)) for k, c in enumerate(wanted)}
    if days is not None:
        found["day"] = days
    return found


def _arrays(rows: _Slice, wanted: tuple[str, ...]) -> dict[str, Sequence[Any]] | None:
    arrays = ", ".join(f"array_agg({c})" for c in wanted)
    sql = f"SELECT {arrays} FROM (SELECT * FROM {TABLE} WHERE {{where}} ORDER BY issued_seq) AS t"
    found = rows.run(sql, rows.params).fetchone()
    if found[0] is None:  # no ticket
        return {c: [] for c in wanted}
    seq = found[wanted.index("issued_seq")]
    if all(map(lt, seq, islice(seq, 1, None))):
        return dict(zip(wanted, found, strict=True))
    return None


Totals = tuple[dict[str, int], list[Version], Tally, float | None, list[str] | None]


_NONZERO = ("served", "no_shows", "cancelled", "transfers", "parks", "offline")
# Answered from the index report_tickets_groups alone on SQLite (migration 0010): a column counted here
# belongs in that index too.
TOTALS_SQL = (
    f"SELECT day, service, rules_version, {', '.join(f'count(nullif({c}, 0))' for c in _NONZERO)},"
    f" count(CASE WHEN status = '{EXPIRED}' THEN 1 END),"
    f" count(CASE WHEN status IN ({', '.join(map(repr, sorted(OPEN)))}) THEN 1 END),"
    " count(priority), count(*), min(issued_seq), max(issued_seq), max(last_ts)"
    f" FROM {TABLE} WHERE {{where}} GROUP BY day, service, rules_version"
)


def _totals(rows: _Slice) -> Totals:
    """In one pass of the database over the period's tickets, grouped by business day, service and
    rule version: the whole-ticket counts (``COUNTS``), the rule versions, the tickets issued, served
    and with a no-show per service and per day, the latest event of any ticket (None without
    tickets) and, when the days follow one another in issue order, every ticket's day."""
    sums = [0] * len(COUNTS)
    tally = Tally(Counter(), Counter(), Counter(), Counter(), Counter(), {})
    versions: dict[str, list[Any]] = {}  # version -> [tickets, first day, last day, first seq]
    spans: dict[str, list[int]] = {}  # day -> [first seq, last seq]
    last_ts: float | None = None
    for day, service, version, *counted, n, first_seq, last_seq, latest in rows.run(
        TOTALS_SQL, rows.params
    ).fetchall():
        sums = list(map(add, sums, counted))
        served, no_show = counted[0], counted[1]
        tally.issued_by_service[service] += n
        tally.issued_by_day[day] += n
        if served:  # as a Counter of the tickets, a key only where there is one
            tally.served_by_service[service] += served
            tally.served_by_day[day] += served
        if no_show:
            tally.no_show_by_service[service] += no_show
        last_ts = float(latest) if last_ts is None else max(last_ts, float(latest))
        span = spans.setdefault(day, [first_seq, last_seq])
        span[0], span[1] = min(span[0], first_seq), max(span[1], last_seq)
        seen = versions.get(version)
        if seen is None:
            versions[version] = [int(n), day, day, first_seq]
        else:
            seen[0] += n
            seen[1], seen[2], seen[3] = min(seen[1], day), max(seen[2], day), min(seen[3], first_seq)
    counts = dict(zip(COUNTS, map(int, sums), strict=True))
    ordered = sorted(versions.items(), key=lambda kv: (kv[1][1], kv[1][3]))
    days = _days(spans, tally.issued_by_day)
    return counts, [(v, int(k), lo, hi) for v, (k, lo, hi, _) in ordered], tally, last_ts, days


def _days(spans: dict[str, list[int]], issued: Counter[str]) -> list[str] | None:
    """Each ticket's day in issue order, when the days' seq spans follow one another (every ticket of
    a day issued before any of the next); None when they overlap (the day is then read per ticket)."""
    order = sorted(spans)
    if any(spans[a][1] >= spans[b][0] for a, b in pairwise(order)):
        return None
    days: list[str] = []
    for day in order:
        days += repeat(day, issued[day])
    return days
