"""Start the dispenser window: ``motcua kiosk --site FILE --device ID``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtQml import QQmlApplicationEngine

from kiosk.dispenser import DispenserViewModel

QML_DIR = Path(__file__).parent / "qml"


def load_dispenser(vm: DispenserViewModel) -> QQmlApplicationEngine:
    """Load the dispenser QML bound to ``vm``; raise ``RuntimeError`` if QML fails to load."""
    engine = QQmlApplicationEngine()
    engine.rootContext().setContextProperty("vm", vm)
    engine.load(str(QML_DIR / "Dispenser.qml"))
    if not engine.rootObjects():
        raise RuntimeError(f"the kiosk screen {QML_DIR / 'Dispenser.qml'} failed to load")
    return engine
