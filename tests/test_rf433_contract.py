"""What any 433 MHz EV1527 receiver module must do for motcua: the simulator by default, real
hardware with ``--hw-rf433 URL`` (it only listens: nobody should press a remote during the run).

Tests that need a remote pressed run on the simulator only; on hardware they skip saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from contract_support import ContractTargets, Target

from bus import models as m
from counter_display.rf433_receiver import Ev1527Receiver, RemotePress
from firmware_sim.rf433 import Ev1527ReceiverSim
from siteconf.display import Remote
from transport import open_transport

BOUND = Remote(id=0x5A5A5, counter=4, keys={1: m.Key.CALL_NEXT, 2: m.Key.RECALL})
STRANGER = 0x12345


@dataclass
class Rig:
    receiver: Ev1527Receiver
    target: Target[Ev1527ReceiverSim]

    def remote(self) -> Ev1527ReceiverSim:
        return self.target.needs_sim("needs a remote pressed next to the receiver")


@pytest.fixture(params=["sim", "hardware"])
def rig(request: pytest.FixtureRequest, contract_targets: ContractTargets) -> Iterator[Rig]:
    target = contract_targets.open(request.param, "rf433", lambda: Ev1527ReceiverSim(seed=3))
    with open_transport(target.url) as link:
        yield Rig(Ev1527Receiver(link, [BOUND]), target)


def test_a_quiet_receiver_reports_no_press_of_a_bound_remote(rig: Rig) -> None:
    assert rig.receiver.poll(1.0) == []


def test_a_held_button_is_one_press_of_the_bound_remote(rig: Rig) -> None:
    rig.remote().press(BOUND.id, 1, repeats=4)
    assert rig.receiver.poll(0.3) == [RemotePress(BOUND.id, 4, m.Key.CALL_NEXT)]
    assert rig.receiver.repeats == 3


def test_strangers_unmapped_buttons_and_cut_frames_are_ignored(rig: Rig) -> None:
    remote = rig.remote()
    remote.press(STRANGER, 1)
    remote.press(BOUND.id, 7)
    remote.press(BOUND.id, 2, truncate=3)
    remote.inject_noise(11)
    assert rig.receiver.poll(0.3) == []
    assert (rig.receiver.unknown_remotes, rig.receiver.unmapped_keys) == (1, 1)
    remote.press(BOUND.id, 2)
    assert [p.key for p in rig.receiver.poll(0.3)] == [m.Key.RECALL]
