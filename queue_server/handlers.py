"""The verb → handler table: what each request asks of the engine, and the answer it gets.

Each request kind (``issue_ticket``, ``counter``, ``reserve_block``, ``register_dossier``,
``update_dossier``, ``rating_given``) has a ``Handler``: ``decide`` turns the request into events
(or raises ``Refused``) without changing anything, ``answer`` builds the response once the events are
applied. A counter request is dispatched once more on its action through ``COUNTER_ACTIONS``. A new
verb joins by adding a row here; the worker (``queue_server/worker.py``) only looks the verb up.
Offline tickets are not here: they are reconciled one by one (``queue_server/reconcile.py``).

``READS`` holds the requests that change nothing (``calls_since``): answered at once from committed
rows, outside the worker's transactions, and not stored (asking again simply reads again).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from bus import models as m
from queue_server.authz import check_rating
from queue_server.core import Core
from queue_server.engine import Event, Refused
from queue_server.engine_model import CounterStatus, Ticket
from queue_server.events import BlockReserved, TicketIssued

R = TypeVar("R")

Inbound = (
    m.IssueTicket
    | m.CounterRequest
    | m.RegisterDossier
    | m.UpdateDossier
    | m.ReserveBlock
    | m.OfflineTickets
    | m.RatingGiven
    | m.CallsSince
)


@dataclass(frozen=True)
class Handler(Generic[R]):
    """How one request kind is decided and answered."""

    decide: Callable[[Core, R, datetime], list[Event]]
    answer: Callable[[Core, R, list[Event], datetime], m.Response]


def refusal(request_id: str, err: Refused) -> m.Response:
    """A refusal as an answer (stored like any other)."""
    error = m.ErrorInfo(code=err.code, message=err.message_vi, message_en=err.message_en)
    return m.Response(request_id=request_id, ok=False, error=error)


def handler_for(request: Inbound) -> Handler[Any]:
    handler = HANDLERS.get(request.kind)
    if handler is None:
        raise Refused("bad_request", "Yêu cầu không được hỗ trợ.", f"unsupported request {request.kind}")
    return handler


_E = TypeVar("_E", bound=Event)


def first_event(events: list[Event], kind: type[_E]) -> _E:
    """The event a command answers with first, as its model (a programming error if it is another)."""
    if not isinstance(events[0], kind):
        raise TypeError(f"expected {kind.__name__} first, got {type(events[0]).__name__}")
    return events[0]


# --- tickets --------------------------------------------------------------------------------------


def _issue(core: Core, request: m.IssueTicket, at: datetime) -> list[Event]:
    core.check_day_off(at)
    return core.engine.issue(request.service, at, core.new_token(), request.priority, request.kiosk)


def _issued(core: Core, request: m.IssueTicket, events: list[Event], at: datetime) -> m.Response:
    issued = first_event(events, TicketIssued)
    ticket = core.engine.tickets[issued.ticket_id]
    return m.Response(request_id=request.id, ok=True, ticket=ticket_issued(core, ticket))


def ticket_issued(core: Core, ticket: Ticket) -> m.TicketIssued:
    """What a kiosk prints: the number, the people ahead, the estimate, the counters that serve it."""
    waiting = core.engine.waiting(ticket.service, ticket.day)
    ahead = next((i for i, t in enumerate(waiting) if t.id == ticket.id), len(waiting))
    return m.TicketIssued(
        number=ticket.code,
        service=ticket.service,
        service_name=core.site.service(ticket.service).name,
        issued_at=ticket.issued_at,
        waiting_before=ahead,
        estimated_wait_min=math.ceil((ticket.estimate_s or 0) / 60),
        counters=[c.number for c in core.site.counters if ticket.service in c.services],
        token=ticket.token,
        ticket_id=ticket.id,
        priority=ticket.priority,
    )


def _reserve(core: Core, request: m.ReserveBlock, at: datetime) -> list[Event]:
    core.check_day_off(at)
    return core.engine.reserve_block(request.kiosk, request.service, request.size, at)


def _reserved(core: Core, request: m.ReserveBlock, events: list[Event], at: datetime) -> m.Response:
    reserved = first_event(events, BlockReserved)
    block = m.NumberBlock(
        service=reserved.service,
        business_day=date.fromisoformat(reserved.day),
        first=reserved.first,
        last=reserved.last,
    )
    return m.Response(request_id=request.id, ok=True, block=block)


def _rate(core: Core, request: m.RatingGiven, at: datetime) -> list[Event]:
    known = request.ticket if request.ticket in core.engine.tickets else None
    ticket_id = known or core.ticket_id(request.number or request.ticket)
    if ticket_id in core.engine.tickets:
        window = timedelta(seconds=core.site.kiosk.rating.window_s)
        check_rating(request.counter, core.engine.tickets[ticket_id], at, window)
    return core.engine.rate(ticket_id, request.score, request.scale, dict(request.answers), at)


def _ok(core: Core, request: m.RatingGiven, events: list[Event], at: datetime) -> m.Response:
    return m.Response(request_id=request.id, ok=True)


# --- dossiers -------------------------------------------------------------------------------------


def _register(core: Core, request: m.RegisterDossier, at: datetime) -> list[Event]:
    if request.counter is not None:
        _staffed(core, request.counter)
    return core.dossiers.register(request, at)


def _staffed(core: Core, number: int) -> None:
    """A dossier is received at an open counter with an officer logged in, who answers for it."""
    counter = core.engine.counters.get(number)
    if counter is None:
        raise Refused("unknown_counter", f"Không có quầy số {number}.", f"no counter {number}")
    if counter.status is not CounterStatus.OPEN or counter.officer is None:
        raise Refused(
            "counter_closed",
            f"Quầy {number} chưa mở: cán bộ đăng nhập và mở quầy rồi mới tiếp nhận hồ sơ.",
            f"counter {number} is not open with an officer logged in: open it before receiving a dossier",
        )


def _update(core: Core, request: m.UpdateDossier, at: datetime) -> list[Event]:
    return core.dossiers.update(request, at)


def _dossier(
    core: Core, request: m.RegisterDossier | m.UpdateDossier, events: list[Event], at: datetime
) -> m.Response:
    code = str(events[0].data["code"])  # dossier events are stored as they come (dossiers_registry)
    return m.Response(request_id=request.id, ok=True, dossier=core.dossiers.dossiers[code].info())


# --- counter operations ---------------------------------------------------------------------------

CounterAction = Callable[[Core, m.CounterRequest, datetime], list[Event]]


def _open(core: Core, r: m.CounterRequest, at: datetime) -> list[Event]:
    if r.officer is None:
        raise Refused("bad_request", "Cần mã cán bộ để mở quầy.", "opening a counter needs officer")
    return core.engine.open_counter(r.counter, r.officer, at)


def _resume(core: Core, r: m.CounterRequest, at: datetime) -> list[Event]:
    return core.engine.open_counter(r.counter, r.officer or core.officer(r.counter), at)


def _transfer(core: Core, r: m.CounterRequest, at: datetime) -> list[Event]:
    front = r.position is m.TransferPosition.FRONT
    return core.engine.transfer(r.counter, at, r.to_service, r.to_counter, front)


_A = m.CounterAction
COUNTER_ACTIONS: dict[m.CounterAction, CounterAction] = {
    _A.OPEN: _open,
    _A.RESUME: _resume,
    _A.PAUSE: lambda core, r, at: core.engine.pause_counter(r.counter, at),
    _A.CLOSE: lambda core, r, at: core.engine.close_counter(r.counter, at),
    _A.CALL_NEXT: lambda core, r, at: core.engine.call_next(r.counter, at),
    _A.CALL_TICKET: lambda core, r, at: core.engine.call_ticket(r.counter, core.ticket_id(r.ticket), at),
    _A.RECALL: lambda core, r, at: core.engine.recall(r.counter, at),
    _A.NO_SHOW: lambda core, r, at: core.engine.no_show(r.counter, at),
    _A.REINSTATE: lambda core, r, at: core.engine.reinstate(core.ticket_id(r.ticket), at),
    _A.TRANSFER: _transfer,
    _A.PARK: lambda core, r, at: core.engine.park(r.counter, at),
    _A.UNPARK: lambda core, r, at: core.engine.resume(r.counter, core.ticket_id(r.ticket), at),
    _A.FINISH: lambda core, r, at: core.engine.finish(r.counter, at),
    _A.CANCEL: lambda core, r, at: core.engine.cancel(core.ticket_id(r.ticket), at),
}


def _counter(core: Core, request: m.CounterRequest, at: datetime) -> list[Event]:
    action = COUNTER_ACTIONS.get(request.action)
    if action is None:
        raise Refused("bad_request", "Thao tác không được hỗ trợ.", f"unsupported action {request.action}")
    return action(core, request, at)


def _called(core: Core, request: m.CounterRequest, events: list[Event], at: datetime) -> m.Response:
    counter = core.engine.counters[request.counter]
    current = core.engine.tickets[counter.ticket_id].code if counter.ticket_id else None
    acted = _acted_on(core, request, events)
    called = m.Called(
        counter=request.counter,
        number=current,
        status=m.CounterStatus(counter.status),
        acted_on=acted.code if acted else None,
        recalls=acted.recalls if acted and request.action is m.CounterAction.RECALL else None,
    )
    return m.Response(request_id=request.id, ok=True, called=called)


def _acted_on(core: Core, request: m.CounterRequest, events: list[Event]) -> Ticket | None:
    """The ticket an action was about: the last one its events name (a call's, not the one it finished)."""
    ids = [e.data.get("ticket_id") for e in events]
    known = [i for i in ids if isinstance(i, str) and i in core.engine.tickets]
    return core.engine.tickets[known[-1]] if known else None


# --- reads ----------------------------------------------------------------------------------------


def calls_since(core: Core, request: m.CallsSince) -> m.Response:
    """The calls after ``after_seq`` in seq order, at most ``limit``, from the outbox table.

    An ``after_seq`` beyond the last call is refused (``bad_request``, naming both numbers): the asker
    holds a seq from another database (a reinstalled server), and should start its list again from 0.
    """
    rows = core.store.outbox(request.after_seq, request.limit)
    if not rows:
        # The engine's call seq too: a store upgraded to the outbox has older calls only as events.
        last = max(core.store.outbox_last(), core.engine.call_seq)
        if request.after_seq > last:
            return m.Response(
                request_id=request.id,
                ok=False,
                error=m.ErrorInfo(
                    code="bad_request",
                    message=f"Số thứ tự lượt gọi {request.after_seq} lớn hơn lượt gọi cuối ({last}).",
                    message_en=f"after_seq {request.after_seq} is beyond the last call's seq {last}",
                ),
            )
    calls = [m.CallEvent.model_validate_json(row["payload"]) for row in rows]
    return m.Response(request_id=request.id, ok=True, calls=calls)


READS: dict[str, Callable[[Core, Any], m.Response]] = {"calls_since": calls_since}


HANDLERS: dict[str, Handler[Any]] = {
    "issue_ticket": Handler(_issue, _issued),
    "counter": Handler(_counter, _called),
    "reserve_block": Handler(_reserve, _reserved),
    "register_dossier": Handler(_register, _dossier),
    "update_dossier": Handler(_update, _dossier),
    "rating_given": Handler(_rate, _ok),
}
