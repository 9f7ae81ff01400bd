"""``sim://NAME``: an in-process link to a registered device simulator.

URL grammar: ``sim://NAME[?timeout=SECONDS][&FAULT=VALUE...]``. NAME must have been registered with
:func:`register_simulator` by whoever runs the simulator (the demo, a test). The host side is a
normal :class:`Transport`; the simulator side implements :class:`SimDevice`, receiving what the
host wrote through ``receive`` and answering through the :class:`SimLink` it was attached to.
The same simulator objects can also be served on a pty or TCP (``firmware_sim.serve``).

Any other query parameter is a fault of the simulator, set when the link opens
(``sim://printer-1?paper=near_end&cover=open``; ``docs/simulators.md`` lists every simulator's
faults): the simulator must implement :class:`FaultableSim`, and a fault it does not know, or a
value that does not fit, is a ``TransportUrlError`` naming it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable
from urllib.parse import SplitResult

from transport.base import DEFAULT_TIMEOUT, Transport, TransportClosedError, TransportUrlError
from transport.loop import ByteQueue
from transport.scheme import Scheme, TransportUrl, no_path

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NAME_RULE = "use letters, digits, '.', '_' and '-', starting with a letter or digit"


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


@runtime_checkable
class FaultableSim(Protocol):
    """A simulator whose faults can be set by name from text (``firmware_sim.faults.Faults``)."""

    def set_faults(self, values: Mapping[str, object]) -> None:
        """Set every ``name → value``; ``ValueError`` naming a bad one, changing nothing then."""


_registry: dict[str, SimDevice] = {}
_registry_lock = threading.Lock()


def register_simulator(name: str, device: SimDevice) -> None:
    """Make ``device`` reachable as ``sim://name``; replaces any earlier device of that name."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"simulator name {name!r} cannot be written in a sim:// URL: {_NAME_RULE}")
    with _registry_lock:
        _registry[name] = device


def unregister_simulator(name: str) -> None:
    """Forget ``sim://name``; links already open keep working until closed."""
    with _registry_lock:
        _registry.pop(name, None)


def registered_simulators() -> list[str]:
    """Names currently reachable as ``sim://NAME``, sorted."""
    with _registry_lock:
        return sorted(_registry)


class SimTransport(Transport):
    """Host end of an in-process simulator link."""

    def __init__(self, url: str, device: SimDevice, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self._device = device
        self._inbox = ByteQueue()
        self._write_lock = threading.Lock()
        device.attach(self._inbox)

    def write(self, data: bytes) -> None:
        self._check_open()
        with self._write_lock:
            self._device.receive(bytes(data))

    def read(self, size: int = 1, timeout: float | None = None) -> bytes:
        self._check_open()
        try:
            return self._inbox.take(size, self.timeout if timeout is None else timeout)
        except TransportClosedError:
            raise TransportClosedError(f"{self.url} was closed while reading") from None

    def reset_input(self) -> None:
        self._check_open()
        self._inbox.clear()

    def close(self) -> None:
        if not self._closed:
            super().close()
            self._inbox.close()
            self._device.detach()


def open_sim(url: str, name: str, timeout: float, faults: Mapping[str, str] | None = None) -> SimTransport:
    """Attach a new host link to the simulator registered as ``name``, first setting ``faults``."""
    with _registry_lock:
        device = _registry.get(name)
    if device is None:
        known = ", ".join(registered_simulators()) or "none"
        raise TransportUrlError(url, f"no simulator named {name!r} is running (registered: {known})")
    if faults:
        if not isinstance(device, FaultableSim):
            raise TransportUrlError(url, f"simulator {name!r} has no faults to set ({', '.join(faults)})")
        try:
            device.set_faults(faults)
        except ValueError as err:
            raise TransportUrlError(url, str(err)) from err
    return SimTransport(url, device, timeout)


SimFactory = Callable[[], SimDevice]


def _parse_target(parts: SplitResult) -> str:
    name = parts.netloc
    if not name:
        raise ValueError("missing simulator name")
    if not _NAME.fullmatch(name):
        raise ValueError(f"bad simulator name {name!r}: {_NAME_RULE}")
    no_path(parts)
    return name


def _open(url: TransportUrl, timeout: float) -> SimTransport:
    return open_sim(url.url, url.target, timeout, url.extra)


SCHEME = Scheme(
    name="sim",
    grammar="sim://NAME",
    parse_target=_parse_target,
    opener=_open,
    free_params=True,
)
