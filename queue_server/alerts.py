"""Alerts to people: an e-mail through the centre's SMTP relay and a JSON webhook for chat tools.

The incident recorder hands every incident that opens or closes to :class:`Alerter` (``[alerts]`` of
the site file, ``siteconf/alerts.py``). An incident is told once when it opens; while it stays open
it is told again only after ``repeat_after_min`` (0: never), so a status republished on every
reconnect or a server restart never repeats it; when it closes, a recovery message says how long it
lasted (only for incidents that were told), once the recovery has held ``settle_s``: the same fault
back within that time (a flickering paper sensor, a loose cable) continues the incident without a
message, so a flapping device does not flood the staff's inbox. Recoveries still held back when the
server stops are sent then. Messages name the device, its kind, name and location
and what to do, in Vietnamese; never a citizen or an officer.

Sending never holds up anything else: messages go on a bounded queue to the alert thread, each
e-mail and webhook call has a timeout, and a failure is logged (the channel and the error's type,
never addresses, URLs or message text) and counted, then the next message goes. Nothing here
raises into the server.
"""

from __future__ import annotations

import json
import logging
import queue
import smtplib
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from queue_server.device_texts import KINDS_VI, code_vi, short_vi
from queue_server.incidents import IncidentChange
from siteconf import Site
from siteconf.alerts import AlertsConf

log = logging.getLogger(__name__)

REMIND_CHECK_S = 30.0


def _nothing() -> None:
    """Woken with nothing to send: only check the reminders."""


_NOTHING = _nothing


@dataclass(frozen=True)
class Alert:
    """One message to send: ``state`` is ``open``, ``reminder`` or ``resolved``."""

    device_id: str
    code: str
    state: str
    subject: str
    text: str
    at: datetime
    duration_s: float | None = None

    def webhook_body(self, site_id: str) -> bytes:
        body = {
            "text": f"{self.subject}\n{self.text}",
            "site": site_id,
            "device": self.device_id,
            "code": self.code,
            "state": self.state,
            "at": self.at.isoformat(),
            "duration_s": self.duration_s,
        }
        return json.dumps(body, ensure_ascii=False).encode()


class Alerter:
    """Decides what to tell (with repeat suppression) and sends it from its own thread."""

    def __init__(self, site: Site, clock: Callable[[], float] = time.monotonic) -> None:
        self.site = site
        self.conf: AlertsConf = site.alerts
        self.clock = clock
        self.sent: dict[tuple[str, str], int] = {}  # (channel, outcome) -> count, for /metrics
        self._told: dict[tuple[str, str], tuple[float, datetime]] = {}
        self._closing: dict[tuple[str, str], tuple[float, datetime]] = {}  # key -> (clock, closed at)
        self._lock = threading.RLock()  # a full queue is counted while the lock is held
        self._queue: queue.Queue[Alert | Callable[[], None] | None] = queue.Queue(maxsize=500)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alerts", daemon=True)
        self._webhook = _webhook_url(self.conf)

    @property
    def enabled(self) -> bool:
        return self.conf.email or self._webhook is not None

    def start(self) -> Alerter:
        if self.enabled:
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self.resolve_due(everything=True)  # the restarted server will not know them
            self._put(None)  # the thread sends what is queued, then ends
            self._thread.join(timeout)
        self._stop.set()

    def barrier(self, timeout: float = 30.0) -> bool:
        """Wait until every message queued before this call was sent or given up (tests)."""
        if not self._thread.is_alive():
            return True
        done = threading.Event()
        self._put(done.set)
        return done.wait(timeout)

    # --- deciding ------------------------------------------------------------------------------

    def still_open(self, incidents: list[tuple[str, str, datetime]]) -> None:
        """Incidents open when the server (re)started were told before it: not again, but their
        recovery will be."""
        with self._lock:
            for device_id, code, started_at in incidents:
                self._told.setdefault((device_id, code), (self.clock(), started_at))

    def incident(self, change: IncidentChange) -> None:
        """An incident opened or closed: tell it, unless it was already told and is still open."""
        if not self.enabled:
            return
        key = (change.device_id, change.code)
        with self._lock:
            told = self._told.get(key)
            if change.opened:
                if self._closing.pop(key, None) is not None or told is not None:
                    return  # back before its recovery held, or still told: the same incident
                self._told[key] = (self.clock(), change.at)
                self._put(self._alert(change.device_id, change.code, "open", change.at))
            elif told is not None and key not in self._closing:
                self._closing[key] = (self.clock(), change.at)
        if not change.opened and not self.conf.settle_s:
            self.resolve_due()

    def resolve_due(self, *, everything: bool = False) -> int:
        """Tell the recoveries that have held ``settle_s`` (``everything``: all of them, now)."""
        due = 0
        with self._lock:
            for key, (since, closed_at) in list(self._closing.items()):
                if everything or self.clock() - since >= self.conf.settle_s:
                    del self._closing[key]
                    opened_at = self._told.pop(key)[1]
                    duration = max(0.0, (closed_at - opened_at).total_seconds())
                    self._put(self._alert(*key, "resolved", closed_at, duration))
                    due += 1
        return due

    def _next_check(self) -> float:
        """Seconds until the alert thread must look again: reminders, or the next recovery due."""
        with self._lock:
            waits = [since + self.conf.settle_s - self.clock() for since, _ in self._closing.values()]
        return max(0.05, min([REMIND_CHECK_S, *waits]))

    def remind_due(self, now: datetime) -> int:
        """Tell again every incident open for ``repeat_after_min`` since it was last told."""
        every = self.conf.repeat_after_s
        if not every or not self.enabled:
            return 0
        due = 0
        with self._lock:
            for key, (last, opened_at) in list(self._told.items()):
                if key not in self._closing and self.clock() - last >= every:
                    self._told[key] = (self.clock(), opened_at)
                    duration = (now - opened_at).total_seconds()
                    self._put(self._alert(*key, "reminder", now, duration))
                    due += 1
        return due

    def _alert(
        self, device_id: str, code: str, state: str, at: datetime, duration: float | None = None
    ) -> Alert:
        device = self.site.device(device_id)
        kind = KINDS_VI.get(str(device.kind), str(device.kind))
        who = f"{kind} {device.name or device_id}"
        where = f" — {device.location}" if device.location else ""
        headline = {"open": "Sự cố", "reminder": "Nhắc lại: chưa khắc phục", "resolved": "Đã khắc phục"}[
            state
        ]
        subject = f"[{self.site.site.name}] {headline}: {who} — {short_vi(code)}"
        lines = [f"{who} ({device_id}){where}", code_vi(code), f"Lúc: {at.strftime('%H:%M %d/%m/%Y')}"]
        if duration is not None:
            lines.append(f"Kéo dài: {format_duration(duration)}")
        return Alert(device_id, code, state, subject, "\n".join(lines), at, duration)

    # --- sending -------------------------------------------------------------------------------

    def _put(self, item: Alert | Callable[[], None] | None) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._count("queue", "dropped")
            log.error("alert queue full: a message was dropped")

    def _run(self) -> None:
        checked = self.clock()
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=self._next_check())
            except queue.Empty:
                item = None if self._stop.is_set() else _NOTHING
            if item is None:
                return
            try:
                self._handle(item)
                self.resolve_due()
                if self.clock() - checked >= REMIND_CHECK_S:
                    checked = self.clock()
                    self.remind_due(datetime.now().astimezone())
            except Exception:  # the alert thread outlives any bug; the server never depends on it
                log.exception("alerts: a message could not be prepared")

    def _handle(self, item: Alert | Callable[[], None]) -> None:
        if isinstance(item, Alert):
            self._send(item)
        elif item is not _NOTHING:
            item()

    def _send(self, alert: Alert) -> None:
        if self.conf.email:
            self._try("email", lambda: self._email(alert))
        if self._webhook is not None:
            self._try("webhook", lambda: self._post(alert))

    def _try(self, channel: str, send: Callable[[], None]) -> None:
        try:
            send()
        except urllib.error.HTTPError as err:
            self._count(channel, "failed")
            log.warning("alert %s not sent: the webhook answered HTTP %s", channel, err.code)
        except (OSError, smtplib.SMTPException, ValueError) as err:
            self._count(channel, "failed")
            log.warning("alert %s not sent: %s", channel, type(err).__name__)
        else:
            self._count(channel, "sent")

    def _count(self, channel: str, outcome: str) -> None:
        with self._lock:
            self.sent[(channel, outcome)] = self.sent.get((channel, outcome), 0) + 1

    def _email(self, alert: Alert) -> None:
        conf = self.conf
        assert conf.smtp_host is not None and conf.email_from is not None
        message = EmailMessage()
        message["Subject"] = alert.subject
        message["From"] = conf.email_from
        message["To"] = ", ".join(conf.email_to)
        message.set_content(alert.text)
        with smtplib.SMTP(conf.smtp_host, conf.smtp_port, timeout=conf.timeout_s) as smtp:
            if conf.smtp_starttls:
                smtp.starttls()
            if conf.smtp_user is not None:
                smtp.login(conf.smtp_user, _secret(conf.smtp_password_file))
            smtp.send_message(message)

    def _post(self, alert: Alert) -> None:
        assert self._webhook is not None
        request = urllib.request.Request(
            self._webhook,
            data=alert.webhook_body(self.site.site.id),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.conf.timeout_s) as answer:
            answer.read(1024)


def format_duration(seconds: float) -> str:
    """``3725`` → ``1 giờ 2 phút``; under a minute → ``dưới 1 phút``."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "dưới 1 phút"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [
        f"{days} ngày" if days else "",
        f"{hours} giờ" if hours else "",
        f"{minutes} phút" if minutes else "",
    ]
    return " ".join(p for p in parts if p)


def _secret(path: str | None) -> str:
    return Path(path).read_text(encoding="utf-8").strip() if path else ""


def _webhook_url(conf: AlertsConf) -> str | None:
    if conf.webhook_url_file is None:
        return conf.webhook_url
    try:
        url = Path(conf.webhook_url_file).read_text(encoding="utf-8").strip()
    except OSError as err:
        log.error("alerts.webhook_url_file cannot be read (%s): no webhook alerts", type(err).__name__)
        return None
    if not url.startswith(("http://", "https://")):
        log.error("alerts.webhook_url_file does not hold an http(s) URL: no webhook alerts")
        return None
    return url
