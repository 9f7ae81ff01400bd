"""Form 01 (Giấy tiếp nhận hồ sơ và hẹn trả kết quả) as an A5 PDF for an office laser printer.

fpdf2 writes the PDF: pure Python, embeds and subsets a TrueType font (Noto Sans, or DejaVu Sans), so
every Vietnamese letter prints from any PDF viewer or CUPS queue without font substitution. The
dossier code is drawn as text, as a QR code (``qrcode``) and as CODE128 (``python-barcode``, already
pulled in by python-escpos). Personal fields of the form are printed, never logged.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bus import models as m
from printer.receipt import ReceiptData
from printer.textband import find_font

logger = logging.getLogger(__name__)

A5 = (148.0, 210.0)
MARGIN = 12.0
DATE_FORMAT = "%H giờ %M phút, ngày %d/%m/%Y"


def form01_pdf(data: ReceiptData) -> bytes:
    """The bytes of a one-page A5 PDF of Form 01 for ``data``."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format=A5)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.add_font("Form", "", str(find_font(False)))
    pdf.add_font("Form", "B", str(find_font(True)))
    pdf.set_title(f"Giấy tiếp nhận hồ sơ {data.dossier_code}")
    pdf.set_creator("motcua")
    pdf.add_page()
    _header(pdf, data)
    _codes(pdf, data)
    _body(pdf, data)
    _signatures(pdf, data)
    output: bytes = bytes(pdf.output())
    logger.debug("Form 01 PDF for dossier %s: %d bytes", data.dossier_code, len(output))
    return output


def write_form01_pdf(data: ReceiptData, path: Path) -> None:
    path.write_bytes(form01_pdf(data))


def _header(pdf: Any, data: ReceiptData) -> None:
    half = (A5[0] - 2 * MARGIN) / 2
    top = pdf.get_y()
    pdf.set_font("Form", "B", 8.5)
    pdf.multi_cell(half, 4.2, data.agency_name.upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    left_end = pdf.get_y()
    pdf.set_xy(MARGIN + half, top)
    pdf.set_font("Form", "B", 7.5)
    pdf.multi_cell(half, 4.2, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(MARGIN + half)
    pdf.set_font("Form", "B", 9)
    pdf.multi_cell(half, 4.2, "Độc lập - Tự do - Hạnh phúc", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_end, pdf.get_y()) + 4)
    pdf.set_font("Form", "B", 12)
    pdf.multi_cell(0, 6, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Form", "", 10)
    pdf.multi_cell(0, 5, f"Mã hồ sơ: {data.dossier_code}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _codes(pdf: Any, data: ReceiptData) -> None:
    import qrcode
    from barcode import Code128  # type: ignore[import-untyped]  # python-barcode, via python-escpos
    from PIL import Image, ImageDraw

    qr = qrcode.QRCode(box_size=4, border=1)
    qr.add_data(data.lookup_url or data.dossier_code)
    qr.make(fit=True)
    qr_image = qr.make_image().get_image().convert("1")
    bits = Code128(data.dossier_code).build()[0]
    bar = Image.new("1", (len(bits) * 3, 120), 1)
    draw = ImageDraw.Draw(bar)
    for i, bit in enumerate(bits):
        if bit == "1":
            draw.rectangle((i * 3, 0, i * 3 + 2, 119), fill=0)
    y = pdf.get_y()
    pdf.image(qr_image, x=MARGIN, y=y, w=24, h=24)
    bar_w = min(A5[0] - 2 * MARGIN - 30, len(bits) * 0.33)
    pdf.image(bar, x=A5[0] - MARGIN - bar_w, y=y + 4, w=bar_w, h=12)
    pdf.set_y(y + 26)


def _body(pdf: Any, data: ReceiptData) -> None:
    rows = [
        ("Tiếp nhận hồ sơ của", data.applicant_name),
        ("Địa chỉ", data.applicant_address),
        ("Số điện thoại", data.applicant_phone),
        ("Email", data.applicant_email),
        ("Nội dung yêu cầu giải quyết", data.request),
    ]
    pdf.set_font("Form", "", 9.5)
    for label, value in rows:
        if value:
            pdf.multi_cell(0, 5, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    if data.documents:
        pdf.multi_cell(0, 5, "Thành phần hồ sơ nộp gồm:", new_x="LMARGIN", new_y="NEXT")
        for i, document in enumerate(data.documents, start=1):
            pdf.multi_cell(
                0,
                5,
                f"    {i}. {document.name} ({document.form}): {document.count}",
                new_x="LMARGIN",
                new_y="NEXT",
            )
    pdf.multi_cell(0, 5, f"Số lượng hồ sơ: {data.sets} bộ", new_x="LMARGIN", new_y="NEXT")
    if data.processing_days is not None:
        pdf.multi_cell(
            0,
            5,
            f"Thời gian giải quyết hồ sơ theo quy định là: {data.processing_days} ngày làm việc",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.multi_cell(
        0, 5, f"Thời gian nhận hồ sơ: {data.received_at.strftime(DATE_FORMAT)}", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Form", "B", 9.5)
    pdf.multi_cell(
        0,
        5,
        f"Thời gian trả kết quả giải quyết hồ sơ: {data.return_at.strftime(DATE_FORMAT)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Form", "", 9.5)
    pdf.multi_cell(0, 5, f"Nơi nhận kết quả: {data.return_method}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _signatures(pdf: Any, data: ReceiptData) -> None:
    half = (A5[0] - 2 * MARGIN) / 2
    y = pdf.get_y()
    pdf.set_font("Form", "B", 9.5)
    pdf.set_xy(MARGIN, y)
    pdf.multi_cell(half, 5, "NGƯỜI NỘP HỒ SƠ", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(MARGIN + half, y)
    pdf.multi_cell(half, 5, "NGƯỜI TIẾP NHẬN HỒ SƠ", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Form", "", 8)
    pdf.set_xy(MARGIN, y + 5)
    pdf.multi_cell(half, 4, "(Ký và ghi rõ họ tên)", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(MARGIN + half, y + 5)
    pdf.multi_cell(half, 4, "(Ký và ghi rõ họ tên)", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Form", "", 9.5)
    pdf.set_xy(MARGIN, y + 25)
    pdf.multi_cell(half, 5, data.applicant_name, align="C", new_x="LMARGIN", new_y="NEXT")
    if data.receiver_name:
        pdf.set_xy(MARGIN + half, y + 25)
        pdf.multi_cell(half, 5, data.receiver_name, align="C", new_x="LMARGIN", new_y="NEXT")


def receipt_pdf(receipt: m.ReceiptPrint) -> bytes:
    """The A5 PDF of a ``print_receipt`` command's receipt (the console's fallback when no printer can)."""
    return form01_pdf(ReceiptData.model_validate(receipt.model_dump()))
