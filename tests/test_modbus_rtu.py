"""Modbus RTU codec: exact bytes, CRC vectors, decoding, and the streaming decoder under garbage."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from counter_display.modbus_rtu import (
    CrcError,
    Direction,
    ExceptionCode,
    ExceptionResponse,
    ModbusFrameError,
    ModbusRequest,
    ModbusResponse,
    ModbusRtuDecoder,
    ReadHoldingRegisters,
    ReadHoldingRegistersResponse,
    Register,
    UnsupportedRequest,
    WriteMultipleRegisters,
    WriteMultipleRegistersResponse,
    WriteSingleRegister,
    WriteSingleRegisterResponse,
    add_crc,
    crc16_modbus,
    decode_request,
    decode_response,
)


@pytest.mark.parametrize(
    ("data", "crc"),
    [
        (b"123456789", 0x4B37),  # the CRC-16/MODBUS catalogue check value
        (bytes.fromhex("01 06 00 00 00 7B"), 0xE9C9),
        (bytes.fromhex("01030000000A"), 0xCDC5),
        (b"", 0xFFFF),
    ],
)
def test_crc16_modbus_known_vectors(data: bytes, crc: int) -> None:
    assert crc16_modbus(data) == crc


def _bitwise_crc(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@given(st.binary(max_size=64))
def test_table_crc_matches_the_bitwise_definition(data: bytes) -> None:
    assert crc16_modbus(data) == _bitwise_crc(data)


def test_show_123_on_unit_1_is_the_documented_frame() -> None:
    assert WriteSingleRegister(1, Register.VALUE, 123).encode() == bytes.fromhex("01 06 00 00 00 7B C9 E9")


def test_crc_goes_low_byte_first() -> None:
    assert add_crc(bytes.fromhex("01 03 00 00 00 0A")) == bytes.fromhex("01 03 00 00 00 0A C5 CD")


@pytest.mark.parametrize(
    ("request_", "wire"),
    [
        (ReadHoldingRegisters(1, 0x0000, 10), "01 03 00 00 00 0A C5 CD"),
        (WriteSingleRegister(1, 0x0000, 123), "01 06 00 00 00 7B C9 E9"),
        (WriteMultipleRegisters(1, 0x0080, (0x06, 0x5B)), "01 10 00 80 00 02 04 00 06 00 5B 5A 35"),
    ],
)
def test_requests_encode_and_decode(request_: ModbusRequest, wire: str) -> None:
    frame = bytes.fromhex(wire)
    assert request_.encode() == frame
    assert decode_request(frame) == request_


@pytest.mark.parametrize(
    "response",
    [
        ReadHoldingRegistersResponse(1, (123, 0, 7)),
        WriteSingleRegisterResponse(1, 0, 123),
        WriteMultipleRegistersResponse(1, 0x80, 4),
        ExceptionResponse(1, 0x06, ExceptionCode.ILLEGAL_DATA_ADDRESS),
    ],
)
def test_responses_round_trip(response: ModbusResponse) -> None:
    assert decode_response(response.encode()) == response


def test_exception_response_bytes_and_meaning() -> None:
    frame = ExceptionResponse(1, 0x06, 2).encode()
    assert frame[:3] == bytes.fromhex("01 86 02")
    assert decode_response(frame).meaning == "illegal data address"  # type: ignore[union-attr]


def test_fc06_reply_is_the_request() -> None:
    assert WriteSingleRegisterResponse(1, 0, 123).encode() == WriteSingleRegister(1, 0, 123).encode()


def test_bad_crc_is_rejected() -> None:
    frame = bytearray(WriteSingleRegister(1, 0, 123).encode())
    frame[-1] ^= 0x01
    with pytest.raises(CrcError, match="CRC mismatch"):
        decode_response(bytes(frame))


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\x01\x06",
        add_crc(b"\x01\x03\x03\x00\x01\x02"),
        add_crc(b"\x01\x06\x00\x00"),
        add_crc(b"\x01\x2b"),
    ],
)
def test_malformed_responses_raise_frame_errors(frame: bytes) -> None:
    with pytest.raises(ModbusFrameError):
        decode_response(frame)


def test_unknown_request_function_decodes_as_unsupported() -> None:
    frame = add_crc(bytes.fromhex("01 04 00 00 00 01"))
    assert decode_request(frame) == UnsupportedRequest(1, 0x04, bytes.fromhex("00 00 00 01"))


def test_fc16_request_with_wrong_byte_count_is_rejected() -> None:
    with pytest.raises(ModbusFrameError, match="byte count"):
        decode_request(add_crc(bytes.fromhex("01 10 00 80 00 02 02 00 06")))


@pytest.mark.parametrize(
    "build",
    [
        lambda: WriteSingleRegister(1, 0, 0x10000),
        lambda: WriteSingleRegister(248, 0, 1),
        lambda: ReadHoldingRegisters(1, 0, 0),
        lambda: ReadHoldingRegisters(1, 0, 126),
        lambda: WriteMultipleRegisters(1, 0, ()),
    ],
)
def test_out_of_range_fields_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="Modbus"):
        build()


def test_decoder_drops_a_garbled_frame_and_finds_the_next() -> None:
    good = WriteSingleRegister(1, 0, 123).encode()
    garbled = bytearray(good)
    garbled[4] ^= 0xFF
    decoder = ModbusRtuDecoder(Direction.RESPONSE)
    assert decoder.feed(bytes(garbled) + good) == [WriteSingleRegisterResponse(1, 0, 123)]
    assert decoder.rejected_bytes == len(garbled)


def test_decoder_waits_for_split_frames() -> None:
    frame = ReadHoldingRegistersResponse(1, (1, 2, 3)).encode()
    decoder = ModbusRtuDecoder(Direction.RESPONSE)
    assert decoder.feed(frame[:2]) == []
    assert decoder.feed(frame[2:5]) == []
    assert decoder.pending == 5
    assert decoder.feed(frame[5:]) == [ReadHoldingRegistersResponse(1, (1, 2, 3))]
    assert decoder.pending == 0


def test_resync_gives_up_on_a_partial_frame_after_silence() -> None:
    decoder = ModbusRtuDecoder(Direction.RESPONSE)
    frame = WriteSingleRegister(1, 0, 5).encode()
    stuck = bytes.fromhex("01 03 F0")  # claims 240 bytes of registers
    assert decoder.feed(stuck + frame) == []
    assert decoder.resync() == [WriteSingleRegisterResponse(1, 0, 5)]
    assert decoder.pending == 0


# Function codes the decoders can frame; garbage made of other bytes can start no candidate frame
# except where its last byte meets the frame's unit, so the frame's unit avoids them too.
_FRAMEABLE = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0F, 0x10} | set(range(0x81, 0x100))
_garbage = st.binary(max_size=40).map(lambda b: bytes(x for x in b if x not in _FRAMEABLE))
_units = st.integers(1, 247).filter(lambda u: u not in _FRAMEABLE)
_word = st.integers(0, 0xFFFF)
_requests = st.one_of(
    st.builds(ReadHoldingRegisters, _units, _word, st.integers(1, 125)),
    st.builds(WriteSingleRegister, _units, _word, _word),
    st.builds(WriteMultipleRegisters, _units, _word, st.lists(_word, min_size=1, max_size=123).map(tuple)),
)
_responses = st.one_of(
    st.builds(ReadHoldingRegistersResponse, _units, st.lists(_word, max_size=125).map(tuple)),
    st.builds(WriteSingleRegisterResponse, _units, _word, _word),
    st.builds(WriteMultipleRegistersResponse, _units, _word, st.integers(1, 123)),
    st.builds(ExceptionResponse, _units, st.integers(1, 0x7F), st.integers(0, 255)),
)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@settings(deadline=None)
@given(
    messages=st.lists(_requests, min_size=1, max_size=4),
    garbage=st.lists(_garbage, min_size=5, max_size=5),
    cuts=st.lists(st.integers(0, 2000), max_size=12),
)
def test_requests_survive_chunking_and_garbage(
    messages: list[ModbusRequest], garbage: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(g + m.encode() for g, m in zip(garbage, messages, strict=False)) + garbage[-1]
    decoder = ModbusRtuDecoder(Direction.REQUEST)
    found = [message for chunk in _chunks(stream, cuts) for message in decoder.feed(chunk)]
    assert found == messages


@settings(deadline=None)
@given(
    messages=st.lists(_responses, min_size=1, max_size=4),
    garbage=st.lists(_garbage, min_size=5, max_size=5),
    cuts=st.lists(st.integers(0, 2000), max_size=12),
)
def test_responses_survive_chunking_and_garbage(
    messages: list[ModbusResponse], garbage: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(g + m.encode() for g, m in zip(garbage, messages, strict=False)) + garbage[-1]
    decoder = ModbusRtuDecoder(Direction.RESPONSE)
    found = [message for chunk in _chunks(stream, cuts) for message in decoder.feed(chunk)]
    assert found == messages


@given(st.binary(max_size=300))
def test_noise_never_raises_and_every_frame_found_is_in_the_input(noise: bytes) -> None:
    requests = ModbusRtuDecoder(Direction.REQUEST)
    responses = ModbusRtuDecoder(Direction.RESPONSE)
    found: list[ModbusRequest | ModbusResponse] = [*requests.feed(noise), *requests.resync()]
    found += [*responses.feed(noise), *responses.resync()]
    for message in found:
        assert message.encode() in noise
    assert requests.pending == responses.pending == 0


@given(_requests, st.integers(1, 7))
def test_a_truncated_frame_is_never_decoded(message: ModbusRequest, cut: int) -> None:
    # RTU has no start marker, so a long truncated frame may by chance hold a shorter valid frame;
    # what must never happen is the truncated frame itself, or a frame not in the input, coming out.
    truncated = message.encode()[:-cut]
    decoder = ModbusRtuDecoder(Direction.REQUEST)
    found = [*decoder.feed(truncated), *decoder.resync()]
    assert message not in found
    assert all(frame.encode() in truncated for frame in found)
