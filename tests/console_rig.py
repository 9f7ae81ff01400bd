"""A queue server with its HTTP API and counter console, a receipt printer bound to counter 3 (an ESC/POS
simulator behind the real printer service), and a logged-in Chromium page: the rig of the console tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bus.broker import free_port
from bus.client import BrokerUrl
from firmware_sim.escpos_printer import EscposPrinterSim
from printer.form01_pdf import receipt_pdf
from printer.service import PrinterService
from queue_server.access import Access
from queue_server.db import Store
from queue_server.http import HttpServer, create_app
from queue_server.server import QueueServer
from siteconf.model import Site, parse_site
from transport.sim import register_simulator, unregister_simulator

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAS_CHROMIUM = os.path.exists(CHROMIUM)
PASSWORD = "một mật khẩu dài"
PRINTER = "printer-c3"
OFFICERS = {"cb03": "Trần Thị Bình", "cb01": "Nguyễn Văn Cán"}


def with_receipt_printer(site: Site, **printing: Any) -> Site:
    """``site`` with printer ``printer-c3`` on counter 3 bound as its receipt printer."""
    data = site.model_dump(mode="json", exclude_none=True)
    data["devices"].append({"id": PRINTER, "kind": "printer", "url": f"sim://{PRINTER}", "counter": 3})
    data["printing"]["receipt_printers"] = {"3": PRINTER}
    data["printing"].update(printing)
    return parse_site(data)


@dataclass
class Console:
    server: QueueServer
    store: Store
    url: str
    sim: EscposPrinterSim
    printer: PrinterService


@contextmanager
def console_centre(site: Site, broker: BrokerUrl, tmp_path: Path) -> Iterator[Console]:
    site = with_receipt_printer(site)
    sim = EscposPrinterSim()
    register_simulator(PRINTER, sim)
    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    server = QueueServer(site, store, broker).start()
    printer = PrinterService(site.site.id, site.device(PRINTER), broker, receipt_hold_s=1.0).start()
    access = Access.of(store)
    for officer, name in OFFICERS.items():
        access.officers.add(officer, name, "officer", PASSWORD)
    app = create_app(server, access, site.site.name, form01_pdf=receipt_pdf)
    http = HttpServer(app, "127.0.0.1", free_port()).start()
    try:
        yield Console(server, store, http.url, sim, printer)
    finally:
        http.stop()
        printer.stop()
        server.stop()
        store.close()
        unregister_simulator(PRINTER)


@contextmanager
def logged_in(url: str, counter: int = 3, officer: str = "cb03") -> Iterator[Page]:
    """A Chromium page of counter ``counter``'s console, ``officer`` logged in."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page.goto(f"{url}/console/{counter}")
            page.fill("#officer", officer)
            page.fill("#password", PASSWORD)
            page.click("#login")
            expect(page.locator("#counter-name")).to_have_text(f"Quầy {counter}")
            expect(page.locator("#status")).to_contain_text("người chờ")
            yield page
        finally:
            browser.close()
