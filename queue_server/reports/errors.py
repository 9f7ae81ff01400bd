"""The reports package's exception root."""

from __future__ import annotations

from queue_server.errors import QueueServerError


class ReportError(QueueServerError):
    """A report that cannot be made as asked; the message names the bad period, filter or database."""
