"""What any Modbus RTU LED counter display must do for motcua: the simulator by default, real
hardware with ``--hw-led URL`` (the display at unit 1, 4 digits; it shows 1023, ``----`` and blank).

Without the option the hardware run is skipped with a message saying how to give it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from contract_support import ContractTargets

from counter_display.errors import CounterDeviceError
from counter_display.led_display import ModbusLedDisplay
from counter_display.modbus_rtu import Register
from counter_display.seven_segment import encode_text
from firmware_sim.led_display import ModbusLedDisplaySim
from transport import open_transport

DIGITS = 4


@pytest.fixture(params=["sim", "hardware"])
def led(request: pytest.FixtureRequest, contract_targets: ContractTargets) -> Iterator[ModbusLedDisplay]:
    target = contract_targets.open(request.param, "led", lambda: ModbusLedDisplaySim(unit=1, digits=DIGITS))
    with open_transport(target.url) as link:
        yield ModbusLedDisplay(link, unit=1, digits=DIGITS)


def _segments(led: ModbusLedDisplay) -> tuple[int, ...]:
    return led.read_registers(Register.SEGMENTS, DIGITS)


def test_a_number_written_is_read_back_from_the_value_register(led: ModbusLedDisplay) -> None:
    led.show_number(1023)
    assert led.read_registers(Register.VALUE) == (1023,)
    assert led.read_registers(Register.UNIT_ID) == (1,)


def test_the_closed_mark_and_blank_are_exact_segment_bitmaps(led: ModbusLedDisplay) -> None:
    led.show_text("----")
    assert _segments(led) == tuple(encode_text("----", DIGITS))
    led.blank()
    assert _segments(led) == (0,) * DIGITS


def test_a_number_wider_than_the_display_is_refused_before_it_is_sent(led: ModbusLedDisplay) -> None:
    led.show_number(7)
    with pytest.raises(ValueError, match="10000"):
        led.show_number(10_000)
    assert led.read_registers(Register.VALUE) == (7,)


def test_another_unit_on_the_line_stays_silent(led: ModbusLedDisplay) -> None:
    stranger = ModbusLedDisplay(led.transport, unit=200, digits=DIGITS, retries=0, reply_timeout=0.2)
    with pytest.raises(CounterDeviceError):
        stranger.show_number(1)
    led.show_number(5)  # the line is still usable afterwards
    assert led.read_registers(Register.VALUE) == (5,)
