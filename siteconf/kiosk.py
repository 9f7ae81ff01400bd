"""The ``[kiosk]`` table of the site file.

Kiosk screens: groups, rating scale, officers, procedures, accessibility (issue 6).
"""

from __future__ import annotations

from siteconf.base import Section


class KioskConf(Section):
    """Nothing configurable here yet."""
