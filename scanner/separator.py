"""Printable separator sheets: an A4 page with the separator QR and its meaning in words.

The clerk prints one, puts it between two documents of a batch, and the pipeline cuts the batch there,
binding what follows to the dossier code and document type the sheet names.
"""

from __future__ import annotations

import io
from pathlib import Path

import img2pdf  # type: ignore[import-untyped]
import qrcode
from PIL import Image, ImageDraw, ImageFont

from scanner.dossier import Separator

DPI = 200
A4_PX = (1654, 2339)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def separator_image(separator: Separator) -> Image.Image:
    """The sheet at 200 dpi: a 60 mm QR in the middle, the code and type written under it."""
    code = qrcode.QRCode(border=4, box_size=14, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(separator.encode().encode())
    code.make(fit=True)
    qr = code.make_image().convert("L")
    page = Image.new("RGB", A4_PX, "white")
    page.paste(qr, ((A4_PX[0] - qr.width) // 2, (A4_PX[1] - qr.height) // 2))
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 48)
    lines = ["TỜ PHÂN CÁCH", f"Hồ sơ: {separator.dossier_code or '(theo tờ tiếp nhận)'}"]
    if separator.doc_type:
        lines.append(f"Loại giấy tờ: {separator.doc_type}")
    y = (A4_PX[1] + qr.height) // 2 + 40
    for line in lines:
        width = draw.textlength(line, font=font)
        draw.text(((A4_PX[0] - width) / 2, y), line, font=font, fill="black")
        y += 70
    return page


def write_separator_pdf(separator: Separator, out: Path) -> Path:
    buffer = io.BytesIO()
    separator_image(separator).save(buffer, format="PNG", dpi=(DPI, DPI))
    out.write_bytes(img2pdf.convert(buffer.getvalue()))
    return out
