"""Layouts as data: a list of elements, filled from a data mapping, turned into ESC/POS bytes. Sans-IO.

Byte grammar of a rendered job (``ESC a 1`` centred unless an element says otherwise)::

    job      = 1B 40 [1C 2E] 1B 61 01 { element } end         ; init, cancel Kanji, …
    end      = [1B 64 n] [1D 56 01 | 1D 56 00]               ; the profile's feed_lines and cut
    text     = raster | native          ; per output line
    raster   = 1D 76 30 00 xL xH yL yH data 1B 4A n      ; a non-ASCII line as a GS v 0 band, ESC J gap
    native   = [1D 21 size] [1B 45 b] ascii 0A           ; ASCII only; size and bold sent on change
    qr       = 1D 28 6B … 31 50 30 data 1D 28 6B 03 00 31 51 30 0A      ; native, or a raster image
    barcode  = 1D 68 50 1D 77 m 1D 48 02 1D 6B 49 n data   ; CODE128 (printer.code128), m = 2 or 3
             | raster native                             ; no native CODE128, or too wide: turned 90°

Element fields (site files use the same keys, see ``docs/printer.md``): ``kind`` (text, number, rule,
qr, barcode, feed), ``text`` (a template: ``{field}`` or ``{field:format}``, e.g.
``{issued_at:%d/%m/%Y %H:%M}``), ``size_px`` (font size of raster text at 80 mm; on narrower paper it
shrinks with the width, never below the profile's ``min_text_px``), ``bold``, ``scale``
(native text size 1..8), ``align``, ``when`` (skip unless that field has a value), ``each`` (repeat the
text for every item of a list field; the item's keys and ``index`` fill the template), ``lines`` (feed).
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from printer.errors import TicketRenderError
from printer.glyphs import GlyphFallback
from printer.profiles import PrinterProfile

logger = logging.getLogger(__name__)

INIT = b"\x1b\x40"
CANCEL_KANJI = b"\x1c\x2e"
FONT_A_WIDTH = 12
REFERENCE_WIDTH = 576
MIN_SIZE_FACTOR = 0.75
MIN_MODULE_DOTS = 2  # a 1-dot CODE128 module (0.125 mm) smears on thermal paper: scanners miss it
BAR_HEIGHT = 80
ALIGN = {"left": 0, "center": 1, "right": 2}

ElementKind = Literal["text", "number", "rule", "qr", "barcode", "feed"]


class Element(BaseModel):
    """One element of a layout."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ElementKind
    text: str = ""
    size_px: int = Field(default=24, ge=10, le=96)
    bold: bool = False
    scale: int = Field(default=1, ge=1, le=8)
    align: Literal["left", "center", "right"] = "center"
    when: str | None = None
    each: str | None = None
    lines: int = Field(default=1, ge=0, le=255)

    @field_validator("text")
    @classmethod
    def _plain_fields(cls, value: str) -> str:
        for name in template_fields(value):
            if not name.isidentifier():
                raise ValueError(f"template field {{{name}}} must be a plain name (no '.', '[' or spaces)")
        return value

    @model_validator(mode="after")
    def _has_text(self) -> Element:
        if self.kind in ("text", "number", "qr", "barcode") and not self.text:
            raise ValueError(f"a {self.kind} element needs text (a template such as '{{number}}')")
        return self


Layout = tuple[Element, ...]


def make_layout(items: Sequence[Mapping[str, Any] | Element]) -> Layout:
    """Validate a list of element tables (from code or a site file) into a :data:`Layout`."""
    return tuple(Element.model_validate(item) for item in items)


def template_fields(template: str) -> list[str]:
    """The field names a template uses, e.g. ``["issued_at"]`` for ``"{issued_at:%H:%M}"``."""
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as err:
        raise ValueError(f"bad template {template!r}: {err}") from err


def fill(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with its fields replaced; a missing or None field becomes empty text."""
    out = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        out.append(literal)
        if name is None:
            continue
        value = values.get(name)
        if value is None:
            continue
        if conversion:
            value = repr(value) if conversion == "r" else str(value)
        try:
            out.append(format(value, spec or ""))
        except (ValueError, TypeError) as err:
            raise TicketRenderError(f"field {{{name}:{spec}}} cannot format its value: {err}") from err
    return "".join(out)


def _present(value: Any) -> bool:
    return value is not None and value not in ("", [], ())


class _Writer:
    """Builds one job on a python-escpos ``Dummy`` that knows the paper width from the profile."""

    def __init__(self, profile: PrinterProfile, fallback: GlyphFallback | None = None) -> None:
        from escpos.printer import Dummy

        self.profile = profile
        self.fallback = fallback or GlyphFallback()
        self.replaced: dict[str, None] = {}  # characters the font has no glyph for, in order
        self.width = profile.width
        self.out = Dummy()
        self.out.profile = profile.escpos_profile()
        self.scale = 1
        self.bold = False
        self.align = "center"
        self.page: int | None = None
        self.size_factor = max(MIN_SIZE_FACTOR, min(1.0, self.width / REFERENCE_WIDTH))

    def raw(self, data: bytes) -> None:
        self.out._raw(data)

    def raster(self, image: Any) -> None:
        """``image`` as ``GS v 0`` through python-escpos, with real-time command lookalikes broken up."""
        from escpos.printer import Dummy

        band = Dummy()
        band.profile = self.out.profile
        band.image(image, impl="bitImageRaster", center=False)
        self.raw(defuse_raster(band.output))

    def set_align(self, align: str) -> None:
        if align != self.align:
            self.raw(b"\x1b\x61" + bytes((ALIGN[align],)))
            self.align = align

    def line(self, text: str, *, size_px: int, bold: bool, scale: int) -> None:
        """One logical line: native text if it is ASCII, otherwise a raster band."""
        from printer.textband import clean_text, render_band

        text = clean_text(text)
        if not text:
            return
        if text.isascii():
            self.native(text, bold=bold, scale=scale)
            return
        px = self.text_px(size_px)
        text = self.printable(text, px, bold)
        if text.isascii():
            self.native(text, bold=bold, scale=scale)
            return
        if self.profile.text_mode == "tcvn3" and self.tcvn3(
            text, bold=bold, scale=max(scale, 2 if size_px >= 30 else 1)
        ):
            return
        band = render_band(text, size_px=px, max_width=self.width, bold=bold, align=self.align)
        if band is None:
            return
        if self.profile.pad_bands:
            band = _pad(band, self.width, self.align)
        self.raster(band)
        self.raw(b"\x1b\x4a" + bytes((max(4, px // 4),)))

    def printable(self, text: str, size_px: int, bold: bool) -> str:
        """``text`` with the characters the font cannot draw replaced (``printer.glyphs``), noted."""
        from printer.textband import clean_text, font_covers

        kept, missing = self.fallback.apply(text, font_covers(size_px, bold))
        self.replaced.update(dict.fromkeys(missing))
        return clean_text(kept)

    def text_px(self, size_px: int) -> int:
        """The raster font size on this paper: headings shrink with the width, no text goes below the
        profile's ``min_text_px`` (at 16 px on 58 mm paper tone marks blur: "phần" reads as "phân")."""
        return max(self.profile.min_text_px, round(size_px * self.size_factor))

    def native(self, text: str, *, bold: bool = False, scale: int = 1) -> None:
        """One ASCII line as printer text; size (``GS !``) and bold (``ESC E``) only on change."""
        if not text.isascii():
            raise ValueError("native text must be ASCII; non-ASCII lines go through line()")
        self.style(bold=bold, scale=scale)
        self.raw(text.encode("ascii") + b"\n")  # not textln: its encoder would send its own ESC t

    def tcvn3(self, text: str, *, bold: bool, scale: int) -> bool:
        """``text`` as native TCVN-3 text; False (nothing sent) if a character is not in the tables."""
        from printer.tcvn3 import encode_line

        encoded = encode_line(text, self.profile.tcvn3_pages, self.page)
        if encoded is None:
            return False
        data, self.page = encoded
        self.style(bold=bold, scale=scale)
        self.raw(data + b"\n")
        return True

    def style(self, *, bold: bool, scale: int) -> None:
        """Size (``GS !``) and bold (``ESC E``), sent only when they change."""
        if scale != self.scale:
            self.out.set(custom_size=True, width=scale, height=scale)
            self.scale = scale
        if bold != self.bold:
            self.out.set(bold=bold)
            self.bold = bold

    def number(self, text: str, bold: bool) -> None:
        from printer.textband import clean_text

        text = clean_text(text)
        if text.isascii():
            fit = max(1, min(8, self.width // (FONT_A_WIDTH * max(1, len(text)))))
            self.native(text, bold=bold, scale=min(4, fit))
        else:
            self.line(text, size_px=72, bold=bold, scale=1)

    def rule(self) -> None:
        self.native("-" * (self.width // FONT_A_WIDTH))

    def qr(self, data: str) -> None:
        from escpos.constants import QR_ECLEVEL_M

        size = 6 if self.width >= 512 else 4
        if self.profile.qr_native:
            self.out.qr(data, ec=QR_ECLEVEL_M, size=size, native=True)
            self.raw(b"\n")  # not ln(): it sends ESC t 0
            return
        image = _qr_image(data, size)
        if self.profile.pad_bands:
            image = _pad(image, self.width, self.align)
        self.raster(image)
        self.raw(b"\x1b\x4a\x08")

    def barcode(self, data: str) -> None:
        """CODE128 (set C for digit runs), text below; never under 2 dots per module.

        Across the paper (native ``GS k 73`` with ``GS w`` 2 or 3, or a raster image) when it fits with
        its quiet zones; otherwise turned 90° as a raster image, bars running along the paper.
        """
        from printer.code128 import QUIET_MODULES, Code128Error, escpos_payload, modules, symbols

        try:
            payload = escpos_payload(data)
        except Code128Error as err:
            raise TicketRenderError("a CODE128 barcode takes 1..250 printable ASCII characters") from err
        if len(payload) > 255:
            raise TicketRenderError(f"a CODE128 barcode of {len(data)} characters is too long for GS k")
        bars = modules(symbols(payload))
        span = len(bars) + 2 * QUIET_MODULES
        module = 3 if span * 3 <= self.width else MIN_MODULE_DOTS
        across = span * module <= self.width
        if across and self.profile.native_code128:
            self.raw(b"\x1d\x68" + bytes((BAR_HEIGHT,)) + b"\x1d\x77" + bytes((module,)) + b"\x1d\x48\x02")
            self.raw(b"\x1d\x6b\x49" + bytes((len(payload),)) + payload)
            return
        image = _bars_image(bars, module, BAR_HEIGHT)
        if not across:
            image = _quiet(image.rotate(90, expand=True), QUIET_MODULES * module)
        if self.profile.pad_bands:
            image = _pad(image, self.width, self.align)
        self.raster(image)
        self.native(data)


_REALTIME_LOOKALIKE = re.compile(rb"\x10(?=[\x04\x05\x14])")


def defuse_raster(data: bytes) -> bytes:
    """Raster commands whose pixel data cannot be read as a real-time command.

    Firmware obeys ``DLE EOT``, ``DLE ENQ`` and ``DLE DC4`` (``10 04``, ``10 05``, ``10 14``) even inside
    image data: a band could pulse the drawer, clear the buffer or power the printer off. Each 0x10
    that starts such a pair becomes 0x11: one dot more, in the 8th column of that byte, invisible on
    paper. ``GS v 0`` headers cannot hold these pairs (they would mean more than 960 rows).
    """
    from printer.escpos_decoder import EscposDecoder

    out = bytearray()
    for command in EscposDecoder().feed(data):
        if command.name != "GS v 0":
            raise ValueError(f"defuse_raster takes GS v 0 commands only, not {command.name}")
        out += b"\x1d\x76\x30" + command.args + _REALTIME_LOOKALIKE.sub(b"\x11", command.data)
    return bytes(out)


@dataclass(frozen=True)
class RenderedJob:
    """The bytes of a job, and the characters that were replaced because the font has no glyph."""

    data: bytes
    replaced: tuple[str, ...] = ()


def render_layout(layout: Layout, values: Mapping[str, Any], profile: PrinterProfile) -> bytes:
    """The ESC/POS bytes of ``layout`` filled with ``values`` for a printer of ``profile``."""
    return render_job(layout, values, profile).data


def render_job(
    layout: Layout, values: Mapping[str, Any], profile: PrinterProfile, fallback: GlyphFallback | None = None
) -> RenderedJob:
    """:func:`render_layout`, also saying which characters ``fallback`` replaced (none are logged)."""
    width = profile.width
    if width < 96 or width % 8:
        raise ValueError(f"width_dots must be a multiple of 8 and at least 96, not {width}")
    w = _Writer(profile, fallback)
    w.raw(INIT + (CANCEL_KANJI if profile.cancel_kanji else b""))
    w.raw(b"\x1b\x61\x01")
    for element in layout:
        if element.when is not None and not _present(values.get(element.when)):
            continue
        w.set_align(element.align)
        for text in _texts(element, values):
            _draw(w, element, text)
    w.raw(profile.job_end())  # not python-escpos cut(): it drops a cut its base profile does not list
    if w.replaced:
        logger.info("%d characters had no glyph in the font and were replaced", len(w.replaced))
    return RenderedJob(bytes(w.out.output), tuple(w.replaced))


def _texts(element: Element, values: Mapping[str, Any]) -> Iterator[str]:
    if element.each is None:
        yield fill(element.text, values)
        return
    items = values.get(element.each) or []
    for index, item in enumerate(items, start=1):
        fields = item if isinstance(item, Mapping) else {"item": item}
        yield fill(element.text, {**values, **fields, "index": index})


def _draw(w: _Writer, element: Element, text: str) -> None:
    if element.kind == "text":
        w.line(text, size_px=element.size_px, bold=element.bold, scale=element.scale)
    elif element.kind == "number":
        w.number(text, element.bold)
    elif element.kind == "rule":
        w.rule()
    elif element.kind == "qr":
        if text:
            w.qr(text)
    elif element.kind == "barcode":
        if text:
            w.barcode(text)
    elif element.kind == "feed" and element.lines:
        w.raw(b"\x1b\x64" + bytes((element.lines,)))


def _pad(image: Any, width: int, align: str) -> Any:
    from PIL import Image

    if image.width >= width:
        return image
    padded = Image.new("1", (width, image.height), 1)
    x = {"left": 0, "center": (width - image.width) // 2, "right": width - image.width}[align]
    padded.paste(image, (x, 0))
    return padded


def _qr_image(data: str, module: int) -> Any:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=module, border=2)
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("1")


def _bars_image(bars: str, module: int, height: int) -> Any:
    """Bars ("1") and spaces ("0") as a mode-"1" image, ``module`` dots each, ``height`` dots tall."""
    from PIL import Image, ImageDraw

    image = Image.new("1", (len(bars) * module, height), 1)
    draw = ImageDraw.Draw(image)
    for i, bit in enumerate(bars):
        if bit == "1":
            draw.rectangle((i * module, 0, (i + 1) * module - 1, height - 1), fill=0)
    return image


def _quiet(image: Any, dots: int) -> Any:
    """``image`` with ``dots`` blank rows above and below (the quiet zone of a code turned 90°)."""
    from PIL import Image

    framed = Image.new("1", (image.width, image.height + 2 * dots), 1)
    framed.paste(image, (0, dots))
    return framed
