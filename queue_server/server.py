"""The queue server's MQTT side: answers requests, turns keypad events into calls, publishes state.

Everything that changes state runs in one store transaction together with the answer it produces,
and is published only after the commit. Request and key-press ids make retries harmless.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bus import models as m
from bus.client import BrokerUrl, BusClient
from bus.topics import Topics
from queue_server.store import StoredTicket, TicketStore, Transaction
from siteconf import Site
from siteconf.model import MAX_TICKET_NUMBER

log = logging.getLogger(__name__)

AVERAGE_SERVICE_MIN = 6

KEY_ACTIONS = {
    m.Key.CALL_NEXT: m.CounterAction.CALL_NEXT,
    m.Key.RECALL: m.CounterAction.RECALL,
    m.Key.FINISH: m.CounterAction.FINISH,
    m.Key.PAUSE: m.CounterAction.PAUSE,
}


class RequestRefusedError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class QueueServer:
    def __init__(self, site: Site, store: TicketStore, broker: str | BrokerUrl) -> None:
        self.site = site
        self.store = store
        self.tz = ZoneInfo(site.site.timezone)
        self.topics = Topics(site.site.id)
        self.bus = BusClient(
            broker, site.site.id, "queue-server", availability_topic=self.topics.server_availability()
        )
        self.calls_published = 0
        # One request at a time from commit to publish, so retained state is never overtaken by
        # an older snapshot.
        self._lock = threading.RLock()

    def start(self, wait: float = 10.0) -> QueueServer:
        self.bus.subscribe(self.topics.all_req(), self._on_request, m.request_adapter, dedupe=False)
        self.bus.subscribe(self.topics.all_device("evt"), self._on_event, m.device_event_adapter)
        self.bus.on_every_connect(self.publish_all_state)  # a restarted broker lost retained state
        self.bus.start(wait)
        return self

    def stop(self) -> None:
        self.bus.stop()

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def business_day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    # --- inbound -------------------------------------------------------------------------------

    def _on_request(self, topic: str, request: m.IssueTicket | m.CounterRequest) -> None:
        if self.topics.verb_of(topic) != request.kind:
            log.warning("ignored a %s request sent on %s: the verb must be its kind", request.kind, topic)
            return
        if request.reply_to is None:
            log.warning("ignored request %s on %s: it has no reply_to", request.id, topic)
            return
        response = self.handle(request)
        self.bus.publish(request.reply_to, response)

    def _on_event(self, topic: str, event: m.KeyPressed | m.JobPrinted | m.JobFailed) -> None:
        device_id = self.topics.device_id_of(topic)
        if not isinstance(event, m.KeyPressed) or device_id is None:
            return
        try:
            device = self.site.device(device_id)
        except KeyError:
            log.warning("ignored a key from %s: no such device in the site file", device_id)
            return
        if device.kind is not m.DeviceKind.KEYPAD:
            log.warning("ignored a key from %s: it is a %s, not a keypad", device_id, device.kind)
            return
        action = KEY_ACTIONS.get(event.key)
        if device.counter is None or action is None:
            log.info("key %s from %s has no counter action", event.key, device_id)
            return
        self.handle(m.CounterRequest(id=event.id, counter=device.counter, action=action))

    # --- operations ----------------------------------------------------------------------------

    def handle(self, request: m.IssueTicket | m.CounterRequest) -> m.Response:
        """Run one request exactly once; a repeated id returns the stored answer.

        An unexpected failure is answered (``internal_error``) but not stored, so a retry of the
        same request can still succeed once the cause is gone.
        """
        with self._lock:
            try:
                return self._handle(request)
            except Exception:
                log.exception("request %s (%s) failed", request.id, request.kind)
                error = m.ErrorInfo(code="internal_error", message="Hệ thống gặp lỗi, xin vui lòng thử lại.")
                return m.Response(request_id=request.id, ok=False, error=error)

    def _handle(self, request: m.IssueTicket | m.CounterRequest) -> m.Response:
        after: list[m.Envelope] = []
        with self.store.transaction() as tx:
            stored = tx.response_for(request.id)
            if stored is not None:
                log.info("request %s was already answered; sending the same answer", request.id)
                return m.Response.model_validate_json(stored)
            try:
                if isinstance(request, m.IssueTicket):
                    response = self._issue(tx, request, after)
                else:
                    response = self._counter(tx, request, after)
            except RequestRefusedError as err:
                response = m.Response(
                    request_id=request.id, ok=False, error=m.ErrorInfo(code=err.code, message=str(err))
                )
            tx.save_response(request.id, response.to_json(), self.now())
        self._publish_after_commit(after)
        return response

    def _issue(self, tx: Transaction, req: m.IssueTicket, after: list[m.Envelope]) -> m.Response:
        codes = {s.code for s in self.site.services}
        if req.service not in codes:
            raise RequestRefusedError("unknown_service", f"Không có lĩnh vực '{req.service}'")
        service = self.site.service(req.service)
        at = self.now()
        day = self.business_day(at)
        count = tx.issued_today(day, service.code)
        capped = service.daily_cap is not None and count >= service.daily_cap
        if capped or service.first_number + count > MAX_TICKET_NUMBER:
            raise RequestRefusedError("sold_out", f"Lĩnh vực {service.name} đã hết số hôm nay")
        number = f"{service.prefix}{service.first_number + count}"
        token = secrets.token_urlsafe(9)
        waiting_before = len(tx.waiting(day, [service.code]))
        tx.insert_ticket(day, service.code, number=number, seq=count + 1, token=token, at=at)
        counters = [c.number for c in self.site.counters if service.code in c.services]
        after.append(self._queue_state(tx, service.code, day))
        ticket = m.TicketIssued(
            number=number,
            service=service.code,
            service_name=service.name,
            issued_at=at,
            waiting_before=waiting_before,
            estimated_wait_min=math.ceil(waiting_before * AVERAGE_SERVICE_MIN / max(len(counters), 1)),
            counters=counters,
            token=token,
        )
        log.info("issued %s for %s", number, service.code)
        return m.Response(request_id=req.id, ok=True, ticket=ticket)

    def _counter(self, tx: Transaction, req: m.CounterRequest, after: list[m.Envelope]) -> m.Response:
        if req.counter not in {c.number for c in self.site.counters}:
            raise RequestRefusedError("unknown_counter", f"Không có quầy số {req.counter}")
        counter = self.site.counter(req.counter)
        status, current_id, call_seq = tx.counter(counter.number)
        current = tx.ticket(current_id) if current_id is not None else None
        day = self.business_day(self.now())
        action = req.action
        if action in {m.CounterAction.CALL_NEXT, m.CounterAction.FINISH, m.CounterAction.CLOSE} and current:
            tx.mark_done(current.id)
            current = None
        if action is m.CounterAction.CALL_NEXT:
            status = m.CounterStatus.OPEN
            waiting = tx.waiting(day, counter.services)
            if waiting:
                current = waiting[0]
                tx.mark_called(current.id, counter.number, self.now())
        elif action in {m.CounterAction.PAUSE, m.CounterAction.CLOSE, m.CounterAction.OPEN}:
            status = {
                m.CounterAction.PAUSE: m.CounterStatus.PAUSED,
                m.CounterAction.CLOSE: m.CounterStatus.CLOSED,
                m.CounterAction.OPEN: m.CounterStatus.OPEN,
            }[action]
        if current is not None and action in {m.CounterAction.CALL_NEXT, m.CounterAction.RECALL}:
            call_seq = tx.next_call_seq()
            after.append(self._call(current, counter.number, call_seq, action is m.CounterAction.RECALL))
        tx.set_counter(counter.number, str(status), current.id if current else None, call_seq)
        after.append(self._counter_state(tx, counter.number))
        for code in counter.services:
            after.append(self._queue_state(tx, code, day))
        called = m.Called(counter=counter.number, number=current.number if current else None)
        return m.Response(request_id=req.id, ok=True, called=called)

    # --- outbound ------------------------------------------------------------------------------

    def _call(self, ticket: StoredTicket, counter: int, seq: int, recall: bool) -> m.CallEvent:
        return m.CallEvent(
            seq=seq,
            number=ticket.number,
            service=ticket.service,
            counter=counter,
            counter_name=self.site.counter(counter).name,
            recall=recall,
        )

    def _counter_state(self, tx: Transaction, number: int) -> m.CounterState:
        status, current_id, call_seq = tx.counter(number)
        current = tx.ticket(current_id).number if current_id is not None else None
        return m.CounterState(
            counter=number,
            name=self.site.counter(number).name,
            status=m.CounterStatus(status),
            current=current,
            call_seq=call_seq,
        )

    def _queue_state(self, tx: Transaction, code: str, day: date) -> m.QueueState:
        last_issued = tx.last_issued(day, code)
        last_called = tx.last_called(day, code)
        return m.QueueState(
            service=code,
            service_name=self.site.service(code).name,
            waiting=len(tx.waiting(day, [code])),
            last_issued=last_issued.number if last_issued else None,
            last_called=last_called.number if last_called else None,
        )

    def _publish_after_commit(self, messages: list[m.Envelope]) -> None:
        with self._lock:
            for message in messages:
                if isinstance(message, m.CallEvent):
                    self.bus.publish(self.topics.calls(), message)
                    self.calls_published += 1
                elif isinstance(message, m.CounterState):
                    self.bus.publish(self.topics.counter_state(message.counter), message, retain=True)
                elif isinstance(message, m.QueueState):
                    self.bus.publish(self.topics.queue_state(message.service), message, retain=True)

    def publish_all_state(self) -> None:
        """Retained state of every queue and counter, so displays that connect later are right."""
        day = self.business_day(self.now())
        with self._lock:
            with self.store.transaction() as tx:
                states: list[m.Envelope] = [self._queue_state(tx, s.code, day) for s in self.site.services]
                states += [self._counter_state(tx, c.number) for c in self.site.counters]
            self._publish_after_commit(states)
