"""The Vietnamese on the simulator's paper reads back right (Tesseract ``vie``, Debian tesseract-ocr-vie)."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.profiles import find_profile
from printer.ticket import TicketData, render_ticket

MARGIN = 24
pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")


def words(text: str) -> list[str]:
    """NFC words without punctuation-only tokens: dashes and spaces are how OCR differs, not letters."""
    words = unicodedata.normalize("NFC", text).split()
    return [w for w in words if any(ch.isalnum() for ch in w)]


def ocr_text(png: Path) -> str:
    """What Tesseract reads on the page, as NFC words joined by single spaces."""
    return " ".join(" ".join(line) for line in _ocr_lines(png))


def _ocr_lines(png: Path) -> list[list[str]]:
    """Tesseract on the page with a white margin around it, as paper has (text that touches the image
    edge gains or loses tone marks: "tâm" read as "tầm")."""
    with Image.open(png) as page:
        framed = ImageOps.expand(page.convert("L"), MARGIN, fill=255)
    framed_png = png.with_name(f"{png.stem}-framed.png")
    framed.save(framed_png)
    done = subprocess.run(
        ["tesseract", str(framed_png), "-", "-l", "vie", "--psm", "6"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [words(line) for line in done.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("profile", ["generic-80", "generic-58"])
def test_the_civil_status_ticket_reads_back(profile: str, tmp_path: Path) -> None:
    ticket = TicketData(
        centre_name="Trung tâm Phục vụ hành chính công",
        service_name="Lĩnh vực Hộ tịch – Chứng thực",
        number="B2023",
        priority_label="Ưu tiên: Người cao tuổi",
        issued_at=datetime(2026, 11, 23, 8, 5),
        waiting=12,
        estimated_wait_min=35,
    )
    chosen = find_profile(profile)
    sim = EscposPrinterSim(width_dots=chosen.width)
    (page,) = sim.replay(render_ticket(ticket, profile=chosen))
    png = tmp_path / "ticket.png"
    page.save(png)
    text = " ".join(" ".join(words) for words in _ocr_lines(png))
    for expected in (
        "Lĩnh vực Hộ tịch – Chứng thực",
        "Số thứ tự",
        "Ưu tiên: Người cao tuổi",
        "Số người đang chờ",
    ):
        assert " ".join(words(expected)) in text, (expected, text)


def test_the_check_can_fail(tmp_path: Path) -> None:
    """A ticket with the tone marks stripped must not pass for the real text."""
    ticket = TicketData(
        centre_name="Trung tam",
        service_name="Linh vuc Ho tich - Chung thuc",
        number="B1",
        issued_at=datetime(2026, 1, 1),
        waiting=0,
    )
    sim = EscposPrinterSim()
    (page,) = sim.replay(render_ticket(ticket))
    page.save(tmp_path / "plain.png")
    text = " ".join(" ".join(words) for words in _ocr_lines(tmp_path / "plain.png"))
    assert " ".join(words("Lĩnh vực Hộ tịch – Chứng thực")) not in text
