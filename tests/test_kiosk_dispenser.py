"""The dispenser window (Qt Quick, offscreen) with a real server and broker behind it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtQuick import QQuickItem, QQuickWindow
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot
from support import find_item

from bus.client import BrokerUrl
from kiosk.app import load_dispenser
from kiosk.backend import KioskBackend
from kiosk.dispenser import DispenserViewModel
from queue_server.db import Store
from queue_server.server import QueueServer
from siteconf import Site

pytestmark = pytest.mark.integration


@pytest.fixture
def backend(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[KioskBackend]:
    store = Store.open(f"sqlite:///{tmp_path}/k.db")
    server = QueueServer(demo_site, store, mosquitto).start()
    kiosk = KioskBackend(demo_site, "kiosk-1", mosquitto).start()
    yield kiosk
    kiosk.stop()
    server.stop()
    store.close()


def click(window: QQuickWindow, item: QQuickItem) -> None:
    centre = item.mapToScene(QPointF(item.width() / 2, item.height() / 2)).toPoint()
    QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(centre))


def test_a_touch_on_a_service_shows_the_ticket_and_sends_it_to_the_printer(
    qtbot: QtBot, demo_site: Site, backend: KioskBackend, tmp_path: Path
) -> None:
    vm = DispenserViewModel(demo_site, backend)
    engine = load_dispenser(vm)
    window = engine.rootObjects()[0]
    assert isinstance(window, QQuickWindow)
    qtbot.waitExposed(window)
    assert find_item(window, "centreName").property("text") == demo_site.site.name
    click(window, find_item(window, "service-civil"))
    qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
    assert find_item(window, "ticketNumber").property("text") == "B2001"
    assert find_item(window, "ticketView").property("visible")
    assert backend.jobs_sent == 1
    window.grabWindow().save(str(tmp_path / "dispenser-ticket.png"))
    click(window, find_item(window, "done"))
    qtbot.waitUntil(lambda: vm.current_screen() == "home", timeout=2000)


def test_a_refused_ticket_shows_the_reason(qtbot: QtBot, demo_site: Site, backend: KioskBackend) -> None:
    vm = DispenserViewModel(demo_site, backend)
    vm.takeTicket("no-such-service")
    qtbot.waitUntil(lambda: vm.current_screen() == "error", timeout=5000)
    assert "Không có lĩnh vực" in vm.errorMessage
    assert backend.jobs_sent == 0


def test_idle_reset_returns_home(qtbot: QtBot, demo_site: Site, backend: KioskBackend) -> None:
    vm = DispenserViewModel(demo_site, backend, idle_reset_ms=200)
    vm.takeTicket("land")
    qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
    qtbot.waitUntil(lambda: vm.current_screen() == "home", timeout=3000)
