"""Queue tickets as ESC/POS bytes, readable in Vietnamese on any cheap 58/80 mm printer.

Byte grammar of a ticket (every line centred with ``ESC a 1``)::

    ticket   = 1B 40 1C 2E                 ; ESC @ init, FS . cancel Kanji (clones read ≥ 0x80 as GB18030)
               1B 61 01 { line } qr? feed-cut
    line     = raster | native
    raster   = 1D 76 30 00 xL xH yL yH data 1B 4A n   ; GS v 0 band of a non-ASCII line, ESC J gap
    native   = [1D 21 size] [1B 45 b] ascii-text 0A   ; ASCII only: number, date, counts, rules
    qr       = 1D 28 6B … 31 50 30 url 1D 28 6B 03 00 31 51 30   ; native QR model 2 (store, print)
    feed-cut = 1B 64 06 1D 56 01                       ; feed 6 lines, partial cut

Lines containing non-ASCII text are drawn with Pillow (:mod:`printer.textband`) and sent as raster, so
tone marks survive and nothing is ever replaced by "?"; ASCII parts stay native text to keep the job
small (a full-raster ticket is ~50 KB, ~52 s at 9600 baud). No personal data goes on a ticket.
"""

from __future__ import annotations

import copy
import functools
import logging
from datetime import datetime
from typing import Annotated, Any

from escpos.capabilities import get_profile_class
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from pydantic import BaseModel, ConfigDict, Field, field_validator

from printer.textband import clean_text, render_band

logger = logging.getLogger(__name__)

INIT = b"\x1b\x40"
CANCEL_KANJI = b"\x1c\x2e"
FONT_A_WIDTH = 12

LABEL_NUMBER = "Số thứ tự"
LABEL_WAITING = "Số người đang chờ"
LABEL_ESTIMATE = "Thời gian chờ dự kiến (phút)"
LABEL_QR = "Quét mã để theo dõi lượt gọi"
LABEL_FOOTER = "Vui lòng chờ đến lượt"

TicketNumber = Annotated[str, Field(pattern=r"^[A-Z]{0,3}[0-9]{1,6}$", examples=["A1023"])]


class TicketData(BaseModel):
    """What goes on a queue ticket; the same fields as the bus ``TicketPrint``. No personal data, ever."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    centre_name: str = Field(min_length=1, max_length=200)
    service_name: str = Field(min_length=1, max_length=200)
    number: TicketNumber
    priority_label: str | None = Field(default=None, max_length=100)
    issued_at: datetime
    waiting: int = Field(ge=0)
    estimated_wait_min: int | None = Field(default=None, ge=0)
    qr_url: str | None = Field(default=None, max_length=500)

    @field_validator("centre_name", "service_name", "priority_label")
    @classmethod
    def _normalise(cls, value: str | None) -> str | None:
        return None if value is None else clean_text(value)

    @field_validator("qr_url")
    @classmethod
    def _printable_url(cls, value: str | None) -> str | None:
        if value is not None and not value.isprintable():
            raise ValueError("qr_url must not contain control characters")
        return value


class _TicketWriter:
    """Builds one ticket on a python-escpos ``Dummy`` whose profile knows the paper width."""

    def __init__(self, width_dots: int, pad_bands: bool) -> None:
        self.width = width_dots
        self.pad_bands = pad_bands
        self.out = Dummy()
        self.out.profile = _profile(width_dots)
        self.scale = 1
        self.bold = False

    def raw(self, data: bytes) -> None:
        self.out._raw(data)

    def line(self, text: str, *, size_px: int = 26, bold: bool = False, scale: int = 1) -> None:
        """One logical line: native text if it is ASCII, otherwise a raster band."""
        text = clean_text(text)
        if text.isascii():
            self.native(text, bold=bold, scale=scale)
            return
        band = render_band(text, size_px=size_px, max_width=self.width, bold=bold)
        if band is not None:
            self.out.image(band, impl="bitImageRaster", center=self.pad_bands)
            self.raw(b"\x1b\x4a" + bytes((max(4, size_px // 4),)))

    def native(self, text: str, *, bold: bool = False, scale: int = 1) -> None:
        """One ASCII line as printer text; size (``GS !``) and bold (``ESC E``) are sent only on change."""
        if not text.isascii():
            raise ValueError("native text must be ASCII; non-ASCII lines go through line()")
        if scale != self.scale:
            self.out.set(custom_size=True, width=scale, height=scale)
            self.scale = scale
        if bold != self.bold:
            self.out.set(bold=bold)
            self.bold = bold
        self.out.textln(text)

    def rule(self) -> None:
        self.native("-" * (self.width // FONT_A_WIDTH))

    def number_scale(self, number: str) -> int:
        """The largest ``GS !`` multiplier (≤ 4) at which ``number`` fits on one line."""
        return max(1, min(4, self.width // (FONT_A_WIDTH * len(number))))


def render_ticket(data: TicketData, width_dots: int = 576, *, pad_bands: bool = False) -> bytes:
    """The ESC/POS bytes of one ticket for a printer ``width_dots`` wide (576 at 80 mm, 384 at 58 mm).

    ``pad_bands`` widens each raster band to the full width with the text centred, for clones that
    ignore ``ESC a`` on raster images (costs a few KB more).
    """
    if width_dots < 96 or width_dots % 8:
        raise ValueError(f"width_dots must be a multiple of 8 and at least 96, not {width_dots}")
    w = _TicketWriter(width_dots, pad_bands)
    w.raw(INIT + CANCEL_KANJI)
    w.out.set(align="center")
    w.line(data.centre_name, size_px=24, bold=True)
    w.rule()
    w.line(data.service_name, size_px=34, bold=True)
    w.line(LABEL_NUMBER, size_px=26)
    w.native(data.number, bold=True, scale=w.number_scale(data.number))
    if data.priority_label:
        w.line(data.priority_label, size_px=28, bold=True)
    w.native(data.issued_at.strftime("%d/%m/%Y %H:%M"))
    w.rule()
    w.line(LABEL_WAITING, size_px=24)
    w.native(str(data.waiting), bold=True, scale=2)
    if data.estimated_wait_min is not None:
        w.line(LABEL_ESTIMATE, size_px=24)
        w.native(f"~{data.estimated_wait_min}", bold=True, scale=2)
    if data.qr_url:
        w.line(LABEL_QR, size_px=22)
        w.out.qr(data.qr_url, ec=QR_ECLEVEL_M, size=6 if width_dots >= 512 else 4, native=True)
        w.out.ln()
    w.line(LABEL_FOOTER, size_px=24)
    w.out.cut(mode="PART")
    output: bytes = w.out.output
    logger.debug("ticket %s rendered: %d bytes for %d dots", data.number, len(output), width_dots)
    return output


@functools.cache
def _profile(width_dots: int) -> Any:
    """The python-escpos default profile with the media width set, so width checks and centring work."""
    base = get_profile_class("default")
    data = copy.deepcopy(base.profile_data)
    data["media"] = {"dpi": 203, "width": {"mm": width_dots // 8, "pixels": width_dots}}
    return type(f"Motcua{width_dots}DotProfile", (base,), {"profile_data": data})()
