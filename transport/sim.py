"""``sim://NAME``: an in-process link to a registered device simulator.

URL grammar: ``sim://NAME[?timeout=SECONDS]``. NAME must have been registered with
:func:`register_simulator` by whoever runs the simulator (the demo, a test). The host side is a
normal :class:`Transport`; the simulator side implements :class:`SimDevice`, receiving what the
host wrote through ``receive`` and answering through the :class:`SimLink` it was attached to.
The same simulator objects can also be served on a pty or TCP (``firmware_sim.serve``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from transport.base import DEFAULT_TIMEOUT, Transport, TransportClosedError, TransportUrlError


class SimLink(Protocol):
    """What a simulator uses to send bytes to the host that opened it."""

    def send(self, data: bytes) -> None: ...


class SimDevice(Protocol):
    """A device simulator: parses the bytes a real device parses and answers what it answers."""

    def attach(self, link: SimLink) -> None:
        """Called when a host opens the link; replies go through ``link.send``."""

    def receive(self, data: bytes) -> None:
        """Bytes the host wrote, in order, possibly split or joined arbitrarily."""

    def detach(self) -> None:
        """The host closed the link."""


_registry: dict[str, SimDevice] = {}
_registry_lock = threading.Lock()


def register_simulator(name: str, device: SimDevice) -> None:
    """Make ``device`` reachable as ``sim://name``; replaces any earlier device of that name."""
    with _registry_lock:
        _registry[name] = device


def unregister_simulator(name: str) -> None:
    with _registry_lock:
        _registry.pop(name, None)


def registered_simulators() -> list[str]:
    with _registry_lock:
        return sorted(_registry)


class _HostBuffer:
    """Bytes travelling from the simulator to the host, with a condition for timed reads."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.cond = threading.Condition()
        self.closed = False

    def send(self, data: bytes) -> None:
        with self.cond:
            if self.closed:
                return
            self.data += data
            self.cond.notify_all()

    def take(self, size: int, timeout: float) -> bytes:
        with self.cond:
            self.cond.wait_for(lambda: self.data or self.closed, timeout=max(timeout, 0.0))
            if not self.data and self.closed:
                raise TransportClosedError("simulator link closed")
            chunk = bytes(self.data[:size])
            del self.data[:size]
            return chunk

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


class SimTransport(Transport):
    """Host end of an in-process simulator link."""

    def __init__(self, url: str, device: SimDevice, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self._device = device
        self._inbox = _HostBuffer()
        self._write_lock = threading.Lock()
        device.attach(self._inbox)

    def write(self, data: bytes) -> None:
        if self._closed:
            raise TransportClosedError(f"{self.url} is closed")
        with self._write_lock:
            self._device.receive(bytes(data))

    def read(self, size: int = 1, timeout: float | None = None) -> bytes:
        if self._closed:
            raise TransportClosedError(f"{self.url} is closed")
        return self._inbox.take(size, self.timeout if timeout is None else timeout)

    def close(self) -> None:
        if not self._closed:
            super().close()
            self._inbox.close()
            self._device.detach()


def open_sim(url: str, name: str, timeout: float) -> SimTransport:
    with _registry_lock:
        device = _registry.get(name)
    if device is None:
        known = ", ".join(registered_simulators()) or "none"
        raise TransportUrlError(url, f"no simulator named {name!r} is running (registered: {known})")
    return SimTransport(url, device, timeout)


SimFactory = Callable[[], SimDevice]
