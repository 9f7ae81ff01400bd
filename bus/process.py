"""What every long-running motcua process does around its work: wait for Ctrl-C or SIGTERM.

Why in ``bus``: the queue server, each device service and the simulators served on a pty or TCP all
run until told to stop; the lowest shared package holds the one way of waiting, so no package imports
the CLI for it.
"""

from __future__ import annotations

import logging
import signal
import threading

log = logging.getLogger(__name__)


def wait_for_signal(duration: float | None = None) -> None:
    """Block until Ctrl-C / SIGTERM or until ``duration`` seconds have passed.

    Afterwards a repeated Ctrl-C is only logged, so the clean stop that follows is not cut short.
    """
    stop = threading.Event()

    def request_stop(*_: object) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, request_stop)
    stop.wait(duration)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: log.warning("already stopping; please wait"))
