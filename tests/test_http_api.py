"""The queue server's HTTP API on a real uvicorn, and the counter console in a real Chromium."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import wait_until

from bus import models as m
from bus.broker import free_port
from bus.client import BrokerUrl
from queue_server.access import Access
from queue_server.accounts import SCOPES
from queue_server.db import Store
from queue_server.dossiers import DossierStore
from queue_server.http import HttpServer, create_app
from queue_server.sealed import load_key
from queue_server.server import QueueServer
from queue_server.server_cli import DOCS, openapi_text
from queue_server.views import DeviceView
from siteconf.model import Site, parse_site

pytestmark = pytest.mark.integration

KEY = "k-" + "7" * 30
PASSWORD = "mật-khẩu-cb03"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def all_day_site(site: Site) -> Site:
    data = site.model_dump(mode="json", exclude_none=True)
    data["hours"] = {
        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "sessions": [["00:00", "24:00"]],
    }
    return parse_site(data)


@pytest.fixture
def api(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[tuple[QueueServer, str]]:
    site = all_day_site(demo_site)
    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    server = QueueServer(site, store, mosquitto).start()
    http = HttpServer(
        create_app(server, access_with_key(store), site.site.name), "127.0.0.1", free_port()
    ).start()
    try:
        yield server, http.url
    finally:
        http.stop()
        server.stop()
        store.close()


def access_with_key(store: Store) -> Access:
    """The store's accounts, with ``KEY`` as an integration's key of every scope and officer cb03."""
    access = Access.of(store)
    access.api_keys.add("tests", list(SCOPES), key=KEY)
    access.officers.add("cb03", "Cán bộ quầy 3", "officer", PASSWORD)
    return access


def act(url: str, counter: int, key: str | None = KEY, **body: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{url}/api/v1/counters/{counter}/actions", json=body, headers=headers, timeout=10)


def test_a_ticket_is_followed_by_its_token_and_only_by_it(api: tuple[QueueServer, str]) -> None:
    server, url = api
    issued = server.handle(m.IssueTicket(service="civil"))
    assert issued.ok and issued.ticket is not None
    got = httpx.get(f"{url}/api/v1/tickets/{issued.ticket.token}", timeout=10)
    assert got.status_code == 200
    view = got.json()
    assert view["number"] == issued.ticket.number
    assert view["status"] == "waiting" and view["waiting_before"] == 0
    assert httpx.get(f"{url}/api/v1/tickets/{issued.ticket.number}", timeout=10).status_code == 404
    assert httpx.get(f"{url}/api/v1/tickets/not-a-token", timeout=10).status_code == 404
    page = httpx.get(f"{url}/t/{issued.ticket.token}", timeout=10)  # what the ticket's QR opens
    assert page.status_code == 200 and issued.ticket.number in page.text and "Đang chờ" in page.text
    gone = httpx.get(f"{url}/t/{issued.ticket.number}", timeout=10)
    assert gone.status_code == 404 and "Không tìm thấy" in gone.text


def test_counter_operations_need_the_key(api: tuple[QueueServer, str]) -> None:
    _server, url = api
    assert act(url, 2, key=None, action="call_next").status_code == 401
    assert act(url, 2, key="wrong", action="call_next").status_code == 401
    assert act(url, 2, action="fly").status_code == 422
    counters = httpx.get(f"{url}/api/v1/counters", timeout=10).json()
    assert all(c["status"] == "closed" for c in counters), "a refused request changed something"


def test_a_clerk_calls_over_http_and_the_queue_follows(api: tuple[QueueServer, str]) -> None:
    server, url = api
    first = server.handle(m.IssueTicket(service="land")).ticket
    second = server.handle(m.IssueTicket(service="land")).ticket
    assert first is not None and second is not None
    refused_open = act(url, 1, action="open", request_id="open-counter-1")
    assert refused_open.status_code == 403 and "officer" in refused_open.json()["detail"]
    assert act(url, 1, action="open", officer="cb01").status_code == 422  # no typed officers over HTTP
    assert server.handle(
        m.CounterRequest(counter=1, action=m.CounterAction.OPEN, officer="cb01")
    ).ok  # keypad
    called = act(url, 1, action="call_next", request_id="call-counter-1-a").json()
    assert called["ok"] and called["called"]["number"] == first.number
    again = act(url, 1, action="call_next", request_id="call-counter-1-a").json()
    assert again == called, "a retried request must get the same answer"
    queues = {q["service"]: q for q in httpx.get(f"{url}/api/v1/queues", timeout=10).json()}
    assert queues["land"]["waiting"] == 1 and queues["land"]["last_called"] == first.number
    staff = httpx.get(
        f"{url}/api/v1/counters/1", headers={"Authorization": f"Bearer {KEY}"}, timeout=10
    ).json()
    assert staff["current"] == first.number and staff["officer"] == "cb01"
    public = httpx.get(f"{url}/api/v1/counters/1", timeout=10).json()  # the hall: no officer ids
    assert public["current"] == first.number and public["officer"] is None
    refused = act(url, 99, action="call_next").json()
    assert not refused["ok"] and refused["error"]["code"] == "unknown_counter"
    assert httpx.get(f"{url}/api/v1/counters/99", timeout=10).status_code == 404


def test_without_a_key_operations_are_off(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    server = QueueServer(all_day_site(demo_site), store, mosquitto).start()
    http = HttpServer(create_app(server, None), "127.0.0.1", free_port()).start()
    try:
        answer = act(http.url, 1, action="call_next")
        assert answer.status_code == 403 and "account store" in answer.json()["detail"]
        assert httpx.get(f"{http.url}/console/1", timeout=10).status_code == 404  # no console either
    finally:
        http.stop()
        server.stop()
        store.close()


def test_openapi_document_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == openapi_text(), "run: motcua http openapi"
    paths = json.loads(openapi_text())["paths"]
    assert "/api/v1/tickets/{token}" in paths and "/api/v1/counters/{number}/actions" in paths


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_console_in_chromium_calls_the_next_citizen(api: tuple[QueueServer, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    server, url = api
    ticket = server.handle(m.IssueTicket(service="civil")).ticket
    assert ticket is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{url}/console/3")
            page.fill("#officer", "cb03")  # the console asks for the officer's login first
            page.fill("#password", PASSWORD)
            page.click("#login")
            expect(page.locator("#counter-name")).to_have_text("Quầy 3")
            expect(page.locator("#open")).to_be_enabled()  # once the console has looked at the counter
            page.click("#open")
            expect(page.locator("#status")).to_contain_text("Đang mở")
            page.click("#call_next")
            expect(page.locator("#current")).to_have_text(ticket.number)
            expect(page.locator("#message")).to_have_text(f"Đã gọi số {ticket.number}")
            page.fill("#procedure", "1.001234")  # the citizen hands in a dossier: receipt and appointment
            page.click("#register")
            expect(page.locator("#dossier")).to_contain_text("Mã hồ sơ H99.01-")
            expect(page.locator("#dossier")).to_contain_text("hẹn trả")
            page.click("#call_next")  # nobody else waits: the clerk is told so, in Vietnamese
            expect(page.locator("#current")).to_have_text("—")
            expect(page.locator("#message")).to_have_text("Không còn công dân chờ.")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "counter-console.png"))
        finally:
            browser.close()
    assert server.engine.counters[3].officer == "cb03"
    (dossier,) = server.dossiers.dossiers.values()
    assert dossier.procedure == "1.001234"


def register(url: str, key: str | None = KEY, **body: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{url}/api/v1/dossiers", json=body, headers=headers, timeout=10)


def test_a_dossier_gets_a_code_an_appointment_and_a_status(api: tuple[QueueServer, str]) -> None:
    server, url = api
    assert register(url, key=None, procedure="1.001234", days=3).status_code == 401
    closed = register(url, procedure="1.001234", days=3, counter=2).json()
    assert closed["error"]["code"] == "counter_closed", "a dossier is received at an open counter only"
    assert server.handle(m.CounterRequest(counter=2, action=m.CounterAction.OPEN, officer="cb03")).ok
    first = register(url, procedure="1.001234", days=3, counter=2, request_id="dossier-request-1").json()
    assert first["ok"], first
    code = first["dossier"]["code"]
    today = server.now().strftime("%y%m%d")
    assert code == f"H99.01-{today}-0001"  # the demo site's agency code, today, first of the day
    again = register(url, procedure="1.001234", days=3, counter=2, request_id="dossier-request-1").json()
    assert again == first, "a retried registration must not allocate a second code"
    second = register(url, procedure="2.000001", days=0).json()
    assert second["dossier"]["code"] == f"H99.01-{today}-0002"
    received = server.dossiers.dossiers[code]
    assert received.due_at == server.dossiers.calendar.due_at(received.received_at, 3, "1.001234").due

    key = first["lookup_key"]
    assert first["lookup_url"].endswith(f"/d/{code}?k={key}")
    view = httpx.get(f"{url}/api/v1/dossiers/{code.lower()}", params={"k": key.lower()}, timeout=10).json()
    assert view["status"] == "received" and view["status_vi"] == "Đã tiếp nhận"
    assert view["appointment"] == first["dossier"]["due_at"]
    bad = httpx.get(f"{url}/api/v1/dossiers/A1023", timeout=10)
    assert bad.status_code == 422 and "dossier code" in bad.json()["detail"]
    assert httpx.get(f"{url}/api/v1/dossiers/H99.01-200101-0001", timeout=10).status_code == 404

    ready = server.handle(m.UpdateDossier(code=code, status=m.DossierStatus.READY))
    assert ready.ok and ready.dossier is not None and ready.dossier.status is m.DossierStatus.READY
    server.handle(m.UpdateDossier(code=code, status=m.DossierStatus.RETURNED))
    late = server.handle(m.UpdateDossier(code=code, status=m.DossierStatus.PROCESSING))
    assert not late.ok and late.error is not None and late.error.code == "not_allowed"
    unknown = server.handle(m.UpdateDossier(code="H99.01-200101-0009", status=m.DossierStatus.READY))
    assert unknown.error is not None and unknown.error.code == "unknown_dossier"
    taken = server.handle(m.RegisterDossier(code=code, procedure="1.001234", days=1))
    assert taken.error is not None and taken.error.code == "bad_request"


def test_dossiers_survive_a_restart(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/queue.db"
    store = Store.open(db)
    server = QueueServer(demo_site, store, mosquitto).start()
    code = server.handle(m.RegisterDossier(procedure="1.001234", days=5)).dossier.code  # type: ignore[union-attr]
    server.stop()
    store.close()
    store = Store.open(db)
    server = QueueServer(demo_site, store, mosquitto).start()
    try:
        assert server.dossier_view(code) is not None
        nxt = server.handle(m.RegisterDossier(procedure="1.001234", days=5)).dossier
        assert nxt is not None and nxt.code.endswith("-0002")
        assert store.verify().ok
    finally:
        server.stop()
        store.close()


def test_scanned_dossiers_upload_to_the_server_with_its_key(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    from scanner.spool import Spool
    from scanner.upload import Uploader

    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    server = QueueServer(demo_site, store, mosquitto).start()
    app = create_app(server, access_with_key(store), dossier_dir=tmp_path / "dossiers")
    http = HttpServer(app, "127.0.0.1", free_port()).start()
    pdf = tmp_path / "scan.pdf"
    scanned = b"%PDF-1.7\n" + bytes(range(256)) * 300 + b"\n%%EOF\n"
    try:
        for key, expect_ok in ((None, False), ("wrong-key", False), (KEY, True)):
            pdf.write_bytes(scanned)
            spool = Spool(tmp_path / f"spool-{key}", bytes(32))
            entry = spool.put(pdf, "H99.01-261122-0001")
            uploader = Uploader(f"{http.url}/api/v1", spool, api_key=key or "", attempts=1)
            try:
                if expect_ok:
                    result = uploader.upload(entry)
                    assert result.bytes_sent == entry.size
                    assert spool.entries() == []  # deleted only after the store confirmed it
                else:
                    with pytest.raises(Exception, match="401"):
                        uploader.upload(entry)
                    assert spool.entries() == [entry]  # nothing lost
            finally:
                uploader.close()
        (stored,) = list((tmp_path / "dossiers").rglob("*.enc"))
        assert list((tmp_path / "dossiers").rglob("*.pdf")) == []  # no scanned page in clear on the server
        sealing = load_key(tmp_path / "secrets" / "dossier-store.key")
        assert DossierStore(tmp_path / "dossiers", sealing).read(stored.parent.name, stored.stem) == scanned
    finally:
        http.stop()
        server.stop()
        store.close()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_dashboard_warns_staff_before_the_paper_runs_out(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    from firmware_sim.centre import SimulatedDevices
    from printer.service import PrinterService

    sims = SimulatedDevices(demo_site)
    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    server = QueueServer(demo_site, store, mosquitto).start()
    printer = PrinterService(demo_site.site.id, demo_site.device("printer-k1"), mosquitto).start()
    app = create_app(server, access_with_key(store), demo_site.site.name)
    http = HttpServer(app, "127.0.0.1", free_port()).start()
    try:
        assert wait_until(lambda: _device(server, "printer-k1").online is True)
        assert _device(server, "led-1").online is None  # never heard of: shown as unknown, not as fine
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"{http.url}/dashboard")
                row = page.locator("#device-printer-k1")
                expect(row).to_contain_text("trực tuyến")
                expect(row).to_contain_text("Đủ giấy")
                sims.printers["printer-k1"].paper_left_mm = 1_000  # past the near-end sensor
                expect(row).to_contain_text("Sắp hết giấy", timeout=10_000)
                expect(page.locator("#alerts")).to_contain_text(
                    "Máy in vé của kiosk [printer-k1] (Sảnh chính, trong kiosk lấy số): Sắp hết giấy"
                )
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "dashboard.png"))
                printer.stop()  # unplugged: staff see it go
                expect(row).to_contain_text("mất kết nối", timeout=10_000)
            finally:
                browser.close()
    finally:
        http.stop()
        printer.stop()
        server.stop()
        store.close()
        sims.close()


def _device(server: QueueServer, device_id: str) -> DeviceView:
    return next(d for d in server.device_views() if d.id == device_id)


def test_the_consoles_action_buttons_come_disabled_until_its_script_is_ready() -> None:
    """A click before console.js has attached its handlers would be lost without a word (seen in CI:
    "Mở quầy" clicked while the scripts were still loading): every button the script acts on is
    served disabled, and the script enables them once it has looked at the counter."""
    import re

    root = Path(__file__).resolve().parent.parent / "queue_server"
    template = (root / "templates" / "console.html").read_text(encoding="utf-8")
    script = (root / "static" / "console.js").read_text(encoding="utf-8")
    handled = set(re.findall(r'getElementById\("(\w+)"\)\.addEventListener\("click"', script))
    handled |= set(
        re.findall(r"for \(const a of \[([^\]]+)\]\)", script)[0].replace('"', "").replace(" ", "").split(",")
    )
    assert {"open", "call_next", "register", "transfer"} <= handled
    for button in handled - {"print"}:
        tag = re.search(rf'<button[^>]*id="{button}"[^>]*>', template)
        assert tag is not None and " disabled" in tag.group(0) and "action" in tag.group(0), button
    assert "b.disabled = false" in script
