"""Seven-segment glyphs of LED counter displays: text ↔ one segment bitmap per digit, no I/O.

Bitmap grammar (one byte per digit; on LED-485 modules the low byte of a segment register)::

    bit   7  6  5  4  3  2  1  0         --a--
          .  g  f  e  d  c  b  a        f     b
                                         --g--
    a top, b upper right, c lower      e     c
    right, d bottom, e lower left,       --d--  .
    f upper left, g middle, . point

Text maps one character to one digit, right-aligned; a ``.`` lights the point of the digit before it,
so ``"12.5"`` fills three digits. Only characters a seven-segment digit can show are accepted.
"""

from __future__ import annotations

from collections.abc import Sequence

DECIMAL_POINT = 0x80

FONT: dict[str, int] = {
    " ": 0x00,
    "-": 0x40,
    "_": 0x08,
    "0": 0x3F,
    "1": 0x06,
    "2": 0x5B,
    "3": 0x4F,
    "4": 0x66,
    "5": 0x6D,
    "6": 0x7D,
    "7": 0x07,
    "8": 0x7F,
    "9": 0x6F,
    "A": 0x77,
    "b": 0x7C,
    "C": 0x39,
    "d": 0x5E,
    "E": 0x79,
    "F": 0x71,
    "H": 0x76,
    "L": 0x38,
    "n": 0x54,
    "o": 0x5C,
    "P": 0x73,
    "r": 0x50,
    "t": 0x78,
    "U": 0x3E,
}

_GLYPHS: dict[int, str] = {bitmap: char for char, bitmap in FONT.items()}
UNKNOWN_GLYPH = "?"


def _cells(text: str) -> list[tuple[str, bool]]:
    """``text`` as (character, point lit) cells; a ``.`` lights the point of the cell before it."""
    cells: list[tuple[str, bool]] = []
    for char in text:
        if char == "." and cells and not cells[-1][1]:
            cells[-1] = (cells[-1][0], True)
        elif char == ".":
            cells.append((" ", True))
        elif char in FONT:
            cells.append((char, False))
        else:
            shown = "".join(sorted(FONT)).strip()
            raise ValueError(
                f"a seven-segment digit cannot show {char!r} in {text!r}; use one of {shown!r} or '.'"
            )
    return cells


def encode_text(text: str, digits: int) -> tuple[int, ...]:
    """Segment bitmaps for ``text`` right-aligned on a display of ``digits`` digits, leftmost first."""
    cells = _cells(text)
    if len(cells) > digits:
        raise ValueError(f"{text!r} needs {len(cells)} digits but the display has {digits}; shorten it")
    bitmaps = [FONT[char] | (DECIMAL_POINT if point else 0) for char, point in cells]
    return (0,) * (digits - len(bitmaps)) + tuple(bitmaps)


def decode_segments(bitmaps: Sequence[int]) -> str:
    """What a person reads off digits lit with ``bitmaps``: one character per digit, plus ``.`` points.

    A pattern that is no known glyph reads as ``?``.
    """
    text = []
    for bitmap in bitmaps:
        text.append(_GLYPHS.get(bitmap & ~DECIMAL_POINT & 0xFF, UNKNOWN_GLYPH))
        if bitmap & DECIMAL_POINT:
            text.append(".")
    return "".join(text)


def number_text(value: int, digits: int, decimals: int = 0) -> str:
    """``value`` as a display shows it, ``decimals`` digits after the point (1234, 1 → ``"123.4"``).

    Raises ``ValueError`` when it does not fit in ``digits`` digits.
    """
    if value < 0:
        raise ValueError(f"a counter display shows numbers 0 and up, got {value}")
    if not 0 <= decimals < digits:
        raise ValueError(
            f"decimal places must be 0..{digits - 1} on a {digits}-digit display, got {decimals}"
        )
    figures = str(value).rjust(decimals + 1, "0")
    if len(figures) > digits:
        raise ValueError(f"{value} needs {len(figures)} digits but the display has {digits}")
    if decimals:
        return f"{figures[:-decimals]}.{figures[-decimals:]}"
    return figures


def segment_on(bitmap: int, segment: str) -> bool:
    """Whether ``segment`` (one of ``abcdefg.``) is lit in ``bitmap``."""
    return bool(bitmap & (1 << "abcdefg.".index(segment)))
