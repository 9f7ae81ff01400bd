"""What any caller-bus calling keypad must do for motcua: the simulator by default, real hardware
with ``--hw-keypad URL`` (the keypad at bus address 1; its display shows 123 and it beeps once).

Tests that need a finger on a key run on the simulator only; on hardware they skip saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from contract_support import ContractTargets, Target

from counter_display.caller_bus import Key
from counter_display.keypad import CallerBusKeypad
from firmware_sim.keypad import CallerBusKeypadSim
from transport import open_transport

ADDRESS = 1


@dataclass
class Rig:
    keypad: CallerBusKeypad
    target: Target[CallerBusKeypadSim]

    @property
    def sim(self) -> CallerBusKeypadSim | None:
        return self.target.sim

    def hand(self) -> CallerBusKeypadSim:
        return self.target.needs_sim("needs a person pressing keys")


@pytest.fixture(params=["sim", "hardware"])
def rig(request: pytest.FixtureRequest, contract_targets: ContractTargets) -> Iterator[Rig]:
    target = contract_targets.open(request.param, "keypad", lambda: CallerBusKeypadSim(ADDRESS, seed=7))
    with open_transport(target.url) as link:
        yield Rig(CallerBusKeypad(link), target)


def test_an_idle_bus_reports_nothing_and_no_noise(rig: Rig) -> None:
    assert rig.keypad.poll(0.5) == []
    assert rig.keypad.rejected_bytes == 0


def test_the_display_and_the_beeper_take_their_frames(rig: Rig) -> None:
    rig.keypad.show_digits(ADDRESS, "123")
    rig.keypad.beep(ADDRESS)
    assert rig.keypad.poll(0.3) == []  # a keypad answers display and beep frames with nothing
    if rig.sim is not None:
        assert (rig.sim.display_text, rig.sim.beeps) == ("   123", 1)


def test_a_key_press_is_reported_once_and_acknowledged(rig: Rig) -> None:
    hand = rig.hand()
    hand.press(Key.CALL, repeats=2)  # a keypad retransmitting before it sees the echo
    presses = rig.keypad.poll(0.5)
    assert [(p.addr, p.key) for p in presses] == [(ADDRESS, Key.CALL)]
    assert hand.unacked == [] and hand.acked == 2


def test_a_damaged_frame_and_line_noise_are_dropped(rig: Rig) -> None:
    hand = rig.hand()
    hand.press(Key.RECALL, fault="bad_checksum")
    hand.inject_noise(9)
    hand.press(Key.PAUSE)
    assert [p.key for p in rig.keypad.poll(0.5)] == [Key.PAUSE]
    assert rig.keypad.rejected_bytes > 0
