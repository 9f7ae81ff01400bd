"""Codec of 433 MHz EV1527 remote keypads heard by a serial receiver module: bytes in, presses out, no I/O.

An EV1527 remote sends a 24-bit code over the air: a 20-bit id burnt into the chip and 4 data bits,
one per button. The receiver module decodes the radio and writes each code it hears to its UART.

Wire grammar (receiver → host; [verify] the common "learning decoder" UART format, not a vendor
sheet: modules differ, some add pulse-width bytes before ``DF``)::

    frame = FD C2 C1 C0 DF          (9600 8N1)
    code  = C2 C1 C0 as a 24-bit big-endian number
    id    = code >> 4              (20 bits)
    key   = code & 0x0F            (buttons A..D of a four-button remote = 1, 2, 4, 8)

Example: remote 0x5A3C1, button A (1) = ``FD 5A 3C 11 DF``.

There is no checksum, so a noisy line can forge a frame: :class:`Ev1527Decoder` requires the exact
framing, rejects key 0 (no button) and id 0 / 0xFFFFF (a line stuck low or high), and the driver
only accepts ids bound to a counter in the site file. A remote sends its code several times per
press (and keeps repeating it every ~40 ms while held). As receivers do, :class:`RepeatFilter`
believes a code only when ``copies`` identical frames (default 2) came each within ``hold_s`` of the
last — one frame forged by noise is never a press — and reports it once until the code has been
quiet for ``hold_s`` (``repeats`` counts every copy after a burst's first).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from counter_display.errors import FrameError
from counter_display.framing import StreamDecoder

log = logging.getLogger(__name__)

START = 0xFD
END = 0xDF
FRAME_SIZE = 5
MAX_ID = (1 << 20) - 1
FORBIDDEN_IDS = frozenset({0, MAX_ID})


class Ev1527FrameError(FrameError):
    """Bytes that are not one receiver frame; the message says which check failed."""


@dataclass(frozen=True)
class RemoteCode:
    """One code heard: the remote's 20-bit ``id`` and its 4-bit ``key``."""

    id: int
    key: int

    def __str__(self) -> str:
        return f"remote 0x{self.id:05X} key {self.key}"


def encode_frame(remote_id: int, key: int) -> bytes:
    """The receiver's bytes for ``remote_id`` pressing ``key``; ``ValueError`` for values out of range."""
    if not 0 <= remote_id <= MAX_ID or not 0 <= key <= 0x0F:
        raise ValueError(f"EV1527 id must be 0..0xFFFFF and key 0..15, got 0x{remote_id:X} and {key}")
    code = remote_id << 4 | key
    return bytes((START, *code.to_bytes(3, "big"), END))


def _problem(frame: bytes | bytearray) -> str | None:
    if frame[0] != START:
        return f"start byte {frame[0]:02X} is not FD"
    if len(frame) < FRAME_SIZE:
        return None
    if frame[4] != END:
        return f"end byte {frame[4]:02X} is not DF"
    code = int.from_bytes(frame[1:4], "big")
    if code & 0x0F == 0:
        return "key 0 (no button)"
    if code >> 4 in FORBIDDEN_IDS:
        return f"id 0x{code >> 4:05X} is what a stuck line sends"
    return None


def decode_frame(raw: bytes) -> RemoteCode:
    """Decode exactly one frame; ``Ev1527FrameError`` says what is wrong otherwise."""
    problem = "is not 5 bytes" if len(raw) != FRAME_SIZE else _problem(raw)
    if problem:
        raise Ev1527FrameError(f"not an EV1527 receiver frame, {problem}: {raw.hex(' ')}")
    code = int.from_bytes(raw[1:4], "big")
    return RemoteCode(code >> 4, code & 0x0F)


class Ev1527Decoder(StreamDecoder[RemoteCode]):
    """Finds receiver frames in bytes fed in arbitrary chunks; never raises on garbage."""

    def _scan(self) -> list[RemoteCode]:
        found: list[RemoteCode] = []
        while self._buf:
            start = self._buf.find(bytes((START,)))
            self._reject(len(self._buf) if start < 0 else start)
            if len(self._buf) < FRAME_SIZE:
                break
            problem = _problem(self._buf[:FRAME_SIZE])
            if problem is None:
                code = int.from_bytes(self._buf[1:4], "big")
                found.append(RemoteCode(code >> 4, code & 0x0F))
                self.frames_decoded += 1
                del self._buf[:FRAME_SIZE]
            else:
                log.debug("EV1527 receiver: dropping one byte to resynchronise, %s", problem)
                self._reject(1)
        return found


class RepeatFilter:
    """Reports each press once, after ``copies`` identical frames: a code heard again within
    ``hold_s`` of its last copy belongs to the same press (the remote's own retransmissions, a held
    button) and extends the hold; a lone copy is counted in ``unconfirmed`` and reported never."""

    def __init__(self, hold_s: float = 0.3, copies: int = 2) -> None:
        if copies < 1:
            raise ValueError(f"an EV1527 press needs at least one copy of its code, not {copies}")
        self.hold_s = hold_s
        self.copies = copies
        self.repeats = 0
        self._last: dict[RemoteCode, float] = {}
        self._count: dict[RemoteCode, int] = {}

    @property
    def unconfirmed(self) -> int:
        """Codes heard fewer than ``copies`` times so far in their current burst."""
        return sum(1 for n in self._count.values() if n < self.copies)

    def new_press(self, code: RemoteCode, now: float) -> bool:
        previous = self._last.get(code)
        self._last[code] = now
        if previous is None or now - previous >= self.hold_s:
            self._count[code] = 0
        self._count[code] += 1
        self.repeats += self._count[code] > 1
        return self._count[code] == self.copies
