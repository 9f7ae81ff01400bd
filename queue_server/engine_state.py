"""The queue engine's state and the one place where events change it (``apply``).

Apply never decides anything: every choice (the number, the ticket called, the weighted-round-robin
credits, the interleave count, the call ``seq``) was made by the command and written into the event,
so replaying the event log gives exactly the same state. Handlers read the typed event models of
``queue_server.events``; a stored event is parsed into its model before it is applied.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from queue_server import events as ev
from queue_server.engine_model import (
    Block,
    CallRecord,
    Changes,
    CounterState,
    CounterStatus,
    EstimateError,
    QueueView,
    Rating,
    Refused,
    Ticket,
    TicketStatus,
    counter_row,
    rating_row,
    ticket_row,
)
from queue_server.engine_refusals import closed, sold_out
from queue_server.events import JSON, Event
from queue_server.rules import RuleBook, ServiceRule

OPEN_STATUSES = frozenset({TicketStatus.WAITING, TicketStatus.PARKED, TicketStatus.NO_SHOW})
FINAL_STATUSES = frozenset({TicketStatus.DONE, TicketStatus.CANCELLED, TicketStatus.EXPIRED})
# Calendar days of finished tickets kept in memory behind the newest business day: reinstating is
# same-day only and estimates keep their own window, but a rating tablet that was offline overnight
# may still send yesterday's ratings. Older days live in the database (tickets and ratings tables).
KEEP_DAYS = 3


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
        self._offline_floor: dict[tuple[str, str], int] = {}  # lowest number kept by a top block
        self._waiting: dict[tuple[str, str], dict[str, None]] = {}
        self._targeted: dict[int, dict[str, None]] = {}
        self._service_times: dict[str, deque[int]] = {}
        self._last_issued: dict[tuple[str, str], str] = {}
        self._last_called: dict[tuple[str, str], str] = {}
        self.latest_day = ""  # the newest business day a ticket or block was issued for
        self.forgotten_before = ""  # finished tickets of days before this one were dropped from memory
        self._handlers: dict[type[Event], Callable[[Any, Changes], None]] = {
            ev.TicketIssued: self._on_issued,
            ev.BlockReserved: self._on_block,
            ev.OfflineBlockReserved: self._on_offline_block,
            ev.TicketCalled: self._on_called,
            ev.TicketRecalled: self._on_recalled,
            ev.TicketFinished: self._on_finished,
            ev.TicketNoShow: self._on_no_show,
            ev.TicketReinstated: self._on_reinstated,
            ev.TicketTransferred: self._on_transferred,
            ev.TicketParked: self._on_parked,
            ev.TicketCancelled: self._on_cancelled,
            ev.TicketRated: self._on_rated,
            ev.CounterOpened: self._on_counter_opened,
            ev.CounterPaused: self._on_counter_paused,
            ev.CounterClosed: self._on_counter_closed,
            ev.DayClosed: self._on_day_closed,
        }

    # --- applying events -----------------------------------------------------------------------

    def apply(self, event: Event) -> Changes:
        """Change the state by one event; returns the rows it touched and the calls it made.

        A stored event (plain ``Event``) is read into its model first; ``EventDataError`` if it does not fit.
        """
        handler = self._handlers.get(type(event))
        if handler is None:
            event = ev.parse_event(event)
            handler = self._handlers[type(event)]
        changes = Changes()
        handler(event, changes)
        if isinstance(event, ev.TicketIssued | ev.BlockReserved) and event.day > self.latest_day:
            self._new_day(event.day)
        return changes

    def _new_day(self, day: str) -> None:
        """The first ticket or block of a newer business day: forget what the rules no longer need.

        Run from ``apply`` on the event that opens the day, so a replay (full or from a snapshot) forgets
        exactly what the live engine forgot. Only finished tickets go (a ticket still waiting, parked,
        absent or at a counter stays until it ends); with them their tokens, ratings, and the per-day
        number, cap, block and last-number tables of those days.
        """
        self.latest_day = day
        cutoff = (date.fromisoformat(day) - timedelta(days=KEEP_DAYS)).isoformat()
        if cutoff <= self.forgotten_before:
            return
        gone = [i for i, t in self.tickets.items() if t.day < cutoff and t.status in FINAL_STATUSES]
        for ticket_id in gone:
            self.tokens.discard(self.tickets.pop(ticket_id).token)
            self.ratings.pop(ticket_id, None)
        kept_days = {t.day for t in self.tickets.values() if t.day < cutoff}
        tables: list[dict[Any, Any]] = [
            self._next_number, self._allocated, self._blocks, self._last_issued, self._last_called,
            self._offline_floor,
        ]  # fmt: skip
        for table in tables:
            for key in [k for k in table if k[0] < cutoff and k[0] not in kept_days]:
                del table[key]
        for key in [k for k, v in self._waiting.items() if k[0] < cutoff and not v]:
            del self._waiting[key]
        self.forgotten_before = cutoff

    def _on_issued(self, e: ev.TicketIssued, ch: Changes) -> None:
        self._order_back += 1
        t = Ticket(
            id=e.ticket_id,
            day=e.day,
            service=e.service,
            series=e.series,
            number=e.number,
            code=e.code,
            token=e.token,
            priority=e.priority,
            rules_version=e.rules_version,
            issued_at=datetime.fromisoformat(e.issued_at),
            estimate_s=e.estimate_s,
            order=self._order_back,
            device=e.device,
            offline=e.offline,
        )
        self.tickets[t.id] = t
        self.tokens.add(t.token)
        self._last_issued[(e.day, e.service)] = t.code
        if not t.offline:
            key = (e.day, e.series)
            self._next_number[key] = max(self._next_number.get(key, 0), e.number + 1)
            self._allocated[(e.day, e.service)] = self._allocated.get((e.day, e.service), 0) + 1
        self._enqueue(t)
        ch.tickets.add(t.id)

    def _on_block(self, e: ev.BlockReserved, ch: Changes) -> None:
        """First version: the block was taken at the series' counter, which moves past it."""
        key = self._keep_block(e)
        self._next_number[key] = max(self._next_number.get(key, 0), e.last + 1)

    def _on_offline_block(self, e: ev.OfflineBlockReserved, ch: Changes) -> None:
        """Second version: the block was taken from the top; online issuing stops below it."""
        key = self._keep_block(e)
        self._offline_floor[key] = min(self._offline_floor.get(key, e.first), e.first)

    def _keep_block(self, e: ev.BlockReserved) -> tuple[str, str]:
        block = Block(e.device, e.day, e.service, e.series, e.first, e.last)
        key = (block.day, block.series)
        self._blocks.setdefault(key, []).append(block)
        size = block.last - block.first + 1
        self._allocated[(e.day, e.service)] = self._allocated.get((e.day, e.service), 0) + size
        return key

    def _on_called(self, e: ev.TicketCalled, ch: Changes) -> None:
        t = self.tickets[e.ticket_id]
        counter = self.counters[e.counter]
        self._dequeue(t)
        t.status = TicketStatus.CALLED
        t.counter = counter.number
        t.officer = counter.officer
        t.target_counter = None
        t.parked_by = None
        t.called_at = e.at
        t.calls += 1
        if t.first_called_at is None:
            t.first_called_at = e.at
            t.waited_s = max(0, round((e.at - t.issued_at).total_seconds()))
        counter.ticket_id = t.id
        self._last_called[(t.day, t.service)] = t.code
        if e.credits is not None:
            counter.credits = dict(e.credits)
        if e.normals_since_priority is not None:
            self.normals_since_priority = e.normals_since_priority
        self.call_seq = e.seq
        ch.calls.append(CallRecord(self.call_seq, e.at, t.id, t.code, t.service, counter.number, False))
        ch.tickets.add(t.id)
        ch.counters.add(counter.number)

    def _on_recalled(self, e: ev.TicketRecalled, ch: Changes) -> None:
        t = self.tickets[e.ticket_id]
        t.recalls += 1
        self.call_seq = e.seq
        ch.calls.append(CallRecord(self.call_seq, e.at, t.id, t.code, t.service, e.counter, True))
        ch.tickets.add(t.id)

    def _release(self, t: Ticket, ch: Changes) -> CounterState:
        counter = self.counters[t.counter] if t.counter is not None else None
        if counter is None or counter.ticket_id != t.id:
            raise ValueError(f"ticket {t.id} is not at a counter")
        counter.ticket_id = None
        ch.tickets.add(t.id)
        ch.counters.add(counter.number)
        return counter

    def _on_finished(self, e: ev.TicketFinished, ch: Changes) -> None:
        t = self.tickets[e.ticket_id]
        counter = self._release(t, ch)
        counter.served += 1
        t.status = TicketStatus.DONE
        t.finished_at = e.at
        t.service_s = e.service_s
        window = self._service_times.setdefault(t.service, deque(maxlen=self.rules.service_time_window))
        window.append(e.service_s)

    def _on_no_show(self, e: ev.TicketNoShow, ch: Changes) -> None:
        t = self.tickets[e.ticket_id]
        self._release(t, ch)
        t.status = TicketStatus.NO_SHOW
        t.no_show_at = e.at

    def _on_reinstated(self, e: ev.TicketReinstated, ch: Changes) -> None:
        t = self.tickets[e.ticket_id]
        t.status = TicketStatus.WAITING
        t.no_show_at = None
        t.order = self._new_order(e.front)
        self._enqueue(t)
        ch.tickets.add(t.id)

    def _on_transferred(self, e: ev.TicketTransferred, ch: Changes) -> None:
        t = self.tickets[e.ticket_id]
        self._release(t, ch)
        t.status = TicketStatus.WAITING
        t.service = e.service
        t.target_counter = e.counter
        t.transfers += 1
        t.order = self._new_order(e.front)
        self._enqueue(t)

    def _on_parked(self, e: ev.TicketParked, ch: Changes) -> None:
        t = self.tickets[e.ticket_id]
        counter = self._release(t, ch)
        t.status = TicketStatus.PARKED
        t.parked_by = counter.number

    def _on_cancelled(self, e: ev.TicketCancelled, ch: Changes) -> None:
        t = self.tickets[e.ticket_id]
        self._dequeue(t)
        t.status = TicketStatus.CANCELLED
        t.finished_at = e.at
        ch.tickets.add(t.id)

    def _on_rated(self, e: ev.TicketRated, ch: Changes) -> None:
        self.ratings[e.ticket_id] = Rating(
            e.ticket_id, e.counter, e.officer, e.score, e.scale, dict(e.answers), e.at
        )
        ch.ratings.add(e.ticket_id)

    def _on_day_closed(self, e: ev.DayClosed, ch: Changes) -> None:
        for t in self.tickets.values():
            if t.day == e.day and t.status in OPEN_STATUSES:
                self._dequeue(t)
                t.status = TicketStatus.EXPIRED
                t.finished_at = e.at
                ch.tickets.add(t.id)

    def _on_counter_opened(self, e: ev.CounterOpened, ch: Changes) -> None:
        c = self.counters[e.counter]
        c.status = CounterStatus.OPEN
        c.officer = e.officer
        ch.counters.add(c.number)

    def _on_counter_paused(self, e: ev.CounterPaused, ch: Changes) -> None:
        c = self.counters[e.counter]
        c.status = CounterStatus.PAUSED
        ch.counters.add(c.number)

    def _on_counter_closed(self, e: ev.CounterClosed, ch: Changes) -> None:
        c = self.counters[e.counter]
        c.status = CounterStatus.CLOSED
        c.officer = None
        ch.counters.add(c.number)

    # --- lookups that refuse (for the commands) -------------------------------------------------

    def _service(self, code: str) -> ServiceRule:
        rule = self.rules.services.get(code)
        if rule is None:
            raise Refused("unknown_service", f"Không có lĩnh vực '{code}'.", f"no service {code!r}")
        return rule

    def _counter(self, number: int) -> CounterState:
        c = self.counters.get(number)
        if c is None:
            raise Refused("unknown_counter", f"Không có quầy số {number}.", f"no counter {number}")
        return c

    def _open_counter(self, number: int) -> CounterState:
        c = self._counter(number)
        if c.status is not CounterStatus.OPEN:
            raise closed(c)
        return c

    def _current(self, number: int) -> Ticket:
        c = self._counter(number)
        if c.ticket_id is None:
            raise Refused(
                "no_current_ticket",
                f"Quầy {number} chưa gọi số nào.",
                f"counter {number} is serving no ticket",
            )
        return self.tickets[c.ticket_id]

    def _ticket(self, ticket_id: str) -> Ticket:
        t = self.tickets.get(ticket_id)
        if t is None:
            raise Refused("unknown_ticket", "Không tìm thấy số này.", f"no ticket {ticket_id!r}")
        return t

    def _check_token(self, token: str) -> None:
        if not token or not isinstance(token, str) or token in self.tokens:
            raise Refused("bad_request", "Mã vé không hợp lệ.", "the ticket token is missing or already used")

    def _check_priority(self, priority: str | None) -> None:
        if priority is not None and priority not in self.rules.priorities:
            known = ", ".join(sorted(self.rules.priorities))
            raise Refused(
                "bad_request",
                f"Không có đối tượng ưu tiên '{priority}'.",
                f"no priority category {priority!r}; known: {known}",
            )

    def _check_cap(self, service: str, day: str, count: int, cap: int | None) -> None:
        if cap is not None and self._allocated.get((day, service), 0) + count > cap:
            raise sold_out(self.rules.services[service])

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

    def _pick_service(self, c: CounterState, pool: list[Ticket]) -> tuple[str, dict[str, int]]:
        """Smooth weighted round robin over the services that have someone waiting."""
        rule = self.rules.counters[c.number]
        services = sorted(
            {t.service for t in pool}, key=lambda s: min(t.order for t in pool if t.service == s)
        )
        credits = dict(c.credits)
        for s in services:
            credits[s] = credits.get(s, 0) + rule.weight(s)
        pick = max(services, key=lambda s: credits[s])  # ties: the service with the oldest ticket
        credits[pick] -= sum(rule.weight(s) for s in services)
        return pick, credits

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
            **({"offline_floor": sorted(self._offline_floor.items())} if self._offline_floor else {}),
            "waiting": sorted((k, list(v)) for k, v in self._waiting.items() if v),
            "service_times": sorted((k, list(v)) for k, v in self._service_times.items()),
            "last_issued": sorted(self._last_issued.items()),
            "last_called": sorted(self._last_called.items()),
        }
