"""The ``[calendar]`` table of the site file.

Working calendar: holidays, substitute and make-up days by year (issue 3).
"""

from __future__ import annotations

from siteconf.base import Section


class CalendarConf(Section):
    """Nothing configurable here yet."""
