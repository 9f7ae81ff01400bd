"""Screenshots of the kiosk's search (with the on-screen keyboard) and of a dossier lookup result.

    QT_QPA_PLATFORM=offscreen python scripts/kiosk_search_shots.py OUT_DIR [--tag after]

Writes ``kiosk-search-TAG.png`` and ``lookup-TAG.png``. The search screen is driven the way a citizen
does it: the search field is touched, then the keys of the on-screen keyboard (when the screen has one;
otherwise the text is set as a hardware keyboard would type it).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtQuick import QQuickItem, QQuickWindow  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from kiosk.app import load_screen, window_of  # noqa: E402
from kiosk.dispenser import DispenserViewModel  # noqa: E402
from kiosk.lookup import DossierStatus, LookupViewModel  # noqa: E402
from siteconf import load_site  # noqa: E402


def find(window: QQuickWindow, name: str) -> QQuickItem | None:
    todo = [window.contentItem()]  # delegates are not QObject children: walk the visual tree
    while todo:
        item = todo.pop()
        if item.objectName() == name and item.isVisible():
            return item
        todo += item.childItems()
    return None


def tap(window: QQuickWindow, name: str) -> bool:
    item = find(window, name)
    if item is None:
        return False
    centre = item.mapToScene(QPointF(item.width() / 2, item.height() / 2)).toPoint()
    QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(centre))
    QTest.qWait(30)
    return True


def settle(ms: int = 300) -> None:
    QTest.qWait(ms)


def search_shot(out: Path) -> None:
    site = load_site(REPO / "sites" / "demo.toml")
    vm = DispenserViewModel(site, _OfflineBackend(site))  # type: ignore[arg-type]
    engine = load_screen("dispenser", vm, size=(1080, 1920))
    window = window_of(engine)
    window.requestActivate()
    settle()
    tap(window, "search")
    settle()
    if find(window, "vnKeyboard") is not None:
        for key in "khai sinh":
            tap(window, "vk-space" if key == " " else f"vk-{key}")
    else:
        vm.setSearch("khai sinh")
    settle()
    window.grabWindow().save(str(out))
    del engine


def lookup_shot(out: Path) -> None:
    site = load_site(REPO / "sites" / "demo.toml")
    vm = LookupViewModel(site, "http://127.0.0.1:9")
    engine = load_screen("lookup", vm, size=(1080, 1920))
    window = window_of(engine)
    settle()
    fields = {f.name for f in dataclasses.fields(DossierStatus)}
    answer = {
        "code": "H99.01-261204-0007",
        "status": "processing",
        "status_vi": "Đang giải quyết",
        "appointment": "2026-12-07T10:10:54.116123+07:00",
        "procedure": "1.001193",
    }
    vm._show_answer(DossierStatus(**{k: v for k, v in answer.items() if k in fields}))
    settle()
    window.grabWindow().save(str(out))
    del engine


class _OfflineBackend:
    """Just enough of a backend for a screen that takes no ticket."""

    def __init__(self, site: object) -> None:
        self.site = site
        self.server_online = None
        self.on_job_failed = None
        self.on_change = None

    def unsent_offline(self) -> int:
        return 0

    def printer_can_print(self) -> bool:
        return True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--tag", default="after")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QGuiApplication(sys.argv)
    args.out.mkdir(parents=True, exist_ok=True)
    search_shot(args.out / f"kiosk-search-{args.tag}.png")
    lookup_shot(args.out / f"lookup-{args.tag}.png")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
