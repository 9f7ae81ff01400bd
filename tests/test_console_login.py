"""The counter console's login in a real Chromium: sessions, CSRF, lockout, expiry, logout; and the
``motcua officer`` / ``motcua apikey`` commands on a real database."""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bus import models as m
from bus.broker import free_port
from bus.client import BrokerUrl
from motcua_cli.main import main
from queue_server.access import Access
from queue_server.accounts import MAX_FAILURES, ApiKeys, Officers
from queue_server.console import Sessions
from queue_server.db import Store
from queue_server.http import HttpServer, create_app
from queue_server.server import QueueServer
from siteconf.model import Site

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
PASSWORD = "một mật khẩu dài"


class Clock:
    """The sessions' clock, moved by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Centre:
    server: QueueServer
    store: Store
    url: str
    clock: Clock


@pytest.fixture
def centre(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[Centre]:
    store = Store.open(f"sqlite:///{tmp_path}/queue.db")
    server = QueueServer(demo_site, store, mosquitto).start()
    clock = Clock()
    access = Access.of(store, Sessions(idle_s=600, clock=clock))
    access.officers.add("cb01", "Nguyễn Văn Cán", "officer", PASSWORD)
    http = HttpServer(create_app(server, access, demo_site.site.name), "127.0.0.1", free_port()).start()
    try:
        yield Centre(server, store, http.url, clock)
    finally:
        http.stop()
        server.stop()
        store.close()


def opened_by(store: Store) -> list[str]:
    return [e.data["officer"] for e in store.events() if e.type == "counter_opened"]


@needs_chromium
def test_an_officer_logs_in_acts_as_themself_and_logs_out(centre: Centre) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{centre.url}/console/1")
            expect(page).to_have_url(f"{centre.url}/login?next=/console/1")  # no console without a login
            page.fill("#officer", "cb01")
            page.fill("#password", PASSWORD)
            page.click("#login")
            expect(page.locator("#officer")).to_have_text("Nguyễn Văn Cán")  # a name, not an account code
            (cookie,) = [c for c in context.cookies() if c["name"] == "motcua_session"]
            assert (
                cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
            )  # plain HTTP
            assert "motcua_session" not in page.evaluate("document.cookie")  # no script can read it
            page.click("#open")
            expect(page.locator("#status")).to_contain_text("Đang mở · cán bộ Nguyễn Văn Cán")
            # A page that sends another name still acts as the session's officer.
            csrf = page.evaluate("document.body.dataset.csrf")
            sent = page.evaluate(
                """async (csrf) => (await fetch("/console/1/actions", {method: "POST",
                   headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                   body: JSON.stringify({action: "open", officer: "intruder"})})).status""",
                csrf,
            )
            assert sent == 200
            page.click("#logout")
            expect(page).to_have_url(f"{centre.url}/login")
            page.goto(f"{centre.url}/console/1")  # the session is over
            expect(page).to_have_url(f"{centre.url}/login?next=/console/1")
        finally:
            browser.close()
    assert opened_by(centre.store) == ["cb01"]  # the audit log names the logged-in officer, never "intruder"
    old = {"motcua_session": cookie["value"]}
    after = httpx.post(f"{centre.url}/console/1/actions", json={"action": "pause"}, cookies=old, timeout=10)
    assert after.status_code == 401


@needs_chromium
def test_a_post_without_the_csrf_token_is_refused(centre: Centre) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"{centre.url}/console/1")
            page.fill("#officer", "cb01")
            page.fill("#password", PASSWORD)
            page.click("#login")
            page.wait_for_selector("#open")
            post = """async (token) => { const headers = {"Content-Type": "application/json"};
                if (token !== null) headers["X-CSRF-Token"] = token;
                const r = await fetch("/console/1/actions", {method: "POST", headers,
                    body: JSON.stringify({action: "open"})});
                return [r.status, (await r.json()).detail.code]; }"""
            assert page.evaluate(post, None) == [403, "bad_csrf"]
            assert page.evaluate(post, "forged-token") == [403, "bad_csrf"]
        finally:
            browser.close()
    assert opened_by(centre.store) == []
    login_form = {"officer": "cb01", "password": PASSWORD, "csrf": "x"}  # a login posted from elsewhere
    assert httpx.post(f"{centre.url}/login", data=login_form, timeout=10).status_code == 403


@needs_chromium
def test_repeated_wrong_passwords_lock_the_account(centre: Centre) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"{centre.url}/console/1")
            for attempt in range(MAX_FAILURES):
                page.fill("#officer", "cb01")
                page.fill("#password", f"wrong password {attempt}")
                page.click("#login")
                expect(page.locator("#message")).to_contain_text("không đúng")
            page.fill("#officer", "cb01")
            page.fill("#password", PASSWORD)  # the right one, too late
            page.click("#login")
            expect(page.locator("#message")).to_contain_text("bị khóa tạm thời")
            (officer,) = Officers(centre.store.engine).list()
            assert officer.locked
            Officers(centre.store.engine).reset("cb01", PASSWORD)  # a supervisor resets it
            page.fill("#officer", "cb01")
            page.fill("#password", PASSWORD)
            page.click("#login")
            expect(page.locator("#officer")).to_have_text("Nguyễn Văn Cán")
        finally:
            browser.close()


@needs_chromium
def test_an_idle_session_ends(centre: Centre) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(f"{centre.url}/console/1")
            page.fill("#officer", "cb01")
            page.fill("#password", PASSWORD)
            page.click("#login")
            page.click("#open")
            expect(page.locator("#status")).to_contain_text("Đang mở")
            centre.clock.now += 601  # the officer left the counter for ten minutes
            page.click("#pause")
            expect(page).to_have_url(f"{centre.url}/login?next=/console/1")
        finally:
            browser.close()
    assert centre.server.engine.counters[1].status.value == "open"  # the late click did nothing


def run_cli(argv: list[str], stdin: str = "") -> int:
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return main(argv)
    finally:
        sys.stdin = old


def test_officer_and_apikey_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", f"sqlite:///{tmp_path}/queue.db"]
    add = [
        "officer",
        "add",
        "cb07",
        "--name",
        "Trần Thị B",
        "--role",
        "supervisor",
        "--pin",
        "--password-stdin",
    ]
    assert run_cli([*add, *db], f"{PASSWORD}\n123456\n") == 0
    assert run_cli([*add, *db], f"{PASSWORD}\n123456\n") == 2  # the id is taken
    assert "already exists" in capsys.readouterr().err
    assert run_cli(["officer", "add", "cb08", "--name", "X", "--password-stdin", *db], "short\n") == 2
    assert "at least 10 characters" in capsys.readouterr().err
    assert run_cli(["officer", "disable", "cb07", *db]) == 0
    assert run_cli(["officer", "list", *db]) == 0
    assert capsys.readouterr().out == "cb07\tsupervisor\tdisabled\tTrần Thị B\n"
    assert run_cli(["apikey", "add", "scanner-q3", "--scope", "upload", *db]) == 0
    key_id, key = capsys.readouterr().out.split()
    with pytest.raises(SystemExit, match="2"):
        run_cli(["apikey", "add", "bad", "--scope", "everything", *db])
    assert "invalid choice: 'everything'" in capsys.readouterr().err
    with Store.open(f"sqlite:///{tmp_path}/queue.db") as store:
        keys = ApiKeys(store.engine)
        found = keys.check(key)
        assert found is not None and found.scopes == {"upload"}
        assert key not in str(
            store.engine.connect().exec_driver_sql("SELECT * FROM api_keys").all()
        )  # hashed
        officers = Officers(store.engine)
        assert officers.login("cb07", PASSWORD) is None  # disabled
    assert run_cli(["officer", "reset", "cb07", "--password-stdin", *db], f"{PASSWORD}!\n") == 0
    assert run_cli(["apikey", "revoke", key_id, *db]) == 0
    with Store.open(f"sqlite:///{tmp_path}/queue.db") as store:
        assert ApiKeys(store.engine).check(key) is None
        assert Officers(store.engine).login("cb07", f"{PASSWORD}!") is not None


def test_an_api_key_works_only_within_its_scopes(centre: Centre) -> None:
    keys = ApiKeys(centre.store.engine)
    _, reader = keys.add("hall-board", ["read"])
    counter_id, counter = keys.add("counter-app", ["counter"])
    centre.server.handle(m.CounterRequest(counter=1, action=m.CounterAction.OPEN, officer="cb01"))

    def call(key: str) -> int:
        headers = {"Authorization": f"Bearer {key}"}
        body = {"action": "pause"}
        return httpx.post(
            f"{centre.url}/api/v1/counters/1/actions", json=body, headers=headers, timeout=10
        ).status_code

    assert call(reader) == 403
    assert call(counter) == 200
    keys.revoke(counter_id)
    assert call(counter) == 401
    staff = httpx.get(
        f"{centre.url}/api/v1/counters/1", headers={"Authorization": f"Bearer {reader}"}, timeout=10
    )
    assert staff.json()["officer"] == "cb01"
    dossier = {"procedure": "1.001234", "days": 1}
    refused = httpx.post(
        f"{centre.url}/api/v1/dossiers", json=dossier, headers={"Authorization": f"Bearer {reader}"}
    )
    assert refused.status_code == 403 and "dossier" in refused.json()["detail"]
