"""A kiosk lookup window for the keyboard test, run as its own process on an X server (Xvfb).

The test clicks it with xdotool (real X pointer events through the X server) and asks, one line on
standard input each time, where every visible touch target is and what the search field holds; the
answer is one JSON line on standard output::

    {"targets": [{"name", "x", "y", "width", "height"}], "text": "...", "procedures": ["1.001193"]}
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QPointF, QSocketNotifier
from PySide6.QtGui import QGuiApplication
from PySide6.QtQuick import QQuickItem

from kiosk.app import load_screen, window_of
from kiosk.lookup import LookupViewModel
from siteconf import load_site


def targets(root: QQuickItem) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    todo = [root]
    while todo:
        item = todo.pop()
        if not item.isVisible():
            continue
        if item.objectName():
            corner = item.mapToScene(QPointF(0, 0))
            found.append(
                {
                    "name": item.objectName(),
                    "x": corner.x(),
                    "y": corner.y(),
                    "width": item.width(),
                    "height": item.height(),
                }
            )
        todo += item.childItems()
    return found


def main() -> int:
    app = QGuiApplication(sys.argv)
    vm = LookupViewModel(load_site(Path(sys.argv[1])))
    engine = load_screen("lookup", vm, size=(1080, 1920))
    window = window_of(engine)
    window.setTitle("motcua — bàn phím")
    vm.show("procedures")
    window.show()

    pending: list[str] = []

    def ask() -> None:
        """A question: answered once the next frame is drawn, so layouts have settled after a click."""
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            app.quit()
            return
        pending.append(line)
        window.update()

    def answer() -> None:
        if not pending:
            return
        pending.clear()
        field = next(i for i in _walk(window.contentItem()) if i.objectName() == "procedureSearch")
        state = {
            "targets": targets(window.contentItem()),
            "text": field.property("text"),
            "procedures": [p["code"] for p in vm.procedures],
        }
        sys.stdout.write(json.dumps(state, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(ask)
    window.frameSwapped.connect(answer)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
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
