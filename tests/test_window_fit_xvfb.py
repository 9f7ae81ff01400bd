"""Windows fit the screen they open on: the kiosk's 1080 x 1920 dispenser on a 1920 x 1080 screen, the
hall board's 1920 x 1080 on a 1366 x 768 one, on a real X server (Xvfb), with the real queue server and
Mosquitto behind them. The window runs in its own process (``tests/kiosk_window_probe.py``)."""

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
from kiosk_rig import KioskRig
from support import xvfb
from test_kiosk_xvfb import site_file

from bus.client import BrokerUrl
from siteconf import Site

REPO = Path(__file__).resolve().parent.parent
PROBE = Path(__file__).resolve().parent / "kiosk_window_probe.py"
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb"),
]


@pytest.fixture
def landscape(tmp_path: Path) -> Iterator[str]:
    with xvfb(tmp_path / "xvfb.log", "1920x1080x24") as display:
        yield display


@pytest.fixture
def small(tmp_path: Path) -> Iterator[str]:
    with xvfb(tmp_path / "xvfb-small.log", "1366x768x24") as display:
        yield display


def probe(display: str, site: Path, broker: BrokerUrl, out: Path, *extra: str) -> dict[str, Any]:
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(REPO)}
    env.pop("QT_QUICK_BACKEND", None)
    args = [sys.executable, str(PROBE), "--site", str(site), "--broker", str(broker), "--out", str(out)]
    done = subprocess.run([*args, *extra], check=False, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"]
        and inner["y"] >= outer["y"]
        and inner["right"] <= outer["right"]
        and inner["bottom"] <= outer["bottom"]
    )


def test_the_portrait_kiosk_window_fits_a_landscape_screen_with_its_qr_and_done_button(
    landscape: str, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    with KioskRig(demo_site, mosquitto, tmp_path, journal=False) as rig:
        rig.backend.stop()  # the probe's kiosk is kiosk-1
        report = probe(landscape, site_file(demo_site, tmp_path), mosquitto, tmp_path / "probe.json")
    assert report["screen"] == {"x": 0, "y": 0, "right": 1920, "bottom": 1080}
    assert report["number"] == "A1001"  # a real ticket from the server
    assert inside(report["window"], report["screen"]), report
    for part in ("done", "qr"):
        assert inside(report[part], report["window"]), (part, report)
        assert inside(report[part], report["screen"]), (part, report)
    # The same shape as the panel, as large as the screen allows.
    window = report["window"]
    height = window["bottom"] - window["y"]
    assert height == 1080 and abs((window["right"] - window["x"]) / height - 1080 / 1920) < 0.01


def test_the_hall_board_fits_a_smaller_screen_down_to_its_notice_bar(
    small: str, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    with KioskRig(demo_site, mosquitto, tmp_path, journal=False):
        report = probe(small, site_file(demo_site, tmp_path), mosquitto, tmp_path / "hall.json", "--hall")
    assert report["screen"] == {"x": 0, "y": 0, "right": 1366, "bottom": 768}
    assert inside(report["window"], report["screen"]), report
    assert inside(report["notice"], report["screen"]), report
