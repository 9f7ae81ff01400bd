"""Simulator of a 433 MHz EV1527 receiver module on a serial line, with remotes pressing buttons.

Register it where the receiver would be (``register_simulator("rf-1", Ev1527ReceiverSim())``, then
``sim://rf-1``). ``press(remote_id, key, repeats=n)`` makes the module write the frame it writes for
each code heard, ``n`` times (default 4: a remote sends its code several times per press, and a
held button keeps repeating it; the host believes a code heard at least twice). The module never
reads what the host writes (``ignored_bytes`` counts it).

Faults, triggered at run time from any thread:

- ``inject_noise(n)`` / ``inject_noise(b"...")``: n random bytes (seeded by ``seed``) or the bytes given;
- ``press(..., truncate=k)``: only the first k bytes of each frame, as a code cut off by interference;
- ``silent = True``: the module hears nothing (a flat battery in the remote, an unplugged antenna);
- ``truncate = k`` (a standing fault): every frame is cut to its first k bytes.

The standing faults are the :class:`ReceiverFaults` dataclass, settable from
``sim://rf-1?silent=1`` and the control port (``docs/simulators.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

from counter_display.rf433 import encode_frame
from firmware_sim.base import FaultAttribute, LinkedSim
from firmware_sim.errors import SimNotAttachedError


class ReceiverNotAttachedError(SimNotAttachedError):
    """The simulator was asked to send while no host has opened its link."""


@dataclass
class ReceiverFaults:
    """Standing faults of a receiver module simulator."""

    silent: bool = False
    """The module hears nothing."""
    truncate: int | None = None
    """Every frame is cut to its first ``truncate`` bytes (interference)."""


class Ev1527ReceiverSim(LinkedSim):
    """A receiver module (implements ``SimDevice``)."""

    not_attached = ReceiverNotAttachedError
    silent = FaultAttribute()

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(ReceiverFaults(), seed)
        self.sent = 0
        self.ignored_bytes = 0

    def press(self, remote_id: int, key: int, repeats: int = 4, truncate: int | None = None) -> bytes:
        """Remote ``remote_id`` presses button ``key``; return the bytes the module wrote."""
        cut = truncate if truncate is not None else self.faults.truncate
        frame = encode_frame(remote_id, key)[:cut]
        data = b"" if self.silent else frame * repeats
        with self._lock:
            self._send(data)
        return data

    def receive(self, data: bytes) -> None:
        with self._lock:
            self.ignored_bytes += len(data)

    def _send(self, data: bytes) -> None:
        super()._send(data)
        self.sent += len(data)
