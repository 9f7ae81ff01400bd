"""Simulator of a 433 MHz EV1527 receiver module on a serial line, with remotes pressing buttons.

Register it where the receiver would be (``register_simulator("rf-1", Ev1527ReceiverSim())``, then
``sim://rf-1``). ``press(remote_id, key, repeats=n)`` makes the module write the frame it writes for
each code heard, ``n`` times (a held button repeats its code). The module never reads what the host
writes (``ignored_bytes`` counts it).

Faults, triggered at run time from any thread:

- ``inject_noise(n)`` / ``inject_noise(b"...")``: n random bytes (seeded by ``seed``) or the bytes given;
- ``press(..., truncate=k)``: only the first k bytes of each frame, as a code cut off by interference;
- ``silent = True``: the module hears nothing (a flat battery in the remote, an unplugged antenna).
"""

from __future__ import annotations

import random
import threading

from counter_display.rf433 import encode_frame
from transport.sim import SimLink


class ReceiverNotAttachedError(RuntimeError):
    """The simulator was asked to send while no host has opened its link."""


class Ev1527ReceiverSim:
    """A receiver module (implements ``SimDevice``)."""

    def __init__(self, seed: int | None = None) -> None:
        self.silent = False
        self.sent = 0
        self.ignored_bytes = 0
        self._random = random.Random(seed)
        self._link: SimLink | None = None
        self._lock = threading.Lock()

    def press(self, remote_id: int, key: int, repeats: int = 1, truncate: int | None = None) -> bytes:
        """Remote ``remote_id`` presses button ``key``; return the bytes the module wrote."""
        frame = encode_frame(remote_id, key)[:truncate]
        data = b"" if self.silent else frame * repeats
        self._send(data)
        return data

    def inject_noise(self, noise: int | bytes) -> bytes:
        with self._lock:
            data = noise if isinstance(noise, bytes) else self._random.randbytes(noise)
        self._send(data)
        return data

    def attach(self, link: SimLink) -> None:
        with self._lock:
            self._link = link

    def detach(self) -> None:
        with self._lock:
            self._link = None

    def receive(self, data: bytes) -> None:
        with self._lock:
            self.ignored_bytes += len(data)

    def _send(self, data: bytes) -> None:
        with self._lock:
            if self._link is None:
                raise ReceiverNotAttachedError(
                    "receiver simulator has no host; register it and open its sim:// URL"
                )
            if data:
                self._link.send(data)
                self.sent += len(data)
