"""The facility dashboard with real parts: Mosquitto, the printer and keypad services on their
simulators, the queue server's store, and the page in Debian's Chromium.

What staff must read there: every device by its name and place, in Vietnamese (no device code such as
``paper_near_end``), a keypad whose service vanished (its Last Will) as "Mất kết nối" whatever its
last retained status said, the paper used on the roll and when it will run out, and each device's
incidents with their durations, kept in the store across a restart.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from support import wait_until

from bus import models as m
from bus.broker import free_port
from bus.client import BrokerUrl, BusClient, BusError
from counter_display.service import KeypadService
from firmware_sim.centre import SimulatedDevices
from printer.service import PrinterService
from queue_server.db import Store
from queue_server.device_texts import CODES_VI, code_vi
from queue_server.http import HttpServer, create_app
from queue_server.server import QueueServer
from queue_server.views import DeviceView
from siteconf import Site

pytestmark = pytest.mark.integration
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
ENGLISH_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # paper_near_end, no_reply, cutter_error ...


@dataclass
class Centre:
    site: Site
    broker: BrokerUrl
    store_url: str
    server: QueueServer
    http: HttpServer

    def device(self, device_id: str) -> DeviceView:
        return next(d for d in self.server.device_views() if d.id == device_id)

    def restart(self) -> None:
        self.http.stop()
        self.server.stop()
        self.server.store.close()
        store = Store.open(self.store_url)
        self.server = QueueServer(self.site, store, self.broker).start()
        self.http = HttpServer(
            create_app(self.server, None, self.site.site.name), "127.0.0.1", free_port()
        ).start()


@pytest.fixture
def centre(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[Centre]:
    url = f"sqlite:///{tmp_path}/queue.db"
    server = QueueServer(demo_site, Store.open(url), mosquitto).start()
    http = HttpServer(create_app(server, None, demo_site.site.name), "127.0.0.1", free_port()).start()
    running = Centre(demo_site, mosquitto, url, server, http)
    try:
        yield running
    finally:
        running.http.stop()
        running.server.stop()
        running.server.store.close()


def drop_connection(service: KeypadService) -> None:
    """Cut the service's MQTT connection without a goodbye, as a pulled cable or a crash does: only
    the broker's Last Will can tell the server."""
    mqtt = service.link.bus._mqtt
    sock = mqtt.socket()
    mqtt.loop_stop()
    assert isinstance(sock, socket.socket)
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def ticket_job(job_id: str) -> m.PrintTicket:
    ticket = m.TicketPrint(
        centre_name="Trung tâm Phục vụ hành chính công",
        service_name="Đất đai",
        number="A1001",
        issued_at=m.now(),
        waiting=3,
        estimated_wait_min=12,
    )
    return m.PrintTicket(job_id=job_id, ticket=ticket)


@needs_chromium
def test_staff_read_names_vietnamese_lost_keypads_paper_and_history(centre: Centre) -> None:
    from playwright.sync_api import expect, sync_playwright

    site, broker = centre.site, centre.broker
    sims = SimulatedDevices(site)
    printer = PrinterService(site.site.id, site.device("printer-k1"), broker).start()
    keypad = KeypadService(site.site.id, site.device("keypad-1"), broker).start()
    kiosk = BusClient(broker, site.site.id, "kiosk-1").start()
    sim = sims.printers["printer-k1"]
    try:
        assert wait_until(lambda: centre.device("keypad-1").health == "ok")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"{centre.http.url}/dashboard")
                printer_row, keypad_row = page.locator("#device-printer-k1"), page.locator("#device-keypad-1")
                expect(printer_row).to_contain_text("Máy in vé của kiosk")  # the site file's name ...
                expect(printer_row).to_contain_text("Sảnh chính, trong kiosk lấy số")  # ... and place
                expect(keypad_row).to_contain_text("Bình thường")

                sim.paper_left_mm = 1_000  # past the near-end sensor
                expect(printer_row).to_contain_text(
                    "Sắp hết giấy: chuẩn bị thay cuộn giấy mới", timeout=10_000
                )
                expect(page.locator("#alerts")).to_contain_text("Máy in vé của kiosk [printer-k1]")
                sim.load_paper()  # a new roll: the server starts counting it
                expect(printer_row).to_contain_text("Đủ giấy", timeout=10_000)
                for n in range(3):
                    kiosk.publish(kiosk.topics.device_cmd("printer-k1"), ticket_job(f"dash-{n}"))
                expect(printer_row).to_contain_text("Dự kiến hết lúc", timeout=10_000)
                expect(printer_row).to_contain_text("/ 80 m")
                expect(printer_row).to_contain_text(re.compile(r"Sắp hết giấy: \d\d:\d\d–\d\d:\d\d"))

                drop_connection(keypad)  # the keypad's service is gone; its last status said OK
                expect(keypad_row).to_contain_text("Mất kết nối", timeout=15_000)
                expect(keypad_row.locator("td.health")).to_have_text("Mất kết nối")
                expect(keypad_row).to_contain_text("đang diễn ra")
                expect(page.locator("#alerts")).to_contain_text("Bàn phím gọi số quầy 1 [keypad-1] (Quầy 1)")

                text = page.locator("main").inner_text()
                assert not ENGLISH_CODE.search(text), ENGLISH_CODE.findall(text)
                assert "paper near end" not in text
            finally:
                browser.close()
    finally:
        kiosk.stop()
        with suppress(Exception):
            keypad.stop()
        printer.stop()
        sims.close()
    used = centre.device("printer-k1").paper_used_m
    assert used is not None and 0.2 < used < 0.5  # three tickets of about 82 mm each


def publish_status(
    client: BusClient, device_id: str, status: m.DeviceStatus | None = None, availability: str | None = None
) -> None:
    topics = client.topics
    if availability is not None:
        client.publish(topics.device_availability(device_id), availability, retain=True).wait_for_publish(5)
    if status is not None:
        client.publish(topics.device_status(device_id), status, retain=True).wait_for_publish(5)


def test_incidents_are_kept_with_their_durations_across_a_restart(
    centre: Centre, connect_as: Callable[[str], BusClient]
) -> None:
    printer, led = connect_as("printer-k1"), connect_as("led-1")  # each says what it is itself
    out = m.DeviceStatus(
        health=m.Health.ERROR, paper=m.PaperLevel.OUT, errors=["paper_out"], detail="paper out"
    )
    publish_status(printer, "printer-k1", out, availability="online")
    publish_status(led, "led-1", availability="offline")
    assert wait_until(lambda: centre.device("printer-k1").paper == "out")
    assert wait_until(lambda: centre.device("led-1").online is False)
    assert centre.server.recorder.barrier()
    open_now = {(i.device_id, i.code) for i in centre.server.device_incidents() if i.ended_at is None}
    assert open_now == {("printer-k1", "paper_out"), ("led-1", "offline")}

    centre.restart()  # the store remembers what is still open; the retained state says the same
    assert wait_until(lambda: centre.device("led-1").online is False)
    assert centre.server.recorder.barrier()
    assert len(centre.server.device_incidents()) == 2  # nothing opened twice by the replay

    publish_status(printer, "printer-k1", m.DeviceStatus(health=m.Health.OK, paper=m.PaperLevel.OK))
    publish_status(led, "led-1", availability="online")
    assert wait_until(lambda: centre.device("led-1").online is True)
    assert wait_until(lambda: centre.device("printer-k1").paper == "ok")
    assert centre.server.recorder.barrier()
    history = {i.code: i for i in centre.server.device_incidents()}
    assert set(history) == {"paper_out", "offline"}
    for incident in history.values():
        assert incident.ended_at is not None and incident.duration_s is not None
        assert incident.duration_s == pytest.approx(
            (incident.ended_at - incident.started_at).total_seconds(), abs=0.1
        )
    assert history["paper_out"].text == "Hết giấy: hãy thay cuộn giấy"
    assert centre.server.device_incidents("led-1")[0].code == "offline"


def test_hostile_statuses_open_nothing_for_unknown_devices_and_stay_text(
    centre: Centre, connect_as: Callable[[str], BusClient]
) -> None:
    """What a hostile client can really send under the ACL: an id the site has no login for gets no
    connection; a device writing for another is cut off by the broker; a client that is no device may
    write its own device topics and opens nothing; a device's own garbage stays text or is dropped."""
    site_id = centre.site.site.id
    ghost = BusClient(centre.broker.as_client("ghost-1", "a-guessed-secret"), site_id, "ghost-1")
    with pytest.raises(BusError, match="no connection"):
        ghost.start(wait=2)
    ghost.stop()
    ghost_status = m.DeviceStatus(health=m.Health.ERROR, errors=["paper_out"])
    faker = connect_as("keypad-1")  # the broker drops it for writing ghost-1's status
    faker.publish(faker.topics.device_status("ghost-1"), ghost_status, retain=True).wait_for_publish(5)
    publish_status(connect_as("console-1"), "console-1", ghost_status, "offline")  # its own topics
    led = connect_as("led-1")
    led.publish(led.topics.device_status("led-1"), "{not json", retain=True).wait_for_publish(5)
    strange = m.DeviceStatus(health=m.Health.ERROR, errors=["<b>x</b>", "fan_failure"])
    publish_status(connect_as("kiosk-1"), "kiosk-1", strange, "online")  # after the others: a barrier
    assert wait_until(lambda: centre.device("kiosk-1").health == "error")
    assert centre.server.recorder.barrier()
    assert {i.device_id for i in centre.server.device_incidents()} == {"kiosk-1"}
    assert centre.device("kiosk-1").problems_vi == ["Lỗi khác (<b>x</b>)", "Lỗi khác (fan_failure)"]
    assert centre.device("led-1").health == "unknown"
    assert not {"ghost-1", "console-1"} & {d.id for d in centre.server.device_views()}


def test_every_code_the_devices_publish_reads_in_vietnamese() -> None:
    from printer.service import device_status
    from printer.status import PaperState, PrinterStatus
    from scanner.errors import CaptureError, FeederEmptyError, PaperJamError
    from scanner.service import status_for, with_upload_backlog

    printers = [
        PrinterStatus(paper=PaperState.NEAR_END),
        PrinterStatus(paper=PaperState.OUT, offline=True),
        PrinterStatus(cover_open=True, offline=True),
        PrinterStatus(cutter_error=True),
        PrinterStatus(unrecoverable_error=True),
        PrinterStatus(recoverable_error=True),
        PrinterStatus(offline=True),
    ]
    codes = {code for status in printers for code in device_status(status).errors}
    scanners = [
        status_for(PaperJamError("x")),
        status_for(FeederEmptyError("x")),
        status_for(CaptureError("x")),
    ]
    codes |= {code for status in scanners for code in with_upload_backlog(status, 2).errors}
    codes |= {"no_reply", "link", "rejected", "offline"}  # keypads, LED displays, the server itself
    assert len(codes) >= 12
    for code in codes:
        assert code in CODES_VI, code
        assert not ENGLISH_CODE.search(code_vi(code)), code


def test_the_paper_estimate_follows_the_recent_rate(demo_site: Site) -> None:
    from queue_server.devices_registry import DeviceRegistry

    t0 = datetime.fromisoformat("2026-12-04T08:00:00+07:00")
    registry = DeviceRegistry(demo_site)
    near = m.DeviceStatus(health=m.Health.WARNING, paper=m.PaperLevel.NEAR_END)
    registry.status("printer-k1", m.DeviceStatus(health=m.Health.OK, paper=m.PaperLevel.OK), t0)
    for n in range(60):  # a roll of unknown history: counted, but no estimate
        registry.printed("printer-k1", m.JobPrinted(job_id=f"a{n}", bytes_sent=1, paper_mm=100), t0)
    view = next(v for v in registry.views(t0) if v.id == "printer-k1")
    assert (view.paper_used_m, view.paper_left_pct, view.paper_runs_out_at) == (6.0, None, None)
    registry.status("printer-k1", near, t0)
    registry.status("printer-k1", m.DeviceStatus(health=m.Health.OK, paper=m.PaperLevel.OK), t0)  # new roll
    for minute in range(60):  # 1 m an hour: 100 mm every 6 minutes ... for an hour
        if minute % 6 == 0:
            at = t0.replace(minute=minute)
            registry.printed("printer-k1", m.JobPrinted(job_id=f"b{minute}", bytes_sent=1, paper_mm=100), at)
    now = t0.replace(hour=9)
    view = next(v for v in registry.views(now) if v.id == "printer-k1")
    assert view.paper_used_m == 1.0 and view.roll_length_m == 80
    assert view.paper_left_pct == 99  # 79 m of 80
    assert view.print_rate_m_per_h == 1.0
    assert view.paper_runs_out_at == now.replace(day=7, hour=16)  # 79 hours at 1 m an hour
