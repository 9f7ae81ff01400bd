"""Start the dispenser window: ``motcua kiosk --site FILE --device ID``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtQml import QQmlApplicationEngine

from kiosk.dispenser import DispenserViewModel

QML_DIR = Path(__file__).parent / "qml"


def load_qml(path: Path, name: str, model: QObject) -> QQmlApplicationEngine:
    """Load ``path`` with ``model`` as the context property ``name``; raise if the QML fails."""
    engine = QQmlApplicationEngine()
    engine.rootContext().setContextProperty(name, model)
    engine.load(str(path))
    if not engine.rootObjects():
        raise RuntimeError(f"the screen {path} failed to load")
    return engine


def load_dispenser(vm: DispenserViewModel) -> QQmlApplicationEngine:
    """Load the dispenser QML bound to ``vm``."""
    return load_qml(QML_DIR / "Dispenser.qml", "vm", vm)
