"""One pass over the period's events: what happened to each ticket, counter and dossier.

``fold(rows, period, clock)`` turns the rows read by ``source.ReportSource.read`` into ``Facts``.
Tickets belong to the period by their business day (the day in their id), whatever the hour of their
events; counters by the instants of their events, each open or paused stretch cut at the end of its
business day (a counter left open overnight is not counted open all night); dossiers by the local date
of receipt. Events of tickets issued outside the period are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from queue_server.reports.localtime import LocalClock
from queue_server.reports.period import Period
from queue_server.reports.source import Row

RESOLVED = frozenset({"ready", "returned", "rejected"})
SAMPLE_S = 900  # counters open against people waiting: one look every 15 minutes
WAITING, CALLED, PARKED, NO_SHOW, DONE, CANCELLED, EXPIRED = (
    "waiting",
    "called",
    "parked",
    "no_show",
    "done",
    "cancelled",
    "expired",
)
OPEN = frozenset({WAITING, PARKED, NO_SHOW})


@dataclass(slots=True)
class Episode:
    """One call of a ticket at a counter, until it finished, was transferred, parked or missed."""

    counter: int
    officer: str | None
    service: str
    service_s: float | None = None  # set when the episode ended with ``ticket_finished``


@dataclass(slots=True)
class TicketFact:
    site: str
    id: str
    day: str
    code: str
    service: str
    priority: str | None
    rules_version: str
    offline: bool
    issued_ts: float
    estimate_s: float | None
    status: str = WAITING
    current: str = ""
    first_call_ts: float | None = None
    waited_s: float | None = None  # issue to first call
    served: bool = False  # finished at least once
    episodes: list[Episode] = field(default_factory=list)
    no_shows: int = 0
    transfers: int = 0
    parks: int = 0
    cancelled: bool = False
    rating: tuple[int, int, int, str | None] | None = None  # score, scale, counter, officer

    def officers(self) -> set[str | None]:
        return {e.officer for e in self.episodes}

    def counters(self) -> set[int]:
        return {e.counter for e in self.episodes}


@dataclass
class DossierFact:
    site: str
    code: str
    procedure: str
    days: int
    counter: int | None
    ticket: str | None
    received_ts: float
    due_ts: float
    day: str
    resolved_ts: float | None = None
    resolution: str | None = None
    supplements: int = 0


@dataclass
class OfficerTime:
    open_s: float = 0.0
    paused_s: float = 0.0


@dataclass
class Facts:
    tickets: dict[tuple[str, str], TicketFact] = field(default_factory=dict)
    dossiers: dict[tuple[str, str], DossierFact] = field(default_factory=dict)
    officer_time: dict[str, OfficerTime] = field(default_factory=dict)
    peak_waiting: int = 0
    peak_at: float | None = None
    # (business day, local hour) -> [samples, counters open, people waiting]
    samples: dict[tuple[str, int], list[int]] = field(default_factory=dict)


class _Counter:
    __slots__ = ("officer", "since", "state")

    def __init__(self) -> None:
        self.state = "closed"
        self.officer: str | None = None
        self.since = 0.0


class Folder:
    """Applies rows in log order; ``facts`` holds the result."""

    def __init__(self, period: Period, tz: ZoneInfo, day_starts: time, until: float) -> None:
        self.period, self.tz, self.day_starts = period, tz, day_starts
        start, end = period.bounds(tz, day_starts)
        self.start, self.end = start.timestamp(), min(end.timestamp(), until)
        self.facts = Facts()
        self._counters: dict[tuple[str, int], _Counter] = {}
        self._by_day: dict[tuple[str, str], list[TicketFact]] = {}
        self._waiting = 0
        self._open = 0
        self._first, self._last = period.first.isoformat(), period.last.isoformat()
        self._hours: dict[int, tuple[str, int]] = {}
        self._shift = timedelta(hours=day_starts.hour, minutes=day_starts.minute)
        self._next_sample = self.start
        self.sample_slots: list[list[int]] = []  # each sample's slot in ``facts.samples``, in time order
        self._clock = LocalClock(tz)
        self._day_ends: dict[int, float | None] = {}  # UTC hour -> the next day start of all its instants
        self._handlers = {
            "ticket_issued": self._issued,
            "ticket_called": self._called,
            "ticket_finished": self._finished,
            "ticket_no_show": self._no_show,
            "ticket_reinstated": self._requeued,
            "ticket_transferred": self._transferred,
            "ticket_parked": self._parked,
            "ticket_cancelled": self._cancelled,
            "ticket_rated": self._rated,
        }

    def feed(self, rows: Iterable[Row]) -> Facts:
        # Locals, not attribute look-ups: this loop runs once per event (800,000 for a year).
        handlers, tickets = self._handlers.get, self.facts.tickets.get
        first, last = self._first, self._last
        for row in rows:
            if row.ts >= self._next_sample:
                self._sample_until(row.ts)
            handler = handlers(row.type)
            if handler is not None:
                ticket = tickets((row.site, row.key or ""))
                if ticket is not None:
                    handler(row, ticket)
                elif row.type == "ticket_issued" and first <= (row.key or "")[:10] <= last:
                    self._new_ticket(row)
            elif row.type.startswith("counter_"):
                self._counter_event(row)
            elif row.type.startswith("dossier_"):
                self._dossier_event(row)
            elif row.type == "day_closed":
                self._day_closed(row)
        self._sample_until(self.end)
        for c in self._counters.values():
            self._close_stretch(c, self.end)
        return self.facts

    # --- tickets -----------------------------------------------------------------------------

    def _new_ticket(self, row: Row) -> None:
        key, service = str(row.key), str(row.text)
        t = TicketFact(
            row.site,
            key,
            key[:10],
            str(row.code or ""),
            service,
            row.priority,
            str(row.extra or "base"),
            str(row.flag) in ("1", "true", "True"),
            float(row.time if row.time is not None else row.ts),
            row.number,
            WAITING,
            service,
        )
        self.facts.tickets[(row.site, key)] = t
        by_day = self._by_day.get((row.site, t.day))
        if by_day is None:
            by_day = self._by_day[(row.site, t.day)] = []
        by_day.append(t)
        self._enter_queue(row.ts)

    def _issued(self, row: Row, t: TicketFact) -> None:
        """The same ticket twice cannot happen in one log; a hub replaying a batch may show it."""

    def _called(self, row: Row, t: TicketFact) -> None:
        if t.status == WAITING:
            self._leave_queue()
        t.status = CALLED
        if t.first_call_ts is None:
            t.first_call_ts = row.ts
            t.waited_s = max(0.0, row.ts - t.issued_ts)
        t.episodes.append(Episode(int(row.counter or 0), row.officer, t.current))

    def _finished(self, row: Row, t: TicketFact) -> None:
        t.status = DONE
        t.served = True
        if t.episodes:
            t.episodes[-1].service_s = row.number

    def _no_show(self, row: Row, t: TicketFact) -> None:
        t.status = NO_SHOW
        t.no_shows += 1

    def _requeued(self, row: Row, t: TicketFact) -> None:
        t.status = WAITING
        self._enter_queue(row.ts)

    def _transferred(self, row: Row, t: TicketFact) -> None:
        t.transfers += 1
        t.current = str(row.text or t.current)
        t.status = WAITING
        self._enter_queue(row.ts)

    def _parked(self, row: Row, t: TicketFact) -> None:
        t.parks += 1
        t.status = PARKED

    def _cancelled(self, row: Row, t: TicketFact) -> None:
        if t.status == WAITING:
            self._leave_queue()
        t.status = CANCELLED
        t.cancelled = True

    def _rated(self, row: Row, t: TicketFact) -> None:
        t.rating = (int(row.number or 0), int(row.flag or 3), int(row.counter or 0), row.officer)

    def _day_closed(self, row: Row) -> None:
        for t in self._by_day.get((row.site, str(row.key)), []):
            if t.status in OPEN:
                if t.status == WAITING:
                    self._leave_queue()
                t.status = EXPIRED

    def _enter_queue(self, ts: float) -> None:
        self._waiting += 1
        if self._waiting > self.facts.peak_waiting:
            self.facts.peak_waiting, self.facts.peak_at = self._waiting, ts

    def _leave_queue(self) -> None:
        self._waiting = max(0, self._waiting - 1)

    # --- counters ----------------------------------------------------------------------------

    def _counter_event(self, row: Row) -> None:
        c = self._counters.setdefault((row.site, int(row.counter or 0)), _Counter())
        self._close_stretch(c, row.ts)
        self._open -= c.state == "open"
        if row.type == "counter_opened":
            c.state, c.officer = "open", row.officer
        elif row.type == "counter_paused":
            c.state = "paused"
        else:
            c.state, c.officer = "closed", None
        self._open += c.state == "open"
        c.since = row.ts

    def _close_stretch(self, c: _Counter, ts: float) -> None:
        if c.state == "closed" or c.officer is None:
            return
        lo = max(c.since, self.start)
        hi = min(ts, self.end, self._day_end(c.since))
        if hi > lo:
            spent = self.facts.officer_time.setdefault(c.officer, OfficerTime())
            if c.state == "open":
                spent.open_s += hi - lo
            else:
                spent.paused_s += hi - lo
        c.since = ts

    def _day_end(self, ts: float) -> float:
        """The first start of a business day after ``ts``; the same for a whole hour of steady offset
        when it is the same at the hour's first and last microsecond."""
        hour = self._clock.steady_hour(ts)
        if hour is None:
            return self._next_day_start(ts)
        end = self._day_ends.get(hour, 0.0)
        if end == 0.0:
            first, last = self._next_day_start(hour * 3600), self._next_day_start(hour * 3600 + 3599.999999)
            end = self._day_ends[hour] = first if first == last else None
        return self._next_day_start(ts) if end is None else end

    def _next_day_start(self, ts: float) -> float:
        local = datetime.fromtimestamp(ts, self.tz)
        start = datetime.combine(local.date(), self.day_starts, self.tz)
        if start <= local:
            start += timedelta(days=1)
        return start.timestamp()

    def _sample_until(self, ts: float) -> None:
        limit = min(ts, self.end)
        samples, hours, shift = self.facts.samples, self._hours, self._shift
        while self._next_sample < limit:
            slot = self.slot(self._next_sample, samples, hours, shift)
            self.sample_slots.append(slot)
            slot[0] += 1
            slot[1] += self._open
            slot[2] += self._waiting
            self._next_sample += SAMPLE_S

    def slot(
        self,
        ts: float,
        samples: dict[tuple[str, int], list[int]],
        hours: dict[int, tuple[str, int]],
        shift: timedelta,
    ) -> list[int]:
        """The samples' [count, open, waiting] of the (business day, local hour) of ``ts``."""
        hour = int(ts // 3600)
        key = hours.get(hour)
        if key is None:
            local = datetime.fromtimestamp(ts, self.tz)
            key = hours[hour] = ((local - shift).date().isoformat(), local.hour)
        slot = samples.get(key)
        if slot is None:
            slot = samples[key] = [0, 0, 0]
        return slot

    # --- dossiers ----------------------------------------------------------------------------

    def _dossier_event(self, row: Row) -> None:
        key = (row.site, str(row.key))
        if row.type == "dossier_received":
            received = float(row.time if row.time is not None else row.ts)
            day = self._clock.date(received)
            if not self.period.first <= day <= self.period.last:
                return
            due = datetime.fromisoformat(str(row.extra)).timestamp()
            self.facts.dossiers[key] = DossierFact(
                row.site,
                str(row.key),
                str(row.text),
                int(row.number or 0),
                row.counter,
                None if row.flag is None else str(row.flag),
                received,
                due,
                day.isoformat(),
            )
            return
        d = self.facts.dossiers.get(key)
        if d is None or d.resolved_ts is not None:
            return
        if row.text == "supplement":
            d.supplements += 1
        elif row.text in RESOLVED:
            d.resolved_ts, d.resolution = row.ts, str(row.text)


def fold(rows: Iterable[Row], period: Period, tz: ZoneInfo, day_starts: time, until: float) -> Facts:
    """The facts of ``period`` from its rows; counters still open are counted until ``until``."""
    return Folder(period, tz, day_starts, until).feed(rows)


def local_date(ts: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ts, tz).date()
