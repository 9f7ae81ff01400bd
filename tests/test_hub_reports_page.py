"""The province's ``/reports`` pages on the hub dashboard: locked to the province's staff, escaped, no
script, downloads from the reports' exports, and the page in real Chromium (screenshot
``/work/notes/screens/hub-reports.png``, or ``$MOTCUA_SCREENS``)."""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hub_reports_rig import PLANS, POSTGRES, CentrePlan, Province, build_province, hub_schema
from openpyxl import load_workbook

from bus.broker import free_port
from hub.auth import Accounts
from hub.web import HttpServer, create_app

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not POSTGRES, reason="MOTCUA_TEST_POSTGRES is not set"),
]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENS = Path(os.environ.get("MOTCUA_SCREENS", "/work/notes/screens"))
PASSWORD = "mật-khẩu-dài-đủ"
HOSTILE = '<img src=x id="pwned">'
WEEK = "kind=week&value=2026-W48"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Province, str]]:
    plans = (*PLANS[:2], CentrePlan("dong-da", f"Đống Đa {HOSTILE}", 15, 4))
    with hub_schema("hub_report_pages") as url:
        province = build_province(tmp_path_factory.mktemp("province"), url, plans)
        Accounts(province.store).add("so-noi-vu", PASSWORD, "HN", "viewer")
        Accounts(province.store).add("other-province", PASSWORD, "HCM", "viewer")
        server = HttpServer(create_app(province.config, province.store), "127.0.0.1", free_port()).start()
        try:
            yield province, server.url
        finally:
            server.stop()


def sign_in(client: httpx.Client, username: str = "so-noi-vu") -> httpx.Response:
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert csrf is not None
    return client.post("/login", data={"username": username, "password": PASSWORD, "csrf": csrf[1]})


def test_reports_need_a_provincial_sign_in(live: tuple[Province, str]) -> None:
    _province, url = live
    with httpx.Client(base_url=url) as anonymous, httpx.Client(base_url=url) as other:
        for path in ("/reports", f"/reports?{WEEK}&format=xlsx", "/reports/centre/ba-dinh?format=csv"):
            answer = anonymous.get(path)
            assert answer.status_code == 303 and answer.headers["location"] == "/login", path
        assert sign_in(other, "other-province").status_code == 403
        assert other.get("/reports").status_code == 303


def test_the_province_page_compares_ranks_and_totals(live: tuple[Province, str]) -> None:
    _province, url = live
    with httpx.Client(base_url=url) as client:
        assert sign_in(client).status_code == 303
        page = client.get(f"/reports?{WEEK}&rank=p90_wait")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert "<script" not in page.text.lower()
        assert page.text.count('<tr data-site="') == 3
        assert HOSTILE not in page.text and "&lt;img src=x id=&#34;pwned&#34;&gt;" in page.text
        assert "Ranked by P90 wait (lower first)" in page.text and "Province totals" in page.text
        assert 'href="/reports/centre/ba-dinh?kind=week&amp;value=2026-W48"' in page.text

        sheet = client.get(f"/reports?{WEEK}&format=xlsx")
        assert sheet.status_code == 200 and "motcua-HN-2026-W48.xlsx" in sheet.headers["content-disposition"]
        book = load_workbook(io.BytesIO(sheet.content))
        assert book["centres"].max_row == 4 + 3
        csv = client.get(f"/reports?{WEEK}&format=csv")
        assert (
            csv.headers["content-type"].startswith("text/csv")
            and "# province:" in csv.text
            and "Province totals" in csv.text
        )

        one = client.get(f"/reports/centre/hoan-kiem?{WEEK}")
        assert one.status_code == 200 and "Within 30 min" in one.text and "<script" not in one.text.lower()


def test_bad_periods_and_centres_are_named_not_errors(live: tuple[Province, str]) -> None:
    _province, url = live
    with httpx.Client(base_url=url) as client:
        sign_in(client)
        bad = client.get("/reports", params={"kind": "month", "value": "<script>x</script>"})
        assert (
            bad.status_code == 400 and "<script>" not in bad.text and "month &#39;&lt;script&gt;" in bad.text
        )
        assert client.get("/reports", params={"kind": "decade", "value": "2020"}).status_code == 400
        assert client.get("/reports", params={"rank": "<b>"}).status_code == 400
        assert (
            client.get("/reports", params={"kind": "custom", "value": "2020-01-01..2026-01-01"}).status_code
            == 400
        )
        assert client.get("/reports/centre/nowhere").status_code == 404
        assert client.get("/reports/centre/%3Cscript%3E").status_code == 404
        assert client.get("/reports", params={"value": "x" * 5000}).status_code == 400


def test_reports_page_in_chromium(live: tuple[Province, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    _province, url = live
    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 900})
            page.goto(f"{url}/login")
            page.fill("input[name=username]", "so-noi-vu")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.click("text=Báo cáo · reports")
            page.select_option("select[name=kind]", "week")
            page.fill("input[name=value]", "2026-W48")
            page.click("form.period button[type=submit]")
            expect(page.locator("#centres tbody tr")).to_have_count(3)
            expect(page.locator("#province")).to_contain_text("Province totals")
            assert page.locator("#pwned").count() == 0, "a centre's name reached the page as HTML"
            page.screenshot(path=str(SCREENS / "hub-reports.png"), full_page=True)
            page.click("#centres >> text=Trung tâm PVHCC phường Ba Đình")
            expect(page.locator("#centre-title")).to_contain_text("Ba Đình")
            expect(page.locator("#t-times")).to_contain_text("Within 10 min")
            page.screenshot(path=str(SCREENS / "hub-reports-centre.png"), full_page=True)
        finally:
            browser.close()
