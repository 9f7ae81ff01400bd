"""Layouts by name: data validation, the site's profiles and layout overrides, one entry point."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from printer.errors import UnknownLayoutError
from printer.glyphs import GlyphFallback
from printer.layout import make_layout
from printer.profiles import BUILTIN_PROFILES, find_profile, site_profiles
from printer.receipt import RECEIPT_LAYOUT, ReceiptData, receipt_job
from printer.ticket import TICKET_LAYOUT, TicketData, ticket_job

if TYPE_CHECKING:
    from siteconf.printing import PrintingConf

LAYOUTS = {"ticket": TICKET_LAYOUT, "receipt": RECEIPT_LAYOUT}


def render_named(
    layout: str, values: Mapping[str, Any], profile_name: str, printing: PrintingConf | None = None
) -> tuple[TicketData | ReceiptData, bytes]:
    """Validate ``values`` for ``layout`` (ticket or receipt) and render them for ``profile_name``.

    Raises pydantic ``ValidationError`` for bad data, ``UnknownProfileError`` for an unknown profile,
    ``UnknownLayoutError`` for an unknown layout (both ``PrinterError``).
    """
    if layout not in LAYOUTS:
        raise UnknownLayoutError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    profiles = site_profiles(printing) if printing is not None else {}
    profile = find_profile(profile_name, profiles)
    overrides = printing.layouts if printing is not None else {}
    chosen = make_layout(overrides[layout]) if layout in overrides else LAYOUTS[layout]
    fallback = glyph_fallback(printing)
    if layout == "ticket":
        ticket = TicketData.model_validate(values)
        return ticket, ticket_job(ticket, profile, chosen, fallback).data
    if layout == "receipt":
        receipt = ReceiptData.model_validate(values)
        return receipt, receipt_job(receipt, profile, chosen, fallback).data
    raise UnknownLayoutError(f"layout {layout!r} has no renderer")


def glyph_fallback(printing: PrintingConf | None) -> GlyphFallback:
    """The site's ``[printing] unprintable`` / ``substitute`` as a :class:`GlyphFallback`."""
    if printing is None:
        return GlyphFallback()
    return GlyphFallback(mode=printing.unprintable, substitute=printing.substitute)


__all__ = ["BUILTIN_PROFILES", "LAYOUTS", "render_named"]
