"""A real kiosk window on a real X server (Xvfb), touched with real mouse events (xdotool).

The kiosk runs as its own process (``motcua kiosk --windowed``) exactly as on the hardware; the
server, the printer service and the printer simulator run in this process, so the test checks that
the number the window shows is the number the simulated thermal printer printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kiosk_rig import KioskRig
from support import wait_until, xvfb

from bus.client import BrokerUrl
from siteconf import Site

REPO = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("Xvfb") is None or shutil.which("xdotool") is None, reason="needs Xvfb and xdotool"
    ),
]


@pytest.fixture
def xserver(tmp_path: Path) -> Iterator[str]:
    """Xvfb on a display number it picks itself (``-displayfd``), so parallel runs never collide."""
    with xvfb(tmp_path / "xvfb.log", "1080x1920x24") as display:
        yield display


def site_file(site: Site, tmp_path: Path) -> Path:
    text = (REPO / "sites" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('id = "demo"', f'id = "{site.site.id}"', 1)
    text = text.replace(
        'journal = "var/demo/kiosk-{device}.db"', f'journal = "{tmp_path}/kiosk-{{device}}.db"'
    )
    # Open around the clock, like the rig's server, so the test passes on a Sunday night too.
    text = text.replace(
        'days = ["mon", "tue", "wed", "thu", "fri"]',
        'days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]',
        1,
    )
    text = text.replace(
        'sessions = [["07:30", "11:30"], ["13:30", "17:00"]]', 'sessions = [["00:00", "24:00"]]', 1
    )
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def xdotool(display: str, *args: str) -> str:
    env = {**os.environ, "DISPLAY": display}
    return subprocess.run(
        ["xdotool", *args], env=env, check=True, capture_output=True, text=True, timeout=30
    ).stdout


def test_a_real_click_on_a_real_window_prints_the_number_shown(
    xserver: str, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    targets = tmp_path / "targets.json"
    env = {**os.environ, "DISPLAY": xserver, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(REPO)}
    env.pop("QT_QUICK_BACKEND", None)
    with KioskRig(demo_site, mosquitto, tmp_path, journal=False) as rig:
        rig.backend.stop()  # the kiosk process below is kiosk-1; two clients with one id evict each other
        log = (tmp_path / "kiosk.log").open("wb")
        kiosk_args = ["--site", str(site_file(demo_site, tmp_path)), "--device", "kiosk-1"]
        extra = ["--broker", str(mosquitto), "--windowed", "--dump-targets", str(targets)]
        kiosk = subprocess.Popen(
            [sys.executable, "-m", "motcua_cli.main", "-v", "kiosk", *kiosk_args, *extra],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            assert wait_until(targets.exists, timeout=60), (tmp_path / "kiosk.log").read_text()
            window = xdotool(xserver, "search", "--sync", "--name", "máy lấy số").split()[0]
            origin = dict(
                line.split("=") for line in xdotool(xserver, "getwindowgeometry", "--shell", window).split()
            )
            button = next(t for t in json.loads(targets.read_text()) if t["name"] == "service-land")
            x = int(origin["X"]) + int(button["x"] + button["width"] / 2)
            y = int(origin["Y"]) + int(button["y"] + button["height"] / 2)
            time.sleep(0.5)  # let the window take input after mapping
            xdotool(xserver, "mousemove", "--sync", str(x), str(y), "click", "1")
            assert wait_until(lambda: len(rig.printed_texts()) == 1, timeout=20), (
                tmp_path / "kiosk.log"
            ).read_text()
            # The number the server issued for that click (the kiosk's offline block is taken from the
            # top of the series, so this is first_number) is the one on the paper; one click, one ticket.
            assert rig.server is not None
            (issued,) = [t for t in rig.server.engine.tickets.values() if not t.offline]
            assert issued.service == "land" and issued.code in rig.printed_texts()[0]
            time.sleep(0.5)
            assert len(rig.printed_texts()) == 1
            if shutil.which("import") is not None:  # ImageMagick, when installed: the real screen
                shot = REPO / "artifacts" / "kiosk" / "xvfb-after-click.png"
                shot.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(
                    ["import", "-display", xserver, "-window", "root", str(shot)], check=False, timeout=30
                )
        finally:
            kiosk.terminate()
            kiosk.wait(timeout=20)
            log.close()
        assert kiosk.returncode == 0, (tmp_path / "kiosk.log").read_text()
