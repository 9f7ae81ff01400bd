"""The exception tree of ``kiosk``: every error this package raises is a :class:`KioskError`.

The screens catch the root and show the citizen a plain message; the branches say what failed (a
scanned text that is no CCCD, a lookup the server could not answer, the offline journal).
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error raised by ``kiosk``."""


class KioskConfigError(KioskError, ValueError):
    """The site file lacks something this kiosk needs (its printer, its counter); fix the file."""


class KioskInputError(KioskError, ValueError):
    """Input the kiosk cannot use: a dossier code, a score, a number block from the server."""


class NumbersExhaustedError(KioskError, LookupError):
    """The offline journal has no reserved number left for a service today."""


class KioskDeviceError(KioskError, OSError):
    """A local device or program the kiosk needs is missing: the camera, espeak-ng."""
