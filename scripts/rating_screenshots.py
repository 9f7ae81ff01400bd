"""Screenshots of the rating tablet's screens, from the real window on an X server (Xvfb).

    python scripts/rating_screenshots.py OUT_DIR PREFIX [STATE ...]

Run it with ``DISPLAY`` set to an Xvfb display and ``QT_QPA_PLATFORM=xcb``. It drives the tablet's
view-model with counter states and server answers as the bus would deliver them (no broker needed)
and grabs the X screen with Pillow after each state. States: ``rate`` (the prompt for A1001),
``already_rated`` and ``expired`` (the server refused the rating just given), ``already_rated_en``
(the same in English), ``keypad_officer`` (serving, for an officer who identified on the keypad:
the name comes from the counter state).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import ImageGrab
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from bus import models as m
from kiosk.app import load_screen, window_of
from kiosk.rating import CounterView, RatingViewModel
from siteconf import load_site

REPO = Path(__file__).resolve().parent.parent
REFUSALS = {
    "already_rated": ("already_rated", "Số A1001 đã được đánh giá.", "ticket A1001 is already rated"),
    "expired": ("expired", "Đã hết thời gian đánh giá số A1001.", "ticket A1001 finished too long ago"),
}


def settle(app: QGuiApplication) -> None:
    """Let the scene graph render what the view-model changed (the window repaints on its own loop)."""
    QTest.qWait(700)


def main(out: Path, prefix: str, states: list[str]) -> int:
    app = QGuiApplication(sys.argv[:1])
    site = load_site(REPO / "sites" / "demo.toml")
    vm = RatingViewModel(site, "tablet-2", "mqtt://127.0.0.1:1")  # never started: driven by hand
    engine = load_screen("rating", vm, size=(800, 1280))
    window = window_of(engine)
    window.setPosition(0, 0)
    window.show()
    out.mkdir(parents=True, exist_ok=True)
    for state in states:
        english = state.endswith("_en")
        if english != (vm.ui._lang == "en"):
            vm.ui.toggleLanguage()
        vm._asking, vm._screen = None, "idle"
        vm.rated.clear()
        if state == "keypad_officer":  # opened from a keypad: the name is the account's, from the state
            vm._apply_state(
                CounterView(counter=2, current="B2001", officer="cb09", officer_name="Phạm Minh Châu")
            )
            settle(app)
            ImageGrab.grab(bbox=(0, 0, 800, 1280)).save(out / f"{prefix}{state}.png")
            print(out / f"{prefix}{state}.png", vm.current_screen())
            continue
        vm._apply_state(CounterView(counter=2, current="A1001", officer="cb-001"))
        vm._apply_state(CounterView(counter=2, current=None, officer="cb-001"))
        refusal = REFUSALS.get(state.removesuffix("_en"))
        if refusal is not None:
            vm.rate(2)
            vm.submit()
            code, vi, en = refusal
            error = m.ErrorInfo(code=code, message=vi, message_en=en)
            vm._on_verdict("resp", m.Response(request_id=vm.published[-1].id, ok=False, error=error))
        settle(app)
        window.requestUpdate()
        settle(app)
        shot = ImageGrab.grab(bbox=(0, 0, 800, 1280))
        shot.save(out / f"{prefix}{state}.png")
        print(out / f"{prefix}{state}.png", vm.current_screen())
    window.close()
    del engine
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3:] or ["rate", "already_rated"]))
