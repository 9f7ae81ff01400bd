"""The queue server: the engine's decisions made durable and published, wired to MQTT.

``QueueServer`` joins the parts, each in its own module, and owns the MQTT subscriptions:

- ``core.py``: the engine, the dossier registry and the lookups beside them, rebuilt from the store;
- ``worker.py``: the inbox and the thread that commits requests in groups, then publishes;
- ``handlers.py``: the verb → handler table (what each request decides, and its answer);
- ``reconcile.py``: a kiosk's offline tickets, and the expiry of days that ended;
- ``publishing.py``: calls, answers and retained state, only after commit;
- ``keys.py``: keypad key → counter operation (typed digits for TRANSFER), ratings from their tablet;
- ``keypad_login.py``: officers identify on a keypad (code, PIN) before it may open the counter;
- ``devices_registry.py``: every device's availability and health, for facility staff;
- ``incidents.py`` and ``alerts.py``: the devices' incident history (its own thread and connection)
  and the e-mails and webhook calls that tell people about them (their own thread);
- ``receipt_printing.py``: Form 01 receipts sent to a counter's own printer, answered by its events;
- ``views.py``: the read models (retained state, and the HTTP API's ``*View``).

Inbound MQTT: ``req/{client}/{verb}`` (answered on ``resp/{client}``; a ``reply_to`` naming any other
topic is ignored, and ``authz.py`` decides what that client may ask), ``evt`` from keypads and rating
tablets (answered on ``resp/{device}``), and every device's retained ``availability`` and ``status``.
Importing this module does not import the web stack (``queue_server/http.py`` does).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from zoneinfo import ZoneInfo

from bus import models as m
from bus.client import BrokerUrl, BusClient
from bus.topics import TopicError, Topics
from queue_server import views
from queue_server.accounts import Officers
from queue_server.alerts import Alerter
from queue_server.authz import authorise, tablet_may_rate
from queue_server.calendar import WorkingCalendar
from queue_server.core import Core
from queue_server.db import Store
from queue_server.devices_registry import DeviceRegistry
from queue_server.dossiers_registry import DossierRegistry
from queue_server.engine import Engine
from queue_server.engine_model import TicketStatus
from queue_server.handlers import READS, Inbound, refusal
from queue_server.incidents import DeviceRecorder, IncidentLog, IncidentView
from queue_server.keypad_login import Feedback, KeypadLogin
from queue_server.keys import KeypadKeys
from queue_server.publishing import Item, Publisher
from queue_server.receipt_printing import ReceiptPrinting
from queue_server.rules import RuleBook
from queue_server.views import CounterView, DeviceView, DossierView, QueueView, TicketView
from queue_server.watchdog import Watchdog
from queue_server.worker import Worker
from siteconf import Site

log = logging.getLogger(__name__)

__all__ = ["Inbound", "QueueServer"]

FEEDBACK_TTL_S = 10.0
"""A log-in's feedback shown later than this would mislead: the keypad drops it."""


class QueueServer:
    """One site's queue server: start it, send it requests (MQTT or ``handle``), read its views."""

    def __init__(
        self,
        site: Site,
        store: Store,
        broker: str | BrokerUrl,
        *,
        clock: Callable[[], datetime] | None = None,
        new_token: Callable[[], str] = lambda: secrets.token_urlsafe(12),
        on_worker_failure: Callable[[], None] | None = None,
    ) -> None:
        self.site = site
        self.store = store
        self.core = Core(site, store, clock, new_token)
        self.topics = Topics(site.site.id)
        self.bus = BusClient(
            broker, site.site.id, "queue-server", availability_topic=self.topics.server_availability()
        )
        self._lock = threading.RLock()  # see Worker.lock: readers never see half a batch
        self.publisher = Publisher(self.core, self.bus, self.topics, self._lock)
        self.worker = Worker(self.core, self.publisher, self._lock)
        self.watchdog = Watchdog(self.worker, self.bus, on_worker_failure)
        self.login = KeypadLogin(Officers(store.engine).pin_login, self._tell, self._login_opened)
        self.keys = KeypadKeys(site, login=self.login, status=self._counter_status)
        self.alerter = Alerter(site)
        self.incidents = IncidentLog(store)
        self.recorder = DeviceRecorder(self.incidents, self.alerter.incident)
        known = {device.id for device in site.devices}
        still_open = [row for row in self.incidents.open_rows() if row[0] in known]
        self.alerter.still_open(still_open)
        self.devices = DeviceRegistry(
            site,
            open_incidents={d: {c for dd, c, _ in still_open if dd == d} for d, _, _ in still_open},
            paper=self.incidents.papers(),
            on_change=self.recorder.put,
        )
        self.receipts = ReceiptPrinting(site, self.bus, self.topics, self.devices)

    # --- what other code reads of the parts ---------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self.core.engine

    @property
    def dossiers(self) -> DossierRegistry:
        return self.core.dossiers

    @property
    def rules(self) -> RuleBook:
        return self.core.rules

    @property
    def calendar(self) -> WorkingCalendar:
        return self.core.calendar

    @property
    def tz(self) -> ZoneInfo:
        return self.core.tz

    @property
    def calls_published(self) -> int:
        return self.publisher.calls_published

    @property
    def batches(self) -> int:
        return self.worker.batches

    def now(self) -> datetime:
        return self.core.now()

    def today(self) -> str:
        return self.core.today()

    # --- life cycle ------------------------------------------------------------------------------

    def start(self, wait: float = 10.0) -> QueueServer:
        self.worker.start()
        self.alerter.start()
        self.recorder.start()
        self.bus.subscribe(self.topics.all_req(), self._on_request, m.request_adapter, dedupe=False)
        self.bus.subscribe(self.topics.all_device("evt"), self._on_event, m.device_event_adapter)
        # Facility staff's view of every device: availability (Last Will) and health, both retained.
        self.bus.subscribe(self.topics.all_device("availability"), self._on_availability, None, dedupe=False)
        self.bus.subscribe(self.topics.all_device("status"), self._on_status, m.DeviceStatus, dedupe=False)
        # Calls the outbox does not know went out (a crash between commit and publish), then the
        # retained state a restarted broker lost.
        self.bus.on_every_connect(self.publisher.republish_unsent)
        self.bus.on_every_connect(self.publish_all_state)
        self.bus.start(wait)
        self.watchdog.start()
        return self

    def stop(self) -> None:
        self.watchdog.stop()
        self.login.stop()
        self.bus.stop()
        self.worker.stop(10)
        self.recorder.stop()
        self.alerter.stop()

    # --- inbound ---------------------------------------------------------------------------------

    def _on_request(self, topic: str, request: Inbound) -> None:
        sender = self.topics.request_of(topic)
        if sender is None:
            return
        client_id, verb = sender
        answer_to = self.topics.resp(client_id)  # the only topic that client may read answers on
        if request.reply_to is not None and request.reply_to != answer_to:
            # A wildcard, a NUL, another client's or another site's resp: nothing is executed.
            try:
                self.topics.check_reply_to(request.reply_to)
                why = f"it is not the sender's own {answer_to}"
            except TopicError as err:
                why = str(err)
            log.warning("ignored request %s from %s on %s: reply_to %s", request.id, client_id, verb, why)
            return
        if verb != request.kind:
            error = m.ErrorInfo(
                code="bad_request",
                message=f"Yêu cầu {request.kind} gửi nhầm chủ đề req/{client_id}/{verb}.",
                message_en=f"a {request.kind} request on req/{client_id}/{verb}: the verb must be its kind",
            )
            self.bus.publish(answer_to, m.Response(request_id=request.id, ok=False, error=error))
            return
        refused = authorise(self.site, client_id, request)
        if refused is not None:
            self.bus.publish(answer_to, refusal(request.id, refused))
            return
        read = READS.get(request.kind)
        if read is not None:  # changes nothing: answered now from committed rows, not stored
            self.bus.publish(answer_to, read(self.core, request))
            return
        self.worker.put(Item(request, request.kind, reply_to=answer_to))

    def _on_event(self, topic: str, event: m.DeviceEvent) -> None:
        device_id = self.topics.device_id_of(topic)
        if device_id is None:
            return
        answer_to = self.topics.resp(device_id)  # refusals and acceptances go back to the device
        if isinstance(event, m.RatingGiven):
            refused = tablet_may_rate(self.site, device_id, event)
            if refused is not None:
                self.bus.publish(answer_to, refusal(event.id, refused))
            else:
                self.worker.put(Item(event, "rating", reply_to=answer_to))
            return
        if isinstance(event, m.JobPrinted):
            self.devices.printed(device_id, event, datetime.now(self.tz))
        if isinstance(event, m.JobPrinted | m.JobFailed):
            self.receipts.on_event(device_id, event)
            return
        if not isinstance(event, m.KeyPressed):
            return
        request = self.key_request(device_id, event)
        if request is not None:
            self.worker.put(Item(request, "key", reply_to=answer_to))

    def _on_availability(self, topic: str, payload: str) -> None:
        device_id = self.topics.device_id_of(topic)
        if device_id is not None:
            self.devices.availability(device_id, payload, datetime.now(self.tz))

    def _on_status(self, topic: str, status: m.DeviceStatus) -> None:
        device_id = self.topics.device_id_of(topic)
        if device_id is not None:
            self.devices.status(device_id, status, datetime.now(self.tz))

    def _counter_status(self, counter: int) -> str:
        state = self.core.engine.counters.get(counter)
        return "closed" if state is None else str(state.status)

    def _tell(self, device_id: str, counter: int, feedback: Feedback) -> None:
        """Log-in feedback: on the keypad's digits and beeper, and on its counter's LED display."""
        expires = m.expires_in(FEEDBACK_TTL_S)
        self.bus.publish(
            self.topics.device_cmd(device_id), m.ShowText(text=feedback.keypad, expires_at=expires)
        )
        for _ in range(feedback.beeps):
            self.bus.publish(self.topics.device_cmd(device_id), m.Beep(expires_at=expires))
        for led in self.site.devices:
            if led.kind is m.DeviceKind.LED_DISPLAY and led.counter == counter:
                self.bus.publish(
                    self.topics.device_cmd(led.id), m.ShowText(text=feedback.led, expires_at=expires)
                )

    def _login_opened(self, device_id: str, request: m.CounterRequest) -> None:
        """An officer identified on ``device_id``: its counter opens for them (answered to the keypad)."""
        self.worker.put(Item(request, "key", reply_to=self.topics.resp(device_id)))

    def key_request(self, device_id: str, event: m.KeyPressed) -> m.CounterRequest | None:
        """The counter operation a keypad key stands for, or None (logged) when it stands for none."""
        return self.keys.request(device_id, event)

    def handle(self, request: Inbound, timeout: float = 30.0) -> m.Response:
        """Run one request through the worker and wait for its committed answer (HTTP, tests)."""
        read = READS.get(request.kind)
        if read is not None:
            return read(self.core, request)
        future: Future[m.Response] = Future()
        self.worker.put(Item(request, request.kind, future=future))
        return future.result(timeout)

    # --- outbound and read models (the HTTP API's QueueQueries) ------------------------------------

    def publish_all_state(self) -> None:
        """Retained state of every queue and counter, so displays that connect later are right."""
        self.publisher.publish_all()

    def counter_state(self, number: int) -> m.CounterState:
        return views.counter_state(self.core, number)

    def queue_state(self, code: str) -> m.QueueState:
        return views.queue_state(self.core, code)

    def ticket_view(self, token: str) -> TicketView | None:
        with self._lock:
            return views.ticket_view(self.core, token)

    def dossier_view(self, code: str) -> DossierView | None:
        with self._lock:
            return views.dossier_view(self.core, code)

    def queue_views(self) -> list[QueueView]:
        with self._lock:
            return views.queue_views(self.core)

    def counter_views(self) -> list[CounterView]:
        with self._lock:
            return views.counter_views(self.core)

    def device_views(self) -> list[DeviceView]:
        """Every device of the site file with what it last said about itself (nothing: unknown)."""
        return self.devices.views(datetime.now(self.tz))

    def tickets_today(self) -> dict[str, tuple[int, int]]:
        """Per service: tickets issued and tickets served (done) this business day."""
        with self._lock:
            day = self.core.today()
            counts = {service.code: [0, 0] for service in self.site.services}
            for ticket in self.core.engine.tickets.values():
                if ticket.day == day and ticket.service in counts:
                    counts[ticket.service][0] += 1
                    counts[ticket.service][1] += ticket.status is TicketStatus.DONE
        return {code: (issued, served) for code, (issued, served) in counts.items()}

    def alerts_sent(self) -> dict[tuple[str, str], int]:
        return dict(self.alerter.sent)

    def device_incidents(self, device_id: str | None = None, limit: int = 200) -> list[IncidentView]:
        """The latest incidents of every device (or one), newest first, from the store."""
        return self.incidents.recent(device_id, limit)
