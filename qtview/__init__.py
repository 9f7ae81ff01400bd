"""Qt Quick glue shared by the screens (the kiosk's dispenser, lookup and rating; the hall board).

Why a package of its own: the kiosk and the counter displays are separate device packages that must
not import each other (``[tool.importlinter]``), yet both load QML files over a view-model the same
way. This sits below them, next to the transports, and imports only PySide6.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from PySide6.QtCore import Property, QObject, QRectF, Signal
from PySide6.QtQml import QQmlApplicationEngine
from PySide6.QtQuick import QQuickItem, QQuickWindow

__all__ = ["fit_window", "load_qml", "qt_property"]

T = TypeVar("T")


def qt_property(kind: type, fget: Callable[[Any], T], *, notify: Signal | None = None) -> T:
    """A read-only Qt property of ``kind`` read through ``fget``; constant unless it has a ``notify``.

    QML reads view-model state through ``PySide6.QtCore.Property`` objects, but PySide6's stubs give
    ``Property`` no typed ``__get__``, so ``model.screen`` would read as ``Property`` in Python and a
    test comparing it with a string would fail ``mypy --strict``. This builds the very same
    ``Property`` and tells the type checker it is the getter's return type.
    """
    if notify is not None:
        return cast(T, Property(kind, fget, notify=notify))
    return cast(T, Property(kind, fget, constant=True))


class QmlLoadError(RuntimeError):
    """A QML file that did not load: a syntax error, a missing import or a missing file (Qt logs why)."""


def load_qml(path: Path, name: str, model: QObject, **extra: QObject) -> QQmlApplicationEngine:
    """Load ``path`` with ``model`` as context property ``name`` (and ``extra`` ones); raise if it fails."""
    engine = QQmlApplicationEngine()
    engine.rootContext().setContextProperty(name, model)
    for key, value in extra.items():
        engine.rootContext().setContextProperty(key, value)
    engine.load(str(path))
    if not engine.rootObjects():
        raise QmlLoadError(f"the screen {path} failed to load; the Qt messages above say why")
    return engine


def fit_window(window: QQuickWindow, width: int, height: int) -> float:
    """Open ``window`` at ``width`` x ``height`` or, when the screen it opens on has less room, at the
    largest size of the same shape inside that screen's available geometry (title bar included);
    centred there. Returns the scale (1.0 when it fits); the QML scales its content to the window.
    """
    screen = window.screen()
    if screen is None:
        window.resize(width, height)
        return 1.0
    area = screen.availableGeometry()
    frame = window.frameMargins()
    room_w = area.width() - frame.left() - frame.right()
    room_h = area.height() - frame.top() - frame.bottom()
    scale = min(1.0, room_w / width, room_h / height)
    w, h = max(1, int(width * scale)), max(1, int(height * scale))
    window.resize(w, h)
    window.setPosition(area.x() + (area.width() - w) // 2, area.y() + (area.height() - h) // 2)
    return scale


def drawn_items(root: QQuickItem, wanted: Callable[[QQuickItem], bool]) -> list[dict[str, object]]:
    """``[{"name", "x", "y", "width", "height"}]`` of every visible item under ``root`` that ``wanted``
    picks, as drawn in window pixels: through every parent's scale (a window fitted to a smaller screen
    scales its content), which is where a finger or a test's click lands."""
    found: list[dict[str, object]] = []
    todo = [root]
    while todo:
        item = todo.pop()
        if not item.isVisible():
            continue
        if wanted(item):
            box = item.mapRectToScene(QRectF(0, 0, item.width(), item.height()))
            found.append(
                {
                    "name": item.objectName(),
                    "x": box.x(),
                    "y": box.y(),
                    "width": box.width(),
                    "height": box.height(),
                }
            )
        todo += item.childItems()
    return found
