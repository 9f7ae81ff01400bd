"""Load the kiosk's Qt Quick screens over their view-models: ``motcua kiosk --site FILE --device ID``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtQml import QQmlApplicationEngine
from PySide6.QtQuick import QQuickWindow

from qtview import fit_window, load_qml

QML_DIR = Path(__file__).parent / "qml"
SCREENS = {"dispenser": "Dispenser.qml", "lookup": "Lookup.qml", "rating": "Rating.qml"}


def load_screen(
    mode: str, vm: QObject, size: tuple[int, int] | None = None, fullscreen: bool = False
) -> QQmlApplicationEngine:
    """Load the screen of ``mode`` (dispenser, lookup, rating) bound to ``vm`` as ``vm``."""
    ui = getattr(vm, "ui", None)  # the view-model's Looks: language, accessibility, idle
    if not isinstance(ui, QObject):
        raise TypeError(f"{type(vm).__name__} has no 'ui' (kiosk.screen.Looks) for the {mode} screen")
    engine = load_qml(QML_DIR / SCREENS[mode], "vm", vm, ui=ui)
    window = window_of(engine)
    if size is not None:  # laid out for exactly that size (screenshots in both orientations)
        ui.set_design(*size)  # type: ignore[attr-defined]
        window.resize(*size)
    elif fullscreen:
        window.showFullScreen()
    else:  # the panel's size, shrunk to the screen the window opens on (a demo on a desktop)
        fit_window(window, ui.designWidth, ui.designHeight)  # type: ignore[attr-defined]
    return engine


def window_of(engine: QQmlApplicationEngine) -> QQuickWindow:
    window = engine.rootObjects()[0]
    assert isinstance(window, QQuickWindow)
    return window


def load_dispenser(vm: QObject) -> QQmlApplicationEngine:
    """Load the dispenser QML bound to ``vm``."""
    return load_screen("dispenser", vm)
