"""The ``[scanning]`` table of the site file: digitisation station settings (issue 7)."""

from __future__ import annotations

from siteconf.base import Section


class ScanningConf(Section):
    """Nothing configurable here yet."""
