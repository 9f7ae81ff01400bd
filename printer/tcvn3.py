"""Vietnamese as native printer text in TCVN-3 (TCVN 5712 VN3), for printers with its two code pages.

Wire grammar of one line::

    line  = { [1B 74 n] run } 0A      ; ESC t n selects a table before a run that needs it
    run   = bytes 20..7E (ASCII, the same in both tables) | bytes A1..FE of table n

TCVN-3 has no room for both cases of every toned letter, so Epson-class firmware has two tables:
``lower`` (page 30 on Epson: lowercase letters and the base capitals) and ``upper`` (page 31: capitals).
The tables below are the escpos-printer-db's ``TCVN-3-1`` / ``TCVN-3-2`` (what python-escpos ships),
with one fix: the database stores "Đ" as U+00D0 (Icelandic Eth, which looks the same), so NFC text with
the real U+0110 would not encode and python-escpos prints "?". A character neither table has makes
:func:`encode_line` return None: the caller then draws the line as a raster band, never a "?".
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping

ESC_T = b"\x1b\x74"
LOWER, UPPER = "TCVN-3-1", "TCVN-3-2"
_DB_FIXES = {"\u00d0": "\u0110"}  # Eth → Đ (D with stroke)


@functools.cache
def table(name: str) -> Mapping[str, int]:
    """Character → byte for one TCVN-3 table (bytes 0x80..0xFF; ASCII is not listed)."""
    from escpos.capabilities import CAPABILITIES

    rows = CAPABILITIES["encodings"][name]["data"]
    found: dict[str, int] = {}
    for row, chars in enumerate(rows):
        for column, ch in enumerate(chars):
            if ch != " ":
                found[_DB_FIXES.get(ch, ch)] = 0x80 + row * 16 + column
    return found


@functools.cache
def decoding(name: str) -> Mapping[int, str]:
    """Byte → character for one table (what the simulator prints)."""
    return {byte: ch for ch, byte in table(name).items()}


def encode_line(
    text: str, pages: tuple[int, int], current: int | None = None
) -> tuple[bytes, int | None] | None:
    """``text`` (one line, NFC) as TCVN-3 bytes with ``ESC t`` switches; None if a character is missing.

    ``pages`` are the printer's page numbers of the (lower, upper) tables; ``current`` is the page
    selected before this line. Returns the bytes and the page selected after them.
    """
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if " " <= ch <= "~":
            out.append(ord(ch))
            continue
        for name, page in ((LOWER, pages[0]), (UPPER, pages[1])):
            byte = table(name).get(ch)
            if byte is not None:
                if page != current:
                    out += ESC_T + bytes((page,))
                    current = page
                out.append(byte)
                break
        else:
            return None
    return bytes(out), current
