"""The queue engine's state and the one place where events change it (``apply``).

Apply never decides anything: every choice (the number, the ticket called, the weighted-round-robin
credits, the interleave count, the call ``seq``) was made by the command and written into the event,
so replaying the event log gives exactly the same state.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from datetime import date, datetime

from queue_server.engine_model import (
    JSON,
    Block,
    CallRecord,
    Changes,
    CounterState,
    CounterStatus,
    EstimateError,
    Event,
    QueueView,
    Rating,
    Ticket,
    TicketStatus,
    counter_row,
    rating_row,
    ticket_row,
)
from queue_server.rules import RuleBook

OPEN_STATUSES = frozenset({TicketStatus.WAITING, TicketStatus.PARKED, TicketStatus.NO_SHOW})


class EngineState:
    """State of one site's queues; read it through the query methods, change it only with ``apply``."""

    def __init__(self, rules: RuleBook) -> None:
        self.rules = rules
        self.tickets: dict[str, Ticket] = {}
        self.counters = {n: CounterState(n) for n in rules.counters}
        self.ratings: dict[str, Rating] = {}
        self.tokens: set[str] = set()
        self.call_seq = 0
        self.normals_since_priority = 0
        self._order_back = 0
        self._order_front = 0
        self._next_number: dict[tuple[str, str], int] = {}
        self._allocated: dict[tuple[str, str], int] = {}
        self._blocks: dict[tuple[str, str], list[Block]] = {}
        self._waiting: dict[tuple[str, str], dict[str, None]] = {}
        self._targeted: dict[int, dict[str, None]] = {}
        self._service_times: dict[str, deque[int]] = {}
        self._last_issued: dict[tuple[str, str], str] = {}
        self._last_called: dict[tuple[str, str], str] = {}
        self._handlers: dict[str, Callable[[Event, Changes], None]] = {
            "ticket_issued": self._on_issued,
            "block_reserved": self._on_block,
            "ticket_called": self._on_called,
            "ticket_recalled": self._on_recalled,
            "ticket_finished": self._on_finished,
            "ticket_no_show": self._on_no_show,
            "ticket_reinstated": self._on_reinstated,
            "ticket_transferred": self._on_transferred,
            "ticket_parked": self._on_parked,
            "ticket_cancelled": self._on_cancelled,
            "ticket_rated": self._on_rated,
            "counter_opened": self._on_counter_opened,
            "counter_paused": self._on_counter_paused,
            "counter_closed": self._on_counter_closed,
            "day_closed": self._on_day_closed,
        }

    # --- applying events -----------------------------------------------------------------------

    def apply(self, event: Event) -> Changes:
        """Change the state by one event; returns the rows it touched and the calls it made."""
        handler = self._handlers.get(event.type)
        if handler is None:
            raise ValueError(f"unknown event type {event.type!r}")
        changes = Changes()
        handler(event, changes)
        return changes

    def _on_issued(self, ev: Event, ch: Changes) -> None:
        d = ev.data
        day, service, series, number = str(d["day"]), str(d["service"]), str(d["series"]), int(d["number"])
        self._order_back += 1
        t = Ticket(
            id=str(d["ticket_id"]),
            day=day,
            service=service,
            series=series,
            number=number,
            code=str(d["code"]),
            token=str(d["token"]),
            priority=d["priority"],
            rules_version=str(d["rules_version"]),
            issued_at=datetime.fromisoformat(str(d["issued_at"])),
            estimate_s=d["estimate_s"],
            order=self._order_back,
            device=d.get("device"),
            offline=bool(d.get("offline", False)),
        )
        self.tickets[t.id] = t
        self.tokens.add(t.token)
        self._last_issued[(day, service)] = t.code
        if not t.offline:
            key = (day, series)
            self._next_number[key] = max(self._next_number.get(key, 0), number + 1)
            self._allocated[(day, service)] = self._allocated.get((day, service), 0) + 1
        self._enqueue(t)
        ch.tickets.add(t.id)

    def _on_block(self, ev: Event, ch: Changes) -> None:
        d = ev.data
        block = Block(
            str(d["device"]),
            str(d["day"]),
            str(d["service"]),
            str(d["series"]),
            int(d["first"]),
            int(d["last"]),
        )
        key = (block.day, block.series)
        self._blocks.setdefault(key, []).append(block)
        self._next_number[key] = max(self._next_number.get(key, 0), block.last + 1)
        size = block.last - block.first + 1
        self._allocated[(block.day, block.service)] = (
            self._allocated.get((block.day, block.service), 0) + size
        )

    def _on_called(self, ev: Event, ch: Changes) -> None:
        d = ev.data
        t = self.tickets[str(d["ticket_id"])]
        counter = self.counters[int(d["counter"])]
        self._dequeue(t)
        t.status = TicketStatus.CALLED
        t.counter = counter.number
        t.officer = counter.officer
        t.target_counter = None
        t.parked_by = None
        t.called_at = ev.at
        t.calls += 1
        if t.first_called_at is None:
            t.first_called_at = ev.at
            t.waited_s = max(0, round((ev.at - t.issued_at).total_seconds()))
        counter.ticket_id = t.id
        self._last_called[(t.day, t.service)] = t.code
        if "credits" in d:
            counter.credits = {str(k): int(v) for k, v in dict(d["credits"]).items()}
        if "normals_since_priority" in d:
            self.normals_since_priority = int(d["normals_since_priority"])
        self.call_seq = int(d["seq"])
        ch.calls.append(CallRecord(self.call_seq, ev.at, t.id, t.code, t.service, counter.number, False))
        ch.tickets.add(t.id)
        ch.counters.add(counter.number)

    def _on_recalled(self, ev: Event, ch: Changes) -> None:
        t = self.tickets[str(ev.data["ticket_id"])]
        t.recalls += 1
        self.call_seq = int(ev.data["seq"])
        ch.calls.append(
            CallRecord(self.call_seq, ev.at, t.id, t.code, t.service, int(ev.data["counter"]), True)
        )
        ch.tickets.add(t.id)

    def _release(self, t: Ticket, ch: Changes) -> CounterState:
        counter = self.counters[int(t.counter)] if t.counter is not None else None
        if counter is None or counter.ticket_id != t.id:
            raise ValueError(f"ticket {t.id} is not at a counter")
        counter.ticket_id = None
        ch.tickets.add(t.id)
        ch.counters.add(counter.number)
        return counter

    def _on_finished(self, ev: Event, ch: Changes) -> None:
        t = self.tickets[str(ev.data["ticket_id"])]
        counter = self._release(t, ch)
        counter.served += 1
        t.status = TicketStatus.DONE
        t.finished_at = ev.at
        t.service_s = int(ev.data["service_s"])
        window = self._service_times.setdefault(t.service, deque(maxlen=self.rules.service_time_window))
        window.append(t.service_s)

    def _on_no_show(self, ev: Event, ch: Changes) -> None:
        t = self.tickets[str(ev.data["ticket_id"])]
        self._release(t, ch)
        t.status = TicketStatus.NO_SHOW
        t.no_show_at = ev.at

    def _on_reinstated(self, ev: Event, ch: Changes) -> None:
        t = self.tickets[str(ev.data["ticket_id"])]
        t.status = TicketStatus.WAITING
        t.no_show_at = None
        t.order = self._new_order(bool(ev.data["front"]))
        self._enqueue(t)
        ch.tickets.add(t.id)

    def _on_transferred(self, ev: Event, ch: Changes) -> None:
        d = ev.data
        t = self.tickets[str(d["ticket_id"])]
        self._release(t, ch)
        t.status = TicketStatus.WAITING
        t.service = str(d["service"])
        t.target_counter = None if d["counter"] is None else int(d["counter"])
        t.transfers += 1
        t.order = self._new_order(bool(d["front"]))
        self._enqueue(t)

    def _on_parked(self, ev: Event, ch: Changes) -> None:
        t = self.tickets[str(ev.data["ticket_id"])]
        counter = self._release(t, ch)
        t.status = TicketStatus.PARKED
        t.parked_by = counter.number

    def _on_cancelled(self, ev: Event, ch: Changes) -> None:
        t = self.tickets[str(ev.data["ticket_id"])]
        self._dequeue(t)
        t.status = TicketStatus.CANCELLED
        t.finished_at = ev.at
        ch.tickets.add(t.id)

    def _on_rated(self, ev: Event, ch: Changes) -> None:
        d = ev.data
        tid = str(d["ticket_id"])
        answers = d["answers"]
        self.ratings[tid] = Rating(
            tid, int(d["counter"]), d["officer"], int(d["score"]), int(d["scale"]), dict(answers), ev.at
        )
        ch.ratings.add(tid)

    def _on_day_closed(self, ev: Event, ch: Changes) -> None:
        day = str(ev.data["day"])
        for t in self.tickets.values():
            if t.day == day and t.status in OPEN_STATUSES:
                self._dequeue(t)
                t.status = TicketStatus.EXPIRED
                t.finished_at = ev.at
                ch.tickets.add(t.id)

    def _on_counter_opened(self, ev: Event, ch: Changes) -> None:
        c = self.counters[int(ev.data["counter"])]
        c.status = CounterStatus.OPEN
        c.officer = str(ev.data["officer"])
        ch.counters.add(c.number)

    def _on_counter_paused(self, ev: Event, ch: Changes) -> None:
        c = self.counters[int(ev.data["counter"])]
        c.status = CounterStatus.PAUSED
        ch.counters.add(c.number)

    def _on_counter_closed(self, ev: Event, ch: Changes) -> None:
        c = self.counters[int(ev.data["counter"])]
        c.status = CounterStatus.CLOSED
        c.officer = None
        ch.counters.add(c.number)

    # --- queue bookkeeping ---------------------------------------------------------------------

    def _new_order(self, front: bool) -> int:
        if front:
            self._order_front -= 1
            return self._order_front
        self._order_back += 1
        return self._order_back

    def _enqueue(self, t: Ticket) -> None:
        self._waiting.setdefault((t.day, t.service), {})[t.id] = None
        if t.target_counter is not None:
            self._targeted.setdefault(t.target_counter, {})[t.id] = None

    def _dequeue(self, t: Ticket) -> None:
        self._waiting.get((t.day, t.service), {}).pop(t.id, None)
        if t.target_counter is not None:
            self._targeted.get(t.target_counter, {}).pop(t.id, None)

    # --- queries -------------------------------------------------------------------------------

    def waiting(self, service: str, day: date | str) -> list[Ticket]:
        """Waiting tickets of ``service`` on a business day, in queue order (priority class first)."""
        ids = self._waiting.get((str(day), service), {})
        return sorted((self.tickets[i] for i in ids), key=lambda t: (not t.is_priority, t.order))

    def eligible(self, counter: int, day: date | str) -> Iterator[Ticket]:
        """Waiting tickets that ``counter`` may call: its services' queues and tickets sent to it."""
        rule = self.rules.counters[counter]
        for service in rule.services:
            for tid in self._waiting.get((str(day), service), {}):
                t = self.tickets[tid]
                if t.target_counter is None or t.target_counter == counter:
                    yield t
        for tid in self._targeted.get(counter, {}):
            t = self.tickets[tid]
            if t.day == str(day) and t.service not in rule.services:
                yield t

    def mean_service_s(self, service: str) -> float:
        times = self._service_times.get(service)
        if not times:
            return float(self.rules.services[service].average_service_s)
        return sum(times) / len(times)

    def capacity(self, service: str, priority: bool = False) -> float:
        """Counters' worth of attention the service gets: each open counter shares itself by weight."""
        serving = [c for c in self.rules.counters_serving(service) if priority or not c.priority_only]
        open_ = [c for c in serving if self.counters[c.number].status is CounterStatus.OPEN]
        share = sum(c.weight(service) / sum(c.weight(s) for s in c.services) for c in open_ or serving)
        return share if share > 0 else 1.0

    def estimate(self, service: str, at: datetime, priority: bool = False) -> int:
        """Seconds a ticket issued now would wait: tickets ahead x mean service time / capacity."""
        day = self.rules.business_day(at)
        ids = self._waiting.get((day.isoformat(), service), {})
        ahead = sum(1 for i in ids if self.tickets[i].is_priority or not priority)
        return max(0, round(ahead * self.mean_service_s(service) / self.capacity(service, priority)))

    def queue_view(self, service: str, at: datetime) -> QueueView:
        """Waiting count, last numbers issued and called, and the wait a new ticket would get."""
        day = self.rules.business_day(at).isoformat()
        return QueueView(
            service=service,
            day=day,
            waiting=len(self._waiting.get((day, service), {})),
            last_issued=self._last_issued.get((day, service)),
            last_called=self._last_called.get((day, service)),
            estimate_s=self.estimate(service, at),
        )

    def estimate_errors(self, day: date | str | None = None) -> dict[str, EstimateError]:
        """Per service: mean absolute and mean signed (estimate - actual) error of announced waits."""
        diffs: dict[str, list[int]] = {}
        for t in self.tickets.values():
            if t.estimate_s is None or t.waited_s is None or (day is not None and t.day != str(day)):
                continue
            diffs.setdefault(t.series.removesuffix(".p"), []).append(t.estimate_s - t.waited_s)
        return {
            s: EstimateError(len(v), sum(abs(x) for x in v) / len(v), sum(v) / len(v))
            for s, v in sorted(diffs.items())
        }

    def ticket_row(self, ticket_id: str) -> dict[str, JSON]:
        return ticket_row(self.tickets[ticket_id])

    def counter_row(self, number: int) -> dict[str, JSON]:
        return counter_row(self.counters[number])

    def rating_row(self, ticket_id: str) -> dict[str, JSON]:
        return rating_row(self.ratings[ticket_id])

    def snapshot(self) -> dict[str, JSON]:
        """The whole state as JSON values, to compare two engines (e.g. live and replayed)."""
        return {
            "tickets": {i: ticket_row(t) for i, t in sorted(self.tickets.items())},
            "counters": {n: counter_row(c) for n, c in sorted(self.counters.items())},
            "ratings": {i: rating_row(r) for i, r in sorted(self.ratings.items())},
            "call_seq": self.call_seq,
            "normals_since_priority": self.normals_since_priority,
            "next_number": sorted(self._next_number.items()),
            "allocated": sorted(self._allocated.items()),
            "blocks": sorted((k, [vars(b) for b in v]) for k, v in self._blocks.items()),
            "waiting": sorted((k, list(v)) for k, v in self._waiting.items() if v),
            "service_times": sorted((k, list(v)) for k, v in self._service_times.items()),
            "last_issued": sorted(self._last_issued.items()),
            "last_called": sorted(self._last_called.items()),
        }
