"""What the simulated printer's paper looks like: character cells, code pages, QR and CODE128 images.

Firmware draws text from a fixed-pitch ROM font: 12x24 dots (font A) or 9x17 (font B), scaled by
``GS !``. The simulator draws ASCII with DejaVu Sans Mono and other characters with a Vietnamese
font (Noto Sans or DejaVu Sans) on the same baseline, so that tone marks stay inside the cell.
Bytes become characters through the selected code page (``ESC t``; the TCVN-3 pages 30/31 as on
Epson-class firmware) or, in Kanji mode, as GB18030 pairs.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.exceptions import DataOverflowError

from printer import tcvn3

logger = logging.getLogger(__name__)

_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))

CODE_PAGES = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    30: "TCVN-3-1",  # as on Epson-class firmware: TCVN-3 lower-case table
    31: "TCVN-3-2",  # and its upper-case table
}


@dataclass(frozen=True)
class Style:
    """Character style: font A/B, bold, underline dots, GS ! width and height multipliers."""

    font_b: bool = False
    bold: bool = False
    underline: int = 0
    width: int = 1
    height: int = 1

    @property
    def cell(self) -> tuple[int, int]:
        base_w, base_h = (9, 17) if self.font_b else (12, 24)
        return base_w * self.width, base_h * self.height


def decode_text(data: bytes, codec: str, *, kanji: bool = False) -> str:
    """Printable bytes as the firmware reads them: Kanji pairs, a TCVN-3 table, or a Python codec."""
    if kanji:
        return _decode_kanji(data)
    if codec.startswith("TCVN-3"):
        table = tcvn3.decoding(codec)
        return "".join(chr(b) if b < 0x80 else table.get(b, "\ufffd") for b in data)
    return data.decode(codec, errors="replace")


def qr_image(data: bytes, ecc: int, module: int) -> Image.Image | None:
    """A model 2 QR code, ``module`` dots per module, no quiet zone; None if ``data`` does not fit."""
    code = qrcode.QRCode(version=None, error_correction=ecc, box_size=1, border=0)
    try:
        code.add_data(data)
        code.make(fit=True)
    except (ValueError, DataOverflowError):
        return None
    matrix = code.get_matrix()
    image = Image.new("1", (len(matrix), len(matrix)), 255)
    image.putdata([0 if dark else 255 for row in matrix for dark in row])
    size = image.width * module
    return image.resize((size, size), Image.Resampling.NEAREST)


def code128_image(data: bytes, module: int, height: int) -> Image.Image | None:
    """The bars of ESC/POS CODE128 ``data`` (code sets as the data selects them); None if it is bad."""
    from printer.code128 import Code128Error, modules, symbols

    try:
        bars = modules(symbols(data))
    except Code128Error as err:
        logger.debug("CODE128 data cannot be drawn: %s", err)
        return None
    image = Image.new("1", (len(bars) * module, height), 1)
    draw = ImageDraw.Draw(image)
    for i, bit in enumerate(bars):
        if bit == "1":
            draw.rectangle((i * module, 0, (i + 1) * module - 1, height - 1), fill=0)
    return image


def _decode_kanji(data: bytes) -> str:
    """Clone firmware in Kanji mode: ASCII bytes alone, bytes ≥ 0x80 as GB18030 pairs."""
    chars: list[str] = []
    i = 0
    while i < len(data):
        if data[i] < 0x80:
            chars.append(chr(data[i]))
            i += 1
            continue
        pair = data[i : i + 2].decode("gb18030", errors="replace")
        chars.append(pair if len(pair) == 1 else "\ufffd")
        i += 2
    return "".join(chars)


@functools.cache
def _mono_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for root in (r for r in _FONT_DIRS if r.is_dir()):
        for path in sorted(root.rglob("DejaVuSansMono.ttf")):
            return ImageFont.truetype(str(path), size)
    logger.warning("DejaVuSansMono.ttf not found; the simulator prints with Pillow's default font")
    return ImageFont.load_default()


@functools.cache
def _vietnamese_font(size: int) -> ImageFont.FreeTypeFont:
    from printer.textband import find_font

    return ImageFont.truetype(str(find_font(False)), size)


@functools.lru_cache(maxsize=4096)
def glyph(ch: str, style: Style) -> Image.Image:
    """A character cell as firmware prints it: 12x24 (font A) or 9x17 (font B) dots, scaled by GS !."""
    base_w, base_h = (9, 17) if style.font_b else (12, 24)
    cell = Image.new("L", (base_w, base_h), 255)
    draw = ImageDraw.Draw(cell)
    for dx in (0, 1) if style.bold else (0,):
        if ch.isascii():
            draw.text((dx, 0), ch, font=_mono_font(15 if style.font_b else 20), fill=0)
        else:  # DejaVu Sans Mono lacks stacked tone marks (Ố, ẫ): a Vietnamese font, on a baseline
            size, baseline = (13, 15) if style.font_b else (18, 21)
            draw.text((dx + base_w / 2, baseline), ch, font=_vietnamese_font(size), fill=0, anchor="ms")
    if style.underline:
        draw.rectangle((0, base_h - style.underline, base_w - 1, base_h - 1), fill=0)
    mono = cell.point([0] * 128 + [255] * 128, "1")
    if style.width == 1 and style.height == 1:
        return mono
    return mono.resize((base_w * style.width, base_h * style.height), Image.Resampling.NEAREST)
