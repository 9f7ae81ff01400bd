"""Waiting for Ctrl-C or SIGTERM: how every long-running ``motcua`` command ends cleanly.

Its own module so the commands (``motcua demo``, ``motcua device``) need not import
``motcua_cli.main``, which imports them: the CLI's modules form no cycle.
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
