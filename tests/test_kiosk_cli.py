"""``motcua kiosk``: clear errors for a wrong device or mode; the voice hook speaks through espeak-ng."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
    capsys: pytest.CaptureFixture[str], device: str, mode: str, problem: str
) -> None:
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
