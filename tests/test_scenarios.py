"""Whole flows played from data files: ``tests/scenarios/*.toml`` (see ``scenario_runner`` for the steps).

Every file is one test. A scenario with one expected value changed must fail, naming its step: the
runner compares exactly, so a file cannot pass by seeing less than it says.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from scenario_runner import SCENARIOS, ScenarioError, centre, load, play

from bus.client import BrokerUrl
from siteconf import Site

pytestmark = pytest.mark.integration

NAMES = sorted(p.stem for p in SCENARIOS.glob("*.toml"))


def test_there_are_scenarios() -> None:
    assert "call_key_shows_the_number" in NAMES and "keypad_noise_calls_nobody" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_scenario(name: str, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> None:
    with centre(demo_site, mosquitto, tmp_path / "flow.db") as rig:
        play(rig, load(name))


@pytest.mark.parametrize(
    "case",
    [
        ("call_key_shows_the_number", "expect_wire", "01 06 00 00 03 EA 08 B5", "step 6 (expect_wire)"),
        ("call_key_shows_the_number", "expect_calls", ["A1002"], "step 8 (expect_calls)"),
        ("keypad_noise_calls_nobody", "expect_keys", ["call_next"], "step 6 (expect_keys)"),
    ],
)
def test_a_wrong_scenario_fails_naming_its_step(
    case: tuple[str, str, object, str], demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    """``case``: the scenario, the step's key, the wrong expected value, how the failure must start."""
    name, key, wrong, message = case
    steps = copy.deepcopy(load(name))
    index = next(i for i, step in enumerate(steps) if key in step)
    steps[index][key] = wrong
    with centre(demo_site, mosquitto, tmp_path / "flow.db") as rig, pytest.raises(ScenarioError) as err:
        play(rig, steps)
    assert str(err.value).startswith(message), err.value


def test_a_step_without_exactly_one_action_is_refused(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    with centre(demo_site, mosquitto, tmp_path / "flow.db") as rig, pytest.raises(ScenarioError) as err:
        play(rig, [{"press": "CALL", "expect_acked": 1}])
    assert "step 1: needs exactly one action" in str(err.value)
