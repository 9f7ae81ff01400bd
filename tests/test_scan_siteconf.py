"""The ``[scanning]`` table: defaults, bad values and cross references named by key path."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from scanner.codes import DEFAULT_SYMBOLOGIES
from scanner.pipeline import ScanSettings, process_image
from scanner.testcorpus.documents import code_image
from siteconf import SiteFileError, load_site

DEMO = Path(__file__).resolve().parent.parent / "sites" / "demo.toml"


def _site(tmp_path: Path, extra: str) -> Path:
    text = DEMO.read_text().split("\n[scanning]")[0]
    path = tmp_path / "site.toml"
    path.write_text(text + extra)
    return path


def test_the_demo_scanning_table_loads() -> None:
    scanning = load_site(DEMO).scanning
    assert scanning.dpi == 200 and scanning.decoders == ["zxing"] and scanning.stations == []


def test_bad_scanning_values_are_named(tmp_path: Path) -> None:
    path = _site(tmp_path, '\n[scanning]\ndpi = 150\ndecoders = ["zbar"]\nkey = "secret"\n')
    with pytest.raises(SiteFileError) as err:
        load_site(path)
    text = "\n".join(err.value.problems)
    assert "scanning.dpi" in text and "scanning.decoders" in text and "scanning.key" in text


def test_a_station_must_name_a_scanner_device_and_a_store(tmp_path: Path) -> None:
    path = _site(
        tmp_path,
        '\n[scanning]\n[[scanning.stations]]\ndevice = "led-1"\nsource = "escl://10.0.0.31?source=Feeder"\n'
        '[[scanning.stations]]\ndevice = "scanner-9"\nsource = "sane:test"\n',
    )
    with pytest.raises(SiteFileError) as err:
        load_site(path)
    text = "\n".join(err.value.problems)
    assert "scanning.stations[0].device: 'led-1' is a led_display, not a scanner" in text
    assert "scanning.stations[1].device: no device 'scanner-9'" in text
    assert "scanning.store_url" in text
    bad_source = _site(tmp_path, '\n[scanning]\n[[scanning.stations]]\ndevice = "x"\nsource = "ftp://x"\n')
    with pytest.raises(SiteFileError, match="capture source"):
        load_site(bad_source)


def test_symbology_names_are_checked_by_the_scanners_hook(tmp_path: Path) -> None:
    path = _site(tmp_path, '\n[scanning]\nsymbologies = ["qr", "Code 39", "QRCode"]\n')
    with pytest.raises(SiteFileError) as err:
        load_site(path)
    text = "\n".join(err.value.problems)
    assert "scanning.symbologies[1]: unknown symbology 'Code 39'" in text
    assert "scanning.symbologies[2]: QRCode is listed twice" in text
    assert "symbologies[0]" not in text  # "qr" is QRCode's alias


def _two_codes_page() -> np.ndarray:
    """A white A4 page at 200 dpi with a QR at the top and a Code 39 lower down."""
    page = np.full((2339, 1654), 255, np.uint8)
    for top, symbol in (
        (200, code_image("QRCode", "MCSEP|H21.65-261204-0042", 8)),
        (1200, code_image("Code39", "HS0042", 4, 160)),
    ):
        h, w = symbol.shape
        page[top : top + h, 200 : 200 + w] = symbol
    return cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)


def test_the_station_reads_the_symbologies_and_settings_of_the_site_file(tmp_path: Path) -> None:
    table = '\n[scanning]\nsymbologies = ["qr"]\njpeg_quality = 60\nosd = false\n'
    only_qr = load_site(_site(tmp_path, table))
    settings = ScanSettings.from_site(only_qr.scanning)
    assert settings.symbologies == ("QRCode",) and settings.jpeg_quality == 60 and not settings.osd
    page = _two_codes_page()
    read = {c.symbology for c in process_image(page, "p1", 200.0, settings).codes}
    assert read == {"QRCode"}  # the Code 39 is not looked for
    every = ScanSettings.from_site(load_site(DEMO).scanning)
    assert every.symbologies == DEFAULT_SYMBOLOGIES
    assert {c.symbology for c in process_image(page, "p1", 200.0, every).codes} == {"QRCode", "Code39"}
