"""Driver of an RS-485 Modbus RTU numeric LED counter display (LED-485 modules and compatibles).

Composed of a byte :class:`~transport.base.Transport` and the sans-IO ``modbus_rtu`` codec; it works
the same on a serial adapter, a TCP gateway or a ``sim://`` simulator and never asks which.

One request is one transaction: drop stale input, write the frame, read until a reply that matches
it (same unit, function and register) or the reply timeout; on silence or a garbled reply (bad CRC)
try again, ``retries`` more times, then raise :class:`DisplayTimeoutError`. An exception response
is the device refusing, so it is raised at once as :class:`DisplayRejectedError`.

Two-wire RS-485 adapters may hand back our own transmission before the reply. For FC03 and FC16
that echo differs from the reply and is dropped; an FC06 reply is byte for byte the request, so the
first copy read is taken as the reply (the device's own copy, if any, is stale input next time).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from counter_display.errors import CounterLinkError, DisplayRejectedError, DisplayTimeoutError
from counter_display.modbus_rtu import (
    BROADCAST_UNIT,
    Direction,
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
from counter_display.seven_segment import encode_text, number_text
from transport.base import Transport, TransportError

log = logging.getLogger(__name__)


class EchoFilter:
    """Drops one exact copy of our own request from the start of what the line hands back."""

    def __init__(self, echo: bytes) -> None:
        self._echo = echo
        self._held = bytearray()
        self._decided = not echo

    def feed(self, data: bytes) -> bytes:
        """Bytes past the echo; holds back bytes while they could still be the echo."""
        if self._decided:
            return data
        self._held += data
        size = len(self._echo)
        if len(self._held) < size and self._held == self._echo[: len(self._held)]:
            return b""
        self._decided = True
        rest = bytes(self._held[size:] if self._held.startswith(self._echo) else self._held)
        self._held.clear()
        return rest


def _describe(request: ModbusRequest) -> str:
    if isinstance(request, WriteSingleRegister):
        return f"write register 0x{request.address:04X} = {request.value}"
    if isinstance(request, WriteMultipleRegisters):
        return f"write {len(request.values)} registers from 0x{request.address:04X}"
    if isinstance(request, ReadHoldingRegisters):
        return f"read {request.count} registers from 0x{request.address:04X}"
    return f"function {request.function:02X}"


def _answers(request: ModbusRequest, reply: ModbusResponse) -> bool:
    """Whether ``reply`` is the device's answer to ``request`` (not a stray frame on the bus)."""
    if reply.unit != request.unit or reply.function != request.function:
        return False
    match reply:
        case ExceptionResponse():
            return True
        case WriteSingleRegisterResponse():
            return isinstance(request, WriteSingleRegister) and (reply.address, reply.value) == (
                request.address,
                request.value,
            )
        case WriteMultipleRegistersResponse():
            return isinstance(request, WriteMultipleRegisters) and (reply.address, reply.count) == (
                request.address,
                len(request.values),
            )
        case ReadHoldingRegistersResponse():
            return isinstance(request, ReadHoldingRegisters) and len(reply.values) == request.count
    return False


class ModbusLedDisplay:
    """A numeric LED display at Modbus ``unit`` on ``transport``, showing up to ``digits`` digits."""

    def __init__(
        self,
        transport: Transport,
        unit: int = 1,
        retries: int = 2,
        reply_timeout: float = 0.3,
        digits: int = 4,
        *,
        lock: threading.RLock | None = None,
    ) -> None:
        if retries < 0 or reply_timeout <= 0 or digits < 1:
            raise ValueError(
                "LED display needs retries >= 0, reply_timeout > 0 and digits >= 1, "
                f"got {retries}, {reply_timeout}, {digits}"
            )
        self.transport = transport
        self.unit = unit
        self.retries = retries
        self.reply_timeout = reply_timeout
        self.digits = digits
        self._lock = lock or threading.RLock()
        """Held for a whole transaction: a bus master shares one lock among all units of a line."""

    def __repr__(self) -> str:
        return f"<ModbusLedDisplay unit {self.unit} on {self.transport.url}>"

    def show_number(self, n: int) -> None:
        """Show ``n`` (0 and up, fitting in ``digits`` digits) through the value register (FC06)."""
        number_text(n, self.digits)
        self._transact(WriteSingleRegister(self.unit, Register.VALUE, n))

    def show_text(self, text: str) -> None:
        """Show ``text`` (digits, ``-``, blanks, a few letters, ``.``) as raw segment bitmaps (FC16)."""
        self.show_segments(encode_text(text, self.digits))

    def show_segments(self, bitmaps: Sequence[int]) -> None:
        """Light exactly ``bitmaps`` (one per digit, leftmost first, ``.gfedcba``) via FC16."""
        self._transact(WriteMultipleRegisters(self.unit, Register.SEGMENTS, tuple(bitmaps)))

    def blank(self) -> None:
        """Turn every segment off."""
        self.show_segments((0,) * self.digits)

    def read_registers(self, address: int, count: int = 1) -> tuple[int, ...]:
        """Read ``count`` holding registers from ``address`` (FC03)."""
        reply = self._transact(ReadHoldingRegisters(self.unit, address, count))
        if not isinstance(reply, ReadHoldingRegistersResponse):
            raise ValueError(
                f"unit {self.unit} is broadcast, which never replies; read from the display's own unit"
            )
        return reply.values

    def write_register(self, address: int, value: int) -> None:
        """Write one holding register (FC06), e.g. ``Register.DECIMAL_POINT``."""
        self._transact(WriteSingleRegister(self.unit, address, value))

    def _transact(self, request: ModbusRequest) -> ModbusResponse | None:
        with self._lock:
            return self._transact_locked(request)

    def _transact_locked(self, request: ModbusRequest) -> ModbusResponse | None:
        frame = request.encode()
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            self._send(frame)
            if request.unit == BROADCAST_UNIT:
                return None
            reply = self._await_reply(request, frame)
            if isinstance(reply, ExceptionResponse):
                raise DisplayRejectedError(
                    self.transport.url, self.unit, _describe(request), reply.code, reply.meaning
                )
            if reply is not None:
                return reply
            log.warning(
                "LED display unit %d on %s: no valid reply to %s (attempt %d of %d)",
                self.unit,
                self.transport.url,
                _describe(request),
                attempt,
                attempts,
            )
        raise DisplayTimeoutError(
            self.transport.url, self.unit, _describe(request), attempts, self.reply_timeout
        )

    def _send(self, frame: bytes) -> None:
        try:
            self.transport.reset_input()
            self.transport.write(frame)
        except TransportError as err:
            raise CounterLinkError(
                f"cannot write to LED display unit {self.unit} on {self.transport.url}: {err}; "
                "check the adapter is plugged in and the URL is right"
            ) from err

    def _read(self, timeout: float) -> bytes:
        try:
            return self.transport.read(256, timeout=timeout)
        except TransportError as err:
            raise CounterLinkError(
                f"cannot read from LED display unit {self.unit} on {self.transport.url}: {err}"
            ) from err

    def _await_reply(self, request: ModbusRequest, frame: bytes) -> ModbusResponse | None:
        """The reply to ``request`` read before the reply timeout, or ``None``."""
        decoder = ModbusRtuDecoder(Direction.RESPONSE)
        echo = EchoFilter(b"" if isinstance(request, WriteSingleRegister) else frame)
        deadline = time.monotonic() + self.reply_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            data = echo.feed(self._read(remaining))
            for reply in decoder.feed(data):
                if _answers(request, reply):
                    return reply
                log.debug("LED display unit %d: ignoring unrelated frame %s", self.unit, reply)
        if decoder.rejected_bytes or decoder.pending:
            log.info(
                "LED display unit %d on %s: %d garbled reply byte(s) dropped",
                self.unit,
                self.transport.url,
                decoder.rejected_bytes + decoder.pending,
            )
        return None
