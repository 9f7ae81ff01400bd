"""The dispenser's search (Qt Quick, offscreen) with a real server, broker, printer service and
simulator: typed on the on-screen keyboard, it finds a procedure and queues for the procedure's field."""

from __future__ import annotations

from pathlib import Path

import pytest
from kiosk_rig import KioskRig
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtQuick import QQuickItem, QQuickWindow
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot
from support import find_item, wait_until

from bus.client import BrokerUrl
from kiosk.app import load_dispenser, window_of
from kiosk.dispenser import DispenserViewModel
from siteconf import Site

pytestmark = pytest.mark.integration


def click(window: QQuickWindow, item: QQuickItem) -> None:
    centre = item.mapToScene(QPointF(item.width() / 2, item.height() / 2)).toPoint()
    QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(centre))


def test_a_procedure_typed_without_tones_gives_a_ticket_for_its_field(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    with KioskRig(demo_site, mosquitto, tmp_path, journal=False) as rig:
        vm = DispenserViewModel(rig.site, rig.backend)
        engine = load_dispenser(vm)
        window = window_of(engine)
        qtbot.waitExposed(window)
        try:
            window.requestActivate()
            qtbot.waitUntil(window.isActive, timeout=2000)
            assert not find_item(window, "vnKeyboard").isVisible()
            click(window, find_item(window, "search"))
            qtbot.waitUntil(lambda: find_item(window, "vnKeyboard").isVisible(), timeout=2000)
            with qtbot.waitSignal(window.frameSwapped, timeout=2000):  # laid out and drawn: keys are in place
                window.update()
            for key in "dang ky khai sinh":
                click(window, find_item(window, "vk-space" if key == " " else f"vk-{key}"))
            assert find_item(window, "search").property("text") == "dang ky khai sinh"
            assert vm.searchText == "dang ky khai sinh"
            qtbot.waitUntil(lambda: find_item(window, "procedure-1.001193").isVisible(), timeout=2000)
            with qtbot.waitSignal(window.frameSwapped, timeout=2000):
                window.update()
            click(window, find_item(window, "procedure-1.001193"))
            qtbot.waitUntil(lambda: vm.current_screen() == "ticket", timeout=5000)
            assert find_item(window, "ticketNumber").property("text") == "B2001"  # the civil status queue
            assert wait_until(lambda: any("B2001" in t for t in rig.printed_texts()), timeout=10)
            assert not find_item(window, "vnKeyboard").isVisible()  # the field went away with the home screen
            click(window, find_item(window, "done"))
            qtbot.waitUntil(lambda: vm.current_screen() == "home", timeout=2000)
            assert find_item(window, "search").property("text") == ""  # the next citizen starts afresh
            click(window, find_item(window, "search"))  # a citizen touches the field and walks away
            qtbot.waitUntil(lambda: find_item(window, "vnKeyboard").isVisible(), timeout=2000)
            vm.ui.idleReset()
            qtbot.waitUntil(lambda: not find_item(window, "vnKeyboard").isVisible(), timeout=2000)
        finally:
            window.close()
            del engine
