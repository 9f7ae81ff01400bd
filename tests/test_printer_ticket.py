"""Ticket rendering: bytes on the wire, and what the simulated printer prints from them."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from pydantic import ValidationError

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.escpos_decoder import EscposDecoder
from printer.ticket import LABEL_NUMBER, TicketData, render_ticket

SAMPLE = TicketData(
    centre_name="Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh",
    service_name="Lĩnh vực Đất đai",
    number="A1023",
    priority_label="Ưu tiên: Người cao tuổi",
    issued_at=datetime(2026, 11, 23, 8, 5),
    waiting=4,
    estimated_wait_min=20,
    qr_url="https://hcc.example.gov.vn/t/3q9xv0a7",
)


def _commands(data: bytes) -> list[tuple[str, bytes, bytes]]:
    return [(c.name, c.args, c.data) for c in EscposDecoder().feed(data)]


def test_ticket_starts_with_init_and_cancel_kanji_and_ends_with_partial_cut() -> None:
    data = render_ticket(SAMPLE)
    assert data.startswith(b"\x1b\x40\x1c\x2e")
    assert data.endswith(b"\x1b\x64\x06\x1d\x56\x01")


def test_vietnamese_lines_are_raster_and_ascii_parts_native() -> None:
    commands = _commands(render_ticket(SAMPLE))
    names = [name for name, _, _ in commands]
    texts = [data.decode("ascii") for name, _, data in commands if name == "text"]
    assert "A1023" in texts
    assert "23/11/2026 08:05" in texts
    assert "4" in texts
    assert not any("~" in text for text in texts)  # the estimate is words: "khoảng 20 phút", a band
    assert all(text.isascii() for text in texts)
    # centre, service, "Số thứ tự", priority, waiting, estimate label and value, QR caption, footer
    assert names.count("GS v 0") == 9
    number_at = commands.index(("text", b"", b"A1023"))
    assert names.index("GS v 0") < number_at
    assert [args for name, args, _ in commands[:number_at] if name == "GS !"] == [b"\x33"]


def test_raster_bands_fit_the_paper() -> None:
    for width in (576, 384):
        for name, args, data in _commands(render_ticket(SAMPLE, width)):
            if name == "GS v 0":
                x_bytes, rows = args[1] | args[2] << 8, args[3] | args[4] << 8
                assert 0 < x_bytes * 8 <= width
                assert len(data) == x_bytes * rows


def test_no_question_mark_substitution_outside_raster() -> None:
    for name, _, data in _commands(render_ticket(SAMPLE)):
        if name in ("text", "GS ( k"):
            assert b"?" not in data, (name, data)


def test_native_qr_stores_and_prints_the_url() -> None:
    qr = [data for name, _, data in _commands(render_ticket(SAMPLE)) if name == "GS ( k"]
    assert b"1P0https://hcc.example.gov.vn/t/3q9xv0a7" in qr
    assert qr[-1] == b"1Q0"


def test_optional_fields_can_be_left_out() -> None:
    plain = SAMPLE.model_copy(update={"priority_label": None, "estimated_wait_min": None, "qr_url": None})
    names = [name for name, _, _ in _commands(render_ticket(plain))]
    assert "GS ( k" not in names
    assert names.count("GS v 0") == 5


def test_text_is_nfc_normalised_and_control_characters_removed() -> None:
    decomposed = unicodedata.normalize("NFD", "Lĩnh vực\x1b@ Đất đai")
    ticket = TicketData(**{**SAMPLE.model_dump(), "service_name": decomposed})
    assert ticket.service_name == "Lĩnh vực@ Đất đai"
    assert unicodedata.is_normalized("NFC", ticket.service_name)


def test_ticket_data_refuses_personal_fields_and_bad_numbers() -> None:
    fields = SAMPLE.model_dump()
    with pytest.raises(ValidationError, match="citizen_name"):
        TicketData.model_validate({**fields, "citizen_name": "Nguyễn Văn A"})
    with pytest.raises(ValidationError, match="number"):
        TicketData(**{**fields, "number": "A 1023\x1b"})


def test_bad_width_is_refused() -> None:
    with pytest.raises(ValueError, match="multiple of 8"):
        render_ticket(SAMPLE, 500)


@pytest.mark.parametrize("width", [576, 384])
def test_round_trip_through_the_simulator(width: int, tmp_path: Path) -> None:
    sim = EscposPrinterSim(width_dots=width)
    sim.receive(render_ticket(SAMPLE, width))
    assert len(sim.pages) == 1
    page = sim.pages[0]
    assert page.width == width
    assert "A1023" in sim.page_texts[0].splitlines()
    assert "?" not in sim.page_texts[0]
    centre_band, service_band = _raster_bands(render_ticket(SAMPLE, width))[:2]
    assert _black_pixels(page.crop((0, 0, width, centre_band.height))) > 200
    assert _black_pixels(service_band) > 200
    assert _find_band(page, service_band) is not None
    sim.save_pages(tmp_path)
    assert (tmp_path / "page-0001.png").is_file()


def test_sample_ticket_png_for_visual_check() -> None:
    """Writes /tmp/motcua-ticket-sample.png; look at it after changing the layout or fonts."""
    sim = EscposPrinterSim()
    (page,) = sim.replay(render_ticket(SAMPLE))
    page.save("/tmp/motcua-ticket-sample.png")
    assert _black_pixels(page) > 5000
    assert LABEL_NUMBER == "Số thứ tự"


def _raster_bands(data: bytes) -> list[Image.Image]:
    """The ticket's GS v 0 bands as images (black = printed), decoded independently of the simulator."""
    bands = []
    for name, args, payload in _commands(data):
        if name == "GS v 0":
            width, rows = (args[1] | args[2] << 8) * 8, args[3] | args[4] << 8
            bits = "".join(f"{byte:08b}" for byte in payload)
            band = Image.new("L", (width, rows), 255)
            band.putdata([0 if bit == "1" else 255 for bit in bits])
            bands.append(band)
    return bands


def _find_band(page: Image.Image, band: Image.Image) -> int | None:
    """The row where ``band`` appears on ``page``, centred; None if it is not printed there."""
    left = (page.width - band.width) // 2
    wanted = band.tobytes()
    grey = page.convert("L")
    for top in range(page.height - band.height + 1):
        if grey.crop((left, top, left + band.width, top + band.height)).tobytes() == wanted:
            return top
    return None


def _black_pixels(image: Image.Image) -> int:
    return image.convert("L").histogram()[0]


def test_raster_that_looks_like_real_time_commands_is_defused() -> None:
    from printer.layout import defuse_raster

    rows = bytes.fromhex("10 14 02 01 08 00 10 04 01 00 10 05 02 00 10 10")
    band = b"\x1d\x76\x30\x00\x10\x00\x01\x00" + rows
    safe = defuse_raster(band)
    assert safe[:8] == band[:8]
    for danger in (b"\x10\x14", b"\x10\x04", b"\x10\x05"):
        assert danger not in safe
    assert safe[8:] == bytes.fromhex("11 14 02 01 08 00 11 04 01 00 11 05 02 00 10 10")
    sim = EscposPrinterSim()
    sim.receive(b"\x1b\x40" + safe + b"\x1d\x56\x01")
    assert not sim.silent and sim.drawer_pulses == 0 and len(sim.pages) == 1
    unsafe = EscposPrinterSim()
    unsafe.receive(b"\x1b\x40" + band + b"\x1d\x56\x01")
    assert unsafe.silent and not unsafe.pages  # what the raw band would have done: power off
