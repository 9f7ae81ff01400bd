"""Values the queue engine hands out (changes, call records, refusals) and its mutable state.

Everything here is plain data; the events are in ``queue_server.events``. The ``*_row`` functions produce
exactly the columns of the store's ``tickets``, ``counters`` and ``ratings`` tables (docs/queue-server.md);
times there are ISO 8601 text with offset and ``data``/``answers`` are JSON-able dicts for the store to
serialise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from queue_server.errors import QueueServerError
from queue_server.events import JSON


class Refused(QueueServerError):  # noqa: N818 - the seam's documented name
    """A command the rules do not allow; ``code`` is stable, the messages are for people."""

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en


REFUSAL_CODES = frozenset(
    {
        "sold_out",
        "outside_hours",
        "unknown_service",
        "unknown_counter",
        "unknown_ticket",
        "counter_closed",
        "counter_busy",
        "no_current_ticket",
        "queue_empty",
        "not_allowed",
        "already_rated",
        "bad_request",
        "forbidden",  # the sender may not do this (queue_server/authz.py)
    }
)


@dataclass(frozen=True)
class CallRecord:
    """One call or recall for the ``calls`` topic; ``seq`` grows by one per call in the site."""

    seq: int
    at: datetime
    ticket_id: str
    code: str
    service: str
    counter: int
    recall: bool


@dataclass
class Changes:
    """What one event touched: the rows to write and the calls to publish."""

    tickets: set[str] = field(default_factory=set)
    counters: set[int] = field(default_factory=set)
    ratings: set[str] = field(default_factory=set)
    calls: list[CallRecord] = field(default_factory=list)

    def merge(self, other: Changes) -> Changes:
        self.tickets |= other.tickets
        self.counters |= other.counters
        self.ratings |= other.ratings
        self.calls += other.calls
        return self


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    PARKED = "parked"
    NO_SHOW = "no_show"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class CounterStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


@dataclass
class Ticket:
    id: str
    day: str
    service: str
    series: str
    number: int
    code: str
    token: str
    priority: str | None
    rules_version: str
    issued_at: datetime
    estimate_s: int | None
    order: int
    device: str | None = None
    offline: bool = False
    status: TicketStatus = TicketStatus.WAITING
    counter: int | None = None
    officer: str | None = None
    target_counter: int | None = None
    called_at: datetime | None = None
    first_called_at: datetime | None = None
    finished_at: datetime | None = None
    no_show_at: datetime | None = None
    waited_s: int | None = None
    service_s: int | None = None
    recalls: int = 0
    calls: int = 0
    transfers: int = 0
    parked_by: int | None = None

    @property
    def is_priority(self) -> bool:
        return self.priority is not None


@dataclass
class CounterState:
    number: int
    status: CounterStatus = CounterStatus.CLOSED
    officer: str | None = None
    ticket_id: str | None = None
    credits: dict[str, int] = field(default_factory=dict)
    served: int = 0


@dataclass(frozen=True)
class Rating:
    ticket_id: str
    counter: int
    officer: str | None
    score: int
    scale: int
    answers: dict[str, JSON]
    at: datetime


@dataclass(frozen=True)
class Block:
    """Numbers ``first``..``last`` of a series kept for one kiosk's offline tickets."""

    device: str
    day: str
    service: str
    series: str
    first: int
    last: int


@dataclass(frozen=True)
class QueueView:
    """What a queue display shows for one service on one business day."""

    service: str
    day: str
    waiting: int
    last_issued: str | None
    last_called: str | None
    estimate_s: int


@dataclass(frozen=True)
class EstimateError:
    """How far the waits announced at issue were from the waits measured at the first call."""

    count: int
    mean_abs_error_s: float
    mean_error_s: float


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def ticket_row(t: Ticket) -> dict[str, JSON]:
    return {
        "id": t.id,
        "business_day": t.day,
        "service": t.service,
        "series": t.series,
        "number": t.number,
        "code": t.code,
        "token": t.token,
        "priority": t.priority,
        "status": str(t.status),
        "counter": t.counter,
        "officer": t.officer,
        "rules_version": t.rules_version,
        "issued_at": _iso(t.issued_at),
        "called_at": _iso(t.called_at),
        "finished_at": _iso(t.finished_at),
        "estimate_s": t.estimate_s,
        "waited_s": t.waited_s,
        "recalls": t.recalls,
        "data": {
            "order": t.order,
            "device": t.device,
            "offline": t.offline,
            "target_counter": t.target_counter,
            "first_called_at": _iso(t.first_called_at),
            "no_show_at": _iso(t.no_show_at),
            "service_s": t.service_s,
            "calls": t.calls,
            "transfers": t.transfers,
            "parked_by": t.parked_by,
        },
    }


def counter_row(c: CounterState) -> dict[str, JSON]:
    return {
        "number": c.number,
        "status": str(c.status),
        "officer": c.officer,
        "ticket_id": c.ticket_id,
        "data": {"credits": dict(sorted(c.credits.items())), "served": c.served},
    }


def rating_row(r: Rating) -> dict[str, JSON]:
    return {
        "ticket_id": r.ticket_id,
        "counter": r.counter,
        "officer": r.officer,
        "score": r.score,
        "scale": r.scale,
        "answers": r.answers,
        "at": r.at.isoformat(),
    }
