"""The ``[scanning]`` table: defaults, bad values and cross references named by key path."""

from __future__ import annotations

from pathlib import Path

import pytest

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
