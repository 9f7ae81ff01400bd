"""Simulator of an LED-485 Modbus RTU numeric counter display, speaking the device's real bytes.

Register it where the display would be (``register_simulator("led-1", ModbusLedDisplaySim())``, then
``sim://led-1``; or serve it on a pty or TCP). Like the device it reads requests with the streaming
``modbus_rtu`` decoder, silently ignores frames with a bad CRC and frames for other units, executes
broadcasts (unit 0) without answering, and otherwise answers:

- FC06 / FC16 writes: registers 0x0000 value, 0x0002 unit id (takes effect after the reply),
  0x0003 baud code (stored only), 0x0004 decimal places, 0x0080 + i segment bitmap of digit i;
  FC06 echoes the request, FC16 answers address and count;
- FC03 reads of the same registers;
- exception 02 (illegal data address) for any other register, 03 (illegal data value) for a value
  that does not fit (a number wider than the display, a unit id outside 1..247), 01 for any other
  function. [verify] real modules may answer unmapped registers with 0 instead.

What a person would see is ``.shown`` (``" 123"`` on 4 digits; ``"----"`` at power-on; spaces when
blanked); ``.history`` lists every value shown, in order (``None`` for segment writes), and
``.shown_history`` the matching texts; ``on_show(text)`` is called on every change, after the simulator's
own lock is released. ``render_png(path)`` draws the digits, red on black.

Faults, settable at run time from any thread:

- ``no_reply = True``: as if unplugged: requests are neither executed nor answered;
- ``garble_next_reply(count=1)``: the next reply(s) go out with one data byte flipped (CRC fails);
- ``bad_crc_next_reply(count=1)``: the next reply(s) go out with intact data and a wrong CRC;
- ``echo_requests = True``: the line hands every request back to the host before the reply, like a
  two-wire RS-485 adapter without echo suppression.

These are the :class:`LedFaults` dataclass (``no_reply``, ``echo_requests``, ``garble_replies``,
``bad_crc_replies``: how many of the next replies go out damaged), settable from
``sim://led-1?no_reply=1`` and the control port (``docs/simulators.md``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from counter_display.modbus_rtu import (
    BROADCAST_UNIT,
    MAX_UNIT,
    Direction,
    ExceptionCode,
    ExceptionResponse,
    ModbusRequest,
    ModbusResponse,
    ModbusRtuDecoder,
    ReadHoldingRegisters,
    ReadHoldingRegistersResponse,
    Register,
    WriteMultipleRegisters,
    WriteMultipleRegistersResponse,
    WriteSingleRegister,
    WriteSingleRegisterResponse,
)
from counter_display.seven_segment import decode_segments, encode_text, number_text, segment_on
from firmware_sim.base import FaultAttribute, LinkedSim
from transport.sim import SimDevice, SimLink

log = logging.getLogger(__name__)

LIT = (255, 32, 24)
UNLIT = (48, 6, 4)


@dataclass
class LedFaults:
    """Standing faults of an LED display simulator."""

    no_reply: bool = False
    """As if unplugged: requests are neither executed nor answered."""
    echo_requests: bool = False
    """The line hands every request back before the reply (RS-485 without echo suppression)."""
    garble_replies: int = 0
    """The next n replies go out with one data byte flipped."""
    bad_crc_replies: int = 0
    """The next n replies go out with a wrong CRC."""


class ModbusLedDisplaySim(LinkedSim):
    """An LED-485 display at Modbus ``unit`` with ``digits`` digits (implements ``SimDevice``)."""

    no_reply = FaultAttribute()
    echo_requests = FaultAttribute()

    def __init__(self, unit: int = 1, digits: int = 4, baud_code: int = 3) -> None:
        super().__init__(LedFaults(), lock=threading.RLock())  # type: ignore[arg-type]
        self.unit = unit
        self.digits = digits
        self.on_show: Callable[[str], None] | None = None
        self.requests_served = 0
        self._decoder = ModbusRtuDecoder(Direction.REQUEST)
        self._registers: dict[int, int] = {
            Register.VALUE: 0,
            Register.UNIT_ID: unit,
            Register.BAUD_CODE: baud_code,
            Register.DECIMAL_POINT: 0,
        }
        self._set_segments(encode_text("-" * digits, digits))
        self._showing_number = False
        self._history: list[int | None] = []
        self._shown_history: list[str] = []

    def __repr__(self) -> str:
        return f"<ModbusLedDisplaySim unit {self.unit} showing {self.shown!r}>"

    @property
    def shown(self) -> str:
        """What a person reads off the display, one character per digit plus ``.`` points."""
        with self._lock:
            return decode_segments(self.segments)

    @property
    def segments(self) -> tuple[int, ...]:
        """The lit segment bitmaps, leftmost digit first."""
        with self._lock:
            return tuple(self._registers[Register.SEGMENTS + i] for i in range(self.digits))

    @property
    def history(self) -> list[int | None]:
        """Every value shown, in order; ``None`` where raw segments were written instead."""
        with self._lock:
            return list(self._history)

    @property
    def shown_history(self) -> list[str]:
        """Every text shown, in order (same length as ``history``)."""
        with self._lock:
            return list(self._shown_history)

    def garble_next_reply(self, count: int = 1) -> None:
        with self._lock:
            self.faults.garble_replies += count

    def bad_crc_next_reply(self, count: int = 1) -> None:
        with self._lock:
            self.faults.bad_crc_replies += count

    def receive(self, data: bytes) -> None:
        shown: list[str] = []
        with self._lock:
            if self.echo_requests and self._link is not None:
                self._link.send(data)
            for request in self._decoder.feed(data):
                if self.no_reply or request.unit not in (self.unit, BROADCAST_UNIT):
                    continue
                before = len(self._shown_history)
                self._serve(request)
                shown += self._shown_history[before:]
            callback = self.on_show
        if callback is not None:
            for text in shown:
                callback(text)

    def _serve(self, request: ModbusRequest) -> None:
        self.requests_served += 1
        reply = self._execute(request)
        if request.unit != BROADCAST_UNIT and self._link is not None:
            self._link.send(self._with_faults(reply.encode()))
        self.unit = self._registers[Register.UNIT_ID]

    def _execute(self, request: ModbusRequest) -> ModbusResponse:
        unit, function = self.unit, request.function
        if isinstance(request, ReadHoldingRegisters):
            addresses = range(request.address, request.address + request.count)
            if not all(address in self._registers for address in addresses):
                return ExceptionResponse(unit, function, ExceptionCode.ILLEGAL_DATA_ADDRESS)
            return ReadHoldingRegistersResponse(unit, tuple(self._registers[a] for a in addresses))
        if isinstance(request, WriteSingleRegister):
            values: tuple[int, ...] = (request.value,)
        elif isinstance(request, WriteMultipleRegisters):
            values = request.values
        else:
            return ExceptionResponse(unit, function, ExceptionCode.ILLEGAL_FUNCTION)
        problem = self._write(request.address, values)
        if problem is not None:
            return ExceptionResponse(unit, function, problem)
        if isinstance(request, WriteSingleRegister):
            return WriteSingleRegisterResponse(unit, request.address, request.value)
        return WriteMultipleRegistersResponse(unit, request.address, len(values))

    def _write(self, address: int, values: tuple[int, ...]) -> ExceptionCode | None:
        writes = dict(zip(range(address, address + len(values)), values, strict=True))
        if not all(register in self._registers for register in writes):
            return ExceptionCode.ILLEGAL_DATA_ADDRESS
        if not self._acceptable(writes):
            return ExceptionCode.ILLEGAL_DATA_VALUE
        self._registers.update(writes)
        if Register.VALUE in writes:
            self._showing_number = True
        elif any(register >= Register.SEGMENTS for register in writes):
            self._showing_number = False
        if self._showing_number and writes.keys() & {Register.VALUE, Register.DECIMAL_POINT}:
            self._show_number()
        elif not self._showing_number and any(register >= Register.SEGMENTS for register in writes):
            self._record(None)
        return None

    def _acceptable(self, writes: dict[int, int]) -> bool:
        merged = {**self._registers, **writes}
        try:
            number_text(merged[Register.VALUE], self.digits, merged[Register.DECIMAL_POINT])
        except ValueError:
            return not ({Register.VALUE, Register.DECIMAL_POINT} & writes.keys())
        if not 1 <= merged[Register.UNIT_ID] <= MAX_UNIT:
            return False
        return all(value <= 0xFF for register, value in writes.items() if register >= Register.SEGMENTS)

    def _show_number(self) -> None:
        value = self._registers[Register.VALUE]
        text = number_text(value, self.digits, self._registers[Register.DECIMAL_POINT])
        self._set_segments(encode_text(text, self.digits))
        self._record(value)

    def _set_segments(self, bitmaps: Iterable[int]) -> None:
        for i, bitmap in enumerate(bitmaps):
            self._registers[Register.SEGMENTS + i] = bitmap

    def _record(self, value: int | None) -> None:
        text = decode_segments(self.segments)
        self._history.append(value)
        self._shown_history.append(text)
        log.info("LED display unit %d shows %r", self.unit, text)

    def _with_faults(self, frame: bytes) -> bytes:
        if self.faults.garble_replies:
            self.faults.garble_replies -= 1
            middle = len(frame) // 2
            return frame[:middle] + bytes((frame[middle] ^ 0x5A,)) + frame[middle + 1 :]
        if self.faults.bad_crc_replies:
            self.faults.bad_crc_replies -= 1
            return frame[:-2] + bytes((frame[-2] ^ 0xFF, frame[-1]))
        return frame

    def render_png(self, path: str | Path, cell: int = 60) -> Path:
        """Draw the display as it looks now, red segments on black, into a PNG file at ``path``."""
        try:
            from PIL import Image, ImageDraw
        except ImportError as err:
            raise RuntimeError("render_png needs Pillow; install it with: pip install 'pillow>=10'") from err
        bitmaps = self.segments
        pad, height = cell // 4, cell * 5 // 3
        image = Image.new("RGB", (pad + len(bitmaps) * (cell + pad), height + 2 * pad), "black")
        draw = ImageDraw.Draw(image)
        for i, bitmap in enumerate(bitmaps):
            left = pad + i * (cell + pad)
            for segment, box in _segment_boxes(left, pad, cell, height).items():
                colour = LIT if segment_on(bitmap, segment) else UNLIT
                if segment == ".":
                    draw.ellipse(box, fill=colour)
                else:
                    draw.rectangle(box, fill=colour)
        target = Path(path)
        image.save(target, format="PNG")
        return target


def _segment_boxes(x: int, y: int, width: int, height: int) -> dict[str, tuple[int, int, int, int]]:
    """Rectangles of segments a-g and the point of one digit whose top-left corner is (x, y)."""
    t, mid = max(width // 6, 2), y + height // 2
    right, bottom = x + width, y + height
    return {
        "a": (x + t, y, right - t, y + t),
        "b": (right - t, y + t, right, mid),
        "c": (right - t, mid, right, bottom - t),
        "d": (x + t, bottom - t, right - t, bottom),
        "e": (x, mid, x + t, bottom - t),
        "f": (x, y + t, x + t, mid),
        "g": (x + t, mid - t // 2, right - t, mid + t // 2),
        ".": (right + 2, bottom - t, right + 2 + t, bottom),
    }


class SharedLine:
    """Several simulated devices on one RS-485 pair, as a multi-drop bus (implements ``SimDevice``).

    Everything the host writes reaches every device; every device's reply goes back to the host.
    ``echo = True`` makes the line hand the host's own transmission back first, as a two-wire
    adapter without echo suppression does; ``echoes`` counts the bytes echoed.
    """

    def __init__(self, devices: Iterable[SimDevice], echo: bool = False) -> None:
        self.devices = list(devices)
        self.echo = echo
        self.echoes = 0
        self._link: SimLink | None = None

    def attach(self, link: SimLink) -> None:
        self._link = link
        for device in self.devices:
            device.attach(link)

    def detach(self) -> None:
        for device in self.devices:
            device.detach()
        self._link = None

    def receive(self, data: bytes) -> None:
        if self.echo and self._link is not None:
            self.echoes += len(data)
            self._link.send(data)
        for device in self.devices:
            device.receive(data)
