"""What the device contract suites share: the target they run on, a simulator or real hardware.

Each suite's fixture is parametrised ``sim`` / ``hardware`` and asks ``contract_targets.open``
for its target: the simulator registered as ``sim://KIND-contract``, or the URL given with
``--hw-KIND`` (skipping with a message when none was given). Tests that need a person at the device
(a key pressed, a jam made) take the simulator with ``target.needs_sim(...)`` and skip on hardware.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import pytest

from transport.sim import SimDevice, register_simulator, unregister_simulator

S = TypeVar("S")


@dataclass
class Target(Generic[S]):
    """The device a contract test runs on: its URL, and its simulator (``None`` on hardware)."""

    url: str
    sim: S | None

    def needs_sim(self, why: str) -> S:
        """The simulator, or skip on hardware: ``why`` names what a person would have to do."""
        if self.sim is None:
            pytest.skip(f"{why} on the real device; covered on the simulator")
        return self.sim


class ContractTargets:
    """Opens a contract suite's target: a registered ``sim://KIND-contract`` or ``--hw-KIND``'s URL."""

    def __init__(self, request: pytest.FixtureRequest, hardware_url: Callable[[str], str]) -> None:
        self._request = request
        self._hardware_url = hardware_url

    def open(self, mode: str, kind: str, make_sim: Callable[[], S]) -> Target[S]:
        if mode == "hardware":
            return Target(self._hardware_url(kind), None)
        sim = make_sim()
        name = f"{kind}-contract"
        device: SimDevice = sim  # type: ignore[assignment]
        register_simulator(name, device)
        self._request.addfinalizer(lambda: unregister_simulator(name))
        return Target(f"sim://{name}", sim)
