"""The printer's checks of the site file's ``[printing]`` table, registered with ``siteconf``.

``siteconf`` reads the table's shape; only this package knows what makes a printer profile (its fields,
an escpos-printer-db base) or a layout (its elements), so those checks live here and run wherever a
site file is loaded (the module is an entry point of ``motcua.site_sections``). Heavy imports stay
inside the checks: a queue-server-only install loads this module without python-escpos or Pillow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from siteconf.registry import register_section

if TYPE_CHECKING:
    from pydantic import ValidationError

    from siteconf.model import Site
    from siteconf.printing import PrintingConf


def check_printing(printing: PrintingConf, site: Site) -> list[str]:
    """One message per bad profile, layout or printer-to-profile entry of ``[printing]``."""
    found = _profile_problems(printing.profiles)
    found += _layout_problems(printing.layouts)
    if found:
        return found  # a printer naming a broken profile would only repeat the message
    from printer.profiles import BUILTIN_PROFILES

    known = {**BUILTIN_PROFILES, **printing.profiles}
    for device, profile in printing.printers.items():
        if profile not in known:
            names = ", ".join(sorted(known))
            found.append(f"printing.printers.{device}: unknown profile {profile!r}; known: {names}")
    return found


def _profile_problems(profiles: dict[str, Any]) -> list[str]:
    from pydantic import ValidationError

    from printer.profiles import PrinterProfile

    found = []
    for name, table in profiles.items():
        try:
            PrinterProfile.model_validate(table)
        except ValidationError as err:
            found.append(f"printing.profiles.{name}: {_first(err)}")
    return found


def _layout_problems(layouts: dict[str, list[dict[str, Any]]]) -> list[str]:
    from pydantic import ValidationError

    from printer.layout import make_layout
    from printer.render import LAYOUTS

    found = []
    for name, elements in layouts.items():
        if name not in LAYOUTS:
            found.append(f"printing.layouts.{name}: unknown layout; known: {', '.join(LAYOUTS)}")
            continue
        for i, element in enumerate(elements):
            try:
                make_layout([element])
            except ValidationError as err:
                found.append(f"printing.layouts.{name}[{i}]: {_first(err)}")
    return found


def _first(err: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {str(e['msg']).removeprefix('Value error, ')}"
        for e in err.errors()
    )


register_section("printing", check_printing)
