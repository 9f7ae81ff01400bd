"""The ``[printing]`` table of the site file: printer profiles and layouts (issue 4)."""

from __future__ import annotations

from siteconf.base import Section


class PrintingConf(Section):
    """Nothing configurable here yet."""
