"""CODE128 as ESC/POS sends it (``GS k 73 n data``) and as bars on paper. Sans-IO.

Data grammar of ``GS k 73`` (the printer adds start, check and stop symbols)::

    data    = "{" set { item }                ; set: "A", "B" or "C"
    item    = "{" set                         ; switch code set
            | "{{"                            ; a literal "{" (sets A and B)
            | "{1" | "{2" | "{3" | "{4"       ; FNC1..FNC4 (B: FNC1..4; A: FNC1..4; C: FNC1 only)
            | "{S"                            ; SHIFT: the next character from the other of A/B
            | byte                            ; A/B: the character; C: one byte 0..99 = two digits

:func:`escpos_payload` picks set C for runs of four or more digits (two digits per symbol, so a dossier
code such as ``H21.65-220914-0011`` needs 211 modules instead of 244) and set B elsewhere, never
producing ``10 04``/``10 05``/``10 14`` (firmware would obey them as real-time commands inside the data).
:func:`symbols` reads such data back (the simulator uses it) and :func:`modules` gives the bar pattern.
"""

from __future__ import annotations

import re

from barcode.charsets.code128 import CODES, STOP  # type: ignore[import-untyped]  # bar patterns 0..105

from printer.errors import PrinterError

START = {"A": 103, "B": 104, "C": 105}
SWITCH = {"A": 101, "B": 100, "C": 99}
FNC = {"B": {"1": 102, "2": 97, "3": 96, "4": 100}, "A": {"1": 102, "2": 97, "3": 96, "4": 101}}
SHIFT = 98
QUIET_MODULES = 10
_DIGIT_RUN = re.compile(r"[0-9]{4,}")
_REALTIME = re.compile(rb"\x10[\x04\x05\x14]")


class Code128Error(PrinterError, ValueError):
    """Data that CODE128 (as ESC/POS sends it) cannot carry."""


def escpos_payload(text: str) -> bytes:
    """The ``GS k 73`` data for printable ASCII ``text``: set B, with set C for runs of 4+ digits."""
    if not text or not text.isascii() or not text.isprintable():
        raise Code128Error("CODE128 takes printable ASCII characters")
    out = bytearray(b"{B")
    current = "B"
    at = 0
    for run in _DIGIT_RUN.finditer(text):
        start = run.start() + (len(run.group()) % 2)  # an odd run keeps its first digit in set B
        pairs = bytes(int(text[i : i + 2]) for i in range(start, run.end(), 2))
        if _REALTIME.search(pairs):
            continue  # these pairs would read as a real-time command: leave the run in set B
        out += _set_b(text[at:start], current)
        out += b"{C" + pairs
        current, at = "C", run.end()
    out += _set_b(text[at:], current)
    return bytes(out)


def _set_b(part: str, current: str) -> bytes:
    if not part:
        return b""
    escaped = part.replace("{", "{{").encode("ascii")
    return escaped if current == "B" else b"{B" + escaped


def symbols(data: bytes) -> list[int]:
    """The symbol values (start and data, no check) of ESC/POS CODE128 ``data``; Code128Error if bad."""
    if len(data) < 2 or data[:1] != b"{" or chr(data[1]) not in START:
        raise Code128Error("CODE128 data must start with {A, {B or {C")
    current = chr(data[1])
    out = [START[current]]
    i = 2
    while i < len(data):
        byte = data[i]
        if byte == ord("{"):
            if i + 1 >= len(data):
                raise Code128Error("CODE128 data ends in the middle of a '{' escape")
            current = _escape(chr(data[i + 1]), current, out)
            i += 2
            continue
        out.append(_value(byte, current))
        i += 1
    if len(out) < 2:
        raise Code128Error("CODE128 data has no characters")
    return out


def _escape(code: str, current: str, out: list[int]) -> str:
    if code in START:
        if code != current:
            out.append(SWITCH[code])
        return code
    if code == "{" and current != "C":
        out.append(_value(ord("{"), current))
    elif code == "S" and current != "C":
        out.append(SHIFT)
    elif code in "1234" and (current != "C" or code == "1"):
        out.append(FNC["A" if current == "A" else "B"][code])
    else:
        raise Code128Error(f"'{{{code}' is not a CODE128 escape in code set {current}")
    return current


def _value(byte: int, current: str) -> int:
    if current == "C":
        if byte > 99:
            raise Code128Error(f"code set C takes bytes 0..99 (two digits each), not {byte}")
        return byte
    if current == "B" and 32 <= byte <= 127:
        return byte - 32
    if current == "A" and byte < 96:
        return byte + 64 if byte < 32 else byte - 32
    raise Code128Error(f"byte 0x{byte:02X} is not in CODE128 code set {current}")


def modules(values: list[int]) -> str:
    """The bars ("1") and spaces ("0") of a symbol: start and data ``values``, check symbol, stop."""
    check = (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103
    return "".join(str(CODES[v]) for v in [*values, check]) + str(STOP) + "11"  # the stop symbol's final bar


def text_of(data: bytes) -> str:
    """The human-readable text of ESC/POS CODE128 ``data`` (what HRI prints below the bars)."""
    out: list[str] = []
    current = chr(data[1]) if len(data) > 1 else "B"
    i = 2
    while i < len(data):
        if data[i] == ord("{") and i + 1 < len(data):
            nxt = chr(data[i + 1])
            current = nxt if nxt in START else current
            out.append("{" if nxt == "{" else "")
            i += 2
            continue
        out.append(f"{data[i]:02d}" if current == "C" else chr(data[i]))
        i += 1
    return "".join(out)
