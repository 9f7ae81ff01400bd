"""Open the dispenser (or the hall board) on the X display of ``$DISPLAY`` as the kiosk does, take one
real ticket from the queue server, and report where the window and its parts are on the screen.

Run as its own process (``QT_QPA_PLATFORM=xcb``), because the test process's Qt runs offscreen::

    python tests/kiosk_window_probe.py --site S --broker URL --out probe.json [--shots DIR --tag after]

``probe.json``: the screen's geometry, the window's, and the ``done``/``qr`` items' rectangles in
screen pixels on the ticket screen. With ``--shots``, PNGs of the whole X screen (``grabWindow(0)``,
what a person in front of it sees) of the home, virtual-ticket and outside-hours screens. Only the
view-model's public slots and ``load_dispenser`` are used, so the script also runs on older code.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QPointF
from PySide6.QtGui import QGuiApplication
from PySide6.QtQuick import QQuickItem, QQuickWindow


def find(window: QQuickWindow, name: str) -> QQuickItem:
    todo = [window.contentItem()]
    while todo:
        item = todo.pop()
        if item.objectName() == name:
            return item
        todo += item.childItems()
    raise LookupError(name)


def rect(item: QQuickItem) -> dict[str, float]:
    """``item``'s rectangle in screen pixels (scale of its parents included)."""
    top = item.mapToGlobal(QPointF(0, 0))
    bottom = item.mapToGlobal(QPointF(item.width(), item.height()))
    return {"x": top.x(), "y": top.y(), "right": bottom.x(), "bottom": bottom.y()}


def geometry(window: QQuickWindow) -> dict[str, dict[str, int]]:
    """The screen's and the window's rectangles, in screen pixels."""
    screen = window.screen().geometry()
    return {
        "screen": {
            "x": screen.x(),
            "y": screen.y(),
            "right": screen.x() + screen.width(),
            "bottom": screen.y() + screen.height(),
        },
        "window": {
            "x": window.x(),
            "y": window.y(),
            "right": window.x() + window.width(),
            "bottom": window.y() + window.height(),
        },
    }


def settle(app: QGuiApplication, seconds: float = 0.6) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def wait_for(app: QGuiApplication, check: Any, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise TimeoutError("the kiosk did not get there in time")
        app.processEvents()
        time.sleep(0.02)


def shoot(app: QGuiApplication, path: Path) -> None:
    settle(app)
    screen = app.primaryScreen()
    screen.grabWindow(0).save(str(path))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", type=Path, required=True)
    parser.add_argument("--broker", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--shots", type=Path)
    parser.add_argument("--tag", default="after")
    parser.add_argument("--hall", action="store_true", help="the hall board instead of the dispenser")
    args = parser.parse_args()
    app = QGuiApplication(sys.argv)
    from siteconf import load_site

    site = load_site(args.site)
    if args.hall:
        return hall(app, site, args)
    from kiosk.app import load_dispenser, window_of
    from kiosk.backend import KioskBackend
    from kiosk.dispenser import DispenserViewModel

    backend = KioskBackend(site, "kiosk-1", args.broker).start()
    vm = DispenserViewModel(site, backend)
    engine = load_dispenser(vm)
    window = window_of(engine)
    window.show()
    settle(app)
    if args.shots:
        shoot(app, args.shots / f"kiosk-home-{args.tag}.png")
    vm.takeTicket("land")
    wait_for(app, lambda: vm.current_screen() == "ticket")
    if args.shots:  # the printer simulator is out of paper (the test set it): the virtual ticket
        wait_for(app, lambda: vm.ticket.get("virtual") is True)
    settle(app)
    report = {
        **geometry(window),
        "done": rect(find(window, "done")),
        "qr": rect(find(window, "qr")),
        "number": vm.ticket.get("number"),
    }
    if args.shots:
        shoot(app, args.shots / f"kiosk-virtual-ticket-{args.tag}.png")
        vm.goHome()
        vm.takeTicket("business")  # closed now on the server (scripts/kiosk_screenshots.py)
        wait_for(app, lambda: vm.current_screen() == "error")
        vm.ui.toggleLanguage()
        settle(app)
        report["outside_hours_en"] = vm.errorMessage
        vm.ui.toggleLanguage()
        report["outside_hours_vi"] = vm.errorMessage
        shoot(app, args.shots / f"kiosk-outside-hours-{args.tag}.png")
    args.out.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    window.close()
    backend.stop()
    del engine
    QCoreApplication.processEvents()
    return 0


def hall(app: QGuiApplication, site: Any, args: argparse.Namespace) -> int:
    from counter_display.hall import open_hall_window

    board, engine = open_hall_window(site, args.broker)
    window = engine.rootObjects()[0]
    assert isinstance(window, QQuickWindow)
    window.show()
    settle(app)
    report = {
        **geometry(window),
        "notice": rect(find(window, "noticeBar")),
    }
    args.out.write_text(json.dumps(report), encoding="utf-8")
    window.close()
    board.stop()
    del engine
    return 0


if __name__ == "__main__":
    sys.exit(main())
