"""The scanner's checks of the site file's ``[scanning]`` table, registered with ``siteconf``.

``siteconf`` reads the table's shape; only this package knows which symbology names zxing-cpp reads,
so that check lives here and runs wherever a site file is loaded (the module is an entry point of
``motcua.site_sections``). zxing-cpp is imported inside the check, not when the hook loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from siteconf.registry import register_section

if TYPE_CHECKING:
    from siteconf.model import Site
    from siteconf.scanning import ScanningConf


def check_scanning(scanning: ScanningConf, site: Site) -> list[str]:
    """One message per symbology name zxing-cpp does not know, and for a name given twice."""
    if scanning.symbologies is None:
        return []
    try:
        from scanner.codes import SymbologyError, symbology_name
    except ImportError:  # a server-only install has no zxing-cpp; the station checks again when it starts
        return []

    found: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(scanning.symbologies):
        try:
            canonical = symbology_name(name)
        except SymbologyError as err:
            found.append(f"scanning.symbologies[{i}]: {err}")
            continue
        if canonical in seen:
            found.append(f"scanning.symbologies[{i}]: {canonical} is listed twice")
        seen.add(canonical)
    return found


register_section("scanning", check_scanning)
