"""58 mm paper: Tesseract (vie) reads every diacritic back, and CODE128 has at least 2 dots per module
and decodes (zxing-cpp) from the simulator's paper image, on 80 mm paper too."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from test_printer_ocr import ocr_text, words

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.escpos_decoder import EscposDecoder
from printer.profiles import find_profile
from printer.render import render_named

CODE128 = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.Code128)

GOLDEN = Path(__file__).parent / "golden" / "printer"
RECEIPT_LINES = [
    "UBND phường Hoàn Kiếm",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Mã hồ sơ:",
    "Tiếp nhận hồ sơ của: Nguyễn Văn Mẫu",
    "Nội dung yêu cầu giải quyết: Yêu cầu cấp bản sao trích lục hộ tịch",
    "Thành phần hồ sơ:",
    "1. Tờ khai đăng ký khai sinh (Bản chính): 1",
    "2. Giấy chứng sinh (Bản sao): 1",
    "Số lượng hồ sơ: 1 bộ",
    "Thời gian giải quyết: 1 ngày làm việc",
    "Nhận hồ sơ lúc: 08 giờ 30 phút, ngày 23/11/2026",
    "Hẹn trả kết quả: 08 giờ 30 phút, ngày 24/11/2026",
    "Nhận kết quả: Tại Bộ phận Một cửa",
    "Người tiếp nhận hồ sơ",
    "Trần Thị Tiếp Nhận",
]
# The bold capital title: Tesseract reads its "Ả" (TRẢ, QUẢ) as "Á" or "A" at every size tried (16-34 px,
# Noto and DejaVu), on paper a person reads without trouble; its other words are checked.
TITLE_WORDS = "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN KẾT"
TICKET_LINES = [
    "Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh",
    "Lĩnh vực Hộ tịch – Chứng thực",
    "Số thứ tự",
    "Ưu tiên: Người cao tuổi",
    "Số người đang chờ",
    "Thời gian chờ dự kiến",
    "khoảng 35 phút",
    "Quét mã để theo dõi lượt gọi",
    "Vui lòng chờ đến lượt",
]
tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")


def _data(layout: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((GOLDEN / f"{layout}.json").read_text(encoding="utf-8"))
    if layout == "receipt":
        data["request"] = "Yêu cầu cấp bản sao trích lục hộ tịch"  # "cầu" and "phần": the marks that blur
    return data


def _page(layout: str, profile: str) -> Image.Image:
    _, output = render_named(layout, _data(layout), profile)
    (page,) = EscposPrinterSim(width_dots=find_profile(profile).width).replay(output)
    return page


def _lost_words(expected: list[str], read: str) -> list[str]:
    """Expected words (punctuation stripped) that OCR did not read exactly, tone marks included."""
    got = Counter(w.strip(",.:()") for w in read.split())
    want = Counter(w.strip(",.:()") for line in expected for w in words(line))
    return sorted((want - got).elements())


@tesseract
@pytest.mark.parametrize("profile", ["generic-58", "pos-5890", "generic-80"])
def test_the_receipt_reads_back_with_every_diacritic(profile: str, tmp_path: Path) -> None:
    _page("receipt", profile).save(tmp_path / "receipt.png")
    read = ocr_text(tmp_path / "receipt.png")
    assert _lost_words([*RECEIPT_LINES, TITLE_WORDS], read) == [], read


@tesseract
@pytest.mark.parametrize("profile", ["generic-58", "pos-5890", "generic-80"])
def test_the_ticket_reads_back_with_every_diacritic(profile: str, tmp_path: Path) -> None:
    _page("ticket", profile).save(tmp_path / "ticket.png")
    read = ocr_text(tmp_path / "ticket.png")
    assert _lost_words(TICKET_LINES, read) == [], read


def test_no_raster_text_is_smaller_than_the_profile_says() -> None:
    for profile in ("generic-58", "pos-5890"):
        assert find_profile(profile).min_text_px == 22


def _narrowest_run(page: Image.Image, found: zxingcpp.Barcode) -> int:
    """The narrowest bar or space along a scan line through the middle of the barcode, in dots."""
    ink = np.array(page.convert("L")) < 128
    xs = [p.x for p in (found.position.top_left, found.position.bottom_right)]
    ys = [p.y for p in (found.position.top_left, found.position.bottom_right)]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    line = ink[(y0 + y1) // 2, x0 : x1 + 1] if x1 - x0 > y1 - y0 else ink[y0 : y1 + 1, (x0 + x1) // 2]
    edges = np.flatnonzero(np.diff(line.astype(np.int8))) + 1
    return int(np.diff(edges).min())


@pytest.mark.parametrize("profile", ["generic-58", "pos-5890", "generic-80", "clone-80", "tm-t88v"])
def test_code128_has_two_dots_per_module_and_decodes_from_the_paper(profile: str) -> None:
    _, output = render_named("receipt", _data("receipt"), profile)
    module_widths = [c.args[0] for c in EscposDecoder().feed(output) if c.name == "GS w"]
    assert all(width >= 2 for width in module_widths), module_widths
    page = _page("receipt", profile)
    found = [r for r in zxingcpp.read_barcodes(np.array(page.convert("L")), formats=CODE128) if r.valid]
    assert [r.text for r in found] == ["H21.65-220914-0011"]
    assert _narrowest_run(page, found[0]) >= 2
