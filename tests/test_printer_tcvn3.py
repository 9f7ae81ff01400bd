"""TCVN-3 native text: a correct table ("Đ" is U+0110), page switching, raster for what does not encode."""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest
from pydantic import ValidationError

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.escpos_decoder import EscposDecoder
from printer.profiles import PrinterProfile
from printer.tcvn3 import LOWER, UPPER, decoding, encode_line, table
from printer.ticket import TicketData, render_ticket

GOLDEN = Path(__file__).parent / "golden" / "printer"
TCVN3 = PrinterProfile(base="TM-T20II", text_mode="tcvn3")
PAGES = (30, 31)
TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")


def _vietnamese_letters() -> list[str]:
    letters = ["đ", "Đ"]
    for vowel in "aăâeêioôơuưy":
        for tone in TONES:
            ch = unicodedata.normalize("NFC", vowel + tone)
            letters += [ch, ch.upper()]
    return [ch for ch in letters if not ch.isascii()]


def test_every_vietnamese_letter_is_in_one_of_the_two_tables() -> None:
    letters = _vietnamese_letters()
    assert len(letters) == 134  # 67 lower-case + 67 capitals outside ASCII
    missing = [ch for ch in letters if ch not in table(LOWER) and ch not in table(UPPER)]
    assert missing == []


def test_d_with_stroke_is_u0110_not_eth() -> None:
    assert table(UPPER)["Đ"] == 0xA7
    assert table(LOWER)["đ"] == 0xAE
    assert "\u00d0" not in table(UPPER)  # the printer database's Eth lookalike
    assert encode_line("Đ", PAGES) == (b"\x1bt\x1f\xa7", 31)
    assert encode_line("\u00d0", PAGES) is None  # Eth is not Vietnamese: drawn, not replaced


def test_pages_switch_only_when_needed_and_round_trip() -> None:
    text = "Lĩnh vực Hộ tịch, ĐẤT ĐAI"
    encoded = encode_line(text, PAGES)
    assert encoded is not None
    data, page = encoded
    assert data == b"L\x1bt\x1e\xdcnh v\xf9c H\xe9 t\xdech, \x1bt\x1f\xa7\xcaT \xa7AI"
    assert page == 31
    decoded, current = [], None
    i = 0
    while i < len(data):
        if data[i : i + 2] == b"\x1bt":
            current = LOWER if data[i + 2] == 30 else UPPER
            i += 3
            continue
        decoded.append(chr(data[i]) if data[i] < 0x80 else decoding(current or LOWER)[data[i]])
        i += 1
    assert "".join(decoded) == text
    assert encode_line("đ", PAGES, current=30) == (b"\xae", 30)


def test_a_line_that_does_not_encode_is_raster_never_a_question_mark() -> None:
    ticket = TicketData.model_validate(json.loads((GOLDEN / "ticket.json").read_text(encoding="utf-8")))
    commands = EscposDecoder().feed(render_ticket(ticket, profile=TCVN3))
    texts = [c.data for c in commands if c.name == "text"]
    assert all(b"?" not in t for t in texts)
    assert [c.name for c in commands].count("GS v 0") == 1  # only the service line: "–" is not in TCVN-3
    sim = EscposPrinterSim()
    sim.replay(render_ticket(ticket, profile=TCVN3))
    page_text = sim.page_texts[0]
    assert "Ưu tiên: Người cao tuổi" in page_text and "Số thứ tự" in page_text
    assert "\ufffd" not in page_text


def test_tcvn3_ticket_golden_bytes() -> None:
    values = json.loads((GOLDEN / "ticket.json").read_text(encoding="utf-8"))
    values["service_name"] = "Lĩnh vực Hộ tịch - Chứng thực"
    output = render_ticket(TicketData.model_validate(values), profile=TCVN3)
    golden = GOLDEN / "ticket-tm-t20ii-tcvn3.bin"
    if os.environ.get("MOTCUA_UPDATE_GOLDEN"):
        golden.write_bytes(output)
    assert output == golden.read_bytes()
    assert len(output) < 1024  # native text: a tenth of the raster ticket


def test_tcvn3_needs_a_base_profile_with_both_pages() -> None:
    with pytest.raises(ValidationError, match="has no TCVN-3-1 at page 30"):
        PrinterProfile(base="POS-5890", text_mode="tcvn3")
