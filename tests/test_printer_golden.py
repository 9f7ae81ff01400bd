"""Byte-exact golden files for the layouts, and the CLI that writes and replays them.

The goldens under ``tests/golden/printer/`` are the exact bytes for the JSON data beside them. Raster
bands depend on the font files (Noto Sans from fonts-noto-core) and FreeType; after a deliberate layout
or font change, regenerate them with ``MOTCUA_UPDATE_GOLDEN=1 pytest tests/test_printer_golden.py`` and
look at the PNGs (``motcua sim printer --replay … --png …``) before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from firmware_sim.escpos_printer import EscposPrinterSim
from motcua_cli.main import main
from printer.escpos_decoder import EscposDecoder
from printer.render import render_named

GOLDEN = Path(__file__).parent / "golden" / "printer"
CASES = [
    ("ticket", "generic-80"),
    ("ticket", "generic-58"),
    ("ticket", "clone-80"),
    ("ticket", "pos-5890"),
    ("receipt", "generic-80"),
]


def _data(layout: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((GOLDEN / f"{layout}.json").read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize(("layout", "profile"), CASES)
def test_render_matches_the_golden_bytes(layout: str, profile: str) -> None:
    _, output = render_named(layout, _data(layout), profile)
    golden = GOLDEN / f"{layout}-{profile}.bin"
    if os.environ.get("MOTCUA_UPDATE_GOLDEN"):
        golden.write_bytes(output)
    expected = golden.read_bytes()
    assert len(output) == len(expected)
    assert output == expected


def test_ticket_bytes_are_within_the_budget() -> None:
    """≤ 12 KB for the standard 80 mm ticket: ≤ 1.2 s at 115200 baud (issue 4)."""
    assert len((GOLDEN / "ticket-generic-80.bin").read_bytes()) <= 12 * 1024


def test_native_and_raster_qr_follow_the_profile() -> None:
    names = {
        p: [c.name for c in EscposDecoder().feed((GOLDEN / f"ticket-{p}.bin").read_bytes())]
        for p in ("generic-80", "pos-5890")
    }
    assert "GS ( k" in names["generic-80"]
    assert "GS ( k" not in names["pos-5890"]
    assert names["pos-5890"].count("GS v 0") == names["generic-80"].count("GS v 0") + 1


def test_receipt_has_the_dossier_code_as_text_qr_and_code128() -> None:
    commands = EscposDecoder().feed((GOLDEN / "receipt-generic-80.bin").read_bytes())
    qr = [c.data for c in commands if c.name == "GS ( k"]
    assert b"1P0https://hcc.example.gov.vn/hs/H21.65-220914-0011" in qr
    barcodes = [(c.args, c.data) for c in commands if c.name == "GS k"]
    # set B, then set C (one byte per two digits) for the digit runs: 211 modules instead of 244
    assert barcodes == [(b"\x49", b"{BH21.65-{C\x16\x09\x0e{B-{C\x00\x0b")]
    texts = [c.data for c in commands if c.name == "text"]
    assert b"H21.65-220914-0011" in texts
    assert all(b"Nguy" not in t for t in texts)  # the name is Vietnamese: raster only, never native text


def test_cli_render_writes_the_golden_bytes_and_replay_draws_them(tmp_path: Path) -> None:
    out, png = tmp_path / "t.bin", tmp_path / "t.png"
    code = main(
        [
            "printer",
            "render",
            "--layout",
            "ticket",
            "--data",
            str(GOLDEN / "ticket.json"),
            "--profile",
            "generic-58",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert out.read_bytes() == (GOLDEN / "ticket-generic-58.bin").read_bytes()
    assert main(["sim", "printer", "--replay", str(out), "--png", str(png), "--width", "384"]) == 0
    sim = EscposPrinterSim(width_dots=384)
    (page,) = sim.replay(out.read_bytes())
    from PIL import Image

    with Image.open(png) as drawn:
        assert drawn.size == page.size
        assert drawn.convert("1").tobytes() == page.tobytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layout", "ticket", "--profile", "nope"], "unknown printer profile 'nope'"),
        (["--layout", "receipt"], "dossier_code: Field required"),
        (["--layout", "ticket", "--pdf", "x.pdf"], "--pdf is for the receipt"),
    ],
)
def test_cli_bad_input_is_named(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.bin"
    code = main(["printer", "render", "--data", str(GOLDEN / "ticket.json"), "--out", str(out), *args])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_cli_bad_json_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code = main(["printer", "render", "--layout", "ticket", "--data", str(bad), "--out", str(tmp_path / "o")])
    assert code == 2
    assert f"{bad} is not UTF-8 JSON" in capsys.readouterr().err
