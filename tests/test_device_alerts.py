"""Alerts to people, against a real local SMTP server (aiosmtpd) and a local webhook receiver.

The queue server hears device statuses over a real Mosquitto; incidents become one e-mail and one
JSON POST each, are not told again while they stay open (a status republished after a reconnect, a
server restart), are told again after ``repeat_after_min``, and end with a recovery message. A relay
that refuses or a webhook that hangs never stops the server, and its failures are logged without
addresses, URLs or message text.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from support import wait_until

from bus import models as m
from bus.broker import free_port
from bus.client import BrokerUrl, BusClient
from queue_server.alerts import Alerter, format_duration
from queue_server.db import Store
from queue_server.incidents import IncidentChange
from queue_server.metrics import ServerCollector
from queue_server.server import QueueServer
from siteconf import Site
from siteconf.model import SiteFileError, parse_site

pytestmark = pytest.mark.integration
STAFF = "kythuat@ttphvhcc.example.gov.vn"


class Mailbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Envelope) -> str:  # noqa: N802 aiosmtpd's hook name
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def body(self, index: int) -> str:
        payload = self.messages[index].get_payload(decode=True)
        assert isinstance(payload, bytes)
        return payload.decode()

    def subjects(self) -> list[str]:
        return [str(make_header(decode_header(str(msg["Subject"])))) for msg in self.messages]


@dataclass
class Webhook:
    """A local HTTP server standing in for a chat tool's incoming webhook."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    hold: threading.Event | None = None  # while set to an unset Event, every request waits on it

    def serve(self) -> ThreadingHTTPServer:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if hook.hold is not None:
                    hook.hold.wait(30)
                hook.bodies.append(body)
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def alerting_site(site: Site, smtp_port: int, webhook_port: int, **alerts: object) -> Site:
    data: dict[str, Any] = site.model_dump(mode="json", exclude_none=True)
    data["alerts"] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "email_to": [STAFF],
        "email_from": "motcua@ttphvhcc.example.gov.vn",
        "webhook_url": f"http://127.0.0.1:{webhook_port}/hooks/ky-thuat",
        "timeout_s": 5,
        **alerts,
    }
    return parse_site(data)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[Webhook, int]]:
    hook = Webhook()
    server = hook.serve()
    yield hook, server.server_address[1]
    if hook.hold is not None:
        hook.hold.set()
    server.shutdown()
    server.server_close()


def start_server(site: Site, broker: BrokerUrl, db: Path) -> QueueServer:
    return QueueServer(site, Store.open(f"sqlite:///{db}"), broker).start()


def stop_server(server: QueueServer) -> None:
    server.stop()
    server.store.close()


def settle(server: QueueServer) -> None:
    """Barrier: every status heard so far is recorded and every alert it made is sent."""
    assert server.recorder.barrier()
    assert server.alerter.barrier()


def test_an_incident_is_told_once_then_its_recovery(
    demo_site: Site,
    mosquitto: BrokerUrl,
    tmp_path: Path,
    mailbox: tuple[Mailbox, int],
    webhook: tuple[Webhook, int],
) -> None:
    box, hook = mailbox[0], webhook[0]
    site = alerting_site(demo_site, mailbox[1], webhook[1], settle_s=0)  # recoveries told at once
    server = start_server(site, mosquitto, tmp_path / "q.db")
    device = BusClient(mosquitto, site.site.id, "printer-k1").start()
    out = m.DeviceStatus(health=m.Health.ERROR, paper=m.PaperLevel.OUT, errors=["paper_out"])
    status_topic = device.topics.device_status("printer-k1")
    try:
        device.publish(status_topic, out, retain=True).wait_for_publish(5)
        assert wait_until(lambda: len(box.messages) == 1 and len(hook.bodies) == 1)
        (subject,) = box.subjects()
        assert subject == f"[{site.site.name}] Sự cố: Máy in Máy in vé của kiosk — Hết giấy"
        text = box.body(0)
        assert "Sảnh chính, trong kiosk lấy số" in text and "Hết giấy: hãy thay cuộn giấy" in text
        assert box.messages[0]["To"] == STAFF
        body = hook.bodies[0]
        assert (body["device"], body["code"], body["state"], body["site"]) == (
            "printer-k1",
            "paper_out",
            "open",
            site.site.id,
        )
        assert body["text"].startswith(subject)

        for _ in range(3):  # the device reconnects and republishes: the same incident, not a new one
            device.publish(status_topic, out.model_copy(update={"id": m.new_id()}), retain=True)
        stop_server(server)
        server = start_server(site, mosquitto, tmp_path / "q.db")  # the retained status again
        assert wait_until(lambda: any(d.paper == "out" for d in server.device_views()))
        settle(server)
        assert (len(box.messages), len(hook.bodies)) == (1, 1)

        device.publish(status_topic, m.DeviceStatus(health=m.Health.OK, paper=m.PaperLevel.OK), retain=True)
        assert wait_until(lambda: len(box.messages) == 2 and len(hook.bodies) == 2)
        assert box.subjects()[1].startswith(f"[{site.site.name}] Đã khắc phục: Máy in Máy in vé của kiosk")
        assert hook.bodies[1]["state"] == "resolved" and hook.bodies[1]["duration_s"] >= 0
        assert "Kéo dài:" in box.body(1)
        settle(server)
        assert server.alerts_sent() == {("email", "sent"): 1, ("webhook", "sent"): 1}  # since this start
        registry = CollectorRegistry(auto_describe=False)
        registry.register(ServerCollector(server))
        samples = {
            (s.name, s.labels.get("channel"), s.labels.get("outcome")): s.value
            for family in text_string_to_metric_families(generate_latest(registry).decode())
            for s in family.samples
        }
        assert samples[("motcua_alerts_total", "email", "sent")] == 1
    finally:
        device.stop()
        stop_server(server)


def test_an_open_incident_is_told_again_after_the_interval(
    demo_site: Site, mailbox: tuple[Mailbox, int], webhook: tuple[Webhook, int]
) -> None:
    site = alerting_site(demo_site, mailbox[1], webhook[1], repeat_after_min=30)
    now = [1000.0]
    alerter = Alerter(site, clock=lambda: now[0]).start()
    at = m.now()
    try:
        alerter.incident(IncidentChange("keypad-1", "offline", True, at))
        alerter.incident(IncidentChange("keypad-1", "offline", True, at))  # same incident: nothing new
        now[0] += 29 * 60
        assert alerter.remind_due(at) == 0
        now[0] += 60
        assert alerter.remind_due(at) == 1
        assert alerter.remind_due(at) == 0  # and not again until another interval
        assert alerter.barrier()
        subjects = mailbox[0].subjects()
        assert len(subjects) == 2 and subjects[1].startswith(f"[{site.site.name}] Nhắc lại: chưa khắc phục")
        assert [b["state"] for b in webhook[0].bodies] == ["open", "reminder"]
    finally:
        alerter.stop()
    assert format_duration(3725) == "1 giờ 2 phút" and format_duration(59) == "dưới 1 phút"


def test_a_flapping_fault_is_one_incident_and_its_recovery_is_told_once_it_holds(
    demo_site: Site, mailbox: tuple[Mailbox, int], webhook: tuple[Webhook, int]
) -> None:
    """A paper sensor flickering at the roll's end: near end, fine, near end again ... is one message
    when it starts and one recovery once the paper has stayed fine for ``settle_s``."""
    site = alerting_site(demo_site, mailbox[1], webhook[1], settle_s=60, repeat_after_min=30)
    now = [1000.0]
    alerter = Alerter(site, clock=lambda: now[0]).start()
    at = m.now()

    def states() -> list[tuple[str, str]]:
        return [(b["code"], b["state"]) for b in webhook[0].bodies]

    try:
        for flicker in range(5):
            moment = at + timedelta(seconds=flicker)
            alerter.incident(IncidentChange("printer-k1", "paper_near_end", True, moment))
            now[0] += 20
            alerter.incident(IncidentChange("printer-k1", "paper_near_end", False, moment))
            now[0] += 20  # back within 60 s (next round): the same incident
            assert alerter.resolve_due() == 0
        assert alerter.remind_due(at) == 0  # closing: no reminder either
        now[0] += 39
        assert alerter.resolve_due() == 0
        assert alerter.barrier()
        assert states() == [("paper_near_end", "open")]
        now[0] += 1  # the recovery has held 60 s: told (by the alert thread, or by this call)
        alerter.resolve_due()
        assert wait_until(lambda: len(states()) == 2)
        alerter.incident(IncidentChange("printer-k1", "paper_near_end", True, at + timedelta(minutes=5)))
        alerter.incident(IncidentChange("printer-k1", "paper_near_end", False, at + timedelta(minutes=6)))
        alerter.incident(IncidentChange("keypad-1", "offline", False, at))  # never told: nothing to close
        assert alerter.barrier()
        assert len(states()) == 3
    finally:
        alerter.stop()  # the recovery still held back is sent as the server stops
    assert states() == [("paper_near_end", state) for state in ("open", "resolved") * 2]
    bodies = webhook[0].bodies
    assert bodies[1]["duration_s"] == 4.0  # from the first near end to the last recovery
    assert bodies[3]["duration_s"] == 60.0
    assert len(mailbox[0].subjects()) == 4


def test_a_failing_relay_or_a_hanging_webhook_never_stops_the_server(
    demo_site: Site,
    mosquitto: BrokerUrl,
    tmp_path: Path,
    webhook: tuple[Webhook, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = webhook[0]
    hook.hold = threading.Event()  # the chat server accepts the POST and then says nothing
    hook.status = 500
    closed_port = free_port()  # nothing listens there: the relay refuses
    site = alerting_site(demo_site, closed_port, webhook[1], timeout_s=30)
    server = start_server(site, mosquitto, tmp_path / "q.db")
    device = BusClient(mosquitto, site.site.id, "keypad-1").start()
    caplog.set_level(logging.WARNING, logger="queue_server.alerts")
    try:
        device.publish(
            device.topics.device_availability("keypad-1"), "offline", retain=True
        ).wait_for_publish(5)
        assert wait_until(lambda: server.alerts_sent().get(("email", "failed")) == 1)
        # The alert thread now waits on the webhook; tickets and device views carry on.
        ticket = server.handle(m.IssueTicket(service="civil"), timeout=10)
        assert ticket.ok and ticket.ticket is not None
        jam = m.DeviceStatus(health=m.Health.ERROR, errors=["cutter_error"])
        device.publish(device.topics.device_status("keypad-1"), jam, retain=True)
        assert wait_until(
            lambda: any(d.id == "keypad-1" and d.errors == ["cutter_error"] for d in server.device_views())
        )
        assert server.recorder.barrier()
        hook.hold.set()
        settle(server)
        assert server.alerts_sent()[("webhook", "failed")] == 2  # HTTP 500, counted, logged
        assert server.alerts_sent()[("email", "failed")] == 2
        logged = caplog.text
        assert "ConnectionRefusedError" in logged and "HTTP 500" in logged
        assert STAFF not in logged and "hooks/ky-thuat" not in logged and "Bàn phím" not in logged
    finally:
        hook.hold.set()
        device.stop()
        stop_server(server)


def test_a_full_alert_queue_drops_and_counts_without_stopping_the_recorder(
    demo_site: Site, mailbox: tuple[Mailbox, int], webhook: tuple[Webhook, int]
) -> None:
    """The webhook hangs, 600 incidents open: the 500-message queue fills, the rest are dropped and
    counted, and the thread that reports incidents is never stuck behind the alerts."""
    hook = webhook[0]
    hook.hold = threading.Event()
    alerter = Alerter(alerting_site(demo_site, mailbox[1], webhook[1], timeout_s=30)).start()
    at = m.now()

    def burst() -> None:
        for n in range(600):
            alerter.incident(IncidentChange("printer-k1", f"fault_{n}", True, at))

    reporter = threading.Thread(target=burst, daemon=True)
    try:
        reporter.start()
        reporter.join(30)
        assert not reporter.is_alive(), "the incident reporter is stuck behind the alert queue"
        assert alerter.sent[("queue", "dropped")] >= 600 - 500 - 1
    finally:
        hook.hold.set()
        alerter.stop(timeout=1)


def test_the_alerts_table_is_checked_with_its_key_path(demo_site: Site) -> None:
    data: dict[str, Any] = demo_site.model_dump(mode="json", exclude_none=True)
    bad = [
        ({"smtp_host": "relay", "email_from": "a@b.vn"}, "email_to"),
        (
            {"email_to": ["không phải địa chỉ"], "smtp_host": "relay", "email_from": "a@b.vn"},
            "e-mail address",
        ),
        ({"webhook_url": "file:///etc/passwd"}, "http"),
        ({"webhook_url": "http://x/a", "webhook_url_file": "/f"}, "not both"),
        ({"smtp_password_file": "/f"}, "smtp_user"),
        ({"repeat_after_min": -1}, "repeat_after_min"),
    ]
    for table, message in bad:
        with pytest.raises(SiteFileError, match=message):
            parse_site({**data, "alerts": table})
    devices = data["devices"]
    named = [{**d, "name": "Máy in\nsảnh"} if d["id"] == "printer-k1" else d for d in devices]
    with pytest.raises(SiteFileError, match="control characters"):
        parse_site({**data, "devices": named})
    rolled = [{**d, "roll_length_m": 80} if d["id"] == "keypad-1" else d for d in devices]
    with pytest.raises(SiteFileError, match="roll_length_m is for printers"):
        parse_site({**data, "devices": rolled})
    long_name = [{**d, "location": "x" * 81} if d["id"] == "led-1" else d for d in devices]
    with pytest.raises(SiteFileError, match="80 characters"):
        parse_site({**data, "devices": long_name})
