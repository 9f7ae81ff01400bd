"""Simulator of a Chinese 21-key calling keypad on the caller bus, speaking the device's real bytes.

Register it where the bus would be (``register_simulator("keypads", CallerBusKeypadSim(5))``, then
``sim://keypads``). ``press(key)`` sends the key-event frame to the host ([verify] the assumed
``Command.KEY_EVENT`` 0x01 frame, see ``counter_display.caller_bus``). The host acknowledges by echoing
the frame back unchanged; the simulator reads what the host writes with the streaming decoder and
counts each echo that matches a frame still waiting (``acked``); frames without their echo yet are
``unacked`` (as keys, oldest first). Display (0x02) and beep (0x03) frames addressed to this keypad
set ``display_text`` (6 characters, blanks as spaces, e.g. ``"   123"``) and count ``beeps``; frames
for other addresses and anything undecodable are ignored, like the device.

Faults, triggered at run time from any thread:

- ``press(key, repeats=n)``: the same frame sent n times back to back, as a keypad retransmitting
  or a bouncing key does;
- ``resend_unacked()``: send again every frame the host has not acknowledged (a keypad's retry);
- ``inject_noise(n)`` / ``inject_noise(b"...")``: n random bytes (seeded by ``seed``) or the bytes
  given go to the host, as line noise or a half-received frame would;
- ``press(key, fault=...)``: the frame goes out damaged: ``"garble"`` (one data byte flipped, so the
  checksum fails), ``"bad_checksum"`` (intact data, wrong CS), ``"truncate"`` (cut before CS 16);
  the host must report nothing, and the keypad waits for an acknowledgement that never comes;
- ``mute = True``: as if unplugged from the bus: presses send nothing and host frames are not heard.

``polled=True`` makes it a keypad on a polled bus (``counter_display.caller_poll``): a press is kept,
not sent; each poll frame (CMD 04) for this address is answered with the oldest unacknowledged key
frame (damaged by the standing ``damage`` fault, if set) until the host echoes it, or with the
idle answer (CMD 04, data ``00``) when nothing waits.

The standing faults are the :class:`KeypadFaults` dataclass (``mute``, and ``damage``: every
press goes out damaged that way until set back to ``none``), settable from ``sim://keys?mute=1``
and the control port (``docs/simulators.md``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from counter_display.caller_bus import (
    CallerBusDecoder,
    CallerBusFrame,
    Command,
    Key,
    encode_frame,
    key_frame,
    key_of,
    text_of,
)
from firmware_sim.base import FaultAttribute, LinkedSim
from firmware_sim.errors import SimNotAttachedError

log = logging.getLogger(__name__)


class KeypadNotAttachedError(SimNotAttachedError):
    """The simulator was asked to send while no host has opened its link."""


@dataclass
class KeypadFaults:
    """Standing faults of a keypad simulator."""

    mute: bool = False
    """Unplugged from the bus: presses send nothing, host frames are not heard."""
    damage: Literal["none", "garble", "bad_checksum", "truncate"] = "none"
    """Every press goes out damaged this way (see :func:`_damaged`)."""


class CallerBusKeypadSim(LinkedSim):
    """A calling keypad at bus address ``addr`` (implements ``SimDevice``)."""

    not_attached = KeypadNotAttachedError
    mute = FaultAttribute()

    def __init__(self, addr: int, seed: int | None = None, polled: bool = False) -> None:
        super().__init__(KeypadFaults(), seed)
        self.addr = addr
        self.polled = polled
        self.polls_answered = 0
        self._decoder = CallerBusDecoder()
        self._unacked: list[Key] = []
        self.acked = 0
        self.presses = 0
        self.beeps = 0
        self.display_text = ""
        self.frames_ignored = 0

    def __repr__(self) -> str:
        return f"<CallerBusKeypadSim addr {self.addr}: {self.acked} acked, {len(self._unacked)} waiting>"

    @property
    def unacked(self) -> list[Key]:
        """Keys whose frame the host has not echoed yet, oldest first."""
        with self._lock:
            return list(self._unacked)

    def press(self, key: Key, repeats: int = 1, fault: str | None = None) -> None:
        """Press ``key``: send its frame ``repeats`` times, each waiting for its own acknowledgement;
        ``fault`` damages every copy (see the module's list of faults)."""
        standing = None if self.faults.damage == "none" else self.faults.damage
        frame = _damaged(key_frame(self.addr, key), fault or standing)
        with self._lock:
            for _ in range(repeats):
                self._unacked.append(key)
                if not self.mute and not self.polled:
                    self._send(frame)
            self.presses += 1

    def resend_unacked(self) -> int:
        """Send again every frame still waiting for its acknowledgement; return how many."""
        with self._lock:
            for key in self._unacked:
                self._send(key_frame(self.addr, key))
            return len(self._unacked)

    def receive(self, data: bytes) -> None:
        if self.mute:
            return
        with self._lock:
            for frame in self._decoder.feed(data):
                self._handle(frame)

    def _handle(self, frame: CallerBusFrame) -> None:
        key = key_of(frame) if frame.addr == self.addr else None
        if key in self._unacked and frame.raw == key_frame(self.addr, key):
            self._unacked.remove(key)
            self.acked += 1
        elif frame.addr != self.addr:
            self.frames_ignored += 1
        elif frame.cmd == Command.POLL and self.polled:
            self._answer_poll()
        elif frame.cmd == Command.DISPLAY:
            self.display_text = text_of(frame) or ""
            log.info("keypad %d displays %r", self.addr, self.display_text)
        elif frame.cmd == Command.BEEP:
            self.beeps += 1
        else:
            self.frames_ignored += 1

    def _answer_poll(self) -> None:
        if not self._unacked:
            self._send(encode_frame(self.addr, Command.POLL, b"\x00"))  # idle: nothing pending
            return
        standing = None if self.faults.damage == "none" else self.faults.damage
        self.polls_answered += 1
        self._send(_damaged(key_frame(self.addr, self._unacked[0]), standing))


FAULTS = ("garble", "bad_checksum", "truncate")


def _damaged(frame: bytes, fault: str | None) -> bytes:
    """``frame`` as a keypad with ``fault`` would send it."""
    if fault is None:
        return frame
    if fault == "garble":
        return frame[:7] + bytes((frame[7] ^ 0x21,)) + frame[8:]
    if fault == "bad_checksum":
        return frame[:-2] + bytes(((frame[-2] + 1) % 256, frame[-1]))
    if fault == "truncate":
        return frame[:-2]
    raise ValueError(f"unknown keypad fault {fault!r}; one of {', '.join(FAULTS)}")
