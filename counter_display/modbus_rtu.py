"""Modbus RTU codec for RS-485 LED counter displays: bytes in, typed messages out, no I/O.

Wire grammar (16-bit fields big-endian, except the CRC which goes low byte first)::

    frame     = unit:u8 function:u8 body crc:u16le
    crc       = CRC-16/Modbus of unit..body (poly 0xA001 reflected, init 0xFFFF, no final xor)
    unit      = 1..247; 0 is broadcast: every device executes it and none replies

    request  FC03 read holding registers    body = address:u16 count:u16                (count 1..125)
    request  FC06 write single register     body = address:u16 value:u16
    request  FC16 write multiple registers  body = address:u16 count:u16 nbytes:u8 value:u16{count}
    response FC03                           body = nbytes:u8 value:u16{nbytes/2}
    response FC06                           body = address:u16 value:u16   (a copy of the request)
    response FC16                           body = address:u16 count:u16
    exception response                      function = requested function | 0x80, body = code:u8

Example, "show 123 on unit 1": ``01 06 00 00 00 7B C9 E9``; its normal reply is the same 8 bytes.

RTU has no start marker: a receiver finds frames by the length each function code implies (FC01-06
requests are 8 bytes, FC15/16 requests 9 + nbytes, FC03 responses 5 + nbytes, exceptions 5).
:class:`ModbusRtuDecoder` does that on a byte stream in either direction; when a candidate fails its
CRC it drops one byte and searches again, so a garbled byte costs one frame, not the link.

LED-485 numeric module register map (:class:`Register`): 0x0000 value shown, 0x0002 unit id,
0x0003 baud code, 0x0004 decimal point (digits after the point), 0x0080 + i raw 7-segment bitmap of
digit i counted from the left, written with FC16 (low byte ``.gfedcba``, see ``seven_segment``).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import ClassVar, Literal, TypeVar, cast, overload

from counter_display.errors import FrameError
from counter_display.framing import StreamDecoder

log = logging.getLogger(__name__)

MAX_UNIT = 247
BROADCAST_UNIT = 0  # every unit obeys a write to unit 0 and none answers it
MAX_READ_COUNT = 125
MAX_WRITE_COUNT = 123
MAX_FRAME = 256


class FunctionCode(IntEnum):
    """The Modbus functions this codec encodes and decodes."""

    READ_HOLDING_REGISTERS = 0x03
    WRITE_SINGLE_REGISTER = 0x06
    WRITE_MULTIPLE_REGISTERS = 0x10


class ExceptionCode(IntEnum):
    """Standard exception codes a device puts in an exception response."""

    ILLEGAL_FUNCTION = 0x01
    ILLEGAL_DATA_ADDRESS = 0x02
    ILLEGAL_DATA_VALUE = 0x03
    SERVER_DEVICE_FAILURE = 0x04
    SERVER_DEVICE_BUSY = 0x06


class Register(IntEnum):
    """Holding registers of an LED-485 numeric display module."""

    VALUE = 0x0000
    UNIT_ID = 0x0002
    BAUD_CODE = 0x0003
    DECIMAL_POINT = 0x0004
    SEGMENTS = 0x0080


class Direction(Enum):
    """Which side's frames a decoder reads: requests (a device, a simulator) or responses (the host)."""

    REQUEST = "request"
    RESPONSE = "response"


class ModbusFrameError(FrameError):
    """Bytes that are not a valid Modbus RTU frame; the message says which check failed."""


class CrcError(ModbusFrameError):
    """A frame whose CRC does not match its contents (a garbled or truncated frame)."""


def _make_crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _make_crc_table()


def crc16_modbus(data: bytes) -> int:
    """CRC-16/Modbus of ``data`` (check value for ``b"123456789"`` is 0x4B37)."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def add_crc(payload: bytes) -> bytes:
    """``payload`` followed by its CRC, low byte first, as it goes on the wire."""
    return payload + crc16_modbus(payload).to_bytes(2, "little")


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"Modbus {name} must be {low}..{high}, got {value}")


def _frame(unit: int, function: int, body: bytes) -> bytes:
    return add_crc(bytes((unit, function)) + body)


@dataclass(frozen=True)
class ReadHoldingRegisters:
    """FC03 request: read ``count`` registers starting at ``address``."""

    unit: int
    address: int
    count: int
    function: ClassVar[int] = FunctionCode.READ_HOLDING_REGISTERS

    def __post_init__(self) -> None:
        _check_range("unit", self.unit, 0, MAX_UNIT)
        _check_range("register address", self.address, 0, 0xFFFF)
        _check_range("read count", self.count, 1, MAX_READ_COUNT)

    def encode(self) -> bytes:
        return _frame(self.unit, self.function, struct.pack(">HH", self.address, self.count))


@dataclass(frozen=True)
class WriteSingleRegister:
    """FC06 request: set register ``address`` to ``value``."""

    unit: int
    address: int
    value: int
    function: ClassVar[int] = FunctionCode.WRITE_SINGLE_REGISTER

    def __post_init__(self) -> None:
        _check_range("unit", self.unit, 0, MAX_UNIT)
        _check_range("register address", self.address, 0, 0xFFFF)
        _check_range("register value", self.value, 0, 0xFFFF)

    def encode(self) -> bytes:
        return _frame(self.unit, self.function, struct.pack(">HH", self.address, self.value))


@dataclass(frozen=True)
class WriteMultipleRegisters:
    """FC16 request: set registers ``address``, ``address + 1``, … to ``values``."""

    unit: int
    address: int
    values: tuple[int, ...]
    function: ClassVar[int] = FunctionCode.WRITE_MULTIPLE_REGISTERS

    def __post_init__(self) -> None:
        _check_range("unit", self.unit, 0, MAX_UNIT)
        _check_range("register address", self.address, 0, 0xFFFF)
        _check_range("write count", len(self.values), 1, MAX_WRITE_COUNT)
        for value in self.values:
            _check_range("register value", value, 0, 0xFFFF)

    def encode(self) -> bytes:
        count = len(self.values)
        header = struct.pack(">HHB", self.address, count, 2 * count)
        return _frame(self.unit, self.function, header + struct.pack(f">{count}H", *self.values))


@dataclass(frozen=True)
class UnsupportedRequest:
    """A well-formed request for a function this codec does not implement (a device answers 01)."""

    unit: int
    function: int
    body: bytes

    def encode(self) -> bytes:
        return _frame(self.unit, self.function, self.body)


@dataclass(frozen=True)
class ReadHoldingRegistersResponse:
    """FC03 normal response: the register values read."""

    unit: int
    values: tuple[int, ...]
    function: ClassVar[int] = FunctionCode.READ_HOLDING_REGISTERS

    def encode(self) -> bytes:
        count = len(self.values)
        return _frame(self.unit, self.function, struct.pack(f">B{count}H", 2 * count, *self.values))


@dataclass(frozen=True)
class WriteSingleRegisterResponse:
    """FC06 normal response, byte for byte the request it confirms."""

    unit: int
    address: int
    value: int
    function: ClassVar[int] = FunctionCode.WRITE_SINGLE_REGISTER

    def encode(self) -> bytes:
        return _frame(self.unit, self.function, struct.pack(">HH", self.address, self.value))


@dataclass(frozen=True)
class WriteMultipleRegistersResponse:
    """FC16 normal response: where and how many registers were written."""

    unit: int
    address: int
    count: int
    function: ClassVar[int] = FunctionCode.WRITE_MULTIPLE_REGISTERS

    def encode(self) -> bytes:
        return _frame(self.unit, self.function, struct.pack(">HH", self.address, self.count))


@dataclass(frozen=True)
class ExceptionResponse:
    """The device refused request ``function`` (stored without the 0x80 bit) with ``code``."""

    unit: int
    function: int
    code: int

    @property
    def meaning(self) -> str:
        try:
            return ExceptionCode(self.code).name.lower().replace("_", " ")
        except ValueError:
            return "unknown exception code"

    def encode(self) -> bytes:
        return _frame(self.unit, self.function | 0x80, bytes((self.code,)))


ModbusRequest = ReadHoldingRegisters | WriteSingleRegister | WriteMultipleRegisters | UnsupportedRequest
ModbusResponse = (
    ReadHoldingRegistersResponse
    | WriteSingleRegisterResponse
    | WriteMultipleRegistersResponse
    | ExceptionResponse
)


def _checked_payload(frame: bytes) -> bytes:
    """``frame`` without its CRC, after checking length and CRC."""
    if len(frame) < 4:
        raise ModbusFrameError(
            f"Modbus frame of {len(frame)} bytes is too short (at least 4): {frame.hex(' ')}"
        )
    payload, crc = frame[:-2], int.from_bytes(frame[-2:], "little")
    if crc16_modbus(payload) != crc:
        raise CrcError(
            f"Modbus CRC mismatch: frame says {crc:04X}, contents give {crc16_modbus(payload):04X}: "
            f"{frame.hex(' ')}"
        )
    return payload


def _expect_body(frame: bytes, body: bytes, size: int) -> None:
    if len(body) != size:
        raise ModbusFrameError(
            f"Modbus function {frame[1]:02X} needs {size} body bytes, got {len(body)}: {frame.hex(' ')}"
        )


def _registers(frame: bytes, block: bytes, count: int) -> tuple[int, ...]:
    if len(block) != 2 * count:
        raise ModbusFrameError(f"Modbus byte count does not match {count} registers: {frame.hex(' ')}")
    return struct.unpack(f">{count}H", block)


def decode_request(frame: bytes) -> ModbusRequest:
    """Decode one whole request frame, CRC included; raise ``ModbusFrameError`` if it is not one."""
    payload = _checked_payload(frame)
    unit, function, body = payload[0], payload[1], payload[2:]
    try:
        if function in (FunctionCode.READ_HOLDING_REGISTERS, FunctionCode.WRITE_SINGLE_REGISTER):
            _expect_body(frame, body, 4)
            address, word = struct.unpack(">HH", body)
            if function == FunctionCode.READ_HOLDING_REGISTERS:
                return ReadHoldingRegisters(unit, address, word)
            return WriteSingleRegister(unit, address, word)
        if function == FunctionCode.WRITE_MULTIPLE_REGISTERS:
            if len(body) < 5:
                raise ModbusFrameError(f"Modbus FC16 request too short: {frame.hex(' ')}")
            address, count, nbytes = struct.unpack(">HHB", body[:5])
            _expect_body(frame, body, 5 + nbytes)
            return WriteMultipleRegisters(unit, address, _registers(frame, body[5:], count))
    except ValueError as err:
        raise ModbusFrameError(f"Modbus request out of range ({err}): {frame.hex(' ')}") from err
    return UnsupportedRequest(unit, function, body)


def decode_response(frame: bytes) -> ModbusResponse:
    """Decode one whole response frame, CRC included; raise ``ModbusFrameError`` if it is not one."""
    payload = _checked_payload(frame)
    unit, function, body = payload[0], payload[1], payload[2:]
    if function & 0x80:
        _expect_body(frame, body, 1)
        return ExceptionResponse(unit, function & 0x7F, body[0])
    if function == FunctionCode.READ_HOLDING_REGISTERS:
        if not body or body[0] % 2:
            raise ModbusFrameError(f"Modbus FC03 response needs an even byte count: {frame.hex(' ')}")
        _expect_body(frame, body, 1 + body[0])
        return ReadHoldingRegistersResponse(unit, _registers(frame, body[1:], body[0] // 2))
    if function in (FunctionCode.WRITE_SINGLE_REGISTER, FunctionCode.WRITE_MULTIPLE_REGISTERS):
        _expect_body(frame, body, 4)
        address, word = struct.unpack(">HH", body)
        if function == FunctionCode.WRITE_SINGLE_REGISTER:
            return WriteSingleRegisterResponse(unit, address, word)
        return WriteMultipleRegistersResponse(unit, address, word)
    raise ModbusFrameError(
        f"Modbus function {function:02X} is not a response this codec knows: {frame.hex(' ')}"
    )


_NEED_MORE = 0
_NOT_A_FRAME = -1
_FIXED_REQUESTS = frozenset(range(0x01, 0x07))
_BLOCK_REQUESTS = frozenset((0x0F, 0x10))


def request_length(buf: bytes | bytearray) -> int:
    """Length of the request starting ``buf``: 0 if more bytes are needed, -1 if none can start here."""
    if len(buf) < 2:
        return _NEED_MORE
    if buf[1] in _FIXED_REQUESTS:
        return 8
    if buf[1] not in _BLOCK_REQUESTS:
        return _NOT_A_FRAME
    if len(buf) < 7:
        return _NEED_MORE
    return 9 + buf[6] if buf[6] <= MAX_WRITE_COUNT * 2 else _NOT_A_FRAME


def response_length(buf: bytes | bytearray) -> int:
    """Length of the response starting ``buf``: 0 if more bytes are needed, -1 if none can start here."""
    if len(buf) < 2:
        return _NEED_MORE
    function = buf[1]
    if function & 0x80:
        return 5 if function != 0x80 else _NOT_A_FRAME
    if function in (FunctionCode.WRITE_SINGLE_REGISTER, FunctionCode.WRITE_MULTIPLE_REGISTERS):
        return 8
    if function != FunctionCode.READ_HOLDING_REGISTERS:
        return _NOT_A_FRAME
    if len(buf) < 3:
        return _NEED_MORE
    nbytes = buf[2]
    return 5 + nbytes if nbytes % 2 == 0 and nbytes <= 2 * MAX_READ_COUNT else _NOT_A_FRAME


M = TypeVar("M", ModbusRequest, ModbusResponse)


class ModbusRtuDecoder(StreamDecoder[M]):
    """Finds frames in a byte stream fed in arbitrary chunks, resynchronising after garbage.

    ``ModbusRtuDecoder(Direction.REQUEST)`` yields requests (what a device reads),
    ``ModbusRtuDecoder(Direction.RESPONSE)`` yields responses (what the host reads).
    """

    @overload
    def __init__(self: ModbusRtuDecoder[ModbusRequest], direction: Literal[Direction.REQUEST]) -> None: ...
    @overload
    def __init__(self: ModbusRtuDecoder[ModbusResponse], direction: Literal[Direction.RESPONSE]) -> None: ...
    def __init__(self, direction: Direction) -> None:
        super().__init__()
        self.direction = direction
        self._length: Callable[[bytes | bytearray], int]
        self._decode: Callable[[bytes], M]
        if direction is Direction.REQUEST:
            self._length, self._decode = request_length, cast(Callable[[bytes], M], decode_request)
        else:
            self._length, self._decode = response_length, cast(Callable[[bytes], M], decode_response)

    def _scan(self) -> list[M]:
        found: list[M] = []
        while len(self._buf) >= 2:
            length = self._length(self._buf)
            if length == _NOT_A_FRAME:
                self._reject(1)
                continue
            if length == _NEED_MORE or len(self._buf) < length:
                break
            frame = bytes(self._buf[:length])
            try:
                message = self._decode(frame)
            except ModbusFrameError as err:
                log.debug("dropping one byte to resynchronise: %s", err)
                self._reject(1)
                continue
            del self._buf[:length]
            self.frames_decoded += 1
            found.append(message)
        return found
