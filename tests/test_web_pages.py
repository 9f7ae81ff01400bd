"""Every page of the queue server in a real Chromium, with hostile text everywhere it can come from.

The site file's texts (site name, service names, counter names, kiosk groups), a device's status
(errors, detail) hold script payloads (an officer id in a request is refused unless plain); each page is
loaded and must show the payload as text and never run it. Every response carries the security headers,
and the API documentation works with no Internet access.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from broker_support import as_identity
from support import wait_until

from bus import models as m
from bus.broker import free_port
from bus.client import BrokerUrl, BusClient
from queue_server.access import Access
from queue_server.accounts import SCOPES
from queue_server.db import Store
from queue_server.http import HttpServer, create_app
from queue_server.server import QueueServer
from queue_server.web import CONTENT_SECURITY_POLICY
from siteconf.model import Site, parse_site

pytestmark = pytest.mark.integration

PASSWORD = "mật-khẩu-cb01"
KEY = "k-" + "5" * 30
AUTH = {"Authorization": f"Bearer {KEY}"}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")


def payload(where: str) -> str:
    """Three ways out of a text context; each would set ``window.__xss`` to ``where`` if it ran."""
    return (
        f"{where}</script><script>window.__xss='{where}'</script>"
        f"<img src=x onerror=\"window.__xss='{where}'\">"
        f"\"'><svg onload=\"window.__xss='{where}'\">"
    )


def hostile_site(site: Site) -> Site:
    data: dict[str, Any] = site.model_dump(mode="json", exclude_none=True)
    data["site"]["name"] = payload("site")
    for service in data["services"]:
        service["name"] = payload(f"service-{service['code']}")
        service["name_en"] = payload(f"service-en-{service['code']}")
    for counter in data["counters"]:
        counter["name"] = payload(f"counter-{counter['number']}")
    for device in data["devices"]:
        device["name"] = payload(f"device-{device['id']}")[:80]
        device["location"] = payload(f"place-{device['id']}")[:80]
    return parse_site(data)


def access_with_key(store: Store) -> Access:
    access = Access.of(store)
    access.api_keys.add("tests", list(SCOPES), key=KEY)
    access.officers.add("cb01", "Cán bộ quầy 1", "officer", PASSWORD)
    return access


@pytest.fixture
def hostile(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[tuple[QueueServer, str, Site]]:
    site = hostile_site(demo_site)
    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    server = QueueServer(site, store, mosquitto).start()
    http = HttpServer(
        create_app(server, access_with_key(store), site.site.name), "127.0.0.1", free_port()
    ).start()
    try:
        yield server, http.url, site
    finally:
        http.stop()
        server.stop()
        store.close()


def test_every_response_carries_the_security_headers(hostile: tuple[QueueServer, str, Site]) -> None:
    server, url, _ = hostile
    ticket = server.handle(m.IssueTicket(service="civil")).ticket
    assert ticket is not None
    paths = ["/dashboard", "/login", f"/t/{ticket.token}", "/t/nothing", "/docs", "/redoc"]
    paths += ["/api/v1/queues"]
    paths += ["/static/console.js", "/static/docs/swagger-ui-bundle.js", "/openapi.json", "/no/such/page"]
    for path in paths:
        response = httpx.get(f"{url}{path}", timeout=10)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "no-referrer", path
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY  # no 'unsafe-inline' for scripts


def test_pages_escape_the_site_file_texts_in_their_html(hostile: tuple[QueueServer, str, Site]) -> None:
    server, url, _ = hostile
    ticket = server.handle(m.IssueTicket(service="civil")).ticket
    assert ticket is not None
    for path in ["/dashboard", "/login", f"/t/{ticket.token}"]:
        page = httpx.get(f"{url}{path}", timeout=10).text
        assert "<script>window" not in page and "<img src=x" not in page and "<svg" not in page, path
        assert "&lt;/script&gt;&lt;script&gt;" in page, path  # the site name is there, as text
        assert "<script>" not in page.replace('<script src="/static/', ""), path  # no inline script at all


def publish_hostile_status(mosquitto: BrokerUrl, site: Site, device_id: str) -> None:
    client = BusClient(as_identity(mosquitto, device_id), site.site.id, "test-hostile-status").start()
    try:
        status = m.DeviceStatus(health=m.Health.ERROR, errors=[payload("errors")], detail=payload("detail"))
        client.publish(client.topics.device(device_id, "status"), status, retain=True).wait_for_publish(5)
    finally:
        client.stop()


@needs_chromium
def test_no_page_runs_a_payload_in_chromium(
    hostile: tuple[QueueServer, str, Site], mosquitto: BrokerUrl
) -> None:
    from playwright.sync_api import Dialog, expect, sync_playwright

    server, url, site = hostile
    ticket = server.handle(m.IssueTicket(service="civil")).ticket
    assert ticket is not None
    with pytest.raises(ValueError, match="officer"):  # an officer id is never markup
        m.CounterRequest(counter=1, action=m.CounterAction.OPEN, officer=payload("officer"))
    opened = server.handle(m.CounterRequest(counter=1, action=m.CounterAction.OPEN, officer="cb01"))
    assert opened.ok, opened
    publish_hostile_status(mosquitto, site, "printer-k1")
    assert wait_until(lambda: any(d.detail and "detail" in d.detail for d in server.device_views()))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            dialogs: list[str] = []

            def on_dialog(dialog: Dialog) -> None:
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.goto(f"{url}/console/1")
            page.fill("#officer", "cb01")
            page.fill("#password", PASSWORD)
            page.click("#login")
            expect(page.locator("#queues")).to_contain_text("service-land</script>")  # shown, as text
            expect(page.locator("#status")).to_contain_text("Đang mở")
            expect(page.locator("#counter-name")).to_contain_text("counter-1</script>")
            expect(page.locator("#site")).to_contain_text("site</script>")
            assert page.evaluate("typeof window.__xss") == "undefined"
            page.goto(f"{url}/dashboard")
            printer = page.locator("#device-printer-k1")
            expect(printer).to_contain_text("device-printer-k1</script>")
            expect(printer).to_contain_text("place-printer-k1</script>")
            expect(printer.locator("td.detail")).to_have_attribute("title", re.compile("detail</script>"))
            expect(page.locator("#alerts")).to_contain_text("errors</script>")
            assert page.evaluate("typeof window.__xss") == "undefined"
            page.goto(f"{url}/t/{ticket.token}")
            expect(page.locator(".service")).to_contain_text("service-civil</script>")
            assert page.evaluate("typeof window.__xss") == "undefined"
            assert dialogs == []
        finally:
            browser.close()


@needs_chromium
def test_api_docs_work_with_no_internet(hostile: tuple[QueueServer, str, Site]) -> None:
    from playwright.sync_api import Route, expect, sync_playwright

    _, url, _ = hostile
    outside: list[str] = []

    def only_local(route: Route) -> None:
        if route.request.url.startswith(url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.route("**/*", only_local)
            page.goto(f"{url}/docs")
            expect(page.locator(".swagger-ui .title")).to_contain_text("motcua queue server", timeout=15_000)
            expect(page.locator("#operations-tickets-ticket_api_v1_tickets__token__get")).to_be_visible()
            page.goto(f"{url}/redoc")
            expect(page.locator("h1")).to_contain_text("motcua queue server", timeout=15_000)
        finally:
            browser.close()
    assert outside == []
