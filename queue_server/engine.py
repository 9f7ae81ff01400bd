"""The queue engine: the rules of a one-stop centre's queue as pure code (no I/O, no clock, no randomness).

Public API (see docs/queue-server.md for the seam with the store)::

    rules = RuleBook.from_site(site)            # queue_server.rules
    engine = Engine(rules)
    events = engine.issue("land", at, token)    # decide: returns list[Event], state unchanged
    changes = engine.execute(events)            # apply them: Changes(tickets, counters, ratings, calls)
    engine.ticket_row(id) / counter_row(n) / rating_row(id)   # store rows
    engine.queue_view(service, at) / estimate(service, at, priority) / estimate_errors(day)
    engine.waiting(service, day) / eligible(counter, day)      # queues in order
    Engine.replay(rules, events)                # the same state from the event log

Commands (each takes an aware ``at`` and raises ``Refused(code, message_vi, message_en)``):
``issue``, ``reserve_block``, ``register_offline_ticket``, ``open_counter``, ``pause_counter``,
``close_counter``, ``call_next``, ``call_ticket``, ``recall``, ``no_show``, ``reinstate``, ``transfer``,
``park``, ``resume``, ``finish``, ``cancel``, ``rate``, ``close_day``. An empty list means there was
nothing to do (a counter already paused, an offline ticket already registered).

The events are the typed models of ``queue_server.events`` (``TicketIssued``, ``TicketCalled``, …), one
frozen class per kind; each is also an ``Event`` whose ``type`` and ``data`` are what the log stores.
``apply`` and ``replay`` take them or plain stored ``Event`` rows, which are parsed into their model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from queue_server import events as ev
from queue_server.engine_model import (
    CallRecord,
    Changes,
    CounterState,
    CounterStatus,
    EstimateError,
    QueueView,
    Refused,
    Ticket,
    TicketStatus,
)
from queue_server.engine_refusals import aware, busy, closed, json_object, not_now, sold_out
from queue_server.engine_state import OPEN_STATUSES, EngineState
from queue_server.events import JSON, Event
from queue_server.rules import RuleBook, SeriesRule

__all__ = [
    "CallRecord",
    "Changes",
    "CounterStatus",
    "Engine",
    "EstimateError",
    "Event",
    "QueueView",
    "Refused",
    "RuleBook",
    "TicketStatus",
]

MAX_BLOCK = 1000
RATEABLE = frozenset({TicketStatus.CALLED, TicketStatus.DONE})


class Engine(EngineState):
    """Decides commands against the current state; ``execute`` applies what was decided."""

    @classmethod
    def replay(cls, rules: RuleBook, events: Iterable[Event]) -> Engine:
        engine = cls(rules)
        for event in events:
            engine.apply(event)
        return engine

    def execute(self, events: Sequence[Event]) -> Changes:
        """Apply events decided by a command, in order; the merged changes."""
        changes = Changes()
        for event in events:
            changes.merge(self.apply(event))
        return changes

    # --- tickets -------------------------------------------------------------------------------

    def issue(
        self, service: str, at: datetime, token: str, priority: str | None = None, device: str | None = None
    ) -> list[Event]:
        """A new ticket for ``service`` (in the priority series when ``priority`` names a category)."""
        at = aware(at)
        rule = self._service(service)
        self._check_token(token)
        self._check_priority(priority)
        if not self.rules.issuing(rule, self.rules.local(at)):
            raise Refused(
                "outside_hours",
                f"Lĩnh vực {rule.name} ngoài giờ tiếp nhận.",
                f"{rule.name_en or service}: outside the hours tickets are issued",
            )
        day = self.rules.business_day(at).isoformat()
        version = self.rules.version_at(at)
        self._check_cap(service, day, 1, version.daily_caps.get(service))
        series = rule.series(priority is not None)
        number = self._next_number.get((day, series.id), series.first)
        if number >= self._offline_floor.get((day, series.id), series.last + 1):  # the offline blocks
            raise sold_out(self.rules.services[service])
        return [
            self._issued(
                series,
                number,
                day=day,
                service=service,
                token=token,
                priority=priority,
                rules_version=version.version,
                issued_at=at,
                estimate_s=self.estimate(service, at, priority is not None),
                device=device,
                at=at,
            )
        ]

    def reserve_block(self, device: str, service: str, count: int, at: datetime) -> list[Event]:
        """Keep ``count`` numbers of the service's normal series (its highest free ones) for ``device``."""
        at = aware(at)
        rule = self._service(service)
        if not device:
            raise Refused("bad_request", "Thiếu mã thiết bị.", "the device id is missing")
        if not 1 <= count <= MAX_BLOCK:
            raise Refused(
                "bad_request",
                f"Số lượng khối số phải từ 1 đến {MAX_BLOCK}.",
                f"a block holds 1 to {MAX_BLOCK} numbers, not {count}",
            )
        day = self.rules.business_day(at).isoformat()
        self._check_cap(service, day, count, self.rules.version_at(at).daily_caps.get(service))
        series = rule.normal.id  # from the top of the series, downwards: never a gap in the counter
        last = self._offline_floor.get((day, series), rule.normal.last + 1) - 1
        first = last - count + 1
        if first < self._next_number.get((day, series), rule.normal.first):
            raise sold_out(self.rules.services[service])
        block = ev.OfflineBlockReserved(
            at=at, device=device, day=day, service=service, series=series, first=first, last=last
        )
        return [block]

    def register_offline_ticket(
        self,
        device: str,
        service: str,
        number: int,
        *,
        priority: str | None,
        token: str,
        issued_at: datetime,
        at: datetime,
    ) -> list[Event]:
        """A ticket kiosk ``device`` printed from its block while the server was away; [] if known."""
        at, issued_at = aware(at), aware(issued_at)
        rule = self._service(service)
        self._check_priority(priority)
        if issued_at > at:
            raise Refused("bad_request", "Giờ phát số ở tương lai.", "the ticket was issued in the future")
        day = self.rules.business_day(issued_at).isoformat()
        series = rule.normal
        ticket_id = f"{day}/{series.id}/{number}"
        blocks = self._blocks.get((day, series.id), [])
        if not any(b.device == device and b.first <= number <= b.last for b in blocks):
            raise Refused(
                "not_allowed",
                f"Số {series.code(number)} không thuộc khối số đã cấp cho máy {device}.",
                f"number {series.code(number)} is not in a block reserved for {device} on {day}",
            )
        if ticket_id in self.tickets:
            return []
        self._check_token(token)
        version = self.rules.version_at(issued_at).version
        issued = self._issued(
            series,
            number,
            day=day,
            service=service,
            token=token,
            priority=priority,
            rules_version=version,
            issued_at=issued_at,
            estimate_s=None,
            device=device,
            at=at,
        )
        return [issued]

    def close_day(self, day: str, at: datetime) -> list[Event]:
        """After a business day: its waiting, parked and no-show tickets expire ([] if none are left)."""
        at = aware(at)
        if day >= self.rules.business_day(at).isoformat():
            raise Refused(
                "not_allowed",
                f"Ngày {day} chưa kết thúc.",
                f"business day {day} is not over yet",
            )
        if not any(t.day == day and t.status in OPEN_STATUSES for t in self.tickets.values()):
            return []
        return [ev.DayClosed(at=at, day=day)]

    def cancel(self, ticket_id: str, at: datetime) -> list[Event]:
        """The citizen leaves: a waiting, parked or no-show ticket is cancelled."""
        t = self._ticket(ticket_id)
        if t.status not in OPEN_STATUSES:
            raise not_now(t)
        return [ev.TicketCancelled(at=aware(at), ticket_id=t.id)]

    def reinstate(self, ticket_id: str, at: datetime, front: bool | None = None) -> list[Event]:
        """A no-show who came back within the window joins the queue again (front by default)."""
        at = aware(at)
        t = self._ticket(ticket_id)
        if t.status is not TicketStatus.NO_SHOW or t.no_show_at is None:
            raise not_now(t)
        policy = self.rules.version_at(at)
        late = (at - t.no_show_at).total_seconds() > policy.reinstate_window_s
        if late or self.rules.business_day(at).isoformat() != t.day:
            raise Refused(
                "not_allowed",
                f"Số {t.code} đã quá thời gian được gọi lại.",
                f"ticket {t.code} missed its call more than {policy.reinstate_window_s} s ago",
            )
        position = policy.reinstate_to == "front" if front is None else front
        return [ev.TicketReinstated(at=at, ticket_id=t.id, front=position)]

    def rate(
        self, ticket_id: str, score: int, scale: int, answers: dict[str, JSON], at: datetime
    ) -> list[Event]:
        """The citizen's rating of the service given on a ticket, tied to its counter and officer."""
        at = aware(at)
        t = self._ticket(ticket_id)
        if ticket_id in self.ratings:
            raise Refused(
                "already_rated", f"Số {t.code} đã được đánh giá.", f"ticket {t.code} is already rated"
            )
        if t.first_called_at is None or t.counter is None or t.status not in RATEABLE:
            raise Refused(
                "not_allowed", f"Số {t.code} chưa được phục vụ.", f"ticket {t.code} has not been served"
            )
        if not 2 <= scale <= 10 or not 0 <= score < scale:
            raise Refused(
                "bad_request",
                f"Điểm {score} không hợp lệ trên thang {scale}.",
                f"score {score} is not on a scale of {scale} levels (0..{scale - 1})",
            )
        if not json_object(answers):
            raise Refused(
                "bad_request",
                "Câu trả lời không hợp lệ.",
                "answers must be an object of named JSON values (text, numbers, true/false, null, lists)",
            )
        rated = ev.TicketRated(
            at=at,
            ticket_id=t.id,
            counter=t.counter,
            officer=t.officer,
            score=score,
            scale=scale,
            answers=answers,
        )
        return [rated]

    # --- counters ------------------------------------------------------------------------------

    def open_counter(self, counter: int, officer: str, at: datetime) -> list[Event]:
        """An officer logs in and opens the counter (also: resumes after a pause, changes officer)."""
        at = aware(at)
        c = self._counter(counter)
        if not officer or not isinstance(officer, str):
            raise Refused("bad_request", "Thiếu mã cán bộ.", "the officer id is missing")
        if c.status is CounterStatus.OPEN and c.officer == officer:
            return []
        if c.ticket_id is not None and c.officer != officer:
            raise busy(c)
        return [ev.CounterOpened(at=at, counter=counter, officer=officer)]

    def pause_counter(self, counter: int, at: datetime) -> list[Event]:
        return self._stop_counter(counter, at, CounterStatus.PAUSED, ev.CounterPaused)

    def close_counter(self, counter: int, at: datetime) -> list[Event]:
        return self._stop_counter(counter, at, CounterStatus.CLOSED, ev.CounterClosed)

    def _stop_counter(
        self,
        counter: int,
        at: datetime,
        target: CounterStatus,
        kind: type[ev.CounterPaused | ev.CounterClosed],
    ) -> list[Event]:
        at = aware(at)
        c = self._counter(counter)
        if c.status is target:
            return []
        if c.status is CounterStatus.CLOSED:
            raise closed(c)
        if c.ticket_id is not None:
            raise busy(c)
        return [kind(at=at, counter=counter)]

    # --- calling -------------------------------------------------------------------------------

    def call_next(self, counter: int, at: datetime, finish_current: bool = True) -> list[Event]:
        """Finish the current ticket (if any) and call the next one by the interleave and weights.

        With nobody waiting, only the finish happens; with nothing to finish either: ``queue_empty``.
        """
        at = aware(at)
        c = self._open_counter(counter)
        events = self._finish_current(c, at, finish_current)
        day = self.rules.business_day(at).isoformat()
        only_priority = self.rules.counters[counter].priority_only
        candidates = [
            t
            for t in self.eligible(counter, day)
            if not only_priority or t.is_priority or t.target_counter == counter
        ]
        if not candidates:
            if events:
                return events
            raise Refused("queue_empty", "Không còn công dân chờ.", "nobody is waiting for this counter")
        policy = self.rules.version_at(at)
        prio = [t for t in candidates if t.is_priority]
        normal = [t for t in candidates if not t.is_priority]
        take_priority = bool(prio) and (
            not normal
            or policy.interleave == "strict"
            or self.normals_since_priority >= policy.normal_per_priority
        )
        pool = prio if take_priority else normal
        service, credits = self._pick_service(c, pool)
        ticket = min((t for t in pool if t.service == service), key=lambda t: t.order)
        since = 0 if take_priority else self.normals_since_priority + 1
        call = self._call_event(c, ticket, at, credits=credits, normals_since_priority=since)
        return [*events, call]

    def _call_event(
        self,
        c: CounterState,
        t: Ticket,
        at: datetime,
        *,
        specific: bool = False,
        resumed: bool = False,
        credits: dict[str, int] | None = None,
        normals_since_priority: int | None = None,
    ) -> ev.TicketCalled:
        """``ticket_called`` with the next ``seq``; the officer is copied in for the audit log."""
        return ev.TicketCalled(
            at=at,
            ticket_id=t.id,
            counter=c.number,
            officer=c.officer,
            seq=self.call_seq + 1,
            specific=specific,
            resumed=resumed,
            credits=credits,
            normals_since_priority=normals_since_priority,
        )

    def _issued(
        self,
        series: SeriesRule,
        number: int,
        *,
        day: str,
        service: str,
        token: str,
        priority: str | None,
        rules_version: str,
        issued_at: datetime,
        estimate_s: int | None,
        device: str | None,
        at: datetime,
    ) -> ev.TicketIssued:
        """``ticket_issued``, from the server (an estimate) or from a kiosk's block (none, offline)."""
        return ev.TicketIssued(
            at=at,
            ticket_id=f"{day}/{series.id}/{number}",
            day=day,
            service=service,
            series=series.id,
            number=number,
            code=series.code(number),
            token=token,
            priority=priority,
            rules_version=rules_version,
            issued_at=issued_at.isoformat(),
            estimate_s=estimate_s,
            device=device,
            offline=estimate_s is None,
        )

    def call_ticket(
        self, counter: int, ticket_id: str, at: datetime, finish_current: bool = True
    ) -> list[Event]:
        """Call one chosen waiting ticket out of turn; recorded as ``specific`` in the audit log."""
        at = aware(at)
        if not self.rules.version_at(at).allow_call_specific:
            raise Refused(
                "not_allowed",
                "Quy định của trung tâm không cho phép gọi số theo chỉ định.",
                "the centre's rules do not allow calling a chosen ticket",
            )
        c = self._open_counter(counter)
        t = self._ticket(ticket_id)
        if t.status is not TicketStatus.WAITING:
            raise not_now(t)
        events = self._finish_current(c, at, finish_current)
        return [*events, self._call_event(c, t, at, specific=True)]

    def resume(self, counter: int, ticket_id: str, at: datetime) -> list[Event]:
        """Call a parked ticket back to ``counter`` (which must be free)."""
        at = aware(at)
        c = self._open_counter(counter)
        t = self._ticket(ticket_id)
        if t.status is not TicketStatus.PARKED:
            raise not_now(t)
        if c.ticket_id is not None:
            raise busy(c)
        return [self._call_event(c, t, at, resumed=True)]

    def recall(self, counter: int, at: datetime) -> list[Event]:
        """Announce the current ticket again."""
        at = aware(at)
        t = self._current(counter)
        return [ev.TicketRecalled(at=at, ticket_id=t.id, counter=counter, seq=self.call_seq + 1)]

    def no_show(self, counter: int, at: datetime) -> list[Event]:
        """The called citizen did not come: allowed after K recalls or T seconds since the call."""
        at = aware(at)
        t = self._current(counter)
        policy = self.rules.version_at(at)
        assert t.called_at is not None
        waited = (at - t.called_at).total_seconds()
        if t.recalls < policy.no_show_after_recalls and waited < policy.no_show_after_s:
            raise Refused(
                "not_allowed",
                f"Hãy gọi lại số {t.code} trước khi đánh dấu vắng mặt.",
                f"recall {t.code} {policy.no_show_after_recalls} times"
                f" or wait {policy.no_show_after_s} s first",
            )
        return [ev.TicketNoShow(at=at, ticket_id=t.id, counter=counter)]

    def finish(self, counter: int, at: datetime) -> list[Event]:
        at = aware(at)
        c = self._counter(counter)
        self._current(counter)
        return self._finish_current(c, at, True)

    def park(self, counter: int, at: datetime) -> list[Event]:
        """Put the current ticket on hold (the citizen fetches a paper); the counter is free again."""
        at = aware(at)
        t = self._current(counter)
        return [ev.TicketParked(at=at, ticket_id=t.id, counter=counter)]

    def transfer(
        self,
        counter: int,
        at: datetime,
        to_service: str | None = None,
        to_counter: int | None = None,
        front: bool = False,
    ) -> list[Event]:
        """Send the current ticket to another service's queue or to one counter, at the front or back."""
        at = aware(at)
        t = self._current(counter)
        if (to_service is None) == (to_counter is None):
            raise Refused(
                "bad_request",
                "Hãy chọn đúng một nơi chuyển đến: lĩnh vực hoặc quầy.",
                "give exactly one of to_service and to_counter",
            )
        if to_service is not None:
            self._service(to_service)
        if to_counter is not None:
            self._counter(to_counter)
            if to_counter == counter:
                raise Refused(
                    "bad_request", "Không thể chuyển về chính quầy này.", "cannot transfer to itself"
                )
        service = to_service or t.service
        moved = ev.TicketTransferred(
            at=at, ticket_id=t.id, from_counter=counter, service=service, counter=to_counter, front=front
        )
        return [moved]

    # --- helpers -------------------------------------------------------------------------------

    def _finish_current(self, c: CounterState, at: datetime, finish: bool) -> list[Event]:
        if c.ticket_id is None:
            return []
        if not finish:
            raise busy(c)
        t = self.tickets[c.ticket_id]
        assert t.called_at is not None
        service_s = max(0, round((at - t.called_at).total_seconds()))
        return [ev.TicketFinished(at=at, ticket_id=t.id, counter=c.number, service_s=service_s)]
