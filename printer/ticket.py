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

import logging
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bus.wait_phrase import wait_phrase
from printer.glyphs import GlyphFallback
from printer.layout import Layout, RenderedJob, make_layout, render_job
from printer.profiles import PrinterProfile
from printer.textband import clean_text

logger = logging.getLogger(__name__)

LABEL_NUMBER = "Số thứ tự"
LABEL_WAITING = "Số người đang chờ"
LABEL_ESTIMATE = "Thời gian chờ dự kiến"
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

    def values(self) -> dict[str, object]:
        """The layout's fields: the model's, plus ``estimated_wait`` in words (``bus.wait_phrase``)."""
        return {**dict(self), "estimated_wait": wait_phrase(self.estimated_wait_min)}


TICKET_LAYOUT: Layout = make_layout(
    [
        {"kind": "text", "text": "{centre_name}", "size_px": 24, "bold": True},
        {"kind": "rule"},
        {"kind": "text", "text": "{service_name}", "size_px": 34, "bold": True},
        {"kind": "text", "text": LABEL_NUMBER, "size_px": 26},
        {"kind": "number", "text": "{number}", "bold": True},
        {"kind": "text", "text": "{priority_label}", "size_px": 28, "bold": True, "when": "priority_label"},
        {"kind": "text", "text": "{issued_at:%d/%m/%Y %H:%M}"},
        {"kind": "rule"},
        {"kind": "text", "text": LABEL_WAITING, "size_px": 24},
        {"kind": "text", "text": "{waiting}", "bold": True, "scale": 2},
        {"kind": "text", "text": LABEL_ESTIMATE, "size_px": 24, "when": "estimated_wait_min"},
        {"kind": "text", "text": "{estimated_wait}", "size_px": 30, "bold": True, "when": "estimated_wait"},
        {"kind": "text", "text": LABEL_QR, "size_px": 22, "when": "qr_url"},
        {"kind": "qr", "text": "{qr_url}", "when": "qr_url"},
        {"kind": "text", "text": LABEL_FOOTER, "size_px": 24},
    ]
)
"""The standard queue ticket (80 and 58 mm: raster text shrinks on narrow paper, numbers fit the width)."""


def render_ticket(
    data: TicketData,
    width_dots: int = 576,
    *,
    pad_bands: bool = False,
    profile: PrinterProfile | None = None,
    layout: Layout | None = None,
) -> bytes:
    """The ESC/POS bytes of one ticket for ``profile`` (default: a generic printer ``width_dots`` wide).

    ``pad_bands`` widens each raster band to the full width with the text centred, for clones that
    ignore ``ESC a`` on raster images (costs a few KB more); a profile says the same with its own field.
    """
    if profile is None:
        if width_dots < 96 or width_dots % 8:
            raise ValueError(f"width_dots must be a multiple of 8 and at least 96, not {width_dots}")
        profile = PrinterProfile(width_dots=width_dots, pad_bands=pad_bands)
    return ticket_job(data, profile, layout).data


def ticket_job(
    data: TicketData,
    profile: PrinterProfile,
    layout: Layout | None = None,
    fallback: GlyphFallback | None = None,
) -> RenderedJob:
    """The ticket's bytes and the characters replaced for want of a glyph (``printer.glyphs``)."""
    job = render_job(layout or TICKET_LAYOUT, data.values(), profile, fallback)
    logger.debug("ticket %s rendered: %d bytes for %d dots", data.number, len(job.data), profile.width)
    return job
