"""The ``[queue]`` table of the site file.

Queue server rules: priorities, interleave, issuing hours, no-show, versions (issue 3).
"""

from __future__ import annotations

from siteconf.base import Section


class QueueRules(Section):
    """Nothing configurable here yet."""
