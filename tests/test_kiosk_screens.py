"""Every kiosk screen in every state, portrait and landscape: screenshots (artifacts/kiosk/*.png) and
the ≥ 15 mm touch-target rule measured on every button of the QML tree."""

from __future__ import annotations

import pytest
from kiosk_screens import ARTIFACTS, SCREEN_MAKERS, SIZES, issued, new_dispenser, touch_targets
from PySide6.QtCore import QPointF
from pytestqt.qtbot import QtBot
from support import find_item

from kiosk.app import load_screen, window_of
from kiosk.backend import TicketOutcome
from siteconf import Site


@pytest.mark.parametrize("orientation", sorted(SIZES))
@pytest.mark.parametrize("mode", sorted(SCREEN_MAKERS))
def test_every_screen_is_drawn_with_targets_of_at_least_15_mm(
    qtbot: QtBot, demo_site: Site, mode: str, orientation: str
) -> None:
    make_vm, states = SCREEN_MAKERS[mode]
    vm = make_vm(demo_site)
    engine = load_screen(mode, vm, SIZES[orientation])
    window = window_of(engine)
    qtbot.waitExposed(window)
    screen = demo_site.kiosk.screen
    min_px = 15.0 * min(screen.width_px / screen.width_mm, screen.height_px / screen.height_mm)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shots = 0
    for state in states(vm):
        qtbot.wait(60)  # let bindings and layouts settle
        image = window.grabWindow()
        assert (image.width(), image.height()) == SIZES[orientation]
        assert image.save(str(ARTIFACTS / f"{mode}-{state}-{orientation}.png"))
        shots += 1
        targets = touch_targets(window.contentItem())
        assert targets, f"{state}: no touch target found"
        for item in targets:
            corner = item.mapToScene(QPointF(0, 0))
            where = f"{mode}/{state}/{orientation}: {item.objectName() or item.metaObject().className()}"
            assert min(item.width(), item.height()) >= min_px, f"{where} is {item.width()}x{item.height()} px"
            assert corner.x() >= 0 and corner.x() + item.width() <= window.width() + 1, (
                f"{where} is off screen"
            )
    assert shots >= 3
    window.close()
    del engine


def test_the_ticket_screen_says_the_wait_in_the_printed_tickets_words(qtbot: QtBot, demo_site: Site) -> None:
    """Never "0 phút" for the citizen who is next: the screen says what the printed ticket says."""
    vm = new_dispenser(demo_site)
    engine = load_screen("dispenser", vm, SIZES["portrait"])
    window = window_of(engine)
    try:
        qtbot.waitExposed(window)
        label = find_item(window, "waitEstimate")
        vm._show_outcome(TicketOutcome(issued().model_copy(update={"estimated_wait_min": 0}), None, "j1"))
        assert (label.property("visible"), label.property("text")) == (
            True,
            "Thời gian chờ dự kiến: Sắp đến lượt",
        )
        vm._show_outcome(TicketOutcome(issued().model_copy(update={"estimated_wait_min": 75}), None, "j2"))
        assert label.property("text") == "Thời gian chờ dự kiến: khoảng 1 giờ 15 phút"
        vm.ui.toggleLanguage()  # on the ticket screen: the same estimate in English
        assert label.property("text") == "Estimated wait: about 1 h 15 min"
        vm._show_outcome(TicketOutcome(issued().model_copy(update={"estimated_wait_min": None}), None, "j3"))
        assert label.property("visible") is False  # no estimate: nothing said
    finally:
        window.close()
        del engine
