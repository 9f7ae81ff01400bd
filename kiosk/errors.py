"""The exception tree of ``kiosk``: every error this package raises is a :class:`KioskError`.

The screens catch the root and show the citizen a plain message; the branches say what failed (a
scanned text that is no CCCD, a lookup the server could not answer, the offline journal).
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error raised by ``kiosk``."""
