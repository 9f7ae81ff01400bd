"""Form 01 as an A5 PDF: the text reads back (poppler), the QR and CODE128 decode (zxing-cpp)."""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from firmware_sim.escpos_printer import EscposPrinterSim
from printer.form01_pdf import form01_pdf
from printer.profiles import find_profile
from printer.receipt import ReceiptData, render_receipt

GOLDEN = Path(__file__).parent / "golden" / "printer"
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")


def _receipt() -> ReceiptData:
    return ReceiptData.model_validate(json.loads((GOLDEN / "receipt.json").read_text(encoding="utf-8")))


def test_pdf_is_one_a5_page_whose_text_reads_back(tmp_path: Path) -> None:
    pdf = tmp_path / "f01.pdf"
    pdf.write_bytes(form01_pdf(_receipt()))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info
    assert "419.53 x 595.28 pts" in info  # A5: 148 x 210 mm
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = " ".join(unicodedata.normalize("NFC", text).split())
    for expected in (
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "Mã hồ sơ: H21.65-220914-0011",
        "Tiếp nhận hồ sơ của: Nguyễn Văn Mẫu",
        "1. Tờ khai đăng ký khai sinh (Bản chính): 1",
        "Thời gian trả kết quả giải quyết hồ sơ: 08 giờ 30 phút, ngày 24/11/2026",
    ):
        assert expected in text


def test_pdf_codes_decode(tmp_path: Path) -> None:
    pdf = tmp_path / "f01.pdf"
    pdf.write_bytes(form01_pdf(_receipt()))
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(pdf), str(tmp_path / "p")], check=True)
    with Image.open(next(tmp_path.glob("p*.png"))) as page:
        found = {r.format.name: r.text for r in zxingcpp.read_barcodes(page.convert("L"))}
    assert found == {
        "QRCode": "https://hcc.example.gov.vn/hs/H21.65-220914-0011",
        "Code128": "H21.65-220914-0011",
    }


@pytest.mark.parametrize("profile", ["generic-80", "generic-58", "pos-5890"])
def test_thermal_receipt_codes_decode_on_the_simulated_paper(profile: str) -> None:
    chosen = find_profile(profile)
    sim = EscposPrinterSim(width_dots=chosen.width)
    (page,) = sim.replay(render_receipt(_receipt(), chosen))
    grey = page.convert("L")
    found = {r.format.name: r.text for r in zxingcpp.read_barcodes(grey)}
    assert found.get("QRCode") == "https://hcc.example.gov.vn/hs/H21.65-220914-0011"
    assert found.get("Code128") == "H21.65-220914-0011"
