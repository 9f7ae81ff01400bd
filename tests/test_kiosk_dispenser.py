"""Dispenser journeys (Qt Quick, offscreen) with a real server, broker, printer service and simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kiosk_rig import KioskRig, answer_with_error
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtQuick import QQuickItem, QQuickWindow
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot
from support import find_item, wait_until

from bus import models as m
from bus.client import BrokerUrl
from kiosk.app import load_dispenser, window_of
from kiosk.dispenser import DispenserViewModel
from siteconf import Site

pytestmark = pytest.mark.integration


@pytest.fixture
def rig(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[KioskRig]:
    with KioskRig(demo_site, mosquitto, tmp_path, journal=False) as rig:
        yield rig


@pytest.fixture
def screen(qtbot: QtBot, rig: KioskRig) -> Iterator[tuple[DispenserViewModel, QQuickWindow]]:
    vm = DispenserViewModel(rig.site, rig.backend)
    engine = load_dispenser(vm)
    window = window_of(engine)
    qtbot.waitExposed(window)
    yield vm, window
    window.close()
    del engine


def click(window: QQuickWindow, item: QQuickItem) -> None:
    centre = item.mapToScene(QPointF(item.width() / 2, item.height() / 2)).toPoint()
    QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(centre))


def spy_requests(rig: KioskRig) -> list[Any]:
    seen: list[Any] = []
    spy = rig.client("spy")
    spy.subscribe(spy.topics.all_req(), lambda _t, r: seen.append(r), m.request_adapter, dedupe=False)
    spy.start()
    return seen


def test_one_touch_on_a_service_prints_that_number(
    qtbot: QtBot, rig: KioskRig, screen: tuple[DispenserViewModel, QQuickWindow]
) -> None:
    vm, window = screen
    assert find_item(window, "centreName").property("text") == rig.site.site.name
    click(window, find_item(window, "service-civil"))  # the only touch
    qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
    assert find_item(window, "ticketNumber").property("text") == "B2001"
    assert vm.ticket["counters"] == "Quầy 2, Quầy 3, Quầy 4"
    assert vm.ticket["virtual"] is False
    assert vm.ticket["qr"].startswith("data:image/png;base64,")
    assert wait_until(lambda: any("B2001" in t for t in rig.printed_texts()), timeout=10)
    click(window, find_item(window, "done"))
    qtbot.waitUntil(lambda: vm.current_screen() == "home", timeout=2000)


def test_a_priority_ticket_takes_two_touches_and_carries_the_group(
    qtbot: QtBot, rig: KioskRig, screen: tuple[DispenserViewModel, QQuickWindow]
) -> None:
    vm, window = screen
    requests = spy_requests(rig)
    click(window, find_item(window, "priority-elderly"))
    assert vm.priority == "elderly"
    click(window, find_item(window, "service-land"))
    qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
    assert vm.ticket["priority"] == "Người cao tuổi"  # the [queue] group's name
    assert wait_until(lambda: any(getattr(r, "priority", None) == "elderly" for r in requests))
    assert wait_until(lambda: any("A1001" in t for t in rig.printed_texts()), timeout=10)
    click(window, find_item(window, "done"))
    qtbot.waitUntil(lambda: vm.current_screen() == "home", timeout=2000)
    assert vm.priority == ""  # the next citizen starts without it


def test_the_home_screen_offers_the_sites_queue_groups_under_a_heading_of_their_own(
    screen: tuple[DispenserViewModel, QQuickWindow],
) -> None:
    vm, window = screen
    button = find_item(window, "priority-meritorious")
    assert button.property("text") == "Người có công với cách mạng"
    assert [p["code"] for p in vm.priorities] == ["elderly", "pregnant", "disabled", "meritorious"]
    title, hint = find_item(window, "priorityTitle"), find_item(window, "priorityHint")
    assert title.property("text") == "Tôi thuộc diện ưu tiên"
    assert hint.property("text").startswith("Chọn diện ưu tiên")
    top_of_hint = hint.mapToScene(QPointF(0, 0)).y()
    assert top_of_hint >= title.mapToScene(QPointF(0, title.height())).y()  # below, not run on
    assert button.mapToScene(QPointF(0, 0)).y() >= hint.mapToScene(QPointF(0, hint.height())).y()


def test_a_printer_out_of_paper_turns_the_qr_into_the_ticket(
    qtbot: QtBot, rig: KioskRig, screen: tuple[DispenserViewModel, QQuickWindow]
) -> None:
    vm, window = screen
    sim = rig.sims.printers["printer-k1"]
    sim.paper_out_at_job = sim.jobs_started + 1  # the roll ends as this job starts
    click(window, find_item(window, "service-land"))
    qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
    qtbot.waitUntil(lambda: vm.ticket.get("virtual") is True, timeout=15000)  # JobFailed came back
    assert find_item(window, "ticketNote").property("text").startswith("Máy in tạm hết giấy")
    assert find_item(window, "qr").property("paintedWidth") > 100  # the QR image decoded and shown
    # The retained status now says "paper out": the next ticket sends no job at all.
    qtbot.waitUntil(lambda: not rig.backend.printer_can_print(), timeout=5000)
    sent = rig.backend.jobs_sent
    vm.goHome()
    click(window, find_item(window, "service-business"))
    qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
    assert vm.ticket["number"] == "C3001" and vm.ticket["virtual"] is True
    assert rig.backend.jobs_sent == sent


def test_the_virtual_ticket_stays_until_dismissed_and_gives_the_ticket_page(
    qtbot: QtBot, rig: KioskRig
) -> None:
    vm = DispenserViewModel(rig.site, rig.backend, idle_reset_ms=300)
    engine = load_dispenser(vm)
    window = window_of(engine)
    qtbot.waitExposed(window)
    sim = rig.sims.printers["printer-k1"]
    sim.paper_out_at_job = sim.jobs_started + 1
    rig.backend.take_ticket("civil")  # the roll ends during this job; the printer then says so
    qtbot.waitUntil(lambda: not rig.backend.printer_can_print(), timeout=15000)
    click(window, find_item(window, "service-land"))
    qtbot.waitUntil(lambda: vm.ticket.get("virtual") is True, timeout=5000)
    note = find_item(window, "ticketNote").property("text")
    assert "chụp ảnh màn hình này" in note and "Hãy chụp màn hình" not in note
    link = find_item(window, "ticketLink")
    assert link.isVisible()
    url = vm.ticket["link"]
    assert url.startswith("https://hcc.example.gov.vn/t/") and link.property("text").endswith(url)
    assert rig.server is not None  # the page of the very ticket the server issued
    assert url.rsplit("/", 1)[1] in {t.token for t in rig.server.engine.tickets.values()}
    click(window, find_item(window, "ticketNumber"))  # a touch on the screen ...
    assert not vm.ui._idle.isActive()  # ... starts no countdown: nothing will send it home
    assert vm.current_screen() == "ticket"
    # The mark for passers-by: the printer's retained status says it is out of paper.
    qtbot.waitUntil(lambda: find_item(window, "paperMark").isVisible(), timeout=5000)
    assert vm.paperMark == "Máy in hết giấy"
    click(window, find_item(window, "done"))
    qtbot.waitUntil(lambda: vm.current_screen() == "home", timeout=2000)
    assert find_item(window, "paperMark").isVisible()  # on every screen until the roll is changed
    window.close()
    del engine


def test_a_printed_ticket_still_goes_home_by_itself_and_paper_near_end_shows_a_mark(
    qtbot: QtBot, rig: KioskRig
) -> None:
    vm = DispenserViewModel(rig.site, rig.backend, idle_reset_ms=300)
    engine = load_dispenser(vm)
    window = window_of(engine)
    qtbot.waitExposed(window)
    assert not find_item(window, "paperMark").isVisible()
    sim = rig.sims.printers["printer-k1"]
    sim.near_end_at_job = sim.jobs_started + 1
    click(window, find_item(window, "service-land"))
    qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
    assert vm.ticket["virtual"] is False and vm.ui._idle.isActive()
    qtbot.waitUntil(lambda: vm.paperMark == "Máy in sắp hết giấy", timeout=10000)
    qtbot.waitUntil(lambda: vm.current_screen() == "home", timeout=5000)  # the idle reset
    vm.ui.toggleLanguage()
    assert vm.paperMark == "Printer paper low"
    window.close()
    del engine


def test_outside_hours_the_kiosk_says_when_to_come_back(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    with KioskRig(demo_site, mosquitto, tmp_path, with_server=False, journal=False) as rig:
        stand_in = rig.client("server-stand-in")
        seen = answer_with_error(stand_in, "outside_hours", "Ngoài giờ cấp số")
        stand_in.start()
        vm = DispenserViewModel(rig.site, rig.backend)
        engine = load_dispenser(vm)
        window = window_of(engine)
        qtbot.waitExposed(window)
        click(window, find_item(window, "service-land"))
        qtbot.waitUntil(lambda: vm.current_screen() == "error", timeout=5000)
        message = find_item(window, "errorMessage").property("text")
        assert message.startswith("Hiện ngoài giờ cấp số")
        assert "Thứ Hai – Thứ Sáu: 07:30–11:30, 13:30–17:00" in message
        assert len(seen) == 1 and rig.backend.jobs_sent == 0
        vm.ui.toggleLanguage()
        vm.goHome()
        vm.takeTicket("land")
        qtbot.waitUntil(lambda: vm.current_screen() == "error", timeout=5000)
        assert vm.errorMessage.startswith("Tickets are issued only during working hours")
        assert "Mon – Fri" in vm.errorMessage
        window.close()
        del engine


def test_outside_hours_names_the_services_own_hours_and_follows_the_language_toggle(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    """business issues 07:30-11:00 and 13:30-16:30 (its own issuing_hours), not the centre's 17:00."""
    with KioskRig(demo_site, mosquitto, tmp_path, with_server=False, journal=False) as rig:
        stand_in = rig.client("server-stand-in")
        answer_with_error(stand_in, "outside_hours", "Ngoài giờ cấp số")
        stand_in.start()
        vm = DispenserViewModel(rig.site, rig.backend)
        engine = load_dispenser(vm)
        window = window_of(engine)
        qtbot.waitExposed(window)
        click(window, find_item(window, "service-business"))
        qtbot.waitUntil(lambda: vm.current_screen() == "error", timeout=5000)
        message = find_item(window, "errorMessage")
        assert message.property("text").endswith("Thứ Hai – Thứ Sáu: 07:30–11:00, 13:30–16:30")
        click(window, find_item(window, "btn-language"))  # on the error screen itself
        qtbot.waitUntil(lambda: message.property("text").startswith("Tickets are issued only"), timeout=2000)
        assert message.property("text").endswith("Mon – Fri: 07:30–11:00, 13:30–16:30")
        assert find_item(window, "back").property("text") == "Back"
        click(window, find_item(window, "btn-language"))
        qtbot.waitUntil(lambda: message.property("text").startswith("Hiện ngoài giờ"), timeout=2000)
        window.close()
        del engine


def test_the_ticket_screen_follows_the_language_toggle(
    qtbot: QtBot, screen: tuple[DispenserViewModel, QQuickWindow]
) -> None:
    vm, window = screen
    click(window, find_item(window, "priority-meritorious"))
    click(window, find_item(window, "service-civil"))
    qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
    assert vm.ticket["service"] == "Hộ tịch – Chứng thực"
    assert vm.ticket["priority"] == "Người có công với cách mạng"
    click(window, find_item(window, "btn-language"))
    qtbot.waitUntil(lambda: vm.ticket["service"] == "Civil status and certification", timeout=2000)
    assert vm.ticket["priority"] == "Person with meritorious service"
    assert find_item(window, "ticketPriority").property("text") == "Priority: Person with meritorious service"


def test_a_sold_out_service_is_refused_in_plain_words(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    services = [s.model_copy(update={"daily_cap": 1}) for s in demo_site.services]
    site = demo_site.model_copy(update={"services": services})
    with KioskRig(site, mosquitto, tmp_path, journal=False) as rig:
        vm = DispenserViewModel(rig.site, rig.backend)
        # civil: its cap is the service's own (a rule version in demo.toml raises land's)
        vm.takeTicket("civil")
        qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
        vm.goHome()
        vm.takeTicket("civil")
        qtbot.waitUntil(lambda: vm.current_screen() == "error", timeout=5000)
        assert vm.errorMessage.startswith("Lĩnh vực này đã hết số hôm nay")
        assert rig.backend.jobs_sent == 1


def test_idle_reset_returns_home_with_the_defaults(qtbot: QtBot, rig: KioskRig) -> None:
    vm = DispenserViewModel(rig.site, rig.backend, idle_reset_ms=300)
    vm.ui.toggleLanguage()
    vm.choosePriority("pregnant")
    vm.takeTicket("land")
    qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
    qtbot.waitUntil(lambda: vm.current_screen() == "home", timeout=3000)
    assert vm.ui.language == "vi" and vm.priority == ""
