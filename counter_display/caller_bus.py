"""Codec of the Chinese 21-key caller bus (RS-485 calling keypads), bytes in, typed frames out, no I/O.

Wire grammar::

    frame = FF 68 LEN LEN 68 ADDR CMD DATA… CS 16
    LEN   = len(ADDR + CMD + DATA)                 (sent twice; 2..MAX_LEN)
    CS    = (ADDR + CMD + ΣDATA) mod 256

    CMD 02 display digits  DATA = 6 digit bytes, leftmost first, 00..09 = digit, 0A = blank;
                           text is right-aligned
    CMD 03 beep            DATA empty
    CMD 01 key event       [verify] our assumption, not from a vendor sheet: sent by a keypad,
                           the last DATA byte is the key code (see :class:`Key`)
    CMD 04 poll            [verify] our assumption: the master asks keypad ADDR for its key;
                           DATA empty; the keypad answers in the reply window with its oldest
                           unacknowledged key-event frame, or stays silent

    The host acknowledges every frame it receives by echoing it back unchanged.

Examples: show "123" on address 5 = ``FF 68 08 08 68 05 02 0A 0A 0A 01 02 03 2B 16``;
beep address 5 = ``FF 68 02 02 68 05 03 08 16``.

:class:`CallerBusDecoder` finds frames in a byte stream fed in arbitrary chunks: it looks for
``FF 68``, checks that both LEN bytes agree and are sane, the second ``68``, CS and the trailing
``16``; on any mismatch it drops the leading byte and searches again, counting the bytes it drops.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import IntEnum

from counter_display.errors import FrameError
from counter_display.framing import StreamDecoder

log = logging.getLogger(__name__)

START = 0xFF
MARK = 0x68
END = 0x16
BLANK_DIGIT = 0x0A
DISPLAY_DIGITS = 6
MAX_LEN = 64
"""Largest LEN accepted; real frames are under 10, so a bigger LEN is noise, not a frame to wait for."""
HEADER_SIZE = 5
OVERHEAD = 7
"""Bytes of a frame besides ADDR, CMD and DATA: FF 68 LEN LEN 68 … CS 16."""


class Command(IntEnum):
    """The CMD byte."""

    KEY_EVENT = 0x01
    """[verify] Assumed: a keypad reporting a key press; last data byte = key code."""
    DISPLAY = 0x02
    BEEP = 0x03
    POLL = 0x04
    """[verify] Assumed: the master asks one keypad for its pending key (see :mod:`caller_poll`)."""


class Key(IntEnum):
    """Key codes of the 21-key calling keypad (the last data byte of a key event)."""

    DIGIT_0 = 0x00
    DIGIT_1 = 0x01
    DIGIT_2 = 0x02
    DIGIT_3 = 0x03
    DIGIT_4 = 0x04
    DIGIT_5 = 0x05
    DIGIT_6 = 0x06
    DIGIT_7 = 0x07
    DIGIT_8 = 0x08
    DIGIT_9 = 0x09
    RATING = 0x0B
    CALL = 0x0C
    RECALL = 0x0D
    CONFIRM = 0x0F
    """Confirm after typing digits (e.g. call ticket number N)."""
    PAUSE = 0x12
    TRANSFER = 0x13

    @property
    def digit(self) -> int | None:
        """The digit of a digit key, ``None`` for a function key."""
        return int(self) if self <= Key.DIGIT_9 else None


class CallerBusFrameError(FrameError):
    """Bytes that are not one valid caller-bus frame; the message says which check failed."""


def checksum(addr: int, cmd: int, data: bytes) -> int:
    return (addr + cmd + sum(data)) % 256


@dataclass(frozen=True)
class CallerBusFrame:
    """One frame: the device address, the command byte and its data."""

    addr: int
    cmd: int
    data: bytes = b""

    @property
    def raw(self) -> bytes:
        """The frame's exact wire bytes (what the host echoes as acknowledgement)."""
        return encode_frame(self.addr, self.cmd, self.data)


def encode_frame(addr: int, cmd: int, data: bytes = b"") -> bytes:
    """Wire bytes of one frame; ``ValueError`` for out-of-range fields."""
    if not 0 <= addr <= 0xFF or not 0 <= cmd <= 0xFF:
        raise ValueError(f"caller-bus address and command must be 0..255, got addr={addr} cmd={cmd}")
    length = len(data) + 2
    if length > MAX_LEN:
        raise ValueError(f"caller-bus frame data is {len(data)} bytes; at most {MAX_LEN - 2} fit in a frame")
    header = bytes((START, MARK, length, length, MARK, addr, cmd))
    return header + bytes(data) + bytes((checksum(addr, cmd, data), END))


def display_frame(addr: int, text: str) -> bytes:
    """Show ``text`` (digits and spaces, at most 6) right-aligned on the display of keypad ``addr``."""
    if len(text) > DISPLAY_DIGITS:
        raise ValueError(f"a caller keypad shows at most {DISPLAY_DIGITS} digits; {text!r} has {len(text)}")
    if any(char not in "0123456789 " for char in text):
        raise ValueError(f"a caller keypad display shows only digits and blanks, not {text!r}")
    digits = [BLANK_DIGIT if char == " " else int(char) for char in text.rjust(DISPLAY_DIGITS)]
    return encode_frame(addr, Command.DISPLAY, bytes(digits))


def beep_frame(addr: int) -> bytes:
    """Make keypad ``addr`` beep."""
    return encode_frame(addr, Command.BEEP)


def poll_frame(addr: int) -> bytes:
    """Ask keypad ``addr`` for its pending key ([verify] the assumed ``Command.POLL``)."""
    return encode_frame(addr, Command.POLL)


def key_frame(addr: int, key: Key) -> bytes:
    """What keypad ``addr`` sends when ``key`` is pressed ([verify] the assumed ``Command.KEY_EVENT``)."""
    return encode_frame(addr, Command.KEY_EVENT, bytes((key,)))


def key_of(frame: CallerBusFrame) -> Key | None:
    """The key a key-event frame reports; ``None`` for other frames and unknown key codes."""
    if frame.cmd != Command.KEY_EVENT or not frame.data:
        return None
    try:
        return Key(frame.data[-1])
    except ValueError:
        log.warning("keypad %d sent unknown key code %02X; ignored", frame.addr, frame.data[-1])
        return None


def text_of(frame: CallerBusFrame) -> str | None:
    """The text a display frame shows (6 characters, blanks as spaces); ``None`` for other frames."""
    if frame.cmd != Command.DISPLAY:
        return None
    return "".join(" " if byte == BLANK_DIGIT else str(byte) if byte <= 9 else "?" for byte in frame.data)


def _header_problem(buf: bytes | bytearray, max_len: int) -> str | None:
    """Why the (possibly partial) header at the start of ``buf`` cannot begin a frame, if it cannot."""
    if len(buf) > 2 and not 2 <= buf[2] <= max_len:
        return f"LEN {buf[2]} outside 2..{max_len}"
    if len(buf) > 3 and buf[3] != buf[2]:
        return f"LEN bytes differ ({buf[2]:02X} {buf[3]:02X})"
    if len(buf) > 4 and buf[4] != MARK:
        return f"second 68 missing ({buf[4]:02X})"
    return None


def _frame_problem(frame: bytes | bytearray) -> str | None:
    """Why a complete candidate (header already checked) is not a frame, if it is not."""
    body = frame[HEADER_SIZE:-2]
    if checksum(body[0], body[1], bytes(body[2:])) != frame[-2]:
        return f"checksum {frame[-2]:02X} does not match {checksum(body[0], body[1], bytes(body[2:])):02X}"
    if frame[-1] != END:
        return f"trailing byte {frame[-1]:02X} is not 16"
    return None


def decode_frame(raw: bytes, max_len: int = MAX_LEN) -> CallerBusFrame:
    """Decode exactly one frame; ``CallerBusFrameError`` says what is wrong otherwise."""
    problem = None
    if raw[:2] != bytes((START, MARK)) or len(raw) < HEADER_SIZE:
        problem = "does not start with FF 68 LEN LEN 68"
    else:
        problem = _header_problem(raw, max_len)
    if problem is None and len(raw) != raw[2] + OVERHEAD:
        problem = f"is {len(raw)} bytes but LEN {raw[2]} means {raw[2] + OVERHEAD}"
    problem = problem or _frame_problem(raw)
    if problem:
        raise CallerBusFrameError(f"not a caller-bus frame, {problem}: {raw.hex(' ')}")
    return CallerBusFrame(raw[5], raw[6], bytes(raw[7:-2]))


class CallerBusDecoder(StreamDecoder[CallerBusFrame]):
    """Finds caller-bus frames in bytes fed in arbitrary chunks; never raises on garbage."""

    def __init__(self, max_len: int = MAX_LEN) -> None:
        super().__init__()
        self.max_len = max_len

    def _skip_to_start(self) -> None:
        start = self._buf.find(bytes((START, MARK)))
        if start < 0:
            keep = 1 if self._buf[-1:] == bytes((START,)) else 0
            start = len(self._buf) - keep
        self._reject(start)

    def _scan(self) -> list[CallerBusFrame]:
        found: list[CallerBusFrame] = []
        while self._buf:
            self._skip_to_start()
            problem = _header_problem(self._buf, self.max_len)
            if problem is None and len(self._buf) >= HEADER_SIZE:
                size = self._buf[2] + OVERHEAD
                if len(self._buf) < size:
                    break
                problem = _frame_problem(self._buf[:size])
                if problem is None:
                    found.append(CallerBusFrame(self._buf[5], self._buf[6], bytes(self._buf[7 : size - 2])))
                    self.frames_decoded += 1
                    del self._buf[:size]
                    continue
            if problem is None:
                break
            log.debug("caller bus: dropping one byte to resynchronise, %s", problem)
            self._reject(1)
        return found
