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

import contextlib
import logging
import os
import select
import signal
import sys
from typing import NoReturn

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignal:
    """Ctrl-C and SIGTERM, caught from the moment this is made (in the main thread) until ``wait``
    returns; a signal that came in between makes ``wait`` return at once.

    The handler takes no lock: it sets a flag and writes one byte to a pipe that ``wait`` watches.
    (Setting a ``threading.Event`` from a handler deadlocks when the signal lands while the main
    thread holds that event's own lock, inside ``Event.wait``: the handler runs in the main thread
    and waits for itself.)"""

    def __init__(self) -> None:
        self._requested = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._request_stop)

    def _request_stop(self, *_: object) -> None:
        self._requested = True
        with contextlib.suppress(OSError):  # the pipe is full (a byte waits) or closed (wait is over)
            os.write(self._wake_write, b"\0")

    @property
    def requested(self) -> bool:
        return self._requested

    def wait(self, duration: float | None = None) -> None:
        """Block until Ctrl-C / SIGTERM (now or since this was made) or until ``duration`` seconds
        have passed. Afterwards a repeated Ctrl-C is only logged, so the clean stop that follows is
        not cut short."""
        if not self._requested:
            # A signal during the poll runs the handler, whose byte ends the poll (PEP 475
            # retries the call after the handler, and the pipe is then readable).
            poll = select.poll()
            poll.register(self._wake_read, select.POLLIN)
            poll.poll(None if duration is None else duration * 1000)
        for sig in STOP_SIGNALS:
            signal.signal(sig, lambda *_: log.warning("already stopping; please wait"))
        os.close(self._wake_read)
        os.close(self._wake_write)


def wait_for_signal(duration: float | None = None) -> None:
    """Block until Ctrl-C / SIGTERM or until ``duration`` seconds have passed (for a process that
    announced nothing before: one that did makes its ``StopSignal`` first)."""
    StopSignal().wait(duration)


def exit_at_once(code: int) -> NoReturn:
    """End a service that has stopped cleanly (its work finished, its connections and store closed):
    flush the logs and the standard streams, then leave without the interpreter's teardown.

    That teardown (garbage collection and module clean-up over the queue server's ~130,000 objects)
    took 2-6 s after a clean stop on a busy 2-core machine, during which systemd sees the service
    as still stopping and a restart waits."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed or gone: nothing left to flush
            stream.flush()
    os._exit(code)
