"""Layouts by name: data validation, the site's profiles and layout overrides, one entry point."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from printer.errors import UnknownLayoutError
from printer.layout import make_layout
from printer.profiles import BUILTIN_PROFILES, find_profile, site_profiles
from printer.receipt import RECEIPT_LAYOUT, ReceiptData, render_receipt
from printer.ticket import TICKET_LAYOUT, TicketData, render_ticket

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
    if layout == "ticket":
        ticket = TicketData.model_validate(values)
        return ticket, render_ticket(ticket, profile=profile, layout=chosen)
    if layout == "receipt":
        receipt = ReceiptData.model_validate(values)
        return receipt, render_receipt(receipt, profile, chosen)
    raise UnknownLayoutError(f"layout {layout!r} has no renderer")


__all__ = ["BUILTIN_PROFILES", "LAYOUTS", "render_named"]
