"""How much paper a job's ESC/POS bytes use, in millimetres. Sans-IO.

The roll moves by dot rows (0.125 mm at 203 dpi): a raster image ``GS v 0`` by its height, a line of
text or an empty ``LF`` by the line spacing (``ESC 3 n``, ``ESC 2`` back to 30 dots; taller when
``GS !`` or ``ESC !`` enlarge the characters), ``ESC J n`` by n dots, ``ESC d n`` by n lines and a cut
with feed (``GS V 65/66 n``) by n dots. A printed QR code (``GS ( k`` function 81) is counted as a
square of the module size times the modules of the stored symbol's version, estimated from its data
length. The result is an estimate good to a few millimetres per ticket, which is what the server
needs to follow a roll; it is never used to decide whether to print.
"""

from __future__ import annotations

from dataclasses import dataclass

from printer.escpos_decoder import Command, EscposDecoder

MM_PER_DOT = 0.125
DEFAULT_LINE_SPACING = 30
_CHAR_HEIGHT = 24


@dataclass
class _Roll:
    spacing: int = DEFAULT_LINE_SPACING
    char_height: int = _CHAR_HEIGHT
    pending_text: bool = False
    qr_module: int = 3
    qr_bytes: int = 0
    dots: int = 0

    def line(self) -> None:
        self.dots += max(self.spacing, self.char_height) if self.pending_text else self.spacing
        self.pending_text = False

    def flush(self) -> None:
        if self.pending_text:
            self.line()


def _qr_dots(module: int, data_bytes: int) -> int:
    version = 1
    while version < 40 and 14 * version * version // 2 + 10 < data_bytes:  # rough byte capacity, level M
        version += 1
    return module * (17 + 4 * version + 8)  # the symbol plus its quiet zone


def _apply(roll: _Roll, command: Command) -> None:
    name, args = command.name, command.args
    first = args[0] if args else 0
    if name == "text":
        roll.pending_text = True
    elif name == "LF":
        roll.line()
    elif name == "ESC 3":
        roll.spacing = first
    elif name == "ESC 2":
        roll.spacing = DEFAULT_LINE_SPACING
    elif name == "GS !":
        roll.char_height = _CHAR_HEIGHT * ((first & 7) + 1)
    elif name == "ESC !":
        roll.char_height = _CHAR_HEIGHT * (2 if first & 0x10 else 1)
    elif name == "ESC @":
        roll.spacing, roll.char_height = DEFAULT_LINE_SPACING, _CHAR_HEIGHT
    else:
        _move(roll, command)


def _move(roll: _Roll, command: Command) -> None:
    name, args, data = command.name, command.args, command.data
    first = args[0] if args else 0
    if name == "GS v 0" and len(args) >= 5:
        roll.flush()
        roll.dots += int.from_bytes(args[3:5], "little")
    elif name == "ESC J":
        roll.flush()
        roll.dots += first
    elif name == "ESC d":
        roll.flush()
        roll.dots += first * roll.spacing
    elif name == "GS V" and len(args) == 2 and args[0] in (65, 66):
        roll.flush()
        roll.dots += args[1]
    elif name == "GS ( k" and len(data) >= 3 and data[0] == 49:
        _qr(roll, data)


def _qr(roll: _Roll, data: bytes) -> None:
    function = data[1]
    if function == 67:  # module size
        roll.qr_module = data[2]
    elif function == 80:  # store the data
        roll.qr_bytes = len(data) - 3
    elif function == 81:  # print the stored symbol
        roll.flush()
        roll.dots += _qr_dots(roll.qr_module, roll.qr_bytes)


def paper_mm(job: bytes) -> float:
    """Millimetres of paper the job ``job`` moves out of the printer (an estimate, see the module)."""
    roll = _Roll()
    for command in EscposDecoder().feed(job):
        _apply(roll, command)
    roll.flush()
    return round(roll.dots * MM_PER_DOT, 1)
