"""The life of a device service: worker threads, the bus link, retries with backoff, status.

A device service owns one physical device (DESIGN.md, layers of a device). Every one of them
connects its :class:`~bus.device.DeviceLink` (availability as Last Will, retained info and
status), runs one or more worker threads that must never die of an error, and stops in the same
order: signal the workers, wake them, join them, leave the bus, release the hardware.
:class:`DeviceService` does that once; a service adds its workers and overrides the hooks.

:class:`PolledDeviceService` is the shape of an input device (a keypad line, a 433 MHz receiver):
a worker polls the line; when the line fails the status goes ERROR once (code ``link``), the line
is closed and reopened with :class:`Backoff`, and the status goes back to OK after the first poll
that works.
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, Self, TypeVar

from bus import models as m
from bus.device import DeviceLink
from transport.base import TransportError

log = logging.getLogger(__name__)

T = TypeVar("T")


class Service(Protocol):
    """What a process runs for a device: the CLI and the demo start, stop and watch these."""

    def start(self) -> object: ...
    def stop(self) -> None: ...
    def idle(self) -> bool:
        """True when nothing received is still waiting to reach the hardware."""
        ...


class Backoff:
    """Pauses between retries: ``first`` seconds, doubling after every failure up to ``longest``."""

    def __init__(self, first: float, longest: float) -> None:
        if first <= 0 or longest < first:
            raise ValueError(f"backoff needs 0 < first <= longest, got first={first}, longest={longest}")
        self.first = first
        self.longest = longest
        self.current: float | None = None
        """The last pause handed out; ``None`` after a success."""

    def next(self) -> float:
        """The pause before the next retry (and remember it)."""
        self.current = self.first if self.current is None else min(self.current * 2, self.longest)
        return self.current

    def reset(self) -> None:
        """The last try worked: the next failure waits ``first`` again."""
        self.current = None


class DeviceService(abc.ABC):
    """One device's service: its bus ``link`` and its worker threads, started and stopped in order.

    ``start``: connect the link, ``_started()`` (publish the first status, load spooled work),
    start the workers. ``stop``: set ``stopping``, ``_stopping()`` (wake workers blocked elsewhere
    than on ``stopping``), join the workers, leave the bus, ``_release()`` the hardware.
    """

    join_timeout_s = 5.0

    def __init__(self, device_id: str, link: DeviceLink) -> None:
        self.device_id = device_id
        self.link = link
        self.stopping = threading.Event()
        self._workers: list[threading.Thread] = []

    def add_worker(self, target: Callable[[], None], role: str) -> threading.Thread:
        """A daemon thread named ``{device}-{role}``, started by ``start``."""
        worker = threading.Thread(target=target, name=f"{self.device_id}-{role}", daemon=True)
        self._workers.append(worker)
        return worker

    def start(self) -> Self:
        self._connect()
        self._started()
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._stopping()
        for worker in self._workers:
            if worker.is_alive():
                worker.join(timeout=self.join_timeout_s)
        self.link.stop()
        self._release()

    def idle(self) -> bool:
        """Whether nothing received still waits to reach the hardware; input devices always are."""
        return True

    def _connect(self) -> None:
        """Hook: join the bus (by default waiting for the broker, as ``DeviceLink.start`` does)."""
        self.link.start()

    def _started(self) -> None:  # noqa: B027  an optional hook, empty by default
        """Hook: the link is up, the workers not yet started."""

    def _stopping(self) -> None:  # noqa: B027  an optional hook, empty by default
        """Hook: ``stopping`` is set; wake workers waiting on something else."""

    @abc.abstractmethod
    def _release(self) -> None:
        """Close the hardware (transport, spool) after the workers and the link stopped."""

    def report_ok(self) -> bool:
        """Publish health OK (retained) if it was not; whether it was published."""
        return self.link.set_status(m.DeviceStatus(health=m.Health.OK))

    def report_error(self, code: str, err: Exception | str) -> bool:
        """Publish health ERROR with the stable ``code`` and the reason; whether it was new."""
        status = m.DeviceStatus(health=m.Health.ERROR, errors=[code], detail=str(err))
        return self.link.set_status(status)


class PolledDeviceService(DeviceService, Generic[T]):
    """An input device polled by one worker; a failing line is reported once and reopened with backoff.

    A subclass says how to ``_poll`` (reopening the line first if ``_line_closed()``), how to
    ``_publish`` what the poll returned and how to ``_close_line``; ``line_errors`` are the
    exceptions that mean the line failed (anything else is logged and retried the same way).
    """

    retry_first_s = 0.5
    retry_max_s = 10.0
    line_errors: tuple[type[Exception], ...] = (TransportError,)

    def __init__(self, device_id: str, link: DeviceLink) -> None:
        super().__init__(device_id, link)
        self.line_lost = False
        self.backoff = Backoff(self.retry_first_s, self.retry_max_s)
        self._worker = self.add_worker(self._run, "poll")

    def _started(self) -> None:
        self.report_ok()

    @abc.abstractmethod
    def _poll(self) -> Sequence[T]:
        """Reopen the line if it was closed, wait a little for input, return what came."""

    @abc.abstractmethod
    def _publish(self, item: T) -> None:
        """Send one polled item to the bus (or ignore it)."""

    @abc.abstractmethod
    def _close_line(self) -> None:
        """Close the line after a failure; the next ``_poll`` reopens it."""

    def _release(self) -> None:
        self._close_line()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                items = self._poll()
            except self.line_errors as err:
                self._lose_line(err)
            except Exception:  # the worker must outlive any bug: the counter could not call
                log.exception("%s: unexpected error polling the line; retrying", self.device_id)
            else:
                self.backoff.reset()
                if self.line_lost:
                    self.line_lost = False
                    log.info("%s: the line is back", self.device_id)
                    self.report_ok()
                for item in items:
                    self._publish(item)
                continue
            self.stopping.wait(self.backoff.next())

    def _lose_line(self, err: Exception) -> None:
        """Report the failure once per outage and close the line; ``_poll`` reopens it."""
        if not self.line_lost:
            self.line_lost = True
            log.warning("%s: the line failed, reopening with backoff: %s", self.device_id, err)
            self.report_error("link", err)
        self._close_line()
