"""The on-screen Vietnamese keyboard: the tone rules in its script, and real clicks on a real window.

The window runs as its own process on Xvfb (``kiosk_keyboard_app.py``); xdotool moves the X pointer
and clicks, exactly as a touch panel's driver would, and the window reports what its field holds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kiosk_screens import SIZES, new_dispenser, touch_targets
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtQml import QJSEngine, QJSValue
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot
from support import find_item, xvfb

from kiosk.app import load_screen, window_of
from siteconf import Site

REPO = Path(__file__).resolve().parent.parent
TONES = REPO / "kiosk" / "qml" / "vnkeys.js"


@pytest.fixture(scope="module")
def js(qapp: object) -> QJSEngine:
    engine = QJSEngine()
    result: Any = engine.evaluate(TONES.read_text(encoding="utf-8"), str(TONES))  # stubs say a tuple
    assert not result.isError(), result.toString()
    return engine


@pytest.mark.parametrize(
    ("text", "tone", "expected"),
    [
        ("dang ky", "sac", "dang ký"),
        ("Đăng", "sac", "Đắng"),
        ("hoa", "huyen", "hòa"),  # no final consonant: the first vowel
        ("hoang", "huyen", "hoàng"),  # a final consonant: the second
        ("ngoai", "huyen", "ngoài"),
        ("nguoi", "huyen", "nguòi"),
        ("ngươi", "huyen", "người"),  # ư ơ: the tone goes on ơ
        ("thuyên", "huyen", "thuyền"),
        ("qua", "sac", "quá"),  # "qu" is a consonant
        ("gia", "huyen", "già"),  # so is "gi" before a vowel
        ("gi", "sac", "gí"),
        ("ký", "sac", "ky"),  # the same tone again takes it off
        ("ká", "huyen", "kà"),  # another tone replaces it
        ("KY", "sac", "KÝ"),
        ("nh", "sac", "nh"),  # no vowel: nothing to mark
        ("", "nang", ""),
        ("viet", "nang", "viẹt"),  # without ê the rule still picks the second vowel
        ("viêt", "nang", "việt"),
        ("khai sinh", "hoi", "khai sỉnh"),  # only the last word
        ("khai", "unknown", "khai"),
    ],
)
def test_tone_marks_go_on_the_right_vowel(js: QJSEngine, text: str, tone: str, expected: str) -> None:
    result = js.globalObject().property("applyTone").call([QJSValue(text), QJSValue(tone)])
    assert not result.isError(), result.toString()
    assert result.toString() == expected


pytestmark_xvfb = pytest.mark.skipif(
    shutil.which("Xvfb") is None or shutil.which("xdotool") is None, reason="needs Xvfb and xdotool"
)


class KeyboardWindow:
    """The window process, its X display, and xdotool clicks on it by target name."""

    def __init__(self, display: str, log: Path, *extra: str) -> None:
        self.display = display
        self.fitted = "--fit" in extra
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(REPO)}
        env.pop("QT_QUICK_BACKEND", None)
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "tests" / "kiosk_keyboard_app.py"),
                str(REPO / "sites" / "demo.toml"),
                *extra,
            ],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        try:
            assert self.proc.stdout is not None
            # The window says its X id once it has drawn on the screen. Never ``xdotool search``: it walks
            # every window on the server, and when Qt destroys one of its helper windows meanwhile,
            # xdotool (before 2021's release) dies of the X error BadWindow with exit status 1.
            ready, window = self.proc.stdout.readline().split()
            assert ready == "ready"
            geometry = dict(
                line.split("=") for line in self.xdotool("getwindowgeometry", "--shell", window).split()
            )
        except BaseException:
            self.kill()  # no window: leave no process or open file behind for later tests
            raise
        self.origin = (int(geometry["X"]), int(geometry["Y"]))

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=20)
        self._close_streams()

    def xdotool(self, *args: str) -> str:
        env = {**os.environ, "DISPLAY": self.display}
        return subprocess.run(
            ["xdotool", *args], env=env, check=True, capture_output=True, text=True, timeout=30
        ).stdout

    def state(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("state\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return answer

    def click(self, name: str) -> None:
        """Click the middle of the visible target ``name``; the state asked after it is the barrier."""
        target = next(t for t in self.state()["targets"] if t["name"] == name)
        x = self.origin[0] + int(target["x"] + target["width"] / 2)
        y = self.origin[1] + int(target["y"] + target["height"] / 2)
        # No --sync: it waits for a pointer motion, and none comes when the key is pressed twice.
        self.xdotool("mousemove", str(x), str(y), "click", "1")

    def visible(self, name: str) -> bool:
        return any(t["name"] == name for t in self.state()["targets"])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=20)
        self._close_streams()

    def _close_streams(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self.log.close()


SCREENS = {
    "panel": ("1080x1920x24", ()),  # the kiosk's own portrait panel, the window at its size
    "fitted": ("1920x1080x24", ("--fit",)),  # a landscape screen: the window fitted, its content scaled
}


@pytest.fixture(params=sorted(SCREENS))
def window(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyboardWindow]:
    screen, extra = SCREENS[request.param]
    with xvfb(tmp_path / "xvfb.log", screen) as display:
        win = KeyboardWindow(display, tmp_path / "window.log", *extra)
        try:
            yield win
        finally:
            win.close()


KEYS = {" ": "vk-space"}


@pytest.mark.integration
@pytestmark_xvfb
def test_real_clicks_type_vietnamese_into_the_search(window: KeyboardWindow) -> None:
    # Fitted: the 1080 x 1920 panel's layout on a 1080 px high screen, every key drawn smaller.
    width, height = window.state()["window"]
    assert (width, height) == ((607, 1080) if window.fitted else (1080, 1920))
    assert not window.visible("vnKeyboard")  # only once a text field is touched
    window.click("procedureSearch")
    assert window.visible("vnKeyboard")
    for ch in "khai sinh":
        window.click(KEYS.get(ch, f"vk-{ch}"))
    state = window.state()
    assert state["text"] == "khai sinh"
    assert state["procedures"] == ["1.001193"]  # the search ran on what the keys typed
    for _ in "khai sinh":
        window.click("vk-backspace")
    assert window.state()["text"] == ""
    for key in ["vk-shift", "vk-đ", "vk-ă", "vk-n", "vk-g", "vk-space", "vk-k", "vk-y", "vk-tone-sac"]:
        window.click(key)
    state = window.state()
    assert state["text"] == "Đăng ký"
    assert state["procedures"] == ["1.001193", "1.012345", "2.000575"]
    window.click("vk-hide")
    assert not window.visible("vnKeyboard")


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("orientation", sorted(SIZES))
def test_every_key_is_a_15_mm_target(qtbot: QtBot, demo_site: Site, orientation: str, large: bool) -> None:
    vm = new_dispenser(demo_site)
    if large:
        vm.ui.toggleLargeText()
    engine = load_screen("dispenser", vm, SIZES[orientation])
    window = window_of(engine)
    try:
        qtbot.waitExposed(window)
        window.requestActivate()
        qtbot.waitUntil(window.isActive, timeout=2000)
        field = find_item(window, "search")
        centre = field.mapToScene(QPointF(field.width() / 2, field.height() / 2)).toPoint()
        QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(centre))
        qtbot.waitUntil(lambda: find_item(window, "vnKeyboard").isVisible(), timeout=2000)
        with qtbot.waitSignal(window.frameSwapped, timeout=2000):
            window.update()
        screen = demo_site.kiosk.screen
        min_px = 15.0 * min(screen.width_px / screen.width_mm, screen.height_px / screen.height_mm)
        keys = [t for t in touch_targets(window.contentItem()) if t.objectName().startswith("vk-")]
        assert (
            len(keys) == 10 + 10 + 9 + 9 + 7 + 5 + 2
        )  # digits, three letter rows (+⇧ ⌫), ă..ư, tones, space, hide
        for key in keys:
            corner = key.mapToScene(QPointF(0, 0))
            assert min(key.width(), key.height()) >= min_px, (
                f"{key.objectName()} is {key.width()}x{key.height()}"
            )
            assert corner.x() >= 0 and corner.x() + key.width() <= window.width() + 1, key.objectName()
            assert corner.y() >= 0 and corner.y() + key.height() <= window.height() + 1, key.objectName()
    finally:
        window.close()
        del engine
