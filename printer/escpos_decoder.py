"""Streaming ESC/POS decoder: host→printer bytes to typed commands, sans-IO (used by the simulator).

Wire grammar (a job is any sequence of these; bytes may arrive split or joined anywhere)::

    text      = 20..FF …             ; one run up to the next control byte; while Kanji mode is on
                                     ; (FS &, until FS . or ESC @) bytes ≥ 80 come in pairs
    control   = 0A LF | 0D CR | 09 HT | other 00..1F (ignored by printers)
    fixed     = ESC|GS|FS cmd p1..pk ; k from FIXED below (ESC @, ESC a n, GS ! n, GS L nL nH, …)
    GS v 0    = 1D 76 30 m xL xH yL yH d1..d(x·y)             ; raster, x bytes per row, y rows
    GS ( X    = 1D 28 X pL pH d1..dp                          ; QR (X = k), graphics (L), D, …
    FS ( X    = 1C 28 X pL pH d1..dp
    GS 8 L    = 1D 38 4C p1 p2 p3 p4 d1..dp
    GS V      = 1D 56 m [n]          ; n present when m is 41/42/61/62/67/68
    GS k      = 1D 6B m d1..dk 00 (m ≤ 6) | 1D 6B m n d1..dn (m ≥ 41)
    ESC *     = 1B 2A m nL nH d…     ; n columns of 1 (m = 0, 1) or 3 bytes
    ESC D     = 1B 44 n1..nk 00      ; tab stops, at most 32
    DLE       = 10 04 n | 10 05 n | 10 14 fn …   ; real-time commands
    unknown   = ESC|GS|FS x          ; both bytes become one ``unknown`` command

A command is emitted only once all its bytes have arrived, so feeding bytes in any chunks gives the
same commands as feeding them at once. Length fields are trusted, as printers trust them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
MAX_TABS = 32
MAX_BARCODE = 255


@dataclass(frozen=True)
class Command:
    """One decoded command: ``name`` as in the Epson manual (``"GS v 0"``), its parameters and data."""

    name: str
    args: bytes = b""
    data: bytes = b""


def _fixed_table() -> dict[bytes, tuple[str, int]]:
    table: dict[bytes, tuple[str, int]] = {}
    groups = {
        ESC: {0: "@2im", 1: "aE!tdJ3=-GM %?RUVre{", 2: "c$\\", 3: "p"},
        GS: {1: "!arBHhwfbIj/", 2: "LWP$\\"},
        FS: {0: ".&", 1: "!-CW", 2: "Sp"},
    }
    prefixes = {ESC: "ESC", GS: "GS", FS: "FS"}
    for lead, by_count in groups.items():
        for count, letters in by_count.items():
            for letter in letters:
                table[bytes((lead, ord(letter)))] = (f"{prefixes[lead]} {letter}", count)
    return table


FIXED = _fixed_table()
Found = tuple[Command, int] | None
_CUT_WITH_FEED = frozenset(b"ABagh")
_DLE_DC4_SIZES = {1: 5, 2: 5, 7: 4, 8: 10}


def _le(buf: bytes | bytearray, at: int, size: int) -> int:
    return int.from_bytes(buf[at : at + size], "little")


class EscposDecoder:
    """Turns a byte stream into :class:`Command` objects, keeping partial commands across ``feed`` calls."""

    def __init__(self, *, kanji_default: bool = False) -> None:
        self.kanji_default = kanji_default
        self.kanji = kanji_default
        self._buf = bytearray()
        self._variable: dict[bytes, Callable[[bytearray, int], Found]] = {
            b"\x1d\x76": self._raster,
            b"\x1d\x28": self._length_prefixed,
            b"\x1c\x28": self._length_prefixed,
            b"\x1d\x38": self._gs_8,
            b"\x1d\x56": self._cut,
            b"\x1d\x6b": self._barcode,
            b"\x1b\x2a": self._column_image,
            b"\x1b\x44": self._tabs,
        }

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a whole command."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget partial input and Kanji mode, as at power-on."""
        self._buf.clear()
        self.kanji = self.kanji_default

    def feed(self, data: bytes) -> list[Command]:
        """Add bytes; return every command they complete, in order."""
        self._buf += data
        commands: list[Command] = []
        pos = 0
        while pos < len(self._buf):
            found = self._next(self._buf, pos)
            if found is None:
                break
            command, size = found
            commands.append(command)
            pos += size
            self._track_kanji(command)
        del self._buf[:pos]
        return commands

    def _track_kanji(self, command: Command) -> None:
        if command.name == "FS &":
            self.kanji = True
        elif command.name in ("FS .", "ESC @"):
            self.kanji = self.kanji_default if command.name == "ESC @" else False

    def _next(self, buf: bytearray, pos: int) -> Found:
        byte = buf[pos]
        if byte >= 0x20:
            return self._text(buf, pos)
        if byte not in (ESC, GS, FS, DLE):
            name = {0x0A: "LF", 0x0D: "CR", 0x09: "HT"}.get(byte, "control")
            return Command(name, bytes((byte,))), 1
        if pos + 1 >= len(buf):
            return None
        if byte == DLE:
            return self._dle(buf, pos)
        key = bytes(buf[pos : pos + 2])
        if key in FIXED:
            name, count = FIXED[key]
            end = pos + 2 + count
            return (Command(name, bytes(buf[pos + 2 : end])), end - pos) if end <= len(buf) else None
        handler = self._variable.get(key)
        if handler is None:
            logger.debug("unknown command %s skipped", key.hex(" "))
            return Command("unknown", key), 2
        return handler(buf, pos)

    def _text(self, buf: bytearray, pos: int) -> Found:
        end = pos
        while end < len(buf) and buf[end] >= 0x20:
            end += 1
        if self.kanji:
            i = pos
            while i < end:
                i += 2 if buf[i] >= 0x80 else 1
            if i > end and end == len(buf):
                end -= 1  # the second byte of a pair has not arrived yet
        if end == pos:
            return None
        return Command("text", data=bytes(buf[pos:end])), end - pos

    def _dle(self, buf: bytearray, pos: int) -> Found:
        cmd = buf[pos + 1]
        if cmd not in (0x04, 0x05, 0x14):
            return Command("control", bytes((DLE,))), 1
        if pos + 2 >= len(buf):
            return None
        size = _DLE_DC4_SIZES.get(buf[pos + 2], 3) if cmd == 0x14 else 3
        if pos + size > len(buf):
            return None
        name = {0x04: "DLE EOT", 0x05: "DLE ENQ", 0x14: "DLE DC4"}[cmd]
        return Command(name, bytes(buf[pos + 2 : pos + size])), size

    # Variable-length commands: (command, size) once complete, None while bytes are missing.

    def _complete(self, buf: bytearray, pos: int, command: Command, size: int) -> Found:
        return (command, size) if pos + size <= len(buf) else None

    def _skip(self, buf: bytearray, pos: int, size: int) -> Found:
        logger.debug("malformed command %s skipped", bytes(buf[pos : pos + size]).hex(" "))
        return Command("unknown", bytes(buf[pos : pos + size])), size

    def _raster(self, buf: bytearray, pos: int) -> Found:
        if len(buf) - pos < 3:
            return None
        if buf[pos + 2] != 0x30:
            return self._skip(buf, pos, 2)
        if len(buf) - pos < 8:
            return None
        total = 8 + _le(buf, pos + 4, 2) * _le(buf, pos + 6, 2)
        args = bytes(buf[pos + 3 : pos + 8])
        return self._complete(buf, pos, Command("GS v 0", args, bytes(buf[pos + 8 : pos + total])), total)

    def _length_prefixed(self, buf: bytearray, pos: int) -> Found:
        if len(buf) - pos < 5:
            return None
        total = 5 + _le(buf, pos + 3, 2)
        lead = "GS" if buf[pos] == GS else "FS"
        name = f"{lead} ( {chr(buf[pos + 2])}"
        return self._complete(buf, pos, Command(name, data=bytes(buf[pos + 5 : pos + total])), total)

    def _gs_8(self, buf: bytearray, pos: int) -> Found:
        if len(buf) - pos < 7:
            return None
        total = 7 + _le(buf, pos + 3, 4)
        name = f"GS 8 {chr(buf[pos + 2])}"
        return self._complete(buf, pos, Command(name, data=bytes(buf[pos + 7 : pos + total])), total)

    def _cut(self, buf: bytearray, pos: int) -> Found:
        if len(buf) - pos < 3:
            return None
        size = 4 if buf[pos + 2] in _CUT_WITH_FEED else 3
        return self._complete(buf, pos, Command("GS V", bytes(buf[pos + 2 : pos + size])), size)

    def _barcode(self, buf: bytearray, pos: int) -> Found:
        if len(buf) - pos < 4:
            return None
        kind = buf[pos + 2]
        if kind <= 6:
            end = buf.find(b"\x00", pos + 3, pos + 4 + MAX_BARCODE)
            if end == -1:
                return None if len(buf) - pos < 4 + MAX_BARCODE else self._skip(buf, pos, 3)
            return self._complete(
                buf, pos, Command("GS k", bytes((kind,)), bytes(buf[pos + 3 : end])), end - pos + 1
            )
        total = 4 + buf[pos + 3]
        return self._complete(
            buf, pos, Command("GS k", bytes((kind,)), bytes(buf[pos + 4 : pos + total])), total
        )

    def _column_image(self, buf: bytearray, pos: int) -> Found:
        if len(buf) - pos < 5:
            return None
        per_column = 1 if buf[pos + 2] in (0, 1) else 3
        total = 5 + _le(buf, pos + 3, 2) * per_column
        args = bytes(buf[pos + 2 : pos + 5])
        return self._complete(buf, pos, Command("ESC *", args, bytes(buf[pos + 5 : pos + total])), total)

    def _tabs(self, buf: bytearray, pos: int) -> Found:
        end = buf.find(b"\x00", pos + 2, pos + 3 + MAX_TABS)
        if end == -1:
            return None if len(buf) - pos < 3 + MAX_TABS else self._skip(buf, pos, 2)
        return self._complete(buf, pos, Command("ESC D", bytes(buf[pos + 2 : end])), end - pos + 1)
