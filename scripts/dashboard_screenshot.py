"""Screenshot of the facility dashboard in Debian's Chromium, for docs/screenshots/.

Starts Mosquitto on a free port, the queue server of ``sites/demo.toml`` on a temporary SQLite file and
its HTTP API, publishes a few device states (a printer near its paper end, a keypad whose service went
offline, a jammed scanner), prints some tickets' worth of paper when the server counts it, and saves the
page as a PNG::

    .venv/bin/python scripts/dashboard_screenshot.py docs/screenshots/dashboard-after.png
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from bus import models as m
from bus.broker import EmbeddedBroker, free_port
from bus.client import BusClient
from queue_server.db import Store
from queue_server.http import HttpServer, create_app
from queue_server.server import QueueServer
from siteconf import load_site

REPO = Path(__file__).resolve().parent.parent


def publish_states(client: BusClient) -> None:
    t = client.topics

    def status(device: str, status: m.DeviceStatus) -> None:
        client.publish(t.device_status(device), status, retain=True).wait_for_publish(5)
        time.sleep(0.3)

    for device in ["printer-k1", "keypad-1", "keypad-2", "led-1", "led-2", "kiosk-1"]:
        client.publish(t.device_availability(device), "online", retain=True).wait_for_publish(5)
    for device in ["keypad-1", "keypad-2", "led-1", "kiosk-1"]:
        status(device, m.DeviceStatus(health=m.Health.OK))
    paper = m.PaperLevel
    status(
        "printer-k1", m.DeviceStatus(health=m.Health.WARNING, paper=paper.NEAR_END, detail="paper near end")
    )
    out = m.DeviceStatus(health=m.Health.ERROR, paper=paper.OUT, errors=["paper_out"], detail="paper out")
    status("printer-k1", out)
    status("printer-k1", m.DeviceStatus(health=m.Health.OK, paper=paper.OK))  # a new roll
    for n in range(12):
        extra = {"paper_mm": 95.0} if "paper_mm" in m.JobPrinted.model_fields else {}
        client.publish(t.device_evt("printer-k1"), m.JobPrinted(job_id=f"shot-{n}", bytes_sent=9000, **extra))
    detail = "unit 1 does not answer the poll"
    status("led-2", m.DeviceStatus(health=m.Health.ERROR, errors=["no_reply"], detail=detail))
    client.publish(t.device_availability("keypad-1"), "offline", retain=True).wait_for_publish(5)


def main(out: str) -> None:
    from playwright.sync_api import sync_playwright

    site = load_site(REPO / "sites" / "demo.toml").around_the_clock()
    broker = EmbeddedBroker(port=0, engine="mosquitto")
    url = broker.start()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/q.db")
        server = QueueServer(site, store, url).start()
        http = HttpServer(create_app(server, None, site.site.name), "127.0.0.1", free_port()).start()
        client = BusClient(url, site.site.id, "screenshot").start()
        try:
            publish_states(client)
            time.sleep(1.0)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
                )
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.goto(f"{http.url}/dashboard")
                page.wait_for_selector("#device-printer-k1")
                time.sleep(0.5)
                page.screenshot(path=out, full_page=True)
                browser.close()
        finally:
            client.stop()
            http.stop()
            server.stop()
            store.close()
            broker.stop()


if __name__ == "__main__":
    main(sys.argv[1])
