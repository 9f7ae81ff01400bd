"""ModbusLedDisplay driver against the LED-485 simulator over sim://, faults included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import sim_link

from counter_display.errors import CounterLinkError, DisplayRejectedError, DisplayTimeoutError
from counter_display.led_display import EchoFilter, ModbusLedDisplay
from counter_display.modbus_rtu import (
    ExceptionCode,
    ExceptionResponse,
    ReadHoldingRegisters,
    ReadHoldingRegistersResponse,
    Register,
    UnsupportedRequest,
    decode_response,
)
from firmware_sim.led_display import ModbusLedDisplaySim
from transport.sim import SimTransport

FAST = 0.05


class CapturedLink:
    """A SimLink that keeps what the simulator sends."""

    def __init__(self) -> None:
        self.data = bytearray()

    def send(self, data: bytes) -> None:
        self.data += data


@pytest.fixture
def sim() -> ModbusLedDisplaySim:
    return ModbusLedDisplaySim(unit=1, digits=4)


@pytest.fixture
def link(sim: ModbusLedDisplaySim) -> Iterator[SimTransport]:
    with sim_link(sim, "led-test") as transport:
        yield transport


@pytest.fixture
def display(link: SimTransport) -> ModbusLedDisplay:
    return ModbusLedDisplay(link, unit=1, retries=2, reply_timeout=FAST)


def test_sim_answers_the_documented_frame_byte_for_byte(sim: ModbusLedDisplaySim) -> None:
    captured = CapturedLink()
    sim.attach(captured)
    sim.receive(bytes.fromhex("01 06 00 00"))
    sim.receive(bytes.fromhex("00 7B C9 E9"))
    assert bytes(captured.data) == bytes.fromhex("01 06 00 00 00 7B C9 E9")
    assert sim.shown == " 123"


def test_sim_powers_up_showing_dashes(sim: ModbusLedDisplaySim) -> None:
    assert sim.shown == "----"
    assert sim.history == []


def test_show_number(sim: ModbusLedDisplaySim, display: ModbusLedDisplay) -> None:
    display.show_number(123)
    display.show_number(7)
    assert sim.shown == "   7"
    assert sim.history == [123, 7]
    assert sim.shown_history == [" 123", "   7"]


def test_blank_and_text_go_as_segments(sim: ModbusLedDisplaySim, display: ModbusLedDisplay) -> None:
    display.show_number(42)
    display.blank()
    assert sim.shown == "    "
    display.show_text("--")
    assert sim.shown == "  --"
    assert sim.history == [42, None, None]


def test_decimal_point_register(sim: ModbusLedDisplaySim, display: ModbusLedDisplay) -> None:
    display.write_register(Register.DECIMAL_POINT, 1)
    display.show_number(1234)
    assert sim.shown == "123.4"
    assert display.read_registers(Register.VALUE) == (1234,)
    assert display.read_registers(Register.DECIMAL_POINT) == (1,)


def test_on_show_callback(sim: ModbusLedDisplaySim, display: ModbusLedDisplay) -> None:
    seen: list[str] = []
    sim.on_show = seen.append
    display.show_number(15)
    display.blank()
    assert seen == ["  15", "    "]


def test_number_wider_than_the_display_is_refused_before_sending(
    sim: ModbusLedDisplaySim, display: ModbusLedDisplay
) -> None:
    with pytest.raises(ValueError, match="has 4"):
        display.show_number(12345)
    assert sim.requests_served == 0


def test_device_refusal_is_raised_at_once(sim: ModbusLedDisplaySim, link: SimTransport) -> None:
    wide = ModbusLedDisplay(link, unit=1, reply_timeout=FAST, digits=5)  # misconfigured: sim has 4
    with pytest.raises(DisplayRejectedError, match="exception 03") as info:
        wide.show_number(12345)
    assert info.value.code == ExceptionCode.ILLEGAL_DATA_VALUE
    assert sim.requests_served == 1
    assert sim.shown == "----"


def test_unmapped_register_is_an_illegal_address(display: ModbusLedDisplay) -> None:
    with pytest.raises(DisplayRejectedError, match=r"unit 1 on sim://led-test-\d+ refused read") as info:
        display.read_registers(0x0001)
    assert info.value.code == ExceptionCode.ILLEGAL_DATA_ADDRESS


def test_unsupported_function_gets_exception_01(sim: ModbusLedDisplaySim) -> None:
    captured = CapturedLink()
    sim.attach(captured)
    sim.receive(UnsupportedRequest(1, 0x04, bytes(4)).encode())
    assert decode_response(bytes(captured.data)) == ExceptionResponse(1, 0x04, ExceptionCode.ILLEGAL_FUNCTION)


def test_no_reply_times_out_after_retries(sim: ModbusLedDisplaySim, display: ModbusLedDisplay) -> None:
    sim.no_reply = True
    with pytest.raises(DisplayTimeoutError, match=r"unit 1 on sim://led-test-\d+ did not answer") as info:
        display.show_number(123)
    assert info.value.attempts == 3
    assert info.value.url == display.transport.url
    assert sim.shown == "----"


@pytest.mark.parametrize("fault", ["garble_next_reply", "bad_crc_next_reply"])
def test_a_damaged_reply_is_retried(sim: ModbusLedDisplaySim, display: ModbusLedDisplay, fault: str) -> None:
    getattr(sim, fault)()
    display.show_number(123)
    assert sim.shown == " 123"
    assert sim.requests_served == 2
    assert sim.history == [123, 123]


def test_damaged_replies_beyond_the_retries_time_out(
    sim: ModbusLedDisplaySim, display: ModbusLedDisplay
) -> None:
    sim.bad_crc_next_reply(2)
    display.show_number(1)
    sim.bad_crc_next_reply(3)
    with pytest.raises(DisplayTimeoutError):
        display.show_number(2)
    assert sim.requests_served == 6


def test_line_echo_of_our_own_requests_is_skipped(
    sim: ModbusLedDisplaySim, display: ModbusLedDisplay
) -> None:
    sim.echo_requests = True
    display.show_text("8.8.")
    display.show_number(99)
    assert display.read_registers(Register.VALUE, 1) == (99,)
    assert sim.shown == "  99"
    assert sim.requests_served == 3


def test_other_units_frames_are_ignored(sim: ModbusLedDisplaySim, link: SimTransport) -> None:
    other = ModbusLedDisplay(link, unit=2, retries=0, reply_timeout=FAST)
    with pytest.raises(DisplayTimeoutError, match="unit 2"):
        other.show_number(5)
    assert sim.history == []


def test_broadcast_is_executed_without_a_reply(sim: ModbusLedDisplaySim, link: SimTransport) -> None:
    ModbusLedDisplay(link, unit=0).show_number(8)
    assert sim.shown == "   8"
    assert link.read(16, timeout=FAST) == b""


def test_changing_the_unit_id(
    sim: ModbusLedDisplaySim, display: ModbusLedDisplay, link: SimTransport
) -> None:
    display.write_register(Register.UNIT_ID, 7)
    assert sim.unit == 7
    ModbusLedDisplay(link, unit=7, reply_timeout=FAST).show_number(70)
    assert sim.shown == "  70"


def test_garbage_from_the_host_is_ignored(sim: ModbusLedDisplaySim) -> None:
    captured = CapturedLink()
    sim.attach(captured)
    request = ReadHoldingRegisters(1, Register.VALUE, 1).encode()
    sim.receive(b"\x00\x06\xff" + request[:-1] + b"\x00" + request)
    assert decode_response(bytes(captured.data)) == ReadHoldingRegistersResponse(1, (0,))
    assert sim.requests_served == 1
    assert sim.rejected_bytes > 0


def test_closed_link_is_a_counter_link_error(display: ModbusLedDisplay, link: SimTransport) -> None:
    link.close()
    with pytest.raises(CounterLinkError, match="sim://led-test"):
        display.show_number(1)


@pytest.mark.parametrize(
    ("chunks", "out"),
    [
        ([b"\x01\x10", b"\x00\x80\xaa\xbb", b"rest"], b"rest"),
        ([b"\x01\x10\x00", b"\x80reply"], b"\x01\x10\x00\x80reply"),
        ([b"\x01\x10\x00\x07"], b"\x01\x10\x00\x07"),
    ],
)
def test_echo_filter(chunks: list[bytes], out: bytes) -> None:
    echo = EchoFilter(b"\x01\x10\x00\x80\xaa\xbb")
    assert b"".join(echo.feed(chunk) for chunk in chunks) == out


def test_render_png(sim: ModbusLedDisplaySim, display: ModbusLedDisplay, tmp_path: Path) -> None:
    from PIL import Image

    display.show_number(1)
    path = sim.render_png(tmp_path / "led.png", cell=60)
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (15 + 4 * 75, 100 + 2 * 15)
        rgb = image.convert("RGB")
        last = 15 + 3 * 75  # left edge of the rightmost digit
        lit_b = rgb.getpixel((last + 55, 15 + 30))  # segment b of "1"
        unlit_a = rgb.getpixel((last + 30, 15 + 4))  # segment a is off for "1"
    assert lit_b == (255, 32, 24)
    assert unlit_a != lit_b
