"""The ``[printing]`` table of the site file: printer profiles, which printer uses which, layouts.

::

    [printing]
    spool_dir = "var/spool"                 # on-disk job spool of each printer service
    ticket_hold_s = 8                       # a ticket waits this long for paper/cover/cutter, then fails
    receipt_hold_s = 120                    # a Form 01 receipt waits longer (the clerk is there)
    printers = { printer-k1 = "generic-80" } # device id -> profile (default: generic, device width)

    [printing.profiles.xp80-clone]          # a site's own profile (fields: printer.profiles)
    base = "default"
    width_dots = 576
    native_qr = false

    [printing.layouts]                      # replace a built-in layout (elements: printer.layout)
    ticket = [ { kind = "text", text = "{service_name}", size_px = 34, bold = true }, ... ]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from siteconf.base import Section

if TYPE_CHECKING:
    from printer.profiles import PrinterProfile
    from siteconf.model import Site
else:
    PrinterProfile = Any


class PrintingConf(Section):
    """Printer profiles, the profile of each printer device, layout overrides and the spool folder."""

    spool_dir: str = "var/spool"
    ticket_hold_s: float = Field(
        default=8.0, ge=0, le=600, description="a ticket waits this long for a fault"
    )
    receipt_hold_s: float = Field(default=120.0, ge=0, le=3600, description="a receipt waits this long")
    printers: dict[str, str] = Field(default_factory=dict, description="printer device id -> profile name")
    profiles: dict[str, Any] = Field(
        default_factory=dict, description="name -> printer.profiles.PrinterProfile"
    )
    layouts: dict[str, list[dict[str, Any]]] = Field(default_factory=dict, description="layout -> elements")

    @field_validator("profiles")
    @classmethod
    def _profiles(cls, value: dict[str, Any]) -> dict[str, Any]:
        from pydantic import ValidationError

        from printer.profiles import PrinterProfile

        checked = {}
        for name, table in value.items():
            try:
                checked[name] = PrinterProfile.model_validate(table)
            except ValidationError as err:
                raise ValueError(f"profiles.{name}: {_first(err)}") from None
        return checked

    @field_validator("layouts")
    @classmethod
    def _layouts(cls, value: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        from pydantic import ValidationError

        from printer.layout import make_layout
        from printer.render import LAYOUTS

        for name, elements in value.items():
            if name not in LAYOUTS:
                raise ValueError(f"layouts.{name}: unknown layout; known: {', '.join(LAYOUTS)}")
            for i, element in enumerate(elements):
                try:
                    make_layout([element])
                except ValidationError as err:
                    raise ValueError(f"layouts.{name}[{i}]: {_first(err)}") from None
        return value

    def problems(self, site: Site) -> list[str]:
        from bus.models import DeviceKind
        from printer.profiles import BUILTIN_PROFILES

        found = []
        known = {**BUILTIN_PROFILES, **self.profiles}
        kinds = {d.id: d.kind for d in site.devices}
        for device, profile in self.printers.items():
            if kinds.get(device) is not DeviceKind.PRINTER:
                found.append(f"printing.printers.{device}: no printer device {device!r} in [[devices]]")
            if profile not in known:
                names = ", ".join(sorted(known))
                found.append(f"printing.printers.{device}: unknown profile {profile!r}; known: {names}")
        return found

    def profile_for(self, device_id: str, width_dots: int) -> PrinterProfile:
        """The profile of printer ``device_id``: the one named here, or a generic one of its width."""
        from printer.profiles import find_profile, profile_for_width

        name = self.printers.get(device_id)
        return find_profile(name, self.profiles) if name else profile_for_width(width_dots)


def _first(err: Any) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {str(e['msg']).removeprefix('Value error, ')}"
        for e in err.errors()
    )
