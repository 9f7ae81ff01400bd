"""The counter console speaks to the clerk in Vietnamese, in a real Chromium: refusals and validation
errors in words (never pydantic's text), the next step offered beside a refusal, confirmations that
say what happened, officers by name, keyboard shortcuts; and the server refuses a dossier at a
counter that is not open with an officer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from console_rig import HAS_CHROMIUM, Console, console_centre, logged_in
from pydantic import ValidationError

from bus import models as m
from bus.client import BrokerUrl
from queue_server.console_messages import validation_problem
from siteconf.model import Site

pytestmark = pytest.mark.integration
needs_chromium = pytest.mark.skipif(not HAS_CHROMIUM, reason="Debian's chromium is not installed")
A = m.CounterAction


@pytest.fixture
def centre(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[Console]:
    with console_centre(demo_site, mosquitto, tmp_path) as running:
        yield running


def issue(centre: Console, service: str = "civil", count: int = 1) -> list[str]:
    numbers = []
    for _ in range(count):
        ticket = centre.server.handle(m.IssueTicket(service=service)).ticket
        assert ticket is not None
        numbers.append(ticket.number)
    return numbers


def message(page: object) -> str:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    return page.locator("#message").inner_text()


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (
            {"counter": 1, "action": "call_ticket", "ticket": "ZZZ"},
            "bad_ticket_number",
            "“ZZZ” không đúng dạng",
        ),
        ({"counter": 1, "action": "call_ticket", "ticket": ""}, "missing_ticket", "Chưa nhập số cần gọi"),
        ({"counter": 1, "action": "sing"}, "bad_action", "Thao tác này không có"),
        ({"counter": 1, "action": "open", "spy": "x"}, "unknown_field", "trường lạ “spy”"),
        ({"counter": 1, "action": "transfer", "to_service": "a b"}, "bad_service", "Chọn nơi"),
        ({"counter": 1, "action": "open", "ticket": "A1\u0000" * 30}, "bad_ticket_number", "…"),
    ],
)
def test_validation_errors_become_a_code_and_vietnamese_words(
    body: dict[str, object], code: str, words: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        m.CounterRequest.model_validate(body)
    problem = validation_problem(caught.value)
    assert problem["code"] == code and words in problem["message"]
    assert "pydantic" not in str(problem) and "http" not in str(problem)
    assert "\u0000" not in problem["message"]


def test_a_dossier_is_refused_at_a_closed_counter_and_at_a_counter_without_officer(centre: Console) -> None:
    server = centre.server
    refused = server.handle(m.RegisterDossier(procedure="1.001234", days=3, counter=2))
    assert not refused.ok and refused.error is not None and refused.error.code == "counter_closed"
    assert "chưa mở" in refused.error.message
    assert server.handle(m.CounterRequest(counter=2, action=A.OPEN, officer="cb01")).ok
    assert server.handle(m.RegisterDossier(procedure="1.001234", days=3, counter=2)).ok
    assert server.handle(m.CounterRequest(counter=2, action=A.PAUSE)).ok
    paused = server.handle(m.RegisterDossier(procedure="1.001234", days=3, counter=2))
    assert not paused.ok and paused.error is not None and paused.error.code == "counter_closed"
    unknown = server.handle(m.RegisterDossier(procedure="1.001234", days=3, counter=99))
    assert not unknown.ok and unknown.error is not None and unknown.error.code == "unknown_counter"
    assert len(server.dossiers.dossiers) == 1  # only the one at the open counter


def test_the_console_api_answers_codes_and_words_never_pydantic(centre: Console) -> None:
    with httpx.Client(base_url=centre.url, timeout=10) as session:
        login = session.get("/login")
        form = {"officer": "cb03", "password": "một mật khẩu dài", "csrf": login.cookies["motcua_login"]}
        session.post("/login", data={**form, "next": "/console/3"})
        csrf = session.get("/console/3").text.split('data-csrf="')[1].split('"')[0]
        headers = {"X-CSRF-Token": csrf}
        bad = session.post(
            "/console/3/actions", json={"action": "call_ticket", "ticket": "ZZZ"}, headers=headers
        )
        assert bad.status_code == 422 and bad.json()["detail"]["code"] == "bad_ticket_number"
        empty = session.post("/console/3/dossiers", json={"procedure": "", "days": 3}, headers=headers)
        assert empty.status_code == 422 and empty.json()["detail"]["code"] == "missing_procedure"
        garbage = session.post("/console/3/dossiers", content=b"\xff{", headers=headers)
        assert garbage.status_code == 422 and garbage.json()["detail"]["code"] == "bad_request"
        nested = session.post("/console/3/actions", json={"action": "open", "counter": 1}, headers=headers)
        assert nested.status_code == 200  # the counter comes from the URL: a body's counter is ignored
        assert centre.server.engine.counters[3].status.value == "open"
        assert centre.server.engine.counters[1].status.value == "closed"
        closed = session.post(
            "/console/2/dossiers", json={"procedure": "1.001234", "days": 3}, headers=headers
        )
        assert closed.json()["error"]["code"] == "counter_closed"
        for answer in (bad, empty, garbage):
            assert "pydantic" not in answer.text and "errors." not in answer.text


@needs_chromium
def test_refusals_are_vietnamese_words_and_a_closed_counter_offers_to_open(centre: Console) -> None:
    from playwright.sync_api import expect

    (first,) = issue(centre)
    with logged_in(centre.url) as page:
        page.click("#call_next")  # the counter is closed: the clerk is told, and offered to open it
        expect(page.locator("#message-text")).to_have_text("Quầy 3 đang đóng.")
        expect(page.locator("#next-step")).to_have_text("Mở quầy")
        page.click("#next-step")
        expect(page.locator("#status")).to_contain_text("Đang mở · cán bộ Trần Thị Bình")
        expect(page.locator("#message")).to_have_text("Quầy 3 đã mở, cán bộ Trần Thị Bình.")
        expect(page.locator("#next-step")).to_be_hidden()
        page.fill("#ticket", "ZZZ")
        page.click("#call_ticket")
        expect(page.locator("#message")).to_contain_text("Số thứ tự “ZZZ” không đúng dạng")
        page.fill("#ticket", "")
        page.click("#call_ticket")
        expect(page.locator("#message")).to_have_text("Chưa nhập số cần gọi, ví dụ A1023.")
        page.fill("#procedure", "")
        page.click("#register")
        expect(page.locator("#message")).to_contain_text("Chưa nhập mã thủ tục")
        for text in (message(page),):
            assert "pydantic" not in text and "validation" not in text
        page.fill("#ticket", "A999")
        page.click("#call_ticket")
        expect(page.locator("#message")).to_have_text("Không có số A999 hôm nay.")
        page.click("#pause")
        expect(page.locator("#message")).to_have_text("Quầy 3 đã tạm dừng.")
        page.click("#call_next")  # paused: the step offered is to resume
        expect(page.locator("#message-text")).to_have_text("Quầy 3 đang tạm dừng.")
        expect(page.locator("#next-step")).to_have_text("Mở lại quầy")
        page.click("#next-step")
        expect(page.locator("#message")).to_have_text("Quầy 3 đã mở lại.")
        page.click("#call_next")
        expect(page.locator("#message")).to_have_text(f"Đã gọi số {first}")


@needs_chromium
def test_confirmations_say_what_happened(centre: Console) -> None:
    from playwright.sync_api import expect

    first, second, third, fourth = issue(centre, count=4)
    with logged_in(centre.url) as page:
        page.click("#open")
        page.click("#call_next")
        expect(page.locator("#message")).to_have_text(f"Đã gọi số {first}")
        page.click("#recall")
        expect(page.locator("#message")).to_have_text(f"Đã gọi lại {first} (lần 2)")
        page.click("#recall")
        expect(page.locator("#message")).to_have_text(f"Đã gọi lại {first} (lần 3)")
        page.select_option("#to_service", label="Quầy 4")
        page.click("#transfer")
        expect(page.locator("#message")).to_have_text(f"Đã chuyển {first} sang Quầy 4 (cuối hàng).")
        page.click("#call_next")
        page.select_option("#to_service", label="lĩnh vực Đất đai")
        page.select_option("#position", "front")
        page.click("#transfer")
        expect(page.locator("#message")).to_have_text(f"Đã chuyển {second} sang lĩnh vực Đất đai (đầu hàng).")
        page.click("#call_next")
        page.click("#park")
        expect(page.locator("#message")).to_have_text(f"Đã tạm giữ {third}.")
        page.click("#call_next")
        expect(page.locator("#message")).to_have_text(f"Đã gọi số {fourth}")
        page.click("#finish")
        expect(page.locator("#message")).to_have_text(f"Đã phục vụ xong {fourth}.")
        page.click("#close")
        expect(page.locator("#message")).to_have_text("Quầy 3 đã đóng.")
    moved = centre.server.engine.tickets
    assert {t.code: t.target_counter for t in moved.values()}[first] == 4


@needs_chromium
def test_keyboard_shortcuts_act_but_not_while_typing(centre: Console) -> None:
    from playwright.sync_api import expect

    first, second = issue(centre, count=2)
    with logged_in(centre.url) as page:
        expect(page.locator("#shortcuts")).to_contain_text("G gọi số tiếp, L gọi lại, X xong")
        page.click("#open")
        expect(page.locator("#status")).to_contain_text("Đang mở")
        page.locator("#ticket").press("g")  # typing in a field: a letter, not a call
        page.locator("#applicant_name").press("x")
        page.locator("#procedure").press("G")
        expect(page.locator("#ticket")).to_have_value("g")
        page.evaluate("document.activeElement.blur()")
        page.keyboard.press("Control+g")
        page.keyboard.press("g")
        expect(page.locator("#message")).to_have_text(f"Đã gọi số {first}")
        page.keyboard.press("l")
        expect(page.locator("#message")).to_have_text(f"Đã gọi lại {first} (lần 2)")
        page.keyboard.press("x")
        expect(page.locator("#message")).to_have_text(f"Đã phục vụ xong {first}.")
    calls = [e for e in centre.store.events() if e.type == "ticket_called"]
    assert len(calls) == 1, "only the shortcut outside the fields called; the typed letters did not"
    assert centre.server.engine.tickets[calls[0].data["ticket_id"]].code == first
    assert second  # still waiting


def _as_refused(source: str) -> str:
    """``source`` with each ``forbidden(sender, verb, vi, en)`` call written as the refusal it makes,
    ``Refused("forbidden")``: its verb (``"counter"``, then the Vietnamese reason) is for the log and
    is no code, though it reads like a ``console_messages`` entry when the call is one argument a line."""
    import ast

    lines = source.splitlines(keepends=True)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "forbidden":
            assert node.end_lineno is not None
            lines[node.lineno - 1 : node.end_lineno] = ["\n"] * (node.end_lineno - node.lineno + 1)
            lines[node.lineno - 1] = 'Refused("forbidden")\n'
    return "".join(lines)


def test_every_refusal_code_has_words_on_the_page() -> None:
    """Each code the engine, the console or the receipt printing can answer is in console-words.js."""
    import re

    root = Path(__file__).resolve().parent.parent
    sources = " ".join(
        _as_refused(p.read_text(encoding="utf-8")) for p in (root / "queue_server").glob("*.py")
    )
    codes = set(re.findall(r'Refused\(\s*"([a-z_]+)"', sources))
    codes |= set(re.findall(r'code="([a-z_]+)"', sources))
    codes |= set(re.findall(r'^\s+"([a-z_]+)",\n\s+"[^"]*[À-ỹ]', sources, flags=re.M))  # console_messages
    printing = (root / "queue_server" / "receipt_printing.py").read_text(encoding="utf-8")
    codes |= set(re.findall(r'^\s+"([a-z_]+)": "', printing, flags=re.M))
    codes |= {"logged_out", "bad_csrf", "not_your_counter", "unknown_dossier", "no_pdf", "printer_error"}
    assert {"counter_closed", "queue_empty", "bad_ticket_number", "missing_procedure", "paper_out"} <= codes
    words = (root / "queue_server" / "static" / "console-words.js").read_text(encoding="utf-8")
    known = set(re.findall(r"^\s+([a-z_]+): \(", words, flags=re.M))
    assert codes - known == set(), "add words for these codes to console-words.js"
