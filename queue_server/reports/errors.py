"""The reports package's exception root."""

from __future__ import annotations


class ReportError(Exception):
    """A report that cannot be made as asked; the message names the bad period, filter or database."""
