"""Small helpers shared by the tests."""

from __future__ import annotations

import itertools
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from transport.sim import SimDevice, SimTransport, open_sim, register_simulator, unregister_simulator

if TYPE_CHECKING:  # Qt is imported only by the tests that show a window
    from PySide6.QtQuick import QQuickItem, QQuickWindow

_sim_names = itertools.count()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def find_item(window: QQuickWindow, name: str) -> QQuickItem:
    """The Qt Quick item called ``name`` in ``window``'s visual tree.

    Repeater delegates are not QObject children of the window, so ``findChild`` misses them.
    """
    todo = [window.contentItem()]
    while todo:
        item = todo.pop()
        if item.objectName() == name:
            return item
        todo += item.childItems()
    raise AssertionError(f"no item named {name!r}")


@contextmanager
def sim_link(device: SimDevice, prefix: str, timeout: float = 0.5) -> Iterator[SimTransport]:
    """Register ``device`` under a fresh ``sim://`` name and open the host end of its link."""
    name = f"{prefix}-{next(_sim_names)}"
    register_simulator(name, device)
    transport = open_sim(f"sim://{name}", name, timeout=timeout)
    try:
        yield transport
    finally:
        transport.close()
        unregister_simulator(name)


@contextmanager
def xvfb(log_path: Path, screen: str) -> Iterator[str]:
    """Xvfb with a ``screen`` such as ``1920x1080x24`` on a display number it picks itself
    (``-displayfd``), so parallel runs never collide; yields the display name (``:N``)."""
    read, write = os.pipe()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    os.close(write)
    with os.fdopen(read) as pipe:
        display = ":" + pipe.readline().strip()
    try:
        yield display
    finally:
        proc.terminate()
        proc.wait(timeout=10)
