"""The appointment as people say it, on the public dossier page and on the counter console, in a real
Chromium: the procedure's name, ``Thứ Hai, 07/12/2026, buổi sáng`` and where to collect, never an ISO
stamp or ``10:10:54 7/12/2026``."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bus.broker import free_port
from bus.client import BrokerUrl
from queue_server.access import Access
from queue_server.accounts import SCOPES
from queue_server.db import Store
from queue_server.http import HttpServer, create_app
from queue_server.public import LookupKeys, Public
from queue_server.server import QueueServer
from siteconf.model import Site, parse_site
from siteconf.spoken import site_appointment_phrase

pytestmark = pytest.mark.integration

KEY = "k-" + "8" * 30
PASSWORD = "mật-khẩu-cb04"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
SAID = re.compile(r"(Thứ (Hai|Ba|Tư|Năm|Sáu|Bảy)|Chủ Nhật), \d\d/\d\d/\d{4}, buổi (sáng|chiều|tối)")
ISO_OR_CLOCK = re.compile(r"\d{4}-\d\d-\d\dT|\d\d:\d\d:\d\d")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture
def centre(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[tuple[QueueServer, str]]:
    data = demo_site.model_dump(mode="json", exclude_none=True)
    data["hours"] = {
        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "sessions": [["00:00", "24:00"]],
    }
    site = parse_site(data)
    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    access = Access.of(store)
    access.api_keys.add("tests", list(SCOPES), key=KEY)
    access.officers.add("cb04", "Cán bộ quầy 4", "officer", PASSWORD)
    server = QueueServer(site, store, mosquitto).start()
    public = Public(LookupKeys.ephemeral(), public_url="https://hcc.example/t/")
    http = HttpServer(create_app(server, access, site.site.name, public=public), "127.0.0.1", free_port())
    http.start()
    try:
        yield server, http.url
    finally:
        http.stop()
        server.stop()
        store.close()


def test_the_api_says_the_appointment(centre: tuple[QueueServer, str]) -> None:
    server, url = centre
    body = {"procedure": "1.001193", "days": 2}
    answer = httpx.post(
        f"{url}/api/v1/dossiers", json=body, headers={"Authorization": f"Bearer {KEY}"}
    ).json()
    view = httpx.get(
        f"{url}/api/v1/dossiers/{answer['dossier']['code']}", params={"k": answer["lookup_key"]}
    ).json()
    due = server.dossiers.dossiers[answer["dossier"]["code"]].due_at
    assert view["procedure_name"] == "Đăng ký khai sinh"
    assert view["appointment_text"] == site_appointment_phrase(server.site, due, "vi")
    assert SAID.fullmatch(view["appointment_text"])
    assert view["appointment_text_en"] == site_appointment_phrase(server.site, due, "en")
    assert view["collect_at"] == "Quầy 4 – trả kết quả"
    land = httpx.post(
        f"{url}/api/v1/dossiers",
        json={"procedure": "1.012345", "days": 10},
        headers={"Authorization": f"Bearer {KEY}"},
    ).json()
    staff = httpx.get(
        f"{url}/api/v1/dossiers/{land['dossier']['code']}", headers={"Authorization": f"Bearer {KEY}"}
    )
    assert staff.json()["collect_at"] == "Quầy 1"  # the procedure's own place wins
    unknown = httpx.post(
        f"{url}/api/v1/dossiers",
        json={"procedure": "9.999999", "days": 1},
        headers={"Authorization": f"Bearer {KEY}"},
    ).json()
    other = httpx.get(
        f"{url}/api/v1/dossiers/{unknown['dossier']['code']}", headers={"Authorization": f"Bearer {KEY}"}
    )
    assert other.json()["procedure_name"] is None and SAID.fullmatch(other.json()["appointment_text"])


@needs_chromium
def test_the_public_page_and_the_console_say_the_appointment(centre: tuple[QueueServer, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    _, url = centre
    body = {"procedure": "1.001193", "days": 2}
    answer = httpx.post(
        f"{url}/api/v1/dossiers", json=body, headers={"Authorization": f"Bearer {KEY}"}
    ).json()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 480, "height": 800})
            page.goto(f"{url}/d/{answer['dossier']['code']}?k={answer['lookup_key']}")
            expect(page.locator("#procedure")).to_have_text("Đăng ký khai sinh")
            expect(page.locator("#appointment")).to_contain_text("Hẹn trả kết quả: ")
            expect(page.locator("#collect")).to_have_text("Nhận kết quả tại: Quầy 4 – trả kết quả")
            shown = page.locator("#appointment").inner_text()
            assert SAID.search(shown) and not ISO_OR_CLOCK.search(shown), shown
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dossier-page.png"))

            console = browser.new_page(viewport={"width": 1280, "height": 800})
            console.goto(f"{url}/console/4")
            console.fill("#officer", "cb04")
            console.fill("#password", PASSWORD)
            console.click("#login")
            expect(console.locator("#counter-name")).to_have_text("Quầy 4")
            console.click("#open")
            console.fill("#procedure", "1.001193")
            console.click("#register")
            expect(console.locator("#dossier")).to_contain_text("Đăng ký khai sinh")
            said = console.locator("#dossier").inner_text()
            assert SAID.search(said) and not ISO_OR_CLOCK.search(said), said
            assert "nhận kết quả tại Quầy 4 – trả kết quả" in said
        finally:
            browser.close()
