"""The ``[display]`` table of the site file: LED displays, keypads, hall board and voice (issue 5)."""

from __future__ import annotations

from siteconf.base import Section


class DisplayConf(Section):
    """Nothing configurable here yet."""
