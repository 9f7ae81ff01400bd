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
time and ``regular``: the log's times never go backwards and no ticket was issued twice. Reports use the
table only while ``regular`` holds (see ``quick``); otherwise they fold the events as before.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from datetime import date, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from queue_server.reports.facts import EXPIRED, OPEN, WAITING, Episode, Folder, TicketFact
from queue_server.reports.period import Period
from queue_server.reports.projection import BATCH
from queue_server.reports.source import Row

if TYPE_CHECKING:
    from queue_server.reports.source import ReportSource

log = logging.getLogger(__name__)

TABLE, MARKS = "report_tickets", "report_ticket_marks"
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

    def row(self, key: tuple[str, str]) -> dict[str, Any]:
        """The ``report_tickets`` row of one folded ticket."""
        t, moves = self.facts.tickets[key], self.moves[key]
        first = t.episodes[0] if t.episodes else None
        score, scale, r_counter, r_officer = t.rating or (None, None, None, None)
        simple = len(moves) == 2 and moves[1][2] == -1
        return {
            **{k: getattr(t, k) for k in ("site", "id", "day", "code", "service", "priority")},
            **{k: getattr(t, k) for k in ("rules_version", "issued_ts", "estimate_s", "status")},
            **{k: getattr(t, k) for k in ("current", "first_call_ts", "waited_s", "no_shows")},
            **{k: getattr(t, k) for k in ("transfers", "parks")},
            "issued_seq": self.issued_seq[key],
            "last_ts": self.last_ts[key],
            "offline": int(t.offline),
            "served": int(t.served),
            "cancelled": int(t.cancelled),
            "rating_score": score,
            "rating_scale": scale,
            "rating_counter": r_counter,
            "rating_officer": r_officer,
            "call_counter": None if first is None else first.counter,
            "call_officer": None if first is None else first.officer,
            "call_service": None if first is None else first.service,
            "call_service_s": None if first is None else first.service_s,
            "more_calls": _calls_text(t.episodes[1:]),
            "in_ts": moves[0][1],
            "out_seq": moves[1][0] if simple else None,
            "out_ts": moves[1][1] if simple else None,
            "more_moves": None if simple or len(moves) == 1 else json.dumps(moves[1:]),
        }


def _calls_text(episodes: list[Episode]) -> str | None:
    if not episodes:
        return None
    return json.dumps([[e.counter, e.officer, e.service, e.service_s] for e in episodes])


def ticket_from(r: tuple[Any, ...]) -> tuple[TicketFact, list[Move]]:
    """A ``TicketFact`` and its moves from a ``report_tickets`` row (``COLUMNS`` order)."""
    episodes = [] if r[25] is None else [Episode(r[25], r[26], r[27], r[28])]
    if r[29] is not None:
        episodes += [Episode(*e) for e in json.loads(r[29])]
    rating = None if r[21] is None else (r[21], r[22], r[23], r[24])
    t = TicketFact(
        r[0], r[1], r[2], r[5], r[6], r[7], r[8], bool(r[9]), r[10], r[11], r[12], r[13], r[14], r[15],
        bool(r[16]), episodes, r[17], r[18], r[19], bool(r[20]), rating,
    )  # fmt: skip
    moves: list[Move] = [(r[3], r[30], 1)]
    if r[31] is not None:
        moves.append((r[31], r[32], -1))
    elif r[33] is not None:
        moves += [(m[0], m[1], m[2]) for m in json.loads(r[33])]
    return t, moves


def catch_up(source: ReportSource, writer: Engine, sites: list[str]) -> bool:
    """Fold into ``report_tickets`` every ``report_rows`` row of ``sites`` not yet folded; False when
    the store has no such table."""
    with source.snapshot() as conn:
        if not sa.inspect(conn).has_table(TABLE):
            return False
        ends = {
            s: int(_scalar(conn, "SELECT max(seq) FROM report_rows WHERE site = :site", s) or 0)
            for s in sites
        }
    folded = 0
    for site, end in ends.items():
        while True:
            with writer.begin() as conn:
                done, max_ts, regular = _mark(conn, site, source.postgres)
                if done >= end:
                    break
                upto = min(end, done + BATCH)
                folded += _batch(conn, site, done, upto, max_ts, regular)
    if folded:
        log.info("report tickets: %d tickets folded", folded)
    return True


def _scalar(conn: Connection, sql: str, site: str) -> Any:
    return conn.execute(sa.text(sql), {"site": site}).scalar()


def _mark(conn: Connection, site: str, postgres: bool) -> tuple[int, float, bool]:
    """The site's mark, locked for this transaction (SQLite: the writer's BEGIN IMMEDIATE does that)."""
    ignore = "ON CONFLICT DO NOTHING" if postgres else ""
    insert = "INSERT" if postgres else "INSERT OR IGNORE"
    conn.execute(
        sa.text(f"{insert} INTO {MARKS} (site, seq, max_ts, regular) VALUES (:site, 0, 0, 1) {ignore}"),
        {"site": site},
    )
    lock = " FOR UPDATE" if postgres else ""
    row = conn.execute(
        sa.text(f"SELECT seq, max_ts, regular FROM {MARKS} WHERE site = :site{lock}"), {"site": site}
    ).one()
    return int(row[0]), float(row[1]), bool(row[2])


def _batch(conn: Connection, site: str, done: int, upto: int, max_ts: float, regular: bool) -> int:
    """Fold again every ticket that the rows (done, upto] touch; returns how many."""
    params = {"site": site, "done": done, "upto": upto}
    new = conn.execute(
        sa.text(
            "SELECT ts, type, key FROM report_rows WHERE site = :site AND seq > :done AND seq <= :upto ORDER BY seq"
        ),
        params,
    ).all()
    touched: set[str] = set()
    closed: set[str] = set()
    for ts, type_, key in new:
        regular = regular and ts >= max_ts
        max_ts = max(max_ts, ts)
        if type_ == "day_closed":
            closed.add(str(key))
        elif key is not None and type_.startswith("ticket_"):
            touched.add(str(key))
    if closed:
        days = sa.text(f"SELECT id FROM {TABLE} WHERE site = :site AND day IN :days").bindparams(
            sa.bindparam("days", expanding=True)
        )
        touched.update(r[0] for r in conn.execute(days, {"site": site, "days": sorted(closed)}))
    recorder = Recorder()
    if touched:
        keys = sorted(touched | closed | {t[:10] for t in touched})
        wanted = ", ".join(f"'{t}'" for t in (*TICKET_TYPES, "day_closed"))
        select = sa.text(
            f"SELECT {', '.join(Row._fields)} FROM report_rows WHERE site = :site AND key IN :keys"
            f" AND type IN ({wanted}) AND seq <= :upto ORDER BY seq"
        ).bindparams(sa.bindparam("keys", expanding=True))
        recorder.run(Row._make(r) for r in conn.execute(select, {**params, "keys": keys}))
        delete = sa.text(f"DELETE FROM {TABLE} WHERE site = :site AND id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True)
        )
        conn.execute(delete, {"site": site, "ids": sorted(touched)})
        rows = [recorder.row(key) for key in recorder.facts.tickets]
        if rows:
            names = ", ".join(COLUMNS)
            values = ", ".join(f":{c}" for c in COLUMNS)
            conn.execute(sa.text(f"INSERT INTO {TABLE} ({names}) VALUES ({values})"), rows)
    regular = regular and not recorder.issued_twice
    conn.execute(
        sa.text(f"UPDATE {MARKS} SET seq = :upto, max_ts = :max_ts, regular = :regular WHERE site = :site"),
        {**params, "max_ts": max_ts, "regular": int(regular)},
    )
    return len(recorder.facts.tickets)
