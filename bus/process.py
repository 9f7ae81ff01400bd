"""What every long-running motcua process does around its work: wait for Ctrl-C or SIGTERM.

Why in ``bus``: the queue server, each device service and the simulators served on a pty or TCP all
run until told to stop; the lowest shared package holds the one way of waiting, so no package imports
the CLI for it.

A process catches the signals *before* it announces itself (the server's and a device's ``online``,
a simulator's URL on stdout): ``stop = StopSignal()`` first, then start and announce, then
``stop.wait()``. A SIGTERM sent the moment ``online`` is seen, while the process still opens its
HTTP port, is then a clean stop rather than the signal's default action (death by SIGTERM, nothing
closed).
"""

from __future__ import annotations

import logging
import signal
import threading

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignal:
    """Ctrl-C and SIGTERM, caught from the moment this is made (in the main thread) until ``wait``
    returns; a signal that came in between makes ``wait`` return at once."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._request_stop)

    def _request_stop(self, *_: object) -> None:
        self._stop.set()

    @property
    def requested(self) -> bool:
        return self._stop.is_set()

    def wait(self, duration: float | None = None) -> None:
        """Block until Ctrl-C / SIGTERM (now or since this was made) or until ``duration`` seconds
        have passed. Afterwards a repeated Ctrl-C is only logged, so the clean stop that follows is
        not cut short."""
        self._stop.wait(duration)
        for sig in STOP_SIGNALS:
            signal.signal(sig, lambda *_: log.warning("already stopping; please wait"))


def wait_for_signal(duration: float | None = None) -> None:
    """Block until Ctrl-C / SIGTERM or until ``duration`` seconds have passed (for a process that
    announced nothing before: one that did makes its ``StopSignal`` first)."""
    StopSignal().wait(duration)
