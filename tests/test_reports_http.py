"""The /reports page on a real uvicorn: the key, the page in real Chromium (screenshots), the downloads."""

from __future__ import annotations

import html
import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from engine_support import MONDAY
from fastapi import FastAPI
from reports_support import Centre, busy_week, report_site

from bus.broker import free_port
from queue_server.access import Access
from queue_server.console import COOKIE as SESSION_COOKIE
from queue_server.db import Store
from queue_server.http import HttpServer, create_app
from queue_server.reports.http import CSP, reports_router

KEY = "k-" + "5" * 30  # an integration's key with the read scope
COUNTER_KEY = "c-" + "6" * 30  # a key for counter operations only: no reports
METRICS_KEY = "m-" + "7" * 30  # a key for the metrics only: no reports
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENS = Path(os.environ.get("MOTCUA_SCREENS", "/work/notes/screens"))
QUERY = "kind=week&value=2026-11-23"


SESSIONS: dict[str, str] = {}  # role -> a live console session token, made by the fixture


@pytest.fixture
def page_url(tmp_path: Path) -> Iterator[str]:
    site = report_site(day_starts="03:00")
    with Store.open(f"sqlite:///{tmp_path / 'centre.db'}") as store:
        busy_week(Centre(site, store), MONDAY)
        access = Access.of(store)
        access.api_keys.add("manager's spreadsheet", ["read"], KEY)
        access.api_keys.add("counter tablet", ["counter"], COUNTER_KEY)
        access.api_keys.add("wall metrics", ["metrics"], METRICS_KEY)
        for role in ("manager", "officer", "facility"):
            access.officers.add(f"{role}-1", f"Cán bộ {role}", role, "mat-khau-dai-" + role)
            officer = access.officers.login(f"{role}-1", "mat-khau-dai-" + role)
            assert officer is not None
            SESSIONS[role] = access.sessions.open(officer).token
        app = FastAPI()
        app.include_router(reports_router(SimpleNamespace(store=store, site=site), access))
        http = HttpServer(app, "127.0.0.1", free_port()).start()
        try:
            yield http.url
        finally:
            http.stop()


def test_a_manager_s_session_opens_the_reports_and_another_role_or_scope_is_forbidden(
    page_url: str,
) -> None:
    def as_role(role: str, path: str = "/reports") -> httpx.Response:
        cookies = {SESSION_COOKIE: SESSIONS[role]}
        return httpx.get(f"{page_url}{path}?{QUERY}", cookies=cookies, timeout=60)

    assert as_role("manager").status_code == 200
    for role in ("officer", "facility"):
        for path in ("/reports", "/reports/export.csv"):
            refused = as_role(role, path)
            assert refused.status_code == 403
            assert f"an officer with the {role} role may not see reports" in refused.text
            assert "đăng nhập" not in refused.text
    for key in (COUNTER_KEY, METRICS_KEY):
        for path in ("/reports", "/reports/chart/daily.svg"):
            refused = get(f"{page_url}{path}?{QUERY}", key=key)
            assert refused.status_code == 403
            assert "this API key lacks the read scope that reports need" in refused.text


def get(url: str, key: str | None = KEY) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(url, headers=headers, timeout=60)


def test_the_page_needs_the_key_and_escapes_what_it_is_given(page_url: str) -> None:
    assert get(f"{page_url}/reports?{QUERY}", key=None).status_code == 401
    assert get(f"{page_url}/reports?{QUERY}", key="wrong").status_code == 401
    assert get(f"{page_url}/reports/export.csv?{QUERY}", key=None).status_code == 401
    page = get(f"{page_url}/reports?{QUERY}")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    assert "<script" not in page.text
    assert "Thời gian chờ và phục vụ" in page.text and "Waiting and service time" in page.text
    assert "Nguyễn Thị Lan" in page.text  # the key holder is the manager: names shown
    hostile = get(f"{page_url}/reports?kind=custom&value=<script>alert(1)</script>")
    assert hostile.status_code == 400
    assert "<script>alert" not in hostile.text and "&lt;script&gt;" in hostile.text
    assert get(f"{page_url}/reports?kind=fortnight&value=1").status_code == 400
    assert get(f"{page_url}/reports?{QUERY}&counter=abc").status_code == 400
    assert get(f"{page_url}/reports/chart/nope.svg?{QUERY}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/reports?kind=year&value=9999",
        "/reports/export.csv?kind=year&value=9999",
        "/reports/export.xlsx?kind=custom&value=9999-01-01..9999-12-31",
        "/reports/chart/daily.svg?kind=day&value=0001-01-01",
    ],
)
def test_a_period_beyond_the_years_reports_cover_is_a_bad_request(page_url: str, path: str) -> None:
    answer = get(f"{page_url}{path}")
    assert answer.status_code == 400
    assert "out of range: use a period within the years 1900 to 9998" in answer.text


def test_a_service_or_counter_the_site_lacks_is_refused_as_the_cli_refuses_it(page_url: str) -> None:
    from queue_server.reports import Filters, ReportError, ReportSettings

    settings = ReportSettings.from_site(report_site(day_starts="03:00"))
    for name, filters, asked in (
        ("service", Filters(service="nosuch"), "service=nosuch"),
        ("counter", Filters(counter=999), "counter=999"),
    ):
        with pytest.raises(ReportError) as refused:
            settings.check(filters)  # what `motcua report` prints
        message = str(refused.value)
        assert f"the site has no such {name} (known: " in message
        page = get(f"{page_url}/reports?{QUERY}&{asked}")
        assert page.status_code == 400
        assert message in html.unescape(page.text)
        download = get(f"{page_url}/reports/export.csv?{QUERY}&{asked}")
        assert download.status_code == 400
        assert download.json()["detail"] == message
    assert get(f"{page_url}/reports?{QUERY}&officer=left-long-ago").status_code == 200


def test_a_parameter_given_twice_counts_as_its_last_value(page_url: str) -> None:
    csv = get(f"{page_url}/reports/export.csv?kind=year&value=2026&kind=month&value=2026-11")
    assert csv.status_code == 200
    assert "Báo cáo / report 2026-11: 2026-11-01 .. 2026-11-30" in csv.text


def test_downloads_carry_the_same_figures(page_url: str) -> None:
    from openpyxl import load_workbook

    csv = get(f"{page_url}/reports/export.csv?{QUERY}")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "# tickets: Số thứ tự / Tickets" in csv.text
    book = load_workbook(io.BytesIO(get(f"{page_url}/reports/export.xlsx?{QUERY}").content))
    assert {"tickets", "times", "bins", "ratings", "dossiers", "tt01"} <= set(book.sheetnames)
    times = book["times"]
    assert times["C5"].number_format == "0.0"  # mean wait, in minutes
    assert times["G5"].number_format == "0.0%"
    issued = next(r for r in book["tickets"].iter_rows(min_row=5, values_only=True) if r[0] == "issued")[1]
    assert f"issued,{issued}," in csv.text
    pdf = get(f"{page_url}/reports/export.pdf?{QUERY}")
    assert pdf.content.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
        ).stdout
        assert "BÁO CÁO HOẠT ĐỘNG" in text.decode()


def test_create_app_serves_the_reports_page_and_keeps_it_off_without_accounts() -> None:
    app = create_app(SimpleNamespace(), None)
    http = HttpServer(app, "127.0.0.1", free_port()).start()
    try:
        page = get(f"{http.url}/reports", key=None)
        assert page.status_code == 401
        assert "Reports are off: the server has no officer accounts" in page.text
        assert get(f"{http.url}/reports/export.csv", key="x").status_code == 401
    finally:
        http.stop()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_the_page_in_chromium_with_screenshots(page_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{page_url}/reports?{QUERY}")
            expect(page.locator(".login")).to_contain_text("log in")  # no session, no key: the way in
            page.context.add_cookies(
                [{"name": SESSION_COOKIE, "value": SESSIONS["manager"], "url": page_url}]
            )
            violations: list[str] = []
            page.on(
                "console", lambda msg: violations.append(msg.text) if "Security Policy" in msg.text else None
            )
            charts: list[Any] = []
            page.on("response", lambda r: charts.append(r) if "/reports/chart/" in r.url else None)
            page.goto(f"{page_url}/reports?{QUERY}")
            page.fill("input[name=value]", "2026-11-23")
            page.select_option("select[name=kind]", "week")
            page.click("form.filters button")
            expect(page.locator("h2")).to_contain_text("2026-W48")
            expect(page.locator("#tickets")).to_contain_text("issued")
            images = page.locator("figure img")
            expect(images).to_have_count(5)
            page.wait_for_load_state("networkidle")
            svgs = [r for r in charts if r.ok and r.headers["content-type"] == "image/svg+xml"]
            assert len(svgs) >= 5, [r.status for r in charts]
            page.screenshot(path=str(SCREENS / "reports-page.png"), full_page=False)
            page.screenshot(path=str(SCREENS / "reports-page-full.png"), full_page=True)
            assert not violations, violations
            with page.expect_download() as download:
                page.click("text=PDF")
            pdf_path = SCREENS / "reports.pdf"
            download.value.save_as(str(pdf_path))
        finally:
            browser.close()
    assert pdf_path.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm"):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "70",
                "-f",
                "1",
                "-l",
                "2",
                str(pdf_path),
                str(SCREENS / "reports-pdf"),
            ],
            check=True,
        )
