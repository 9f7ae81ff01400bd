"""The exception tree of ``printer``: every error this package raises is a :class:`PrinterError`.

Transport errors are converted at the driver boundary (``raise PrinterLinkError(...) from err``), so a
device service catches one family. Messages name the printer, what was wrong and what to do.
"""

from __future__ import annotations


class PrinterError(Exception):
    """Base of every error raised by ``printer``."""


class StatusReplyError(PrinterError, ValueError):
    """A status byte that is not a valid ``DLE EOT`` reply (wrong bit pattern)."""


class PrinterLinkError(PrinterError):
    """The transport under the printer failed or was closed."""


class PrinterTimeoutError(PrinterError, TimeoutError):
    """The printer did not answer in time (unplugged, powered off, wrong port or baud rate)."""


class PrinterNotReadyError(PrinterError):
    """The printer reports a state in which it cannot print; subclasses say which."""


class PaperOutError(PrinterNotReadyError):
    """The paper roll is empty."""


class CoverOpenError(PrinterNotReadyError):
    """The printer cover is open."""


class CutterError(PrinterNotReadyError):
    """The auto-cutter jammed or failed."""


class PrinterFaultError(PrinterNotReadyError):
    """Offline, or an unrecoverable or auto-recoverable error other than paper, cover or cutter."""


class TicketRenderError(PrinterError):
    """A ticket could not be turned into printer bytes (no usable font, text cannot fit)."""


class UnknownLayoutError(PrinterError, ValueError):
    """A layout name that is not one of the built-in layouts (ticket, receipt)."""
