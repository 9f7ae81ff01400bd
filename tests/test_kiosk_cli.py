"""``motcua kiosk``: clear errors for a wrong device or mode; the voice hook speaks through espeak-ng."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import wait_until

from bus.client import BrokerUrl
from kiosk.voice import EspeakVoice
from motcua_cli.main import main

DEMO = Path(__file__).resolve().parent.parent / "sites" / "demo.toml"


def test_an_unknown_device_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="no device 'kiosk-9' in the site file"):
        main(["kiosk", "--site", str(DEMO), "--device", "kiosk-9", "--windowed"])


@pytest.mark.parametrize(
    ("device", "mode", "problem"),
    [
        ("kiosk-1", "rating", "rating tablet kiosk-1 needs the counter it belongs to"),
        ("printer-k1", "dispenser", "kiosk printer-k1 has no printer in the site file"),
    ],
)
def test_a_device_that_cannot_be_that_screen_is_refused(
    qapp: object, capsys: pytest.CaptureFixture[str], device: str, mode: str, problem: str
) -> None:
    # ``qapp``: the kiosk makes its application only if none exists; pytest-qt's must come first, or
    # every later Qt test in this process meets a plain QGuiApplication.
    code = main(["kiosk", "--site", str(DEMO), "--device", device, "--mode", mode, "--windowed"])
    assert code == 2
    assert problem in capsys.readouterr().err


def test_a_bad_mode_is_an_argument_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["kiosk", "--site", str(DEMO), "--device", "kiosk-1", "--mode", "hall"])
    assert "invalid choice: 'hall'" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_voice_guidance_speaks_vietnamese_without_blocking(tmp_path: Path) -> None:
    voice = EspeakVoice(out_dir=tmp_path)
    voice("vi", "Số thứ tự của bạn là A1023")
    voice.wait()
    voice("en", "Your number is A1023")
    voice.wait()
    wavs = sorted(tmp_path.glob("voice-*.wav"))
    assert [w.name for w in wavs] == ["voice-0001.wav", "voice-0002.wav"]
    for wav in wavs:
        data = wav.read_bytes()
        assert data[:4] == b"RIFF" and data[8:12] == b"WAVE" and len(data) > 10_000  # real speech


@pytest.mark.integration
@pytest.mark.parametrize(
    ("mode", "device", "button"), [("lookup", "kiosk-1", "menu-dossier"), ("rating", "tablet-2", "")]
)
def test_each_mode_starts_as_its_own_process(
    tmp_path: Path, mosquitto: BrokerUrl, mode: str, device: str, button: str
) -> None:
    site = tmp_path / "site.toml"
    text = DEMO.read_text(encoding="utf-8").replace('id = "demo"', f'id = "cli-{mode}"', 1)
    site.write_text(text, encoding="utf-8")  # the demo site has counter 2's rating tablet, tablet-2
    targets = tmp_path / "targets.json"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(DEMO.parent.parent)}
    args = ["--site", str(site), "--device", device, "--mode", mode, "--broker", str(mosquitto)]
    with (tmp_path / "log").open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "motcua_cli.main",
                "kiosk",
                *args,
                "--windowed",
                "--dump-targets",
                str(targets),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_until(targets.exists, timeout=60), (tmp_path / "log").read_text()
        found = json.loads(targets.read_text())
        names = {t["name"] for t in found}
        assert "btn-language" in names and (not button or button in names)
        # The window is fitted to the offscreen platform's 800 x 600 screen, its content scaled down:
        # every target is reported as drawn (window pixels), so it fits in that screen.
        for t in found:
            assert t["x"] >= 0 and t["x"] + t["width"] <= 800 + 1, t
            assert t["y"] >= 0 and t["y"] + t["height"] <= 600 + 1, t
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert proc.returncode == 0, (tmp_path / "log").read_text()
