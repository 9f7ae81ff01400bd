"""The province dashboard in real Chromium, on a hub fed by three real centres (see test_hub_centres).

Provincial staff sign in (a wrong password is refused, an account of another province sees nothing),
see every centre with its link, chain, device alerts, waiting, counters, tickets and ratings, and drill
down to one centre. A centre whose link is cut shows as down; a device model carrying HTML shows as
text. Every page has a strict CSP and no script; the session cookie is HttpOnly and SameSite=Strict;
a POST without the form's token is refused. Screenshots: ``$MOTCUA_SCREENS/hub-*.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hub_rig import wait_for
from test_hub_centres import POSTGRES_DSN, HubRig, needs_postgres

from bus import models as m
from bus.client import BusClient
from hub.auth import Accounts
from hub.store import HubStore

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300), needs_postgres]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENS = Path(os.environ.get("MOTCUA_SCREENS", Path(__file__).resolve().parent.parent / "artifacts"))
PASSWORD = "mật-khẩu-dài-đủ"
HOSTILE = '<img src=x id="pwned">'


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubRig, str]]:
    """A hub with three centres that have worked a little; one has a printer near its paper's end."""
    assert POSTGRES_DSN
    rig = HubRig(tmp_path_factory.mktemp("hub"), POSTGRES_DSN, ["ba-dinh", "hoan-kiem", "dong-da"])
    try:
        rig.hub.start()
        for centre in rig.centres.values():
            centre.start()
            centre.start_traffic()
        wait_for(lambda: all(len(c.events()) > 30 for c in rig.centres.values()), 90, "traffic")
        for centre in rig.centres.values():
            centre.end_traffic()
        _devices(rig)
        rig.wait_converged()
        store = HubStore.open(rig.url.render_as_string(hide_password=False))
        Accounts(store).add("so-noi-vu", PASSWORD, "HN", "viewer")
        Accounts(store).add("other-province", PASSWORD, "HCM", "viewer")
        yield rig, f"http://127.0.0.1:{rig.http_port}"
    finally:
        rig.close()


def _devices(rig: HubRig) -> None:
    """Device state at 'ba-dinh' as its devices would publish it (retained), and citizens waiting."""
    centre = rig.centres["ba-dinh"]
    client = BusClient(centre.url, "ba-dinh", "printer-k1").start()
    t = client.topics
    info = m.DeviceInfo(device_kind=m.DeviceKind.PRINTER, model=HOSTILE, transport="serial")
    client.publish(t.device_info("printer-k1"), info, retain=True)
    status = m.DeviceStatus(health=m.Health.WARNING, paper=m.PaperLevel.NEAR_END)
    client.publish(t.device_status("printer-k1"), status, retain=True)
    client.publish(t.device_availability("printer-k1"), "online", retain=True)
    client.publish(t.device_availability("keypad-2"), "offline", retain=True).wait_for_publish(5)
    client.stop()
    kiosk = BusClient(centre.url, "ba-dinh", "supervisor-dashboard")  # a printer may not issue tickets
    kiosk.enable_requests()
    kiosk.start()
    for _ in range(3):
        assert kiosk.request("issue_ticket", m.IssueTicket(service="land"), timeout=10).ok
    kiosk.stop()


def _sign_in(client: httpx.Client) -> httpx.Client:
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    done = client.post("/login", data={"username": "so-noi-vu", "password": PASSWORD, "csrf": csrf[1]})
    assert done.status_code == 303 and done.headers["location"] == "/"
    return client


def test_pages_are_locked_down(live: tuple[HubRig, str]) -> None:
    _rig, url = live
    with (
        httpx.Client(base_url=url) as anonymous,
        httpx.Client(base_url=url, follow_redirects=False) as client,
        httpx.Client(base_url=url) as other,
    ):
        _check_locks(anonymous, _sign_in(client), other)


def _check_locks(anonymous: httpx.Client, client: httpx.Client, other: httpx.Client) -> None:
    assert anonymous.get("/", follow_redirects=False).headers["location"] == "/login"
    assert anonymous.get("/api/overview").status_code == 401
    login = anonymous.get("/login")
    assert "script" not in login.text.lower()
    csp = login.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    # A sign-in without the form's token is refused, even with the right password.
    forged = anonymous.post("/login", data={"username": "so-noi-vu", "password": PASSWORD, "csrf": "x"})
    assert forged.status_code == 403
    stuffed = anonymous.post(
        "/login", content="&".join(f"f{n}=x" for n in range(50)).encode() + b"&" + b"x" * 5000
    )
    assert stuffed.status_code == 403, "an oversized or stuffed form is refused, not a server error"
    stuffed = anonymous.post("/login", data={f"f{n}": "x" for n in range(50)})
    assert stuffed.status_code == 403

    cookie = next(c for c in client.cookies.jar if c.name == "motcua_hub_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert str(cookie.get_nonstandard_attr("SameSite")).lower() == "strict"
    overview = client.get("/api/overview").json()
    assert overview["province"] == "HN" and overview["totals"]["centres"] == 3
    ba_dinh = next(c for c in overview["centres"] if c["site"] == "ba-dinh")
    assert ba_dinh["waiting"] >= 3 and ba_dinh["tickets_today"] > 3 and ba_dinh["ratings"] > 0
    assert client.get("/centre/nowhere").status_code == 404
    assert client.get("/centre/%3Cscript%3E").status_code == 404
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/").status_code == 200, "a refused sign-out must not end the session"

    # An account of another province signs in to nothing.
    csrf = re.search(r'name="csrf" value="([^"]+)"', other.get("/login").text)
    assert csrf is not None
    refused = other.post("/login", data={"username": "other-province", "password": PASSWORD, "csrf": csrf[1]})
    assert refused.status_code == 403 and "another province" in refused.text
    assert other.get("/api/overview").status_code == 401


def test_dashboard_in_chromium(live: tuple[HubRig, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    rig, url = live
    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 820})
            page.goto(url)
            expect(page).to_have_url(f"{url}/login")
            page.fill("input[name=username]", "so-noi-vu")
            page.fill("input[name=password]", "sai mật khẩu")
            page.click("button[type=submit]")
            expect(page.locator(".bad")).to_contain_text("wrong name or password")
            page.screenshot(path=str(SCREENS / "hub-login.png"))
            page.fill("input[name=username]", "so-noi-vu")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("#centres tbody tr")).to_have_count(3)
            row = page.locator("tr[data-site=ba-dinh]")
            expect(row).to_contain_text("printer-k1: Sắp hết giấy")  # the centre dashboard's words
            expect(row).to_contain_text("keypad-2: Mất kết nối")
            expect(row.locator(".link")).to_contain_text("up")
            expect(row.locator("td").nth(2)).to_contain_text("✓")

            rig.centres["dong-da"].link.cut()  # the bridge's Last Will tells the hub
            page.wait_for_timeout(100)
            deadline = time.monotonic() + 60
            while "down" not in page.locator("tr[data-site=dong-da] .link").inner_text():
                assert time.monotonic() < deadline, "the cut link never showed as down"
                page.wait_for_timeout(1000)
                page.reload()
            page.screenshot(path=str(SCREENS / "hub-overview.png"), full_page=True)

            page.click("text=Trung tâm ba-dinh")
            expect(page.locator("#chain")).to_contain_text("Verified up to event")
            expect(page.locator("#devices")).to_contain_text(HOSTILE)  # shown as text
            assert page.locator("#pwned").count() == 0, "HTML from a device reached the page"
            expect(page.locator("#counters tbody tr")).to_have_count(3)
            page.screenshot(path=str(SCREENS / "hub-centre.png"), full_page=True)
            page.click("text=Đăng xuất")
            expect(page).to_have_url(f"{url}/login")
            cookies = {c["name"]: c for c in page.context.cookies()}
            assert "motcua_hub_session" not in cookies
        finally:
            browser.close()
