"""The reports' per-ticket projection: ``report_tickets``, one folded row per ticket.

A year's report would otherwise fold 800,000 events in Python; with this table it reads 250,000 ticket
rows. Each row is what ``facts.Folder`` makes of one ticket (its ``TicketFact``) when fed every event of
the ticket (and the close of its day), plus what the report needs to know whether that fold is the one
it would have made itself:

- ``issued_seq``: the ticket is the period's only if its issue lies in the period's slice of the log;
- ``last_ts``: the time of the last event folded in; a report whose slice ends before it (a rating more
  than a day after the period) folds the events itself;
- ``in_ts``, ``out_seq``/``out_ts``, ``more_moves``: when the ticket joined and left the waiting line
  (seq, time, +1/-1), for the counters-against-waiting samples and the peak.

``catch_up`` keeps it on the reporting module's writer connection, after ``report_rows``, in batches of
``projection.BATCH`` seq numbers, each one short transaction: the tickets the batch's events touch (and
every ticket of a day it closes) are folded again from all their rows and replaced, so a batch applied
twice changes nothing. ``report_ticket_marks`` holds, per site, the last seq folded, the latest event
time and ``regular``: no ticket was issued twice; ``report_time_steps`` the seq of each event whose time
is earlier than the latest before it. Reports use the table only for a slice of the log without such a
step, while ``regular`` holds (see ``quick``); otherwise they fold the events as before.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from queue_server.reports.facts import EXPIRED, OPEN, WAITING, Episode, Folder
from queue_server.reports.period import Period
from queue_server.reports.projection import BATCH
from queue_server.reports.source import Row

if TYPE_CHECKING:
    from queue_server.reports.source import ReportSource

log = logging.getLogger(__name__)

TABLE, MARKS, STEPS = "report_tickets", "report_ticket_marks", "report_time_steps"
TICKET_TYPES = (
    "ticket_issued", "ticket_called", "ticket_finished", "ticket_no_show", "ticket_reinstated",
    "ticket_transferred", "ticket_parked", "ticket_cancelled", "ticket_rated",
)  # fmt: skip
COLUMNS = (
    "site", "id", "day", "issued_seq", "last_ts", "code", "service", "priority", "rules_version",
    "offline", "issued_ts", "estimate_s", "status", "current", "first_call_ts", "waited_s", "served",
    "no_shows", "transfers", "parks", "cancelled", "rating_score", "rating_scale", "rating_counter",
    "rating_officer", "call_counter", "call_officer", "call_service", "call_service_s", "more_calls",
    "in_ts", "out_seq", "out_ts", "more_moves",
)  # fmt: skip
ANALYZE_AFTER = 20_000  # tickets folded in one catch-up after which PostgreSQL's statistics are renewed
Move = tuple[int, float, int]  # seq, time, +1 joined the waiting line / -1 left it


class Recorder(Folder):
    """A ``Folder`` over every event of some tickets, keeping per ticket its moves and last event."""

    def __init__(self) -> None:
        anyday = date(2000, 1, 1)
        super().__init__(Period(anyday, anyday), ZoneInfo("UTC"), time(0, 0), 0.0)
        self._first, self._last = "", "\uffff"
        self._next_sample = math.inf
        self.moves: dict[tuple[str, str], list[Move]] = {}
        self.issued_seq: dict[tuple[str, str], int] = {}
        self.last_ts: dict[tuple[str, str], float] = {}
        self.issued_twice = False
        self._key: tuple[str, str] = ("", "")
        self._row: Row | None = None

    def run(self, rows: Iterable[Row]) -> None:
        tickets, handlers = self.facts.tickets, self._handlers
        for row in rows:
            self._row = row
            if row.type == "day_closed":
                self._day_closed(row)
                continue
            key = self._key = (row.site, row.key or "")
            ticket = tickets.get(key)
            if ticket is None:
                if row.type == "ticket_issued":
                    self.moves[key], self.issued_seq[key], self.last_ts[key] = [], row.seq, row.ts
                    self._new_ticket(row)
                continue
            self.issued_twice |= row.type == "ticket_issued"
            handlers[row.type](row, ticket)
            self.last_ts[key] = max(self.last_ts[key], row.ts)

    def _enter_queue(self, ts: float) -> None:
        assert self._row is not None
        self.moves[self._key].append((self._row.seq, ts, 1))

    def _leave_queue(self) -> None:
        assert self._row is not None
        self.moves[self._key].append((self._row.seq, self._row.ts, -1))

    def _day_closed(self, row: Row) -> None:
        for t in self._by_day.get((row.site, str(row.key)), []):
            key = self._key = (t.site, t.id)
            self.last_ts[key] = max(self.last_ts[key], row.ts)
            if t.status in OPEN:
                if t.status == WAITING:
                    self._leave_queue()
                t.status = EXPIRED

    def row(self, key: tuple[str, str]) -> tuple[Any, ...]:
        """The ``report_tickets`` row of one folded ticket, in ``COLUMNS`` order."""
        t, moves = self.facts.tickets[key], self.moves[key]
        first = t.episodes[0] if t.episodes else None
        call = (
            (None, None, None, None)
            if first is None
            else (first.counter, first.officer, first.service, first.service_s)
        )
        simple = len(moves) == 2 and moves[1][2] == -1
        return (
            t.site, t.id, t.day, self.issued_seq[key], self.last_ts[key], t.code, t.service, t.priority,
            t.rules_version, int(t.offline), t.issued_ts, t.estimate_s, t.status, t.current,
            t.first_call_ts, t.waited_s, int(t.served), t.no_shows, t.transfers, t.parks,
            int(t.cancelled), *(t.rating or (None, None, None, None)), *call,
            _calls_text(t.episodes[1:]), moves[0][1], moves[1][0] if simple else None,
            moves[1][1] if simple else None,
            None if simple or len(moves) == 1 else json.dumps(moves[1:]),
        )  # fmt: skip


def _calls_text(episodes: list[Episode]) -> str | None:
    if not episodes:
        return None
    return json.dumps([[e.counter, e.officer, e.service, e.service_s] for e in episodes])


def catch_up(source: ReportSource, writer: Engine, sites: list[str]) -> bool:
    """Fold into ``report_tickets`` every ``report_rows`` row of ``sites`` not yet folded; False when
    the store has no such table. Each batch is folded on the reading connection, then written in one
    short transaction if no other reader wrote that batch meanwhile (the write lock is held for the
    writes only, never for the fold)."""
    with source.snapshot() as conn:
        if not sa.inspect(conn).has_table(TABLE):
            return False
        last = sa.text("SELECT max(seq) FROM report_rows WHERE site = :site")
        ends = {s: int(conn.execute(last, {"site": s}).scalar() or 0) for s in sites}
    folded = 0
    for site, end in ends.items():
        while True:
            with source.snapshot() as conn:
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                try:
                    mark = _Mark.read(cursor, site, source.postgres)
                    if mark.seq >= end:
                        break
                    batch = mark.fold(cursor, min(end, mark.seq + BATCH))
                finally:
                    cursor.close()
            with writer.begin() as conn:
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                try:
                    folded += batch.write(cursor)
                finally:
                    cursor.close()
    if folded:
        log.info("report tickets: %d tickets folded", folded)
    if folded >= ANALYZE_AFTER and source.postgres:
        # PostgreSQL plans the reports' statements from the table's statistics; a freshly filled
        # table has none until autovacuum looks (and tests or small servers may run without it): a
        # year's totals would be sorted on disk (0.3 s) instead of hashed (0.08 s).
        with writer.begin() as conn:
            conn.exec_driver_sql(f"ANALYZE {TABLE}")
    return True


@dataclass
class _Mark:
    """How far a site's tickets are folded."""

    site: str
    seq: int
    max_ts: float
    regular: bool
    postgres: bool

    @classmethod
    def read(cls, cursor: Any, site: str, postgres: bool, *, lock: bool = False) -> _Mark:
        """The site's mark (a new site's when it has none); ``lock``: for this write transaction
        (SQLite: the writer's BEGIN IMMEDIATE locks already)."""
        sql = f"SELECT seq, max_ts, regular FROM {MARKS} WHERE site = ?"
        cursor.execute(_sql(sql + (" FOR UPDATE" if lock and postgres else ""), postgres), (site,))
        row = cursor.fetchone()
        if row is None:
            return cls(site, 0, 0.0, True, postgres)
        return cls(site, int(row[0]), float(row[1]), bool(row[2]), postgres)

    def fold(self, cursor: Any, upto: int) -> _Batch:
        """The tickets that the rows (seq, upto] touch, folded again from all their rows."""
        cursor.execute(
            _sql("SELECT seq, ts, type, key FROM report_rows WHERE site = ? AND seq > ? AND seq <= ?"
                 " ORDER BY seq", self.postgres),
            (self.site, self.seq, upto),
        )  # fmt: skip
        batch = _Batch(self, upto, self.max_ts, self.regular)
        touched: set[str] = set()
        closed: set[str] = set()
        for seq, ts, type_, key in cursor.fetchall():
            if ts < batch.max_ts:
                batch.steps.append((self.site, seq))
            batch.max_ts = max(batch.max_ts, ts)
            if type_ == "day_closed":
                closed.add(str(key))
            elif key is not None and type_.startswith("ticket_"):
                touched.add(str(key))
        if closed:
            days = sorted(closed)
            sql = _sql(f"SELECT id FROM {TABLE} WHERE site = ? AND day IN (*)", self.postgres, len(days))
            cursor.execute(sql, (self.site, *days))
            touched.update(r[0] for r in cursor.fetchall())
        batch.ids = sorted(touched)
        if touched:
            keys = batch.ids + sorted(closed | {t[:10] for t in touched})
            wanted = ", ".join(f"'{t}'" for t in (*TICKET_TYPES, "day_closed"))
            sql = (
                f"SELECT {', '.join(Row._fields)} FROM report_rows WHERE site = ? AND key IN (*)"
                f" AND type IN ({wanted}) AND seq <= ? ORDER BY seq"
            )
            cursor.execute(_sql(sql, self.postgres, len(keys)), (self.site, *keys, upto))
            recorder = Recorder()
            recorder.run(list(map(Row._make, cursor.fetchall())))
            batch.rows = [recorder.row(key) for key in recorder.facts.tickets]
            batch.regular = batch.regular and not recorder.issued_twice
        return batch


@dataclass
class _Batch:
    """One batch folded, to be written."""

    mark: _Mark
    upto: int
    max_ts: float
    regular: bool
    steps: list[tuple[str, int]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def write(self, cursor: Any) -> int:
        """Replace the batch's tickets and move the mark; nothing if another reader wrote it first."""
        site, pg = self.mark.site, self.mark.postgres
        ignore = ("INSERT", "ON CONFLICT DO NOTHING") if pg else ("INSERT OR IGNORE", "")
        cursor.execute(_sql(f"{ignore[0]} INTO {MARKS} VALUES (?, 0, 0, 1) {ignore[1]}", pg), (site,))
        if _Mark.read(cursor, site, pg, lock=True).seq != self.mark.seq:
            return 0
        if self.ids:
            cursor.execute(
                _sql(f"DELETE FROM {TABLE} WHERE site = ? AND id IN (*)", pg, len(self.ids)),
                (site, *self.ids),
            )
        if self.rows:
            values = ", ".join("?" * len(COLUMNS))
            cursor.executemany(
                _sql(f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({values})", pg), self.rows
            )
        if self.steps:
            cursor.executemany(_sql(f"DELETE FROM {STEPS} WHERE site = ? AND seq = ?", pg), self.steps)
            cursor.executemany(_sql(f"INSERT INTO {STEPS} (site, seq) VALUES (?, ?)", pg), self.steps)
        cursor.execute(
            _sql(f"UPDATE {MARKS} SET seq = ?, max_ts = ?, regular = ? WHERE site = ?", pg),
            (self.upto, self.max_ts, int(self.regular), site),
        )
        return len(self.rows)


def _sql(text: str, postgres: bool, n: int = 0) -> str:
    """``?`` placeholders as the driver wants them; ``(*)`` becomes a list of ``n`` of them."""
    text = text.replace("(*)", "(" + ", ".join("?" * n) + ")")
    return text.replace("?", "%s") if postgres else text
