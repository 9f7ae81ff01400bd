"""What every byte-stream simulator shares: its host link, noise injection and faults as data.

A simulator (``transport.sim.SimDevice``) is attached to one host link at a time: in-process
through ``sim://NAME``, or served on a pty or TCP (:mod:`firmware_sim.serve`). :class:`LinkedSim`
keeps that link, sends to it (raising the simulator's own ``not_attached`` error when no host has
opened it), injects line noise, counts rejected bytes of the simulator's streaming decoder, and
takes its faults from a dataclass (:class:`firmware_sim.faults.Faults`), so a ``sim://`` query, the
control port and a test set them the same way.
"""

from __future__ import annotations

import random
import threading
from typing import Any

from firmware_sim.errors import SimNotAttachedError
from firmware_sim.faults import Faults
from transport.sim import SimLink


class FaultAttribute:
    """``mute = FaultAttribute()``: ``sim.mute`` reads and writes ``sim.faults.mute``, so code and
    tests written before faults were data keep working."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, sim: Any, owner: type | None = None) -> Any:
        return getattr(sim.faults, self.name)

    def __set__(self, sim: Any, value: Any) -> None:
        setattr(sim.faults, self.name, value)


class LinkedSim(Faults):
    """Base of the serial simulators: ``faults`` is their dataclass, ``_decoder`` (if any) their parser."""

    not_attached: type[RuntimeError] = SimNotAttachedError

    def __init__(self, faults: Any, seed: int | None = None, lock: threading.Lock | None = None) -> None:
        self.faults = faults
        self._lock: Any = lock if lock is not None else threading.Lock()
        self._link: SimLink | None = None
        self._random = random.Random(seed)

    def attach(self, link: SimLink) -> None:
        with self._lock:
            self._link = link

    def detach(self) -> None:
        with self._lock:
            self._link = None

    @property
    def rejected_bytes(self) -> int:
        """Bytes from the host that were not part of a valid frame (noise, bad checksum)."""
        decoder = getattr(self, "_decoder", None)  # the simulator's streaming parser, if it reads frames
        with self._lock:
            return 0 if decoder is None else int(decoder.rejected_bytes)

    def inject_noise(self, noise: int | bytes) -> bytes:
        """Send ``noise`` random bytes (seeded by ``seed``), or the given bytes; return what was sent."""
        with self._lock:
            data = noise if isinstance(noise, bytes) else self._random.randbytes(noise)
            self._send(data)
        return data

    def _send(self, data: bytes) -> None:
        """Send to the host; the caller holds ``_lock``."""
        if self._link is None:
            raise self.not_attached(
                f"{self!r} has no host; register it and open its sim:// URL (or serve it) first"
            )
        if data:
            self._link.send(data)
