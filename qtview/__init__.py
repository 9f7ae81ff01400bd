"""Qt Quick glue shared by the screens (the kiosk's dispenser, lookup and rating; the hall board).

Why a package of its own: the kiosk and the counter displays are separate device packages that must
not import each other (``[tool.importlinter]``), yet both load QML files over a view-model the same
way. This sits below them, next to the transports, and imports only PySide6.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtQml import QQmlApplicationEngine

__all__ = ["load_qml"]


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
