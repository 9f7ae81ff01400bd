"""The queue server: the engine's decisions made durable and published.

One worker thread owns the engine and the store. Requests (MQTT ``req/*``, keypad and rating ``evt``,
HTTP counter operations) wait in one inbox; the worker takes them in batches and runs each batch in
one store transaction (*group commit*: one fsync for many requests when the centre is busy):

    for each request: stored answer? → send it again (a retry)
                      otherwise engine decides → events appended to the hash chain and applied,
                      current-state rows written, the answer saved under the request id
    commit → only now: answers, ``calls`` and retained ``queue/*/state`` and ``counter/*/state``

A refusal (``Refused``) is an answer like any other and is stored. An unexpected failure rolls the
whole batch back, rebuilds the engine from the store so memory matches the database again, and answers
``internal_error`` without storing it, so the same request id can succeed when retried.
"""

from __future__ import annotations

import logging
import math
import queue
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bus import models as m
from bus.client import BrokerUrl, BusClient
from bus.topics import Topics
from queue_server.calendar import WorkingCalendar
from queue_server.db import Store
from queue_server.dossiers_registry import EVENT_TYPES as DOSSIER_EVENTS
from queue_server.dossiers_registry import STATUS_VI, DossierRegistry
from queue_server.engine import CallRecord, Changes, Engine, Event, Refused
from queue_server.engine_model import Ticket, TicketStatus
from queue_server.http import CounterView, DeviceView, DossierView, QueueView, TicketView
from queue_server.rules import RuleBook
from siteconf import Site

log = logging.getLogger(__name__)

BATCH = 64  # requests per transaction at most
TYPED_DIGITS_S = 10.0  # digits typed on a keypad count for the next key pressed within this time
INTERNAL_ERROR = m.ErrorInfo(
    code="internal_error",
    message="Hệ thống gặp lỗi, xin vui lòng thử lại.",
    message_en="the server failed; please try again",
)

# The operations a key may be mapped to in the site file ([display], siteconf/display.py) that are
# counter operations here. Others (request_rating: the rating tablet's business; transfer: needs a
# target a keypad cannot give) change nothing at the server and are logged.
KEY_OPERATIONS = {
    "call_next": m.CounterAction.CALL_NEXT,
    "recall": m.CounterAction.RECALL,
    "no_show": m.CounterAction.NO_SHOW,
    "pause": m.CounterAction.PAUSE,
    "resume": m.CounterAction.RESUME,
    "finish": m.CounterAction.FINISH,
    "park": m.CounterAction.PARK,
    "close": m.CounterAction.CLOSE,
}

Inbound = (
    m.IssueTicket
    | m.CounterRequest
    | m.RegisterDossier
    | m.UpdateDossier
    | m.ReserveBlock
    | m.OfflineTickets
    | m.RatingGiven
)


@dataclass
class _Item:
    request: Inbound
    verb: str
    reply_to: str | None = None
    future: Future[m.Response] | None = None


@dataclass
class _Outbox:
    replies: list[tuple[_Item, m.Response]] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    counters: set[int] = field(default_factory=set)
    services: set[str] = field(default_factory=set)


def _refusal(request_id: str, err: Refused) -> m.Response:
    error = m.ErrorInfo(code=err.code, message=err.message_vi, message_en=err.message_en)
    return m.Response(request_id=request_id, ok=False, error=error)


class QueueServer:
    def __init__(
        self,
        site: Site,
        store: Store,
        broker: str | BrokerUrl,
        *,
        clock: Callable[[], datetime] | None = None,
        new_token: Callable[[], str] = lambda: secrets.token_urlsafe(12),
    ) -> None:
        self.site = site
        self.store = store
        self.tz = ZoneInfo(site.site.timezone)
        self.clock = clock or (lambda: datetime.now(self.tz))
        self.new_token = new_token
        self.calendar = WorkingCalendar.from_site(site.with_office_hours())
        self.rules = self._with_calendar(RuleBook.from_site(site))
        self.topics = Topics(site.site.id)
        self.bus = BusClient(
            broker, site.site.id, "queue-server", availability_topic=self.topics.server_availability()
        )
        self.calls_published = 0
        self.batches = 0
        self._inbox: queue.Queue[_Item | None] = queue.Queue()
        self._devices_lock = threading.Lock()
        self._device_seen: dict[str, tuple[bool, datetime]] = {}
        self._device_status: dict[str, m.DeviceStatus] = {}
        self._typed: dict[str, tuple[str, float]] = {}  # keypad -> digits typed, when (for TRANSFER)
        self._worker = threading.Thread(target=self._work, name="queue-server", daemon=True)
        # Held by the worker from decision to publish, and by every reader of the engine (HTTP views,
        # the republish after a reconnect), so nobody sees the engine half-way through a batch.
        self._lock = threading.RLock()
        self._load()

    def _with_calendar(self, rules: RuleBook) -> RuleBook:
        """The rule book with this year's and the next's holidays and make-up days (not around the clock)."""
        if self.site.is_around_the_clock():
            return rules
        year = self.now().year
        closed: set[date] = set()
        opened: set[date] = set()
        for y in (year - 1, year, year + 1):
            for day, entry in self.calendar.year(y).days.items():
                (closed if entry.kind.is_day_off else opened).add(day)
        return replace(rules, closed_days=frozenset(closed), open_days=frozenset(opened))

    # --- state kept beside the engine: lookups the engine does not index ------------------------

    def _load(self) -> None:
        events = [Event(e.type, e.data, e.at) for e in self.store.events()]
        self.engine = Engine.replay(self.rules, (e for e in events if e.type not in DOSSIER_EVENTS))
        self.dossiers = DossierRegistry(self.calendar, self.site.site.agency_code)
        for event in events:
            if event.type in DOSSIER_EVENTS:
                self.dossiers.apply(event)
        self._by_token: dict[str, str] = {}
        self._by_code: dict[tuple[str, str], str] = {}
        self._last_issued: dict[tuple[str, str], str] = {}
        self._last_called: dict[tuple[str, str], str] = {}
        self._counter_seq: dict[int, int] = {}
        self._officers: dict[int, str] = {}
        self._open_day: str | None = None
        for event in events:
            self._note(event)
        log.info("engine rebuilt from %d events", len(events))

    def _note(self, event: Event) -> None:
        data = event.data
        if event.type == "ticket_issued":
            day, code = str(data["day"]), str(data["code"])
            self._by_token[str(data["token"])] = str(data["ticket_id"])
            self._by_code[(day, code)] = str(data["ticket_id"])
            self._last_issued[(day, str(data["service"]))] = code
        elif event.type in {"ticket_called", "ticket_recalled"}:
            ticket = self.engine.tickets.get(str(data["ticket_id"]))
            if ticket is not None:
                self._last_called[(ticket.day, ticket.service)] = ticket.code
            self._counter_seq[int(data["counter"])] = int(data["seq"])
        elif event.type == "counter_opened":
            self._officers[int(data["counter"])] = str(data["officer"])

    # --- life cycle ------------------------------------------------------------------------------

    def start(self, wait: float = 10.0) -> QueueServer:
        self._worker.start()
        self.bus.subscribe(self.topics.all_req(), self._on_request, m.request_adapter, dedupe=False)
        self.bus.subscribe(self.topics.all_device("evt"), self._on_event, m.device_event_adapter)
        # Facility staff's view of every device: availability (Last Will) and health, both retained.
        self.bus.subscribe(self.topics.all_device("availability"), self._on_availability, None, dedupe=False)
        self.bus.subscribe(self.topics.all_device("status"), self._on_status, m.DeviceStatus, dedupe=False)
        self.bus.on_every_connect(self.publish_all_state)  # a restarted broker lost retained state
        self.bus.start(wait)
        return self

    def stop(self) -> None:
        self.bus.stop()
        self._inbox.put(None)
        self._worker.join(10)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> str:
        return self.rules.business_day(self.now()).isoformat()

    # --- inbound ---------------------------------------------------------------------------------

    def _on_request(self, topic: str, request: Inbound) -> None:
        verb = self.topics.verb_of(topic)
        if request.reply_to is None:
            log.warning("ignored request %s on %s: it has no reply_to", request.id, topic)
            return
        if not request.reply_to.startswith(f"{self.topics.prefix}/resp/"):
            log.warning("ignored request %s: reply_to %s is not this site's resp topic", request.id, topic)
            return
        if verb != request.kind:
            error = m.ErrorInfo(
                code="bad_request",
                message=f"Yêu cầu {request.kind} gửi nhầm chủ đề req/{verb}.",
                message_en=f"a {request.kind} request was sent on req/{verb}; the verb must be its kind",
            )
            self.bus.publish(request.reply_to, m.Response(request_id=request.id, ok=False, error=error))
            return
        self._inbox.put(_Item(request, request.kind, reply_to=request.reply_to))

    def _on_event(self, topic: str, event: m.DeviceEvent) -> None:
        device_id = self.topics.device_id_of(topic)
        if device_id is None:
            return
        if isinstance(event, m.RatingGiven):
            if self._rating_from_its_tablet(device_id, event):
                self._inbox.put(_Item(event, "rating"))
            return
        if not isinstance(event, m.KeyPressed):
            return
        request = self.key_request(device_id, event)
        if request is not None:
            self._inbox.put(_Item(request, "key"))

    def _rating_from_its_tablet(self, device_id: str, rating: m.RatingGiven) -> bool:
        """Only the rating tablet of the counter that served may rate (a stray message rates nothing)."""
        try:
            device = self.site.device(device_id)
        except KeyError:
            log.warning("ignored a rating from %s: no such device in the site file", device_id)
            return False
        if device.kind is not m.DeviceKind.RATING_TABLET or device.counter != rating.counter:
            log.warning(
                "ignored a rating for counter %s from %s (a %s of counter %s)",
                rating.counter,
                device_id,
                device.kind,
                device.counter,
            )
            return False
        return True

    def _on_availability(self, topic: str, payload: str) -> None:
        device_id = self.topics.device_id_of(topic)
        if device_id is not None:
            with self._devices_lock:
                self._device_seen[device_id] = (payload == "online", datetime.now(self.tz))

    def _on_status(self, topic: str, status: m.DeviceStatus) -> None:
        device_id = self.topics.device_id_of(topic)
        if device_id is not None:
            with self._devices_lock:
                self._device_status[device_id] = status

    def device_views(self) -> list[DeviceView]:
        """Every device of the site file with what it last said about itself (nothing: unknown)."""
        views = []
        with self._devices_lock:
            for device in self.site.devices:
                seen = self._device_seen.get(device.id)
                status = self._device_status.get(device.id)
                views.append(
                    DeviceView(
                        id=device.id,
                        kind=str(device.kind),
                        counter=device.counter,
                        online=seen[0] if seen else None,
                        since=seen[1] if seen else None,
                        health=str(status.health) if status else "unknown",
                        paper=str(status.paper) if status and status.paper else None,
                        cover_open=status.cover_open if status else None,
                        errors=list(status.errors) if status else [],
                        detail=status.detail if status else None,
                    )
                )
        return views

    def key_request(self, device_id: str, event: m.KeyPressed) -> m.CounterRequest | None:
        """The counter operation a keypad key stands for, or None (logged) when it stands for none."""
        try:
            device = self.site.device(device_id)
        except KeyError:
            log.warning("ignored a key from %s: no such device in the site file", device_id)
            return None
        if device.kind is not m.DeviceKind.KEYPAD or device.counter is None:
            log.warning("ignored a key from %s: it is a %s, not a counter's keypad", device_id, device.kind)
            return None
        if event.key is m.Key.DIGIT and event.digit is not None:
            typed, at = self._typed.get(device_id, ("", 0.0))
            fresh = time.monotonic() - at < TYPED_DIGITS_S
            self._typed[device_id] = ((typed if fresh else "")[-2:] + str(event.digit), time.monotonic())
            return None
        operation = self.site.display.key_action(device.counter, event.key)
        if operation == "transfer":
            return self._keypad_transfer(device_id, device.counter, event)
        action = KEY_OPERATIONS.get(operation) if operation else None
        if action is None:
            log.info("key %s from %s (%s) is no counter operation", event.key, device_id, operation)
            return None
        return m.CounterRequest(id=event.id, counter=device.counter, action=action)

    def _keypad_transfer(self, device_id: str, counter: int, event: m.KeyPressed) -> m.CounterRequest | None:
        """Digits typed just before TRANSFER name the counter the current citizen is sent to."""
        typed, at = self._typed.pop(device_id, ("", 0.0))
        if not typed or time.monotonic() - at >= TYPED_DIGITS_S:
            log.info("TRANSFER on %s without a counter number typed first: nothing done", device_id)
            return None
        return m.CounterRequest(
            id=event.id, counter=counter, action=m.CounterAction.TRANSFER, to_counter=max(1, int(typed))
        )

    def handle(self, request: Inbound, timeout: float = 30.0) -> m.Response:
        """Run one request through the worker and wait for its committed answer (HTTP, tests)."""
        future: Future[m.Response] = Future()
        self._inbox.put(_Item(request, request.kind, future=future))
        return future.result(timeout)

    # --- the worker ------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            item = self._inbox.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < BATCH:
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._run(batch)
                    return
                batch.append(more)
            self._run(batch)

    def _run(self, batch: list[_Item]) -> None:
        with self._lock:
            self._run_locked(batch)

    def _run_locked(self, batch: list[_Item]) -> None:
        out = _Outbox()
        at = self.now()
        try:
            with self.store.transaction() as tx:
                answered: dict[str, m.Response] = {}
                changes = Changes()
                self._close_past_days(tx, at, changes)
                for item in batch:
                    request_id = item.request.id
                    stored = answered.get(request_id)
                    if stored is None:
                        saved = tx.response(request_id)
                        stored = m.Response.model_validate(saved) if saved is not None else None
                    if stored is not None:
                        log.info("request %s was already answered; answering the same", request_id)
                        out.replies.append((item, stored))
                        continue
                    response = self._execute(tx, item, at, changes, out)
                    tx.save_response(request_id, item.verb, response.model_dump(mode="json"))
                    answered[request_id] = response
                    out.replies.append((item, response))
                for ticket_id in changes.tickets:
                    tx.put_ticket(self.engine.ticket_row(ticket_id))
                    out.services.add(self.engine.tickets[ticket_id].service)
                for number in changes.counters:
                    tx.put_counter(self.engine.counter_row(number))
                for ticket_id in changes.ratings:
                    tx.put_rating(self.engine.rating_row(ticket_id))
                out.counters |= changes.counters
                out.calls = changes.calls
        except Exception:
            log.exception("a batch of %d requests failed; rebuilding the engine from the store", len(batch))
            self._load()
            for item in batch:
                self._reply(item, m.Response(request_id=item.request.id, ok=False, error=INTERNAL_ERROR))
            return
        self.batches += 1
        self._publish(out)

    def _execute(self, tx: Any, item: _Item, at: datetime, changes: Changes, out: _Outbox) -> m.Response:
        request = item.request

        def apply(events: list[Event]) -> None:
            for event in events:
                tx.append(event.type, event.data, event.at, request.id)
                if event.type in DOSSIER_EVENTS:
                    self.dossiers.apply(event)
                else:
                    changes.merge(self.engine.apply(event))
                self._note(event)

        if isinstance(request, m.OfflineTickets):
            accepted = self._offline_tickets(request, at, apply)
            return m.Response(request_id=request.id, ok=True, accepted=accepted)
        try:
            if item.verb == "key" and self._keypad_opens(request):
                # A keypad has no login: CALL at a closed counter opens it for its last officer.
                assert isinstance(request, m.CounterRequest)
                apply(self.engine.open_counter(request.counter, self._last_officer(request.counter), at))
            events = self._decide(request, at)
        except Refused as err:
            if err.code != "queue_empty" or item.verb != "key":
                return _refusal(request.id, err)
            events = []
        apply(events)
        if isinstance(request, m.ReserveBlock):
            data = events[0].data
            block = m.NumberBlock(
                service=str(data["service"]),
                business_day=date.fromisoformat(str(data["day"])),
                first=int(data["first"]),
                last=int(data["last"]),
            )
            return m.Response(request_id=request.id, ok=True, block=block)
        if isinstance(request, m.RatingGiven):
            return m.Response(request_id=request.id, ok=True)
        if isinstance(request, m.RegisterDossier | m.UpdateDossier):
            code = str(events[0].data["code"])
            return m.Response(request_id=request.id, ok=True, dossier=self.dossiers.dossiers[code].info())
        if isinstance(request, m.IssueTicket):
            ticket = self.engine.tickets[str(events[0].data["ticket_id"])]
            return m.Response(request_id=request.id, ok=True, ticket=self._issued(ticket, at))
        counter = self.engine.counters[request.counter]
        current = self.engine.tickets[counter.ticket_id].code if counter.ticket_id else None
        called = m.Called(counter=request.counter, number=current, status=m.CounterStatus(counter.status))
        out.counters.add(request.counter)
        return m.Response(request_id=request.id, ok=True, called=called)

    def _decide(self, request: Inbound, at: datetime) -> list[Event]:  # noqa: PLR0912 - one case per action
        e = self.engine
        if isinstance(request, m.ReserveBlock):
            self._check_day_off(at)
            return e.reserve_block(request.kiosk, request.service, request.size, at)
        if isinstance(request, m.RatingGiven):
            known = request.ticket if request.ticket in e.tickets else None
            ticket_id = known or self._ticket_id(request.number or request.ticket)
            return e.rate(ticket_id, request.score, request.scale, dict(request.answers), at)
        if isinstance(request, m.OfflineTickets):
            raise AssertionError("offline tickets are handled one by one")
        if isinstance(request, m.RegisterDossier):
            return self.dossiers.register(request, at)
        if isinstance(request, m.UpdateDossier):
            return self.dossiers.update(request, at)
        if isinstance(request, m.IssueTicket):
            self._check_day_off(at)
            return e.issue(request.service, at, self.new_token(), request.priority, request.kiosk)
        n, a = request.counter, m.CounterAction
        match request.action:
            case a.OPEN:
                if request.officer is None:
                    raise Refused(
                        "bad_request", "Cần mã cán bộ để mở quầy.", "opening a counter needs officer"
                    )
                return e.open_counter(n, request.officer, at)
            case a.RESUME:
                return e.open_counter(n, request.officer or self._officer(n), at)
            case a.PAUSE:
                return e.pause_counter(n, at)
            case a.CLOSE:
                return e.close_counter(n, at)
            case a.CALL_NEXT:
                return e.call_next(n, at)
            case a.CALL_TICKET:
                return e.call_ticket(n, self._ticket_id(request.ticket), at)
            case a.RECALL:
                return e.recall(n, at)
            case a.NO_SHOW:
                return e.no_show(n, at)
            case a.REINSTATE:
                return e.reinstate(self._ticket_id(request.ticket), at)
            case a.TRANSFER:
                front = request.position is m.TransferPosition.FRONT
                return e.transfer(n, at, request.to_service, request.to_counter, front)
            case a.PARK:
                return e.park(n, at)
            case a.UNPARK:
                return e.resume(n, self._ticket_id(request.ticket), at)
            case a.FINISH:
                return e.finish(n, at)
            case a.CANCEL:
                return e.cancel(self._ticket_id(request.ticket), at)
        raise Refused("bad_request", "Thao tác không được hỗ trợ.", f"unsupported action {request.action}")

    def _offline_tickets(
        self, request: m.OfflineTickets, at: datetime, apply: Callable[[list[Event]], None]
    ) -> list[str]:
        """Each ticket the kiosk issued from its blocks while the server was away, in its order.

        A ticket that fits none of the kiosk's blocks is logged and left out of ``accepted`` (the kiosk
        keeps it in its journal); it does not hold back the others. A ticket already known (an earlier
        try) is accepted again and not duplicated.
        """
        accepted: list[str] = []
        for ticket in sorted(request.tickets, key=lambda t: t.issued_at):
            rule = self.rules.services.get(ticket.service)
            digits = ticket.number.removeprefix(rule.normal.prefix) if rule else ""
            if rule is None or not digits.isdigit():
                log.warning(
                    "offline ticket %s from %s: not a %s number", ticket.number, request.kiosk, ticket.service
                )
                continue
            try:
                events = self.engine.register_offline_ticket(
                    request.kiosk,
                    ticket.service,
                    int(digits),
                    priority=ticket.priority,
                    token=ticket.token,
                    issued_at=ticket.issued_at,
                    at=at,
                )
            except Refused as err:
                log.warning("offline ticket %s from %s refused: %s", ticket.number, request.kiosk, err)
                continue
            apply(events)  # the next ticket is decided against this one
            accepted.append(ticket.number)
        return accepted

    def _check_day_off(self, at: datetime) -> None:
        """No tickets on a public holiday or a day off in lieu (the site's hours know only weekdays)."""
        if self.site.is_around_the_clock():
            return
        local = at.astimezone(self.tz).date()
        entry = self.calendar.entry(local)
        if entry is not None and entry.kind.is_day_off:
            raise Refused(
                "outside_hours",
                f"Hôm nay nghỉ ({entry.reason}): ngoài giờ tiếp nhận.",
                f"today is a day off ({entry.reason}): outside the hours tickets are issued",
            )

    def _close_past_days(self, tx: Any, at: datetime, changes: Changes) -> None:
        """The first batch of a business day expires what the previous days left waiting."""
        today = self.rules.business_day(at).isoformat()
        if today == self._open_day:
            return
        open_statuses = {TicketStatus.WAITING, TicketStatus.PARKED, TicketStatus.NO_SHOW}
        days = sorted(
            {t.day for t in self.engine.tickets.values() if t.day < today and t.status in open_statuses}
        )
        for day in days:
            for event in self.engine.close_day(day, at):
                tx.append(event.type, event.data, event.at, None)
                changes.merge(self.engine.apply(event))
        self._open_day = today

    def _keypad_opens(self, request: Inbound) -> bool:
        if not isinstance(request, m.CounterRequest) or request.action is not m.CounterAction.CALL_NEXT:
            return False
        state = self.engine.counters.get(request.counter)
        return state is not None and state.status != "open"

    def _last_officer(self, counter: int) -> str:
        """Who last logged in at ``counter`` (from the event log), or the counter itself."""
        officer = self.engine.counters[counter].officer or self._officers.get(counter)
        return officer or f"quay{counter}"

    def _officer(self, counter: int) -> str:
        state = self.engine.counters.get(counter)
        if state is None or state.officer is None:
            raise Refused("bad_request", "Cần mã cán bộ để mở quầy.", "opening a counter needs officer")
        return state.officer

    def _ticket_id(self, code: str | None) -> str:
        if code is None:
            raise Refused("bad_request", "Thiếu số thứ tự.", "this action needs the ticket number")
        ticket_id = self._by_code.get((self.today(), code))
        if ticket_id is None:
            raise Refused("unknown_ticket", f"Không có số {code} hôm nay.", f"no ticket {code} today")
        return ticket_id

    def _issued(self, ticket: Ticket, at: datetime) -> m.TicketIssued:
        waiting = self.engine.waiting(ticket.service, ticket.day)
        ahead = next((i for i, t in enumerate(waiting) if t.id == ticket.id), len(waiting))
        service = self.site.service(ticket.service)
        return m.TicketIssued(
            number=ticket.code,
            service=ticket.service,
            service_name=service.name,
            issued_at=ticket.issued_at,
            waiting_before=ahead,
            estimated_wait_min=math.ceil((ticket.estimate_s or 0) / 60),
            counters=[c.number for c in self.site.counters if ticket.service in c.services],
            token=ticket.token,
            ticket_id=ticket.id,
            priority=ticket.priority,
        )

    # --- outbound --------------------------------------------------------------------------------

    def _reply(self, item: _Item, response: m.Response) -> None:
        if item.future is not None:
            item.future.set_result(response)
        elif item.reply_to is not None:
            self.bus.publish(item.reply_to, response)

    def _publish(self, out: _Outbox) -> None:
        with self._lock:
            # Calls first: the hall board and the voice are what the citizen is waiting for.
            for call in out.calls:
                self.bus.publish(self.topics.calls(), self._call_event(call))
                self.calls_published += 1
            for item, response in out.replies:
                self._reply(item, response)
            for number in sorted(out.counters):
                self.bus.publish(self.topics.counter_state(number), self.counter_state(number), retain=True)
            for code in sorted(out.services):
                self.bus.publish(self.topics.queue_state(code), self.queue_state(code), retain=True)

    def _call_event(self, call: CallRecord) -> m.CallEvent:
        return m.CallEvent(
            seq=call.seq,
            number=call.code,
            service=call.service,
            counter=call.counter,
            counter_name=self.site.counter(call.counter).name,
            recall=call.recall,
        )

    def counter_state(self, number: int) -> m.CounterState:
        state = self.engine.counters[number]
        ticket = self.engine.tickets.get(state.ticket_id) if state.ticket_id else None
        return m.CounterState(
            counter=number,
            name=self.site.counter(number).name,
            status=m.CounterStatus(state.status),
            current=ticket.code if ticket else None,
            call_seq=self._counter_seq.get(number),
            officer=state.officer,
            current_ticket_id=ticket.id if ticket else None,
            services=list(self.site.counter(number).services),
        )

    def queue_state(self, code: str) -> m.QueueState:
        day = self.today()
        open_counters = [
            c.number
            for c in self.site.counters
            if code in c.services and self.engine.counters[c.number].status == "open"
        ]
        return m.QueueState(
            service=code,
            service_name=self.site.service(code).name,
            waiting=len(self.engine.waiting(code, day)),
            last_issued=self._last_issued.get((day, code)),
            last_called=self._last_called.get((day, code)),
            estimated_wait_min=math.ceil(self.engine.estimate(code, self.now()) / 60),
            open_counters=len(open_counters),
        )

    def publish_all_state(self) -> None:
        """Retained state of every queue and counter, so displays that connect later are right."""
        with self._lock:
            for service in self.site.services:
                code = service.code
                self.bus.publish(self.topics.queue_state(code), self.queue_state(code), retain=True)
            for counter in self.site.counters:
                number = counter.number
                self.bus.publish(self.topics.counter_state(number), self.counter_state(number), retain=True)

    # --- what the HTTP API reads -----------------------------------------------------------------

    def ticket_view(self, token: str) -> TicketView | None:
        with self._lock:
            return self._ticket_view(token)

    def _ticket_view(self, token: str) -> TicketView | None:
        ticket_id = self._by_token.get(token)
        ticket = self.engine.tickets.get(ticket_id) if ticket_id else None
        if ticket is None:
            return None
        waiting_before = None
        if ticket.status is TicketStatus.WAITING:
            ids = [t.id for t in self.engine.waiting(ticket.service, ticket.day)]
            waiting_before = ids.index(ticket.id) if ticket.id in ids else None
        return TicketView(
            number=ticket.code,
            service=ticket.service,
            service_name=self.site.service(ticket.service).name,
            status=str(ticket.status),
            issued_at=ticket.issued_at,
            waiting_before=waiting_before,
            estimated_wait_min=math.ceil((ticket.estimate_s or 0) / 60),
            counter=ticket.counter,
            counter_name=self.site.counter(ticket.counter).name if ticket.counter else None,
            called_at=ticket.called_at,
        )

    def dossier_view(self, code: str) -> DossierView | None:
        with self._lock:
            dossier = self.dossiers.dossiers.get(code)
            if dossier is None:
                return None
            return DossierView(
                code=dossier.code,
                procedure=dossier.procedure,
                status=str(dossier.status),
                status_vi=STATUS_VI[dossier.status],
                received_at=dossier.received_at,
                appointment=dossier.due_at,
                provisional=dossier.provisional,
            )

    def queue_views(self) -> list[QueueView]:
        with self._lock:
            return self._queue_views()

    def _queue_views(self) -> list[QueueView]:
        views = []
        for service in self.site.services:
            state = self.queue_state(service.code)
            views.append(
                QueueView(
                    **state.model_dump(include={"service", "service_name", "waiting", "last_issued"}),
                    last_called=state.last_called,
                    estimated_wait_min=state.estimated_wait_min,
                    open_counters=state.open_counters or 0,
                )
            )
        return views

    def counter_views(self) -> list[CounterView]:
        with self._lock:
            return self._counter_views()

    def _counter_views(self) -> list[CounterView]:
        day = self.today()
        views = []
        for counter in self.site.counters:
            state = self.counter_state(counter.number)
            waiting = sum(1 for _ in self.engine.eligible(counter.number, day))
            views.append(
                CounterView(
                    counter=counter.number,
                    name=counter.name,
                    status=str(state.status),
                    officer=state.officer,
                    current=state.current,
                    services=list(counter.services),
                    waiting=waiting,
                )
            )
        return views
