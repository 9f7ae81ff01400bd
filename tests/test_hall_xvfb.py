"""The hall board in a real window on a real X server (Xvfb), run as ``motcua hall`` like on the TV:
it rebuilds its list of last calls from ``calls_since`` at start, then shows a new call headlined
and first in the list. The screenshot is saved (``MOTCUA_SCREENS=/dir`` keeps a copy as
``hall-board.png``) and checked for the highlight's amber and the list beside the counters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from broker_support import as_identity
from PIL import Image, ImageGrab
from support import wait_until, xvfb
from test_hall_gaps import CallsResponder, call, state

from bus.client import BrokerUrl, BusClient
from siteconf import Site

REPO = Path(__file__).resolve().parent.parent
AMBER = (0xFF, 0xB3, 0x00)
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("Xvfb") is None or shutil.which("xdotool") is None, reason="needs Xvfb and xdotool"
    ),
]


@pytest.fixture
def xserver(tmp_path: Path) -> Iterator[str]:
    """Xvfb on a display number it picks itself (``-displayfd``), the size of a hall TV."""
    with xvfb(tmp_path / "xvfb.log", "1920x1080x24") as display:
        yield display


def amber_share(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    raw = image.convert("RGB").crop(box).resize((192, 108)).tobytes()
    pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    return sum(1 for p in pixels if all(abs(a - b) < 24 for a, b in zip(p, AMBER, strict=True))) / len(pixels)


def test_the_board_shows_its_history_in_a_real_window(
    xserver: str, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    site_file = tmp_path / "site.toml"
    text = (REPO / "sites" / "demo.toml").read_text(encoding="utf-8")
    site_file.write_text(text.replace('id = "demo"', f'id = "{demo_site.site.id}"', 1), encoding="utf-8")
    server = BusClient(as_identity(mosquitto, "queue-server"), demo_site.site.id, "fake-server")
    stored = [call(s, counter=1 + s % 4) for s in range(1, 9)]
    responder = CallsResponder(server.start(), stored)
    for n in range(1, 5):
        seq = max(c.seq or 0 for c in stored if c.counter == n)
        server.publish(server.topics.counter_state(n), state(n, seq), retain=True).wait_for_publish(5)
    env = {**os.environ, "DISPLAY": xserver, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(REPO)}
    log = (tmp_path / "hall.log").open("wb")
    board = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "motcua_cli.main",
            "hall",
            "--site",
            str(site_file),
            "--broker",
            str(mosquitto),
            "--no-voice",
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        assert wait_until(lambda: bool(responder.asked), timeout=30)  # it asked to rebuild its list
        assert responder.asked[0] == (2, 6)
        server.publish(server.topics.calls(), call(9, counter=2))
        shot = tmp_path / "hall-board.png"

        def highlighted() -> bool:
            image = ImageGrab.grab(xdisplay=xserver)
            image.save(shot)
            return amber_share(image, (1300, 200, 1880, 1000)) > 0.01  # the current call in the list

        assert wait_until(highlighted, timeout=30)
        assert board.poll() is None, (tmp_path / "hall.log").read_text()
        if screens := os.environ.get("MOTCUA_SCREENS"):
            Path(screens).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(screens) / "hall-board.png")
    finally:
        board.terminate()
        board.wait(timeout=15)
        log.close()
        for n in range(1, 5):
            server.publish(server.topics.counter_state(n), "", retain=True)
        server.stop()
