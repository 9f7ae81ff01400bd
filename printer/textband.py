"""Unicode text → tight 1-bit raster bands, for text a printer's code pages cannot print.

Output grammar: a ``PIL.Image`` in mode ``"1"`` (0 = black = a dot to print), at most ``max_width``
pixels wide, cropped to its ink, lines centred on each other; callers send it as ``GS v 0`` raster
(``1D 76 30 m xL xH yL yH d1…dk``). Vietnamese needs this path: code pages lose tone marks or print "?"
(see docs: hardware.md, "Vietnamese text"). Text is NFC-normalised and thresholded, never dithered.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from printer.errors import TicketRenderError

logger = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
REGULAR_FONTS = ("NotoSans-Regular.ttf", "DejaVuSans.ttf")
BOLD_FONTS = ("NotoSans-Bold.ttf", "DejaVuSans-Bold.ttf")
SMALL_REGULAR_FONTS = ("DejaVuSans.ttf", "NotoSans-Regular.ttf")
SMALL_BOLD_FONTS = ("DejaVuSans-Bold.ttf", "NotoSans-Bold.ttf")
SMALL_TEXT_PX = 24
"""Below this size DejaVu Sans is preferred: it sets a stacked tone mark beside the circumflex (ầ, ẩ)
where Noto Sans stacks it on top, and at 16-22 px that stack merges into one blob ("cầu" read as
"câu"). Measured with Tesseract ``vie`` on the simulator's paper: docs/printer.md."""
THRESHOLD = 128
LINE_PITCH = 1.2


def clean_text(text: str) -> str:
    """NFC-normalise and drop control characters (an ESC in a field must never reach the printer)."""
    normal = unicodedata.normalize("NFC", text)
    kept = "".join(" " if ch in "\t\r\n" else ch for ch in normal if ch in "\t\r\n" or ch.isprintable())
    return " ".join(kept.split())


@functools.cache
def find_font(bold: bool = False, small: bool = False) -> Path:
    """The first Vietnamese-capable TTF found (Noto Sans, then DejaVu Sans; the other way round for
    ``small`` text) under the system font dirs."""
    if small:
        names = SMALL_BOLD_FONTS if bold else SMALL_REGULAR_FONTS
    else:
        names = BOLD_FONTS if bold else REGULAR_FONTS
    for name in names:
        for root in FONT_DIRS:
            if not root.is_dir():
                continue
            found = sorted(root.rglob(name))
            if found:
                logger.debug("using font %s", found[0])
                return found[0]
    raise TicketRenderError(
        f"no Vietnamese-capable font found (looked for {', '.join(names)} under "
        f"{', '.join(map(str, FONT_DIRS))}); install fonts-noto-core or fonts-dejavu-core"
    )


@functools.cache
def load_font(size_px: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_font(bold, size_px < SMALL_TEXT_PX)), size_px)


def font_covers(size_px: int, bold: bool = False) -> Callable[[str], bool]:
    """Whether the font that draws text of this size and weight has a glyph for a character."""
    from printer.glyphs import font_characters

    known = font_characters(find_font(bold, size_px < SMALL_TEXT_PX))
    return lambda ch: ord(ch) in known or ch == " "


def wrap_to_width(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy word wrap so every line measures at most ``max_width`` pixels; long words are split."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in word:
            if current and font.getlength(current + ch) > max_width:
                lines.append(current)
                current = ""
            current += ch
    if current:
        lines.append(current)
    return lines


def render_band(
    text: str, *, size_px: int, max_width: int, bold: bool = False, align: str = "center"
) -> Image.Image | None:
    """Render ``text`` (wrapped, lines aligned) as a tight mode-"1" band; ``None`` if nothing to ink."""
    font = load_font(size_px, bold)
    lines = wrap_to_width(clean_text(text), font, max_width)
    if not lines:
        return None
    pitch = round(size_px * LINE_PITCH)
    canvas = Image.new("L", (max_width, pitch * (len(lines) + 1)), 255)
    draw = ImageDraw.Draw(canvas)
    for row, line in enumerate(lines):
        spare = max_width - font.getlength(line)
        x = {"left": 0.0, "right": spare}.get(align, spare / 2)
        draw.text((x, pitch // 2 + row * pitch), line, font=font, fill=0)
    band = canvas.point([0] * THRESHOLD + [255] * (256 - THRESHOLD), "1")
    ink = ImageOps.invert(canvas.point([0] * THRESHOLD + [255] * (256 - THRESHOLD))).getbbox()
    if ink is None:
        return None
    return band.crop(ink)
