"""Queue engine under random sequences of commands (Hypothesis stateful testing).

Every rule runs one command; a refusal must leave the state untouched. The invariants: no ticket is at
two counters at once; no ticket disappears; numbers are unique per series per business day; the
interleave policy and FIFO within a class hold at every call; a ticket is finished at most once (a
transferred one included); estimates are never negative; the event log replays to the same state; and
a snapshot taken at any point (``queue_server.snapshot_format``, through JSON text) plus the events
after it gives exactly the state of the full replay. Days pass (``hours_pass``), so finished tickets
of past days are forgotten from memory (``KEEP_DAYS``): only those, never a ticket still in play.

By default 100 random machines run (about 15 s); ``MOTCUA_TEST_LONG_HYPOTHESIS=1`` adds the long
profile of 300 machines (``slow``; about two minutes), worth running after changing the engine.
"""

from __future__ import annotations

import json
import os
from collections import Counter as Tally
from datetime import datetime, timedelta

import pytest
from engine_support import MONDAY, Tokens, make_engine
from hypothesis import HealthCheck, settings
from hypothesis import event as note_case
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from queue_server.engine import Engine, Event, Refused
from queue_server.engine_model import TicketStatus
from queue_server.engine_state import FINAL_STATUSES
from queue_server.snapshot_format import dump_engine, load_engine

SERVICES = ["land", "civil", "tax"]
COUNTERS = [1, 2, 3]
PRIORITIES = [None, None, None, "elderly", "disabled"]
pick = st.integers(min_value=0, max_value=10_000)
LONG_ENV = "MOTCUA_TEST_LONG_HYPOTHESIS"


class QueueMachine(RuleBasedStateMachine):
    engine: Engine

    def __init__(self) -> None:
        super().__init__()
        self.log: list[Event] = []
        self.tok = Tokens()
        self.now = MONDAY
        self.numbers: set[tuple[str, str, int]] = set()
        self.issued: set[str] = set()
        self.finished: Tally[str] = Tally()
        self.transferred: set[str] = set()
        self.calls = 0
        self.normals_in_a_row = 0
        self.status: dict[str, TicketStatus] = {}  # each ticket's status as last seen in memory
        self.snapshot: tuple[str, int] | None = None  # snapshot JSON text and the log length it covers

    @initialize(
        interleave=st.sampled_from(["strict", "ratio"]),
        n=st.integers(1, 3),
        later=st.sampled_from(["strict", "ratio"]),
        tickets=st.lists(st.tuples(st.sampled_from(SERVICES), st.sampled_from(PRIORITIES)), max_size=12),
    )
    def setup(self, interleave: str, n: int, later: str, tickets: list[tuple[str, str | None]]) -> None:
        # from Tuesday on, another version of the rules: the invariants follow the version in force
        version = {"effective": "2026-11-24", "interleave": later, "normal_per_priority": 4 - n}
        self.engine = make_engine(
            interleave=interleave, normal_per_priority=n, no_show_after_s=60, versions=[version]
        )
        for counter in COUNTERS:
            self.run("open_counter", counter, f"cb-{counter}", self.now)
        self.issue(tickets)

    # --- running commands ----------------------------------------------------------------------

    def run(self, command: str, *args: object, **kwargs: object) -> list[Event] | None:
        before = self.engine.snapshot()
        try:
            events: list[Event] = getattr(self.engine, command)(*args, **kwargs)
        except Refused as err:
            assert err.code and err.message_vi and err.message_en
            assert self.engine.snapshot() == before, f"{command} was refused but changed the state"
            return None
        assert self.engine.snapshot() == before, f"deciding {command} changed the state"
        changes = self.engine.execute(events)
        self.log.extend(events)
        for event in events:
            self.record(event)
        for ticket_id in self.issued:
            ticket = self.engine.tickets.get(ticket_id)
            if ticket is not None:
                self.status[ticket_id] = ticket.status
        assert len(changes.calls) == sum(e.type in {"ticket_called", "ticket_recalled"} for e in events)
        for call in changes.calls:
            self.calls += 1
            assert call.seq == self.calls, "call seq must grow by one per call"
        return events

    def record(self, event: Event) -> None:
        d = event.data
        if event.type == "ticket_issued":
            key = (str(d["day"]), str(d["series"]), int(d["number"]))
            assert key not in self.numbers, f"number {key} issued twice"
            self.numbers.add(key)
            self.issued.add(str(d["ticket_id"]))
        elif event.type == "ticket_finished":
            self.finished[str(d["ticket_id"])] += 1
        elif event.type == "ticket_transferred":
            self.transferred.add(str(d["ticket_id"]))

    def ticket(self, i: int, *statuses: TicketStatus) -> str | None:
        ids = sorted(t.id for t in self.engine.tickets.values() if not statuses or t.status in statuses)
        return ids[i % len(ids)] if ids else None

    # --- rules ---------------------------------------------------------------------------------

    @rule(minutes=st.integers(0, 5))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule(hours=st.sampled_from([3, 24]))
    def hours_pass(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(days=st.integers(2, 6))
    def days_pass(self, days: int) -> None:
        """Several days at once, so that past days are forgotten (``KEEP_DAYS``) within a short run."""
        self.now += timedelta(days=days)

    @rule(tickets=st.lists(st.tuples(st.sampled_from(SERVICES), st.sampled_from(PRIORITIES)), max_size=5))
    def issue(self, tickets: list[tuple[str, str | None]]) -> None:
        for service, priority in tickets:
            self.run("issue", service, self.now, self.tok(), priority=priority)

    @rule(service=st.sampled_from(SERVICES), priority=st.sampled_from(PRIORITIES))
    def issue_one(self, service: str, priority: str | None) -> None:
        self.run("issue", service, self.now, self.tok(), priority=priority)

    @rule(counter=st.sampled_from(COUNTERS), officer=st.sampled_from(["cb-1", "cb-2"]))
    def open_counter(self, counter: int, officer: str) -> None:
        self.run("open_counter", counter, officer, self.now)

    @rule(counter=st.sampled_from(COUNTERS), close=st.booleans())
    def stop_counter(self, counter: int, close: bool) -> None:
        self.run("close_counter" if close else "pause_counter", counter, self.now)

    @rule(counter=st.sampled_from(COUNTERS))
    def call_next_again(self, counter: int) -> None:
        self.call_next(counter)

    @rule(counter=st.sampled_from(COUNTERS))
    def call_next(self, counter: int) -> None:
        e = self.engine
        day = e.rules.business_day(self.now).isoformat()
        services = e.rules.counters[counter].services
        eligible = [
            t
            for t in e.tickets.values()
            if t.status is TicketStatus.WAITING
            and t.day == day
            and (t.target_counter == counter or (t.target_counter is None and t.service in services))
        ]
        since = self.normals_in_a_row
        policy = e.rules.version_at(self.now)
        events = self.run("call_next", counter, self.now)
        if events is None:
            return
        called = [ev for ev in events if ev.type == "ticket_called"]
        assert bool(called) == bool(eligible), "a counter with someone eligible must call them"
        if not called:
            return
        t = e.tickets[str(called[0].data["ticket_id"])]
        assert t in eligible
        self.normals_in_a_row = 0 if t.is_priority else self.normals_in_a_row + 1
        prio = any(x.is_priority for x in eligible)
        normal = any(not x.is_priority for x in eligible)
        if policy.interleave == "strict" and prio:
            assert t.is_priority, "strict priority called a normal ticket while a priority one waited"
        if policy.interleave == "ratio" and prio and normal:
            assert t.is_priority == (since >= policy.normal_per_priority), "interleave N:1 broken"
        same = [x for x in eligible if x.service == t.service and x.is_priority == t.is_priority]
        assert t.order == min(x.order for x in same), "FIFO within a class broken"

    @rule(counter=st.sampled_from(COUNTERS), i=pick)
    def call_ticket(self, counter: int, i: int) -> None:
        ticket_id = self.ticket(i, TicketStatus.WAITING) if i % 4 else self.ticket(i)
        if ticket_id is not None:
            self.run("call_ticket", counter, ticket_id, self.now)

    @rule(counter=st.sampled_from(COUNTERS))
    def recall(self, counter: int) -> None:
        self.run("recall", counter, self.now)

    @rule(counter=st.sampled_from(COUNTERS))
    def no_show(self, counter: int) -> None:
        self.run("no_show", counter, self.now)

    @rule(i=pick, front=st.sampled_from([None, True, False]))
    def reinstate(self, i: int, front: bool | None) -> None:
        ticket_id = self.ticket(i, TicketStatus.NO_SHOW)
        if ticket_id is not None:
            self.run("reinstate", ticket_id, self.now, front)

    @rule(
        counter=st.sampled_from(COUNTERS),
        service=st.sampled_from([*SERVICES, None]),
        to_counter=st.sampled_from([*COUNTERS, None]),
        front=st.booleans(),
    )
    def transfer(self, counter: int, service: str | None, to_counter: int | None, front: bool) -> None:
        self.run("transfer", counter, self.now, to_service=service, to_counter=to_counter, front=front)

    @rule(counter=st.sampled_from(COUNTERS))
    def park(self, counter: int) -> None:
        self.run("park", counter, self.now)

    @rule(counter=st.sampled_from(COUNTERS), i=pick)
    def resume(self, counter: int, i: int) -> None:
        ticket_id = self.ticket(i, TicketStatus.PARKED)
        if ticket_id is not None:
            self.run("resume", counter, ticket_id, self.now)

    @rule(counter=st.sampled_from(COUNTERS))
    def finish(self, counter: int) -> None:
        self.run("finish", counter, self.now)

    @rule(days_back=st.integers(0, 2))
    def close_day(self, days_back: int) -> None:
        day = self.engine.rules.business_day(self.now) - timedelta(days=days_back)
        self.run("close_day", day.isoformat(), self.now)

    @rule(i=pick)
    def cancel(self, i: int) -> None:
        ticket_id = self.ticket(i)
        if ticket_id is not None:
            self.run("cancel", ticket_id, self.now)

    @rule(i=pick, score=st.integers(-1, 3))
    def rate(self, i: int, score: int) -> None:
        ticket_id = self.ticket(i)
        if ticket_id is not None:
            self.run("rate", ticket_id, score, 3, {"q7": score}, self.now)

    @rule(service=st.sampled_from(SERVICES), count=st.integers(0, 4))
    def reserve_block(self, service: str, count: int) -> None:
        self.run("reserve_block", "kiosk-1", service, count, self.now)

    @rule(service=st.sampled_from(SERVICES), offset=st.integers(0, 8), back=st.integers(0, 30))
    def register_offline(self, service: str, offset: int, back: int) -> None:
        first = self.engine.rules.services[service].normal.first
        issued_at: datetime = self.now - timedelta(minutes=back)
        self.run(
            "register_offline_ticket",
            "kiosk-1",
            service,
            first + offset,
            priority=None,
            token=self.tok(),
            issued_at=issued_at,
            at=self.now,
        )

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def one_counter_per_ticket(self) -> None:
        at_counters = [c.ticket_id for c in self.engine.counters.values() if c.ticket_id is not None]
        assert len(at_counters) == len(set(at_counters)), "a ticket is at two counters"
        called = {t.id for t in self.engine.tickets.values() if t.status is TicketStatus.CALLED}
        assert called == set(at_counters)
        for c in self.engine.counters.values():
            if c.ticket_id is not None:
                assert self.engine.tickets[c.ticket_id].counter == c.number

    @rule()
    def take_snapshot(self) -> None:
        self.snapshot = (json.dumps(dump_engine(self.engine)), len(self.log))

    @invariant()
    def snapshot_and_tail_give_the_same_state(self) -> None:
        if self.snapshot is None:
            return
        text, covered = self.snapshot
        note_case("snapshot with a tail" if covered < len(self.log) else "snapshot at the head")
        engine = Engine(self.engine.rules)
        load_engine(engine, json.loads(text))
        engine.execute([through_json(event) for event in self.log[covered:]])
        assert dump_engine(engine) == dump_engine(self.engine)
        assert engine.snapshot() == self.engine.snapshot()

    @invariant()
    def no_ticket_disappears(self) -> None:
        gone = self.issued - set(self.engine.tickets)
        assert set(self.engine.tickets) <= self.issued
        note_case("past days forgotten" if gone else "nothing forgotten yet")
        for ticket_id in gone:  # forgotten: a finished ticket of a day before the engine's cut-off
            assert ticket_id[:10] < self.engine.forgotten_before, f"{ticket_id} vanished too early"
            assert self.status[ticket_id] in FINAL_STATUSES, f"{ticket_id} vanished while in play"
        waiting = {t.id for t in self.engine.tickets.values() if t.status is TicketStatus.WAITING}
        queued = {t.id for s in SERVICES for day in {t.day for t in self.engine.tickets.values()}
                  for t in self.engine.waiting(s, day)}  # fmt: skip
        assert waiting == queued, "a waiting ticket is missing from its queue (or a queue holds a stranger)"

    @invariant()
    def finished_at_most_once(self) -> None:
        assert all(n == 1 for n in self.finished.values())
        for ticket_id in self.finished:
            assert self.status[ticket_id] is TicketStatus.DONE
        assert self.transferred <= self.issued

    @invariant()
    def estimates_never_negative(self) -> None:
        for service in SERVICES:
            for priority in (False, True):
                assert self.engine.estimate(service, self.now, priority) >= 0
        for t in self.engine.tickets.values():
            assert t.estimate_s is None or t.estimate_s >= 0
            assert t.waited_s is None or t.waited_s >= 0
        for error in self.engine.estimate_errors().values():
            assert error.mean_abs_error_s >= 0

    @invariant()
    def replay_gives_the_same_state(self) -> None:
        stored = [through_json(event) for event in self.log]
        assert Engine.replay(self.engine.rules, stored).snapshot() == self.engine.snapshot()


def through_json(event: Event) -> Event:
    """The event as the store gives it back: JSON text for data, ISO 8601 text for the time."""
    return Event(event.type, json.loads(json.dumps(event.data)), datetime.fromisoformat(event.at.isoformat()))


def profile(examples: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=50,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


#: the default run: 100 machines of up to 50 steps (a third of the long profile).
QueueMachine.TestCase.settings = profile(100)
TestQueueEngine = QueueMachine.TestCase


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get(LONG_ENV) != "1",
    reason=f"the 300-machine profile (about 2 min) runs with {LONG_ENV}=1",
)
class TestQueueEngineLong(QueueMachine.TestCase):  # type: ignore[misc, valid-type]
    """The same machine searched harder: before a release or after changing the engine's rules."""

    settings = profile(300)
