"""The worker's liveness watchdog: a dead or stuck worker takes the server off the air.

Every ticket, call and rating goes through the one worker thread (``worker.py``). If that thread
dies, or stays on one batch longer than ``stuck_after`` seconds (a database that stopped answering,
a lock never released), the centre looks alive (``server/availability`` still ``online``) while
nothing moves. The watchdog checks the thread every ``interval`` seconds; on failure it logs why,
says ``offline`` on ``server/availability`` (``BusClient.stop``: displays and kiosks show the
outage at once) and calls ``on_failure``. ``motcua server`` passes ``exit_process``: the process
exits with ``EXIT_WORKER_FAILED`` and systemd (``Restart=on-failure``) starts a fresh one, which
rebuilds its state from the store.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

EXIT_WORKER_FAILED = 70  # EX_SOFTWARE: an internal error, restart me
STUCK_AFTER = 30.0  # seconds on one batch (a batch normally takes milliseconds)


class Watched(Protocol):
    """What the watchdog reads of the worker."""

    busy_since: float | None

    def alive(self) -> bool: ...


class Stoppable(Protocol):
    def stop(self) -> None: ...


def exit_process() -> None:
    """End the process at once with ``EXIT_WORKER_FAILED``: a stuck worker may hold locks a clean
    shutdown would wait on forever, and everything committed is already in the store."""
    logging.shutdown()
    os._exit(EXIT_WORKER_FAILED)


class Watchdog:
    """Start with ``start()``; ``failed`` is set (with ``reason``) once the worker is judged dead."""

    def __init__(
        self,
        worker: Watched,
        bus: Stoppable,
        on_failure: Callable[[], None] | None = None,
        *,
        interval: float = 0.5,
        stuck_after: float = STUCK_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.worker = worker
        self.bus = bus
        self.on_failure = on_failure
        self.interval = interval
        self.stuck_after = stuck_after
        self.clock = clock
        self.failed = threading.Event()
        self.reason = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="queue-server-watchdog", daemon=True)

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2 * self.interval + 1)

    def problem(self) -> str | None:
        """Why the worker is not doing its job, or ``None`` while it is."""
        if not self.worker.alive():
            return "the worker thread has died"
        since = self.worker.busy_since
        if since is not None and self.clock() - since > self.stuck_after:
            return f"the worker has been on one batch for over {self.stuck_after:.0f} s"
        return None

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            reason = self.problem()
            if reason is not None and not self._stop.is_set():
                self._fail(reason)
                return

    def _fail(self, reason: str) -> None:
        self.reason = reason
        log.critical("queue server is not working: %s; going offline for a restart", reason)
        try:
            self.bus.stop()  # says "offline" on server/availability, then disconnects
        except Exception:  # going offline is best effort (logged); the exit below is what counts
            log.exception("could not say offline on the bus")
        self.failed.set()
        if self.on_failure is not None:
            self.on_failure()
