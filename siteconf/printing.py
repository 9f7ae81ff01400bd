"""The ``[printing]`` table of the site file: printer profiles, which printer uses which, layouts.

::

    [printing]
    spool_dir = "var/spool"                 # on-disk job spool of each printer service
    ticket_hold_s = 8                       # a ticket waits this long for paper/cover/cutter, then fails
    receipt_hold_s = 120                    # a Form 01 receipt waits longer (the clerk is there)
    printers = { printer-k1 = "generic-80" } # device id -> profile (default: generic, device width)
    receipt_printers = { 3 = "printer-c3" }  # counter number -> its Form 01 receipt printer
    unprintable = "substitute"              # a character the font cannot draw (emoji, CJK): substitute |
                                            # transliterate (① -> 1, else substitute) | drop
    substitute = "?"                        # what prints instead, for substitute and transliterate

    [printing.profiles.xp80-clone]          # a site's own profile (fields: printer.profiles)
    base = "default"
    width_dots = 576
    native_qr = false

    [printing.layouts]                      # replace a built-in layout (elements: printer.layout)
    ticket = [ { kind = "text", text = "{service_name}", size_px = 34, bold = true }, ... ]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from siteconf.base import Section

if TYPE_CHECKING:
    from siteconf.model import Site


class PrintingConf(Section):
    """Printer profiles, the profile of each printer device, layout overrides and the spool folder.

    The shape is checked here; what makes a profile or a layout is the printer's to say
    (``printer.site_section``, a registered hook), and ``printer.site_section.profile_for`` picks a
    printer's profile.
    """

    spool_dir: str = "var/spool"
    ticket_hold_s: float = Field(
        default=8.0, ge=0, le=600, description="a ticket waits this long for a fault"
    )
    receipt_hold_s: float = Field(default=120.0, ge=0, le=3600, description="a receipt waits this long")
    unprintable: Literal["substitute", "transliterate", "drop"] = Field(
        default="substitute",
        description="what prints for a character the font has no glyph for (emoji, CJK): the substitute, "
        "its compatibility form if printable (① -> 1) else the substitute, or nothing",
    )
    substitute: str = Field(
        default="?", max_length=3, description="printed instead of a character the font cannot draw"
    )
    printers: dict[str, str] = Field(default_factory=dict, description="printer device id -> profile name")
    profiles: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="name -> fields of printer.profiles.PrinterProfile"
    )
    layouts: dict[str, list[dict[str, Any]]] = Field(default_factory=dict, description="layout -> elements")
    receipt_printers: dict[int, str] = Field(
        default_factory=dict,
        description="counter number -> printer device id of its Form 01 receipts (the console's 'In phiếu')",
    )

    def problems(self, site: Site) -> list[str]:
        from bus.models import DeviceKind

        kinds = {d.id: d.kind for d in site.devices}
        found = [
            f"printing.printers.{device}: no printer device {device!r} in [[devices]]"
            for device in self.printers
            if kinds.get(device) is not DeviceKind.PRINTER
        ]
        return found + self._binding_problems(site)

    def _binding_problems(self, site: Site) -> list[str]:
        """Each counter's receipt printer: a printer device, not a kiosk's, not another counter's."""
        from bus.models import DeviceKind

        devices = {d.id: d for d in site.devices}
        counters = {c.number for c in site.counters}
        kiosks = {d.printer: d.id for d in site.devices if d.kind is DeviceKind.KIOSK and d.printer}
        found = []
        for counter, printer in self.receipt_printers.items():
            path = f"printing.receipt_printers.{counter}"
            device = devices.get(printer)
            if counter not in counters:
                found.append(f"{path}: no counter number {counter} in [[counters]]")
            elif device is None or device.kind is not DeviceKind.PRINTER:
                found.append(f"{path}: no printer device {printer!r} in [[devices]]")
            elif printer in kiosks:
                found.append(f"{path}: {printer!r} is the ticket printer of kiosk {kiosks[printer]!r}")
            elif device.counter is not None and device.counter != counter:
                found.append(f"{path}: {printer!r} belongs to counter {device.counter} (its devices counter)")
        return found
