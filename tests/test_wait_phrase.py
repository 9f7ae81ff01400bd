"""The estimated wait in words, and a ticket whose estimate is zero read back from the simulator's paper."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from test_printer_ocr import ocr_text, words

from bus.wait_phrase import wait_phrase
from firmware_sim.escpos_printer import EscposPrinterSim
from printer.escpos_decoder import EscposDecoder
from printer.profiles import find_profile
from printer.ticket import TicketData, render_ticket


@pytest.mark.parametrize(
    ("minutes", "vi", "en"),
    [
        (None, None, None),
        (0, "Sắp đến lượt", "Almost your turn"),
        (1, "khoảng 1 phút", "about 1 min"),
        (35, "khoảng 35 phút", "about 35 min"),
        (60, "khoảng 1 giờ", "about 1 h"),
        (80, "khoảng 1 giờ 20 phút", "about 1 h 20 min"),
    ],
)
def test_phrases(minutes: int | None, vi: str | None, en: str | None) -> None:
    assert wait_phrase(minutes) == vi
    assert wait_phrase(minutes, "en") == en


def test_a_negative_estimate_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        wait_phrase(-1)


def _ticket(minutes: int) -> TicketData:
    return TicketData(
        centre_name="Trung tâm Phục vụ hành chính công",
        service_name="Lĩnh vực Đất đai",
        number="A7",
        issued_at=datetime(2026, 11, 23, 8, 5),
        waiting=0,
        estimated_wait_min=minutes,
    )


def test_a_zero_estimate_never_prints_as_a_number() -> None:
    commands = EscposDecoder().feed(render_ticket(_ticket(0)))
    texts = [c.data for c in commands if c.name == "text"]
    assert not any(b"~" in t for t in texts)
    assert b"0" in texts  # the people waiting: 0, a number on its own line


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
@pytest.mark.parametrize("profile", ["generic-80", "generic-58"])
def test_a_zero_estimate_reads_back_as_words(profile: str, tmp_path: Path) -> None:
    chosen = find_profile(profile)
    (page,) = EscposPrinterSim(width_dots=chosen.width).replay(render_ticket(_ticket(0), profile=chosen))
    page.save(tmp_path / "t.png")
    text = ocr_text(tmp_path / "t.png")
    assert " ".join(words("Thời gian chờ dự kiến")) in text, text
    assert " ".join(words("Sắp đến lượt")) in text, text
    assert "~0" not in text
