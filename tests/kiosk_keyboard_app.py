"""A kiosk lookup window for the keyboard test, run as its own process on an X server (Xvfb).

``python tests/kiosk_keyboard_app.py SITE [--fit]``: the lookup screen laid out for the site's panel,
either at exactly the panel's size or, with ``--fit``, opened as the kiosk opens it on a screen of
another size (``qtview.fit_window``: the window shrunk to the screen, its content scaled).

Once the window is on the screen and has drawn its first frame it writes ``ready WINDOW_ID`` (the X
window's id, so the test never has to search the X server's window tree). The test clicks it with
xdotool (real X pointer events through the X server) and asks, one line on standard input each time,
where every visible touch target is (in window pixels, the content's scale included) and what the
search field holds; the answer is one JSON line on standard output::

    {"window": [w, h], "targets": [{"name", "x", "y", "width", "height"}], "text": "...",
     "procedures": ["1.001193"]}
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QSocketNotifier
from PySide6.QtGui import QGuiApplication
from PySide6.QtQuick import QQuickItem

from kiosk.app import load_screen, window_of
from kiosk.lookup import LookupViewModel
from qtview import drawn_items
from siteconf import load_site


def targets(root: QQuickItem) -> list[dict[str, object]]:
    return drawn_items(root, lambda item: bool(item.objectName()))


def main() -> int:
    app = QGuiApplication(sys.argv)
    site = load_site(Path(sys.argv[1]))
    vm = LookupViewModel(site)
    panel = (site.kiosk.screen.width_px, site.kiosk.screen.height_px)
    engine = load_screen("lookup", vm, size=None if "--fit" in sys.argv[2:] else panel)
    window = window_of(engine)
    window.setTitle("motcua — bàn phím")
    vm.show("procedures")
    window.show()

    pending: list[str] = []
    shown: list[bool] = []

    def ask() -> None:
        """A question: answered once the next frame is drawn, so layouts have settled after a click."""
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            app.quit()
            return
        pending.append(line)
        window.update()

    def answer() -> None:
        if not shown:  # the first frame on the screen: the window is mapped and takes clicks
            shown.append(True)
            sys.stdout.write(f"ready {int(window.winId())}\n")
            sys.stdout.flush()
            return
        if not pending:
            return
        pending.clear()
        field = next(i for i in _walk(window.contentItem()) if i.objectName() == "procedureSearch")
        state = {
            "window": [window.width(), window.height()],
            "targets": targets(window.contentItem()),
            "text": field.property("text"),
            "procedures": [p["code"] for p in vm.procedures],
        }
        sys.stdout.write(json.dumps(state, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(ask)
    window.frameSwapped.connect(answer)
    code = app.exec()
    del engine
    return int(code)


def _walk(root: QQuickItem) -> list[QQuickItem]:
    out, todo = [], [root]
    while todo:
        item = todo.pop()
        out.append(item)
        todo += item.childItems()
    return out


if __name__ == "__main__":
    raise SystemExit(main())
